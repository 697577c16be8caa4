/* SPDX-License-Identifier: LGPL-2.1-or-later (stub, replaced by the real unit) */
#include "config.h"
#include "ckpt-format-pieces-private.h"
GPtrArray *
ckpt_format_serialise_pieces (GVariant *value, gsize min_piece, gsize *out_size)
{
  GPtrArray *pieces = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  gsize size = g_variant_get_size (value);
  gpointer data = g_malloc (size);
  g_variant_store (value, data);
  g_ptr_array_add (pieces, g_bytes_new_take (data, size));
  *out_size = size;
  return pieces;
}
