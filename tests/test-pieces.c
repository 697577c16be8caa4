/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ckpt_format_serialise_pieces() must give exactly g_variant_store()'s
 * bytes, in pieces that reference large serialised leaves instead of
 * copying them. Differential tests on values of many types, built as
 * trees, as serialised data and as mixtures of both.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <glib.h>

#include <glib/gstdio.h>

#include <ckpt-glib/ckpt-glib.h>

#include "ckpt-format-pieces-private.h"
#include "ckpt-format-private.h"

/* Concatenates the pieces of @value laid out with @min_piece, checks them
 * against g_variant_store() and returns the number of pieces. */
static guint
check_pieces (GVariant   *value,
              gsize       min_piece,
              const char *what)
{
  g_autoptr(GPtrArray) pieces = NULL;
  gsize size = G_MAXSIZE, expected = g_variant_get_size (value), offset = 0;
  g_autofree guint8 *stored = g_malloc (MAX (expected, 1));
  g_autofree guint8 *joined = g_malloc (MAX (expected, 1));
  gboolean tree = ckpt_format_is_tree_form (value);
  guint i;

  g_variant_store (value, stored);
  pieces = ckpt_format_serialise_pieces (value, min_piece, &size);
  g_assert_nonnull (pieces);
  g_assert_cmpuint (size, ==, expected);
  for (i = 0; i < pieces->len; i++)
    {
      gsize piece_size;
      gconstpointer data = g_bytes_get_data (g_ptr_array_index (pieces, i), &piece_size);

      g_assert_cmpuint (piece_size, >, 0);
      g_assert_cmpuint (offset + piece_size, <=, expected);
      memcpy (joined + offset, data, piece_size);
      offset += piece_size;
    }
  g_assert_cmpuint (offset, ==, expected);
  if (memcmp (joined, stored, expected) != 0)
    {
      g_autofree char *text = g_variant_print (value, TRUE);

      g_test_message ("%s: min_piece %" G_GSIZE_FORMAT ": pieces differ from g_variant_store() for %.200s",
                      what, min_piece, text);
      for (i = 0; i < expected; i++)
        if (joined[i] != stored[i])
          {
            g_test_message ("first difference at byte %u of %" G_GSIZE_FORMAT ": %02x, not %02x",
                            i, expected, joined[i], stored[i]);
            break;
          }
    }
  g_assert_cmpmem (joined, expected, stored, expected);
  /* The caller's value is left as it was. */
  g_assert_cmpint (ckpt_format_is_tree_form (value), ==, tree);
  return pieces->len;
}

static void
check_all (GVariant   *value,
           const char *what)
{
  static const gsize min_pieces[] = { 0, 1, 2, 5, 17, 64, 300, CKPT_FORMAT_PIECE_MIN, G_MAXSIZE };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (min_pieces); i++)
    check_pieces (value, min_pieces[i], what);
}

/* @value rebuilt with some of its containers (chosen by @rand, all of them
 * when @p is 1) turned into serialised data: a mixture of both forms, as a
 * state holding loaded values or numpy buffers is. */
static GVariant *
mix (GVariant *value,
     GRand    *rand,
     gdouble   p)
{
  gsize n, i;
  GVariant **children;
  GVariant *result;
  const GVariantType *type = g_variant_get_type (value);

  if (!g_variant_is_container (value))
    return g_variant_ref (value);
  if (g_rand_double (rand) < p)
    {
      g_autoptr(GBytes) bytes = NULL;
      gsize size = g_variant_get_size (value);
      guint8 *data = g_malloc (MAX (size, 1));

      g_variant_store (value, data);
      bytes = g_bytes_new_take (data, size);
      return g_variant_ref_sink (g_variant_new_from_bytes (type, bytes, TRUE));
    }

  n = g_variant_n_children (value);
  children = g_new (GVariant *, MAX (n, 1));
  for (i = 0; i < n; i++)
    {
      GVariant *child = g_variant_get_child_value (value, i);

      children[i] = mix (child, rand, p);
      g_variant_unref (child);
    }

  if (g_variant_type_is_variant (type))
    result = g_variant_new_variant (children[0]);
  else if (g_variant_type_is_maybe (type))
    result = g_variant_new_maybe (g_variant_type_element (type), n > 0 ? children[0] : NULL);
  else if (g_variant_type_is_array (type))
    result = g_variant_new_array (g_variant_type_element (type), children, n);
  else if (g_variant_type_is_dict_entry (type))
    result = g_variant_new_dict_entry (children[0], children[1]);
  else
    result = g_variant_new_tuple (children, n);

  for (i = 0; i < n; i++)
    g_variant_unref (children[i]);
  g_free (children);
  return g_variant_ref_sink (result);
}

