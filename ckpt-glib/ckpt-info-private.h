/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "ckpt-info.h"
#include "ckpt-format-private.h"

G_BEGIN_DECLS

/* Takes over the contents of @header. */
CkptInfo *ckpt_info_new_take (CkptFormatHeader *header,
                              guint64           file_size,
                              gboolean          verified);

G_END_DECLS
