/* SPDX-License-Identifier: LGPL-2.1-or-later (stub, replaced by the real unit) */
#pragma once
#include <glib.h>
G_BEGIN_DECLS
GPtrArray *ckpt_format_serialise_pieces (GVariant *value, gsize min_piece, gsize *out_size);
G_END_DECLS