/* Checks @value as it is, fully serialised, and mixed. */
static void
check_forms (GVariant   *value,
             GRand      *rand,
             const char *what)
{
  g_autoptr(GVariant) serialised = mix (value, rand, 1.0);
  g_autoptr(GVariant) mixed = mix (value, rand, 0.3);

  check_all (value, what);
  check_all (serialised, what);
  check_all (mixed, what);
}

static const char *values[] = {
  "true", "false", "byte 7", "int16 -2", "uint16 3", "int32 5", "uint32 6", "int64 7",
  "uint64 8", "3.5", "handle 3", "'text'", "''", "objectpath '/a/b'",
  "signature 'a{sv}'", "<int32 5>", "<'s'>", "<<<(1, 'x')>>>", "<()>", "<@ay []>",
  "@ay []", "[byte 1, 2, 3]", "@ad []", "[1.0, 2.0, 3.0]", "[true, false, true]",
  "@as []", "['a', 'bb', '', 'dddd']", "[['x'], @as [], ['y', 'z']]", "@aas [[]]",
  "[(byte 1, 2.5), (3, 4.5)]", "[(1, true), (2, false)]", "@a(yq) [(1, 2), (3, 4)]",
  "{'a': <1>, 'b': <'two'>, 'c': <[1.0, 2.0]>}", "{1: 'x', 2: 'yy'}", "@a{sv} {}",
  "{byte 1: int64 2}", "{'k': (byte 1, 'v')}",
  "()", "((), ())", "[(), (), ()]", "(byte 1, ())", "((), byte 1)", "((), 'x', ())",
  "(byte 1, 'x', 2.0, @ay [3], true)",
  "('s', @at [2, 3], [byte 0, 1, 2, 3, 4, 5, 6, 7])",
  "(byte 1, 'odd')", "(byte 1, byte 2, byte 3, 'odd', byte 4, 'x')", "('a', 'b', 'c')",
  "(byte 1, int16 2, byte 3)", "(int64 1, byte 2)", "(byte 1, int64 2)", "(byte 1, int32 2, byte 3)",
  "[(byte 1, int16 2, byte 3)]", "(byte 9, [(byte 1, int64 2)], 'z')",
  "(byte 1, <byte 2>, 'x', <int64 3>)", "[<byte 1>, <int64 2>, <'s'>]",
  "@mi 5", "@mi nothing", "@ms 'x'", "@ms ''", "@ms nothing", "@mas ['a']", "@mas []",
  "@m(ii) (1, 2)", "@m() ()", "@m(is) (1, 'x')",
  "[@mi 1, nothing, 3]", "[@ms 'a', nothing]", "@mmb just nothing", "@mmb just just true",
  "@mms just just 'x'", "@mms just nothing",
  "(@ay [], @as [], @a{sv} {})", "{'deep': <{'deeper': <[<1>, <'x'>]>}>}",
  "[<1>, <'x'>, <(1, 2)>, <@ad [1.0]>]",
  "{'w': <('<f4', @at [2, 2], [byte 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64])>}",
};

static GVariant *
parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *value = g_variant_parse (NULL, text, NULL, NULL, &error);

  g_assert_no_error (error);
  return value;   /* not floating */
}

