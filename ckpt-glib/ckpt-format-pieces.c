/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The serialised bytes of a GVariant in pieces, without a copy of its large
 * leaves.
 *
 * g_variant_store() of a state held as a tree (an a{sv} built with
 * GVariantBuilder whose tensors' arrays are g_variant_new_from_data() over
 * numpy buffers) copies every byte into one new buffer: a full extra pass
 * over memory on every save. This file lays the same bytes out as a list of
 * pieces instead: large serialised children are referenced where they are,
 * and only the framing around them is written into new memory.
 *
 * The framing rules are GLib's (gvariant-serialiser.c, which defines the
 * format; ckpt-normal.c checks the same rules on the way in):
 *
 * - every child sits at a multiple of its type's alignment, counted from
 *   the start of its container, after zero padding;
 * - a tuple or dict entry stores an end offset for every variable-size
 *   member but the last, after its members and in reverse order (the first
 *   one last); a fixed-size tuple is padded with zeros to its fixed size,
 *   and the unit tuple is one zero byte;
 * - an array of fixed-size elements is their concatenation; one of
 *   variable-size elements stores each element's end offset after them,
 *   in order;
 * - a maybe is empty (Nothing) or its child, followed by a zero byte when
 *   the element type is variable-size;
 * - a variant is its child, a zero byte and the child's type string;
 * - framing offsets are little-endian, of the smallest size of 1, 2, 4 or 8
 *   bytes that can address the whole container, offsets included.
 *
 * Normal form is the precondition: it is what makes the layout a function
 * of the children's sizes (no extra padding, the smallest offsets, fixed-
 * size children of exactly their size).
 */
#include "config.h"

#include <string.h>

#include "ckpt-framing-private.h"
#include "ckpt-format-pieces-private.h"

gboolean
ckpt_format_is_tree_form (GVariant *value)
{
  GVariant *first, *again;
  gboolean tree;

  /* GLib has no call for this, but a tree hands out the child instance it
   * holds, while serialised data makes a new instance on every
   * g_variant_get_child_value(). */
  if (!g_variant_is_container (value) || g_variant_n_children (value) == 0)
    return FALSE;
  first = g_variant_get_child_value (value, 0);
  again = g_variant_get_child_value (value, 0);
  tree = first == again;
  g_variant_unref (first);
  g_variant_unref (again);
  return tree;
}

/* The alignment and fixed size of the definite type at @s; returns the end
 * of that type in the string. */
static const char *
scan_type (const char *s,
           guint      *alignment,
           gsize      *fixed_size)
{
  char c = *s++;

  switch (c)
    {
    case 'b': case 'y':
      *alignment = 0;
      *fixed_size = 1;
      return s;
    case 'n': case 'q':
      *alignment = 1;
      *fixed_size = 2;
      return s;
    case 'i': case 'u': case 'h':
      *alignment = 3;
      *fixed_size = 4;
      return s;
    case 'x': case 't': case 'd':
      *alignment = 7;
      *fixed_size = 8;
      return s;
    case 's': case 'o': case 'g':
      *alignment = 0;
      *fixed_size = 0;
      return s;
    case 'v':
      *alignment = 7;
      *fixed_size = 0;
      return s;
    case 'a':
    case 'm':
      {
        gsize element_size;

        s = scan_type (s, alignment, &element_size);
        *fixed_size = 0;
        return s;
      }
    case '(':
    case '{':
      {
        char close = c == '(' ? ')' : '}';
        gsize offset = 0;
        gboolean fixed = TRUE;
        guint n = 0;

        *alignment = 0;
        while (*s != close)
          {
            guint member_alignment;
            gsize member_size;

            s = scan_type (s, &member_alignment, &member_size);
            *alignment |= member_alignment;
            if (member_size == 0)
              fixed = FALSE;
            offset += (-offset) & member_alignment;
            offset += member_size;
            n++;
          }
        s++;

        if (!fixed)
          *fixed_size = 0;
        else if (n == 0)
          *fixed_size = 1;
        else
          *fixed_size = offset + ((-offset) & *alignment);
        return s;
      }
    default:
      g_assert_not_reached ();
    }
}

