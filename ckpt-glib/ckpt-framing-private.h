/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GVariant's framing arithmetic, shared by the code that checks serialised
 * data (ckpt-normal.c) and the code that writes it in pieces
 * (ckpt-format-pieces.c): the size of a container's framing offsets, as
 * GLib's gvs_get_offset_size() and gvs_calculate_total_size(). Pure.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The size of each framing offset in a container of @size bytes. */
static inline guint
ckpt_framing_offset_size (gsize size)
{
  if (size > G_MAXUINT32)
    return 8;
  if (size > G_MAXUINT16)
    return 4;
  if (size > G_MAXUINT8)
    return 2;
  if (size > 0)
    return 1;
  return 0;
}

/* The size of a container of @body_size bytes with @n_offsets framing
 * offsets of the smallest size that can address it. */
static inline gsize
ckpt_framing_total_size (gsize body_size,
                         gsize n_offsets)
{
  if (body_size + 1 * n_offsets <= G_MAXUINT8)
    return body_size + 1 * n_offsets;
  if (body_size + 2 * n_offsets <= G_MAXUINT16)
    return body_size + 2 * n_offsets;
  if (body_size + 4 * n_offsets <= G_MAXUINT32)
    return body_size + 4 * n_offsets;
  return body_size + 8 * n_offsets;
}

G_END_DECLS