static void
test_values (void)
{
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autoptr(GVariant) value = parse (values[i]);

      check_forms (value, rand, values[i]);
    }
  g_rand_free (rand);
}

/* The type info against GLib's, for every type in the values and a few
 * more: the fixed size as g_variant_get_size() of a value made from no
 * bytes (GLib gives such a fixed-size value its size), the alignment as
 * the padding GLib puts before a member of that type after one byte. */
static void
check_type_info (const GVariantType *type)
{
  g_autofree char *type_string = g_variant_type_dup_string (type);
  g_autofree char *tuple_string = g_strdup_printf ("(y%s)", type_string);
  g_autoptr(GVariant) empty = NULL;
  g_autoptr(GVariant) def = NULL;
  g_autoptr(GVariant) tuple = NULL;
  GVariant *members[2];
  guint alignment = 99;
  gsize fixed_size = 99;

  ckpt_format_type_info (type, &alignment, &fixed_size);

  empty = g_variant_ref_sink (g_variant_new_from_data (type, NULL, 0, FALSE, NULL, NULL));
  g_assert_cmpuint (fixed_size, ==, g_variant_get_size (empty));
  def = g_variant_get_normal_form (empty);
  if (fixed_size > 0)
    g_assert_cmpuint (g_variant_get_size (def), ==, fixed_size);

  members[0] = g_variant_new_byte (0);
  members[1] = def;
  tuple = g_variant_ref_sink (g_variant_new_tuple (members, 2));
  g_assert_cmpstr (g_variant_get_type_string (tuple), ==, tuple_string);
  if (fixed_size > 0)
    {
      /* (y T) is fixed too: 1 + padding + T, rounded up to the alignment. */
      g_assert_cmpuint (g_variant_get_size (tuple), ==,
                        ((alignment + 1 + fixed_size) + alignment) & ~(gsize) alignment);
    }
  else
    {
      /* T is the last member: no framing offset. */
      g_assert_cmpuint (g_variant_get_size (tuple), ==,
                        alignment + 1 + g_variant_get_size (def));
    }
}

static const char *types[] = {
  "b", "y", "n", "q", "i", "u", "h", "x", "t", "d", "s", "o", "g", "v",
  "ay", "an", "ai", "ax", "as", "av", "aay", "a{sv}", "a{yd}", "{ys}", "{sd}",
  "mi", "my", "mx", "ms", "mv", "m(yd)", "()", "(())", "(()())", "(y)", "(yy)",
  "(yn)", "(yi)", "(yx)", "(ny)", "(iy)", "(xy)", "(yny)", "(ynyiy)", "(yd(yq))",
  "((y)(n))", "(ys)", "(sy)", "(xs)", "(satay)", "a(yn)", "(ay)", "(aiy)", "(vy)",
  "(mxy)", "((xy)y)", "(ty(yy)n)",
};

/* A random definite type of at most @depth levels of containers. */
static void
random_type (GRand   *rand,
             GString *out,
             guint    depth)
{
  static const char basic[] = "bynqiuhxtdsog";
  guint choice = g_rand_int_range (rand, 0, depth > 0 ? 20 : 13);

  if (choice < 13)
    {
      g_string_append_c (out, basic[choice]);
      return;
    }
  switch (choice)
    {
    case 13:
      g_string_append_c (out, 'v');
      break;
    case 14:
    case 15:
      g_string_append_c (out, 'a');
      random_type (rand, out, depth - 1);
      break;
    case 16:
      g_string_append_c (out, 'm');
      random_type (rand, out, depth - 1);
      break;
    case 17:
      g_string_append (out, "a{");
      g_string_append_c (out, basic[g_rand_int_range (rand, 0, 13)]);
      random_type (rand, out, depth - 1);
      g_string_append_c (out, '}');
      break;
    default:
      {
        guint n = g_rand_int_range (rand, 0, 5), i;

        g_string_append_c (out, '(');
        for (i = 0; i < n; i++)
          random_type (rand, out, depth - 1);
        g_string_append_c (out, ')');
      }
      break;
    }
}

