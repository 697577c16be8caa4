/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The serialised bytes of a GVariant as a list of pieces, so that a save
 * can write (writev) and hash a state without first copying it into one
 * buffer (see ckpt-format-pieces.c). Pure code.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What a caller passes as @min_piece unless it has a reason not to:
 * serialised leaves of at least this size are referenced, smaller ones and
 * small subtrees are copied (at most this much each) into the framing
 * buffers. A state of N large leaves gives at most 2 N + 1 pieces. */
#define CKPT_FORMAT_PIECE_MIN (64 * 1024)

/* Whether @value is a container held as a tree of child instances (what
 * g_variant_new_*() and GVariantBuilder make) rather than serialised bytes
 * (what g_variant_new_from_bytes() and loads make). A container without
 * children is never reported as a tree (it cannot be told apart). A wrong
 * guess costs time, never correctness. */
gboolean   ckpt_format_is_tree_form       (GVariant           *value);

/* The alignment (a mask: 0, 1, 3 or 7) and the fixed size (0 for a
 * variable-size type) of values of the definite @type, as GLib's private
 * type info has them. */
void       ckpt_format_type_info          (const GVariantType *type,
                                           guint              *out_alignment,
                                           gsize              *out_fixed_size);

/* The serialised bytes of @value as an array of GBytes pieces, in order:
 * their concatenation is byte for byte what g_variant_store() writes, and
 * their total size (g_variant_get_size()) is stored in @out_size when it is
 * not %NULL.
 *
 * Precondition: @value is in normal form (what g_variant_get_normal_form()
 * returns, as ckpt_format_encode() does) and in host byte order. For a
 * value that is not, the pieces may differ from g_variant_store()'s bytes.
 *
 * No piece is empty (a value of size 0 gives an empty array). A value of
 * less than @min_piece bytes, or one already in serialised form, is one
 * piece (serialised bytes are referenced with g_variant_get_data_as_bytes(),
 * not copied). A larger container in tree form is walked: its serialised
 * children of at least @min_piece bytes are referenced, not copied, and
 * only the framing (padding, framing offsets, the type strings of
 * variants) and the children of less than @min_piece bytes are written into
 * new memory, adjacent ones merged into one piece. @value itself is not
 * changed (never converted to serialised form), so it can be shared with
 * other threads. @min_piece 0 walks every container (tests).
 *
 * Free the result with g_ptr_array_unref(). */
GPtrArray *ckpt_format_serialise_pieces   (GVariant           *value,
                                           gsize               min_piece,
                                           gsize              *out_size) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
