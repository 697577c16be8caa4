/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Normal form of serialised GVariant data, at memory speed (see
 * ckpt-normal.c). Pure code.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whether @data (@size bytes, serialised in host byte order) is the normal
 * form of a value of the definite @type: the same answer as
 * g_variant_is_normal_form() on an untrusted value of those bytes, without
 * visiting each element of arrays of fixed-size numbers. */
gboolean ckpt_normal_form_check (const GVariantType *type,
                                 gconstpointer       data,
                                 gsize               size);

G_END_DECLS