static void
test_type_info (void)
{
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (types); i++)
    check_type_info (G_VARIANT_TYPE (types[i]));
  for (i = 0; i < 3000; i++)
    {
      g_autoptr(GString) type = g_string_new (NULL);

      random_type (rand, type, 4);
      check_type_info (G_VARIANT_TYPE (type->str));
    }
  g_rand_free (rand);
}

static GVariant *random_value (GRand              *rand,
                               const GVariantType *type,
                               guint               depth);

static char *
random_string (GRand *rand)
{
  /* Mostly short, sometimes long enough for 2-byte framing offsets. */
  gsize len = g_rand_int_range (rand, 0, 100) < 95 ? g_rand_int_range (rand, 0, 6)
                                                   : g_rand_int_range (rand, 200, 300);
  char *s = g_malloc (len + 1);
  gsize i;

  for (i = 0; i < len; i++)
    s[i] = (char) g_rand_int_range (rand, 'a', 'z' + 1);
  s[len] = '\0';
  return s;
}

static GVariant *
random_value (GRand              *rand,
              const GVariantType *type,
              guint               depth)
{
  const char *t = g_variant_type_peek_string (type);

  switch (t[0])
    {
    case 'b':
      return g_variant_new_boolean (g_rand_boolean (rand));
    case 'y':
      return g_variant_new_byte ((guint8) g_rand_int (rand));
    case 'n':
      return g_variant_new_int16 ((gint16) g_rand_int (rand));
    case 'q':
      return g_variant_new_uint16 ((guint16) g_rand_int (rand));
    case 'i':
      return g_variant_new_int32 ((gint32) g_rand_int (rand));
    case 'u':
      return g_variant_new_uint32 (g_rand_int (rand));
    case 'h':
      return g_variant_new_handle ((gint32) g_rand_int (rand));
    case 'x':
      return g_variant_new_int64 ((gint64) g_rand_int (rand) << 20);
    case 't':
      return g_variant_new_uint64 ((guint64) g_rand_int (rand) << 30);
    case 'd':
      return g_variant_new_double (g_rand_double (rand));
    case 's':
      return g_variant_new_take_string (random_string (rand));
    case 'o':
      return g_variant_new_object_path (g_rand_boolean (rand) ? "/" : "/org/ckpt/x");
    case 'g':
      return g_variant_new_signature (g_rand_boolean (rand) ? "" : "a{sv}");
    case 'v':
      {
        g_autoptr(GString) inner = g_string_new (NULL);

        random_type (rand, inner, depth > 0 ? MIN (depth - 1, 2) : 0);
        return g_variant_new_variant (random_value (rand, G_VARIANT_TYPE (inner->str),
                                                    depth > 0 ? depth - 1 : 0));
      }
    case 'm':
      if (g_rand_int_range (rand, 0, 3) == 0)
        return g_variant_new_maybe (g_variant_type_element (type), NULL);
      return g_variant_new_maybe (NULL, random_value (rand, g_variant_type_element (type),
                                                      depth > 0 ? depth - 1 : 0));
    case 'a':
      {
        const GVariantType *element = g_variant_type_element (type);
        guint n = g_rand_int_range (rand, 0, 100) < 90 ? g_rand_int_range (rand, 0, 5)
                                                       : g_rand_int_range (rand, 5, 80);
        GVariant **children = g_new (GVariant *, MAX (n, 1));
        GVariant *result;
        guint i;

        for (i = 0; i < n; i++)
          children[i] = random_value (rand, element, depth > 0 ? depth - 1 : 0);
        result = g_variant_new_array (element, children, n);
        g_free (children);
        return result;
      }
    case '{':
      {
        const GVariantType *key = g_variant_type_key (type);

        return g_variant_new_dict_entry (random_value (rand, key, 0),
                                         random_value (rand, g_variant_type_value (type),
                                                       depth > 0 ? depth - 1 : 0));
      }
    case '(':
      {
        gsize n = g_variant_type_n_items (type), i;
        GVariant **children = g_new (GVariant *, MAX (n, 1));
        const GVariantType *member = g_variant_type_first (type);
        GVariant *result;

        for (i = 0; i < n; i++, member = g_variant_type_next (member))
          children[i] = random_value (rand, member, depth > 0 ? depth - 1 : 0);
        result = g_variant_new_tuple (children, n);
        g_free (children);
        return result;
      }
    default:
      g_assert_not_reached ();
    }
}