void
ckpt_format_type_info (const GVariantType *type,
                       guint              *out_alignment,
                       gsize              *out_fixed_size)
{
  guint alignment;
  gsize fixed_size;

  g_return_if_fail (type != NULL && g_variant_type_is_definite (type));

  scan_type (g_variant_type_peek_string (type), &alignment, &fixed_size);
  if (out_alignment != NULL)
    *out_alignment = alignment;
  if (out_fixed_size != NULL)
    *out_fixed_size = fixed_size;
}

/* Framing and small children are gathered into buffers of up to this
 * size (more when one child is larger): the buffer grows without copying
 * more than this much again, and the piece count grows by one for every
 * this many bytes of small data. */
#define BUFFER_MAX (4 << 20)

typedef struct
{
  GPtrArray *pieces;
  /* Framing and small children not yet a piece: buffer_len bytes from
   * buffer + buffer_lead, where buffer_lead is the layout's position modulo
   * 8 when the buffer was begun, so that a byte at position p of the
   * layout sits at an address of the same alignment as p
   * (g_variant_store() needs an aligned destination). */
  guint8    *buffer;
  gsize      buffer_lead;
  gsize      buffer_len;
  gsize      buffer_alloc;
  gsize      pos;         /* bytes laid out so far */
  gsize      min_piece;
} Layout;

static void
flush (Layout *layout)
{
  if (layout->buffer_len > 0)
    g_ptr_array_add (layout->pieces,
                     g_bytes_new_with_free_func (layout->buffer + layout->buffer_lead,
                                                 layout->buffer_len,
                                                 g_free, layout->buffer));
  else
    g_free (layout->buffer);
  layout->buffer = NULL;
  layout->buffer_lead = layout->buffer_len = layout->buffer_alloc = 0;
}

/* @n new bytes at the end of the layout, in the current buffer. */
static guint8 *
reserve (Layout *layout,
         gsize   n)
{
  guint8 *out;

  if (layout->buffer_len + n > layout->buffer_alloc)
    {
      if (layout->buffer_len > 0 && layout->buffer_len + n > BUFFER_MAX)
        flush (layout);
      if (layout->buffer == NULL)
        layout->buffer_lead = layout->pos & 7;
      layout->buffer_alloc = MAX (layout->buffer_len + n,
                                  MIN (MAX (layout->buffer_alloc * 2, 256), BUFFER_MAX));
      /* g_malloc() memory is aligned to at least 8 bytes. */
      layout->buffer = g_realloc (layout->buffer, layout->buffer_lead + layout->buffer_alloc);
    }
  out = layout->buffer + layout->buffer_lead + layout->buffer_len;
  layout->buffer_len += n;
  layout->pos += n;
  return out;
}

static void
pad (Layout *layout,
     gsize   start,
     guint   alignment)
{
  gsize n = (-(layout->pos - start)) & alignment;

  if (n > 0)
    memset (reserve (layout, n), 0, n);
}

static void
write_offsets (Layout      *layout,
               gsize        start,
               const gsize *ends,
               gsize        n,
               gboolean     reverse)
{
  guint osz;
  guint8 *out;
  gsize i;

  if (n == 0)
    return;
  osz = ckpt_framing_offset_size (ckpt_framing_total_size (layout->pos - start, n));
  out = reserve (layout, n * osz);
  for (i = 0; i < n; i++)
    {
      guint64 v = ends[reverse ? n - 1 - i : i];
      guint b;

      for (b = 0; b < osz; b++)
        *out++ = (guint8) (v >> (8 * b));
    }
}

static void lay_out_container (Layout   *layout,
                               GVariant *value);

/* Appends @value (of @size bytes) to the layout. */
static void
lay_out (Layout   *layout,
         GVariant *value,
         gsize     size)
{
  if (size == 0)
    return;

  if (size >= layout->min_piece)
    {
      /* A container without children (only the unit tuple has a size) is
       * written out: it cannot be told from a tree, and
       * g_variant_get_data_as_bytes() would convert a tree. */
      if (!g_variant_is_container (value) ||
          (g_variant_n_children (value) > 0 && !ckpt_format_is_tree_form (value)))
        {
          flush (layout);
          g_ptr_array_add (layout->pieces, g_variant_get_data_as_bytes (value));
          layout->pos += size;
          return;
        }
      if (g_variant_n_children (value) > 0)
        {
          lay_out_container (layout, value);
          return;
        }
    }

  /* Small: copied into the current buffer (g_variant_store() does not
   * convert a tree). */
  g_variant_store (value, reserve (layout, size));
}

