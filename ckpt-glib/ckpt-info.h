/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined (CKPT_INSIDE) && !defined (CKPT_COMPILATION)
# error "Only <ckpt-glib/ckpt-glib.h> can be included directly."
#endif

#include <glib-object.h>

#include "ckpt-version-macros.h"

G_BEGIN_DECLS

#define CKPT_TYPE_INFO (ckpt_info_get_type ())

CKPT_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (CkptInfo, ckpt_info, CKPT, INFO, GObject)

CKPT_AVAILABLE_IN_1_0
gint64              ckpt_info_get_round          (CkptInfo *info);
CKPT_AVAILABLE_IN_1_0
guint64             ckpt_info_get_size           (CkptInfo *info);
CKPT_AVAILABLE_IN_1_0
guint64             ckpt_info_get_state_size     (CkptInfo *info);
CKPT_AVAILABLE_IN_1_0
const GVariantType *ckpt_info_get_state_type     (CkptInfo *info);
CKPT_AVAILABLE_IN_1_0
const char         *ckpt_info_get_state_type_string (CkptInfo *info);
CKPT_AVAILABLE_IN_1_0
GDateTime          *ckpt_info_get_creation_time  (CkptInfo *info);
CKPT_AVAILABLE_IN_1_0
GVariant           *ckpt_info_get_metadata       (CkptInfo *info);
CKPT_AVAILABLE_IN_1_0
guint               ckpt_info_get_format_version (CkptInfo *info);
CKPT_AVAILABLE_IN_1_0
gboolean            ckpt_info_get_verified       (CkptInfo *info);

G_END_DECLS