static void
test_random (void)
{
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());
  guint n = g_test_slow () ? 20000 : 3000, i;
  gsize n_pieces = 0, total_size = 0;

  for (i = 0; i < n; i++)
    {
      g_autoptr(GString) type = g_string_new (NULL);
      g_autoptr(GVariant) value = NULL;

      /* Containers: a basic value is one piece whatever the layout. */
      do
        {
          g_string_truncate (type, 0);
          random_type (rand, type, 4);
        }
      while (strchr ("am(v", type->str[0]) == NULL);
      value = g_variant_ref_sink (random_value (rand, G_VARIANT_TYPE (type->str), 4));
      check_forms (value, rand, type->str);
      n_pieces += check_pieces (value, 0, type->str);
      total_size += g_variant_get_size (value);
    }
  g_test_message ("%u random containers (%" G_GSIZE_FORMAT " bytes) compared with g_variant_store(): "
                  "%" G_GSIZE_FORMAT " pieces at min_piece 0", n, total_size, n_pieces);
  g_rand_free (rand);
}

/* Containers whose size is just below, at and just above the sizes where
 * framing offsets grow from 1 to 2 and from 2 to 4 bytes. */
static void
test_offset_boundaries (void)
{
  static const gsize boundaries[] = { G_MAXUINT8, G_MAXUINT16 };
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());
  gsize b, n;

  for (b = 0; b < G_N_ELEMENTS (boundaries); b++)
    {
      gsize smallest = G_MAXSIZE, largest = 0;

      for (n = boundaries[b] - 12; n <= boundaries[b] + 12; n++)
        {
          g_autofree guint8 *bytes = g_malloc0 (n);
          g_autofree char *string = g_malloc (n + 1);
          g_autoptr(GVariant) tuple = NULL;
          g_autoptr(GVariant) tuple2 = NULL;
          g_autoptr(GVariant) array = NULL;
          g_autoptr(GVariant) dict = NULL;
          g_autoptr(GVariant) variant = NULL;
          GVariant *ay = g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, bytes, n, 1);
          GVariant *ay2 = g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, bytes, n / 2, 1);

          memset (string, 'x', n);
          string[n] = '\0';

          /* One framing offset: (ay s). */
          tuple = g_variant_ref_sink (g_variant_new ("(@ays)", ay, "t"));
          /* Three: (s ay s ay), and an array of two variable-size elements. */
          tuple2 = g_variant_ref_sink (g_variant_new ("(s@ays@ay)", "a", ay2, "bb", ay2));
          array = g_variant_ref_sink (g_variant_new_parsed ("[%s, 'y']", string + 4));
          dict = g_variant_ref_sink (g_variant_new_parsed ("{'k': <%s>, 'l': <(byte 1, %s)>}",
                                                           string + n / 2, string + n / 2 + 3));
          variant = g_variant_ref_sink (g_variant_new_variant (g_variant_new_string (string + 2)));

          check_forms (tuple, rand, "(ays) at a boundary");
          check_forms (tuple2, rand, "(sayay) at a boundary");
          check_forms (array, rand, "as at a boundary");
          check_forms (dict, rand, "a{sv} at a boundary");
          check_forms (variant, rand, "v at a boundary");
          smallest = MIN (smallest, g_variant_get_size (tuple));
          largest = MAX (largest, g_variant_get_size (tuple));
        }
      /* The range did cross the boundary. */
      g_assert_cmpuint (smallest, <=, boundaries[b]);
      g_assert_cmpuint (largest, >, boundaries[b]);
    }
  g_rand_free (rand);
}