static void
lay_out_child (Layout   *layout,
               GVariant *value,
               gsize     index)
{
  GVariant *child = g_variant_get_child_value (value, index);

  lay_out (layout, child, g_variant_get_size (child));
  g_variant_unref (child);
}

static void
lay_out_container (Layout   *layout,
                   GVariant *value)
{
  const char *type_string = g_variant_get_type_string (value);
  gsize start = layout->pos;
  gsize n = g_variant_n_children (value);
  guint alignment;
  gsize fixed_size;
  gsize i;

  switch (type_string[0])
    {
    case 'v':
      {
        GVariant *child = g_variant_get_variant (value);
        const char *child_type = g_variant_get_type_string (child);
        gsize len = strlen (child_type);
        guint8 *out;

        lay_out (layout, child, g_variant_get_size (child));
        out = reserve (layout, 1 + len);
        out[0] = '\0';
        memcpy (out + 1, child_type, len);
        g_variant_unref (child);
      }
      break;

    case 'm':
      scan_type (type_string + 1, &alignment, &fixed_size);
      lay_out_child (layout, value, 0);
      if (fixed_size == 0)
        *reserve (layout, 1) = '\0';
      break;

    case 'a':
      scan_type (type_string + 1, &alignment, &fixed_size);
      if (fixed_size > 0)
        {
          for (i = 0; i < n; i++)
            lay_out_child (layout, value, i);
        }
      else
        {
          gsize *ends = g_new (gsize, n);

          for (i = 0; i < n; i++)
            {
              pad (layout, start, alignment);
              lay_out_child (layout, value, i);
              ends[i] = layout->pos - start;
            }
          write_offsets (layout, start, ends, n, FALSE);
          g_free (ends);
        }
      break;

    case '(':
    case '{':
      {
        const char *member = type_string + 1;
        gsize *ends = g_new (gsize, n);
        gsize n_ends = 0;
        guint tuple_alignment;
        gsize tuple_size;

        scan_type (type_string, &tuple_alignment, &tuple_size);
        for (i = 0; i < n; i++)
          {
            member = scan_type (member, &alignment, &fixed_size);
            pad (layout, start, alignment);
            lay_out_child (layout, value, i);
            if (fixed_size == 0 && i + 1 < n)
              ends[n_ends++] = layout->pos - start;
          }
        if (tuple_size > 0)
          {
            gsize used = layout->pos - start;

            if (used < tuple_size)
              memset (reserve (layout, tuple_size - used), 0, tuple_size - used);
          }
        else
          write_offsets (layout, start, ends, n_ends, TRUE);
        g_free (ends);
      }
      break;

    default:
      g_assert_not_reached ();
    }
}

GPtrArray *
ckpt_format_serialise_pieces (GVariant *value,
                              gsize     min_piece,
                              gsize    *out_size)
{
  Layout layout = { NULL, NULL, 0, 0, 0, 0, min_piece };
  gsize size;

  g_return_val_if_fail (value != NULL, NULL);

  size = g_variant_get_size (value);
  layout.pieces = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  if (size == 0)
    ;
  else if ((g_variant_is_container (value) && g_variant_n_children (value) == 0) ||
           (size < min_piece && ckpt_format_is_tree_form (value)))
    {
      /* A small tree (or the unit tuple, perhaps a tree), into one new
       * buffer. */
      guint8 *data = g_malloc (size);

      g_variant_store (value, data);
      g_ptr_array_add (layout.pieces, g_bytes_new_take (data, size));
    }
  else if (!ckpt_format_is_tree_form (value))
    g_ptr_array_add (layout.pieces, g_variant_get_data_as_bytes (value));
  else
    {
      lay_out_container (&layout, value);
      flush (&layout);

      /* Only a value that is not in normal form can get here: fall back to
       * one piece of g_variant_store()'s bytes rather than write others. */
      if (layout.pos != size)
        {
          guint8 *data = g_malloc (size);

          g_variant_store (value, data);
          g_ptr_array_set_size (layout.pieces, 0);
          g_ptr_array_add (layout.pieces, g_bytes_new_take (data, size));
        }
    }

  if (out_size != NULL)
    *out_size = size;
  return layout.pieces;
}