/* A state as the Python binding makes it: a tree a{sv} of (satay) tensors
 * whose data is g_variant_new_from_data() over the caller's buffers. */
static GVariant *
tensor_state (guint8 **buffers,
              gsize   *sizes,
              guint    n)
{
  GVariantBuilder builder;
  guint i;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  for (i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("layer%u.weight", i);
      guint64 shape[2] = { sizes[i] / 4 / 16, 16 };
      GVariant *data = g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, buffers[i], sizes[i],
                                                TRUE, NULL, NULL);
      GVariant *tensor = g_variant_new ("(s@at@ay)", "<f4",
                                        g_variant_new_fixed_array (G_VARIANT_TYPE_UINT64, shape, 2,
                                                                   sizeof (guint64)),
                                        data);

      g_variant_builder_add (&builder, "{sv}", name, tensor);
    }
  g_variant_builder_add (&builder, "{sv}", "step", g_variant_new_int64 (42));
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static void
test_tensors_not_copied (void)
{
  static const gsize tensor_sizes[] = { 1 << 20, 3 << 18, (1 << 20) + 64, 200 * 1024 };
  guint8 *buffers[G_N_ELEMENTS (tensor_sizes)];
  gsize sizes[G_N_ELEMENTS (tensor_sizes)];
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GPtrArray) pieces = NULL;
  guint i, j, found = 0;
  gsize size;

  for (i = 0; i < G_N_ELEMENTS (tensor_sizes); i++)
    {
      sizes[i] = tensor_sizes[i];
      buffers[i] = g_malloc (sizes[i]);
      for (j = 0; j < sizes[i]; j++)
        buffers[i][j] = (guint8) (j * 7 + i);
    }
  state = tensor_state (buffers, sizes, G_N_ELEMENTS (tensor_sizes));

  check_pieces (state, 0, "tensors");
  check_pieces (state, CKPT_FORMAT_PIECE_MIN, "tensors");

  /* Each tensor's data is one piece, at the caller's buffer; the framing
   * between them is one piece each (and one at the end). */
  pieces = ckpt_format_serialise_pieces (state, CKPT_FORMAT_PIECE_MIN, &size);
  g_assert_cmpuint (pieces->len, <=, 2 * G_N_ELEMENTS (tensor_sizes) + 1);
  for (i = 0; i < pieces->len; i++)
    {
      gsize piece_size;
      gconstpointer data = g_bytes_get_data (g_ptr_array_index (pieces, i), &piece_size);

      for (j = 0; j < G_N_ELEMENTS (tensor_sizes); j++)
        if (data == buffers[j])
          {
            g_assert_cmpuint (piece_size, ==, sizes[j]);
            found++;
          }
    }
  g_assert_cmpuint (found, ==, G_N_ELEMENTS (tensor_sizes));
  g_test_message ("%u tensors: %u pieces", (guint) G_N_ELEMENTS (tensor_sizes), pieces->len);

  /* The same state with min_piece 0: still no copy of the data. */
  g_clear_pointer (&pieces, g_ptr_array_unref);
  pieces = ckpt_format_serialise_pieces (state, 0, &size);
  found = 0;
  for (i = 0; i < pieces->len; i++)
    for (j = 0; j < G_N_ELEMENTS (tensor_sizes); j++)
      if (g_bytes_get_data (g_ptr_array_index (pieces, i), NULL) == buffers[j])
        found++;
  g_assert_cmpuint (found, ==, G_N_ELEMENTS (tensor_sizes));

  g_clear_pointer (&state, g_variant_unref);
  g_clear_pointer (&pieces, g_ptr_array_unref);
  for (i = 0; i < G_N_ELEMENTS (tensor_sizes); i++)
    g_free (buffers[i]);
}

/* 10,000 small named values: one piece (no leaf is large). */
static void
test_many_small_values (void)
{
  GVariantBuilder builder;
  g_autoptr(GVariant) state = NULL;
  guint i, n_pieces;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  for (i = 0; i < 10000; i++)
    {
      g_autofree char *name = g_strdup_printf ("value%u", i);

      g_variant_builder_add (&builder, "{sv}", name, g_variant_new_double (i * 0.5));
    }
  state = g_variant_ref_sink (g_variant_builder_end (&builder));
  g_assert_cmpuint (g_variant_get_size (state), >, CKPT_FORMAT_PIECE_MIN);

  n_pieces = check_pieces (state, CKPT_FORMAT_PIECE_MIN, "10,000 doubles");
  g_assert_cmpuint (n_pieces, ==, 1);
  g_test_message ("10,000 named doubles (%" G_GSIZE_FORMAT " bytes): %u piece(s) at the default, %u at min_piece 0",
                  g_variant_get_size (state), n_pieces, check_pieces (state, 0, "10,000 doubles"));
  check_pieces (state, 1000, "10,000 doubles");
}

/* More small data than one framing buffer holds (4 MiB): 100 arrays of
 * 60,000 bytes, each copied, in a few pieces. */
static void
test_much_small_data (void)
{
  GVariantBuilder builder;
  g_autoptr(GVariant) state = NULL;
  g_autofree guint8 *bytes = g_malloc (60000);
  guint i, n_pieces;

  for (i = 0; i < 60000; i++)
    bytes[i] = (guint8) (i * 13);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(say)"));
  for (i = 0; i < 100; i++)
    {
      g_autofree char *name = g_strdup_printf ("v%u", i);

      g_variant_builder_add (&builder, "(s@ay)", name,
                             g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, bytes + i, 60000 - i, 1));
    }
  state = g_variant_ref_sink (g_variant_builder_end (&builder));

  n_pieces = check_pieces (state, CKPT_FORMAT_PIECE_MIN, "6 MB of small arrays");
  g_assert_cmpuint (n_pieces, >=, 2);
  g_assert_cmpuint (n_pieces, <=, 3);
  check_pieces (state, 0, "6 MB of small arrays");
  check_pieces (state, 59000, "6 MB of small arrays");
}

/* Not an assertion: what the pieces save against one copy of the state. */
static void
test_timing (void)
{
  gsize size = g_test_perf () ? 256 << 20 : 32 << 20;
  guint8 *buffer = g_malloc (size);
  gsize sizes[1] = { size };
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GPtrArray) pieces = NULL;
  g_autoptr(GTimer) timer = g_timer_new ();
  guint8 *copy;
  gdouble store_time, pieces_time;
  gsize total;

  memset (buffer, 1, size);
  state = tensor_state (&buffer, sizes, 1);
  total = g_variant_get_size (state);

  /* What ckpt-format.c's serialise() does for a tree: one copy into a new
   * buffer (in huge pages where it can). */
  g_timer_start (timer);
  copy = NULL;
#if defined(MADV_HUGEPAGE)
  if (posix_memalign ((void **) &copy, 2 << 20, total) == 0)
    madvise (copy, total, MADV_HUGEPAGE);
  else
    copy = NULL;
#endif
  if (copy == NULL)
    copy = malloc (total);
  g_variant_store (state, copy);
  store_time = g_timer_elapsed (timer, NULL);
  free (copy);

  g_timer_start (timer);
  pieces = ckpt_format_serialise_pieces (state, CKPT_FORMAT_PIECE_MIN, NULL);
  pieces_time = g_timer_elapsed (timer, NULL);

  g_test_message ("a{sv} with one %" G_GSIZE_FORMAT " MiB tensor: g_variant_store() %.1f ms, "
                  "ckpt_format_serialise_pieces() %.1f us (%u pieces)",
                  size >> 20, store_time * 1e3, pieces_time * 1e6, pieces->len);
  g_assert_cmpuint (pieces->len, <=, 3);

  g_clear_pointer (&pieces, g_ptr_array_unref);
  g_clear_pointer (&state, g_variant_unref);
  g_free (buffer);
}

/* The save path: a state in tree form with large leaves is encoded as
 * pieces that reference the leaves, and gives the very file a flat encoding
 * gives; a manager saves it and loads it back equal. */
static void
test_encode_and_save (void)
{
  const gsize n = 3 * 1024 * 1024;
  g_autofree guint8 *buffer = g_malloc (n);
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GBytes) header = NULL;
  g_autoptr(CkptPayload) payload = NULL;
  g_autoptr(GBytes) flat = NULL;
  g_autoptr(GByteArray) file = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(GVariant) back = NULL;
  g_autofree char *dir = NULL;
  gboolean referenced = FALSE;
  GVariantBuilder builder;
  guint64 shape[] = { n / 4 };
  guint i;

  for (i = 0; i < n; i++)
    buffer[i] = (guint8) (i * 7 + 3);
  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "w",
                         g_variant_new ("(s@at@ay)", "<f4",
                                        g_variant_new_fixed_array (G_VARIANT_TYPE_UINT64, shape, 1, 8),
                                        g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, buffer, n,
                                                                 TRUE, NULL, NULL)));
  g_variant_builder_add (&builder, "{sv}", "step", g_variant_new_int64 (42));
  g_variant_builder_add (&builder, "{sv}", "name", g_variant_new_string ("run"));
  state = g_variant_ref_sink (g_variant_builder_end (&builder));

  ckpt_format_encode_payload (state, 7, 1, NULL, CKPT_FORMAT_ENCODE_NONE, &header, &payload);
  g_assert_cmpuint (ckpt_payload_get_n_pieces (payload), >, 1);
  for (i = 0; i < ckpt_payload_get_n_pieces (payload); i++)
    referenced |= ckpt_payload_get_piece (payload, i, NULL) == buffer;
  g_assert_true (referenced);

  flat = ckpt_format_encode_bytes (state, 7, 1, CKPT_FORMAT_ENCODE_NONE);
  file = g_byte_array_new ();
  g_byte_array_append (file, g_bytes_get_data (header, NULL), g_bytes_get_size (header));
  for (i = 0; i < ckpt_payload_get_n_pieces (payload); i++)
    {
      gsize size;
      const guint8 *data = ckpt_payload_get_piece (payload, i, &size);

      g_byte_array_append (file, data, size);
    }
  g_assert_cmpmem (file->data, file->len, g_bytes_get_data (flat, NULL), g_bytes_get_size (flat));

  dir = g_dir_make_tmp ("test-pieces-XXXXXX", &error);
  g_assert_no_error (error);
  mgr = ckpt_manager_new_for_path (dir, NULL, 0, TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (ckpt_manager_save (mgr, state, 7, NULL, &error));
  g_assert_no_error (error);
  back = ckpt_manager_load (mgr, NULL, 7, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_equal (back, state));
  g_clear_object (&mgr);
  g_clear_pointer (&back, g_variant_unref);
  {
    g_autofree char *path = g_build_filename (dir, "ckpt_7", NULL);

    g_assert_cmpint (g_unlink (path), ==, 0);
    g_assert_cmpint (g_rmdir (dir), ==, 0);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ckpt/pieces/type-info", test_type_info);
  g_test_add_func ("/ckpt/pieces/values", test_values);
  g_test_add_func ("/ckpt/pieces/offset-boundaries", test_offset_boundaries);
  g_test_add_func ("/ckpt/pieces/random", test_random);
  g_test_add_func ("/ckpt/pieces/tensors-not-copied", test_tensors_not_copied);
  g_test_add_func ("/ckpt/pieces/many-small-values", test_many_small_values);
  g_test_add_func ("/ckpt/pieces/much-small-data", test_much_small_data);
  g_test_add_func ("/ckpt/pieces/timing", test_timing);
  g_test_add_func ("/ckpt/pieces/encode-and-save", test_encode_and_save);

  return g_test_run ();
}
