/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ckpt_normal_form_check() must give exactly the answer of GLib's
 * g_variant_is_normal_form(): a wrong "yes" would let damaged data be
 * trusted. Differential tests on values of many types and on many
 * mutations of their bytes.
 */
#include <string.h>

#include <glib.h>

#include "ckpt-normal-private.h"

static const char *values[] = {
  "true", "byte 7", "int16 -2", "uint16 3", "int32 5", "uint32 6", "int64 7",
  "uint64 8", "3.5", "handle 3", "'text'", "''", "objectpath '/a/b'",
  "signature 'a{sv}'", "<int32 5>", "<'s'>", "<<<(1, 'x')>>>",
  "@ay []", "[byte 1, 2, 3]", "@ad []", "[1.0, 2.0, 3.0]", "[true, false, true]",
  "['a', 'bb', '', 'dddd']", "[['x'], @as [], ['y', 'z']]",
  "[(byte 1, 2.5), (3, 4.5)]", "[(1, true), (2, false)]", "@a(yq) [(1, 2), (3, 4)]",
  "{'a': <1>, 'b': <'two'>, 'c': <[1.0, 2.0]>}", "{1: 'x', 2: 'yy'}",
  "()", "((), ())", "[(), (), ()]", "(byte 1, 'x', 2.0, @ay [3], true)",
  "('s', @at [2, 3], [byte 0, 1, 2, 3, 4, 5, 6, 7])",
  "@mi 5", "@mi nothing", "@ms 'x'", "@ms nothing", "@mas ['a']", "@m(ii) (1, 2)",
  "[@mi 1, nothing, 3]", "[@ms 'a', nothing]", "@mmb just nothing",
  "(@ay [], @as [], @a{sv} {})", "{'deep': <{'deeper': <[<1>, <'x'>]>}>}",
  "[<1>, <'x'>, <(1, 2)>, <@ad [1.0]>]",
  "{'w': <('<f4', @at [2, 2], [byte 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64])>}",
};

static gboolean
glib_is_normal (const GVariantType *type,
                const guint8       *data,
                gsize               size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(GVariant) value = g_variant_ref_sink (g_variant_new_from_bytes (type, bytes, FALSE));

  return g_variant_is_normal_form (value);
}

static void
check_agree (const GVariantType *type,
             const guint8       *data,
             gsize               size,
             const char         *what)
{
  gboolean ours, theirs;
  /* An aligned copy, as a mapped payload is. */
  g_autofree guint8 *copy = g_malloc (MAX (size, 1));

  memcpy (copy, data, size);
  ours = ckpt_normal_form_check (type, size > 0 ? copy : NULL, size);
  theirs = glib_is_normal (type, copy, size);
  if (ours != theirs)
    {
      g_autofree char *hex = NULL;
      GString *s = g_string_new (NULL);
      gsize i;

      for (i = 0; i < size && i < 64; i++)
        g_string_append_printf (s, "%02x", copy[i]);
      hex = g_string_free (s, FALSE);
      g_test_message ("%s: type %.*s, %" G_GSIZE_FORMAT " bytes %s: ours %d, GLib %d",
                      what, (int) g_variant_type_get_string_length (type),
                      g_variant_type_peek_string (type), size, hex, ours, theirs);
    }
  g_assert_cmpint (ours, ==, theirs);
}

static GVariant *
parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *value = g_variant_parse (NULL, text, NULL, NULL, &error);

  g_assert_no_error (error);
  return value;
}

static void
test_values_are_normal (void)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autoptr(GVariant) value = parse (values[i]);
      gsize size = g_variant_get_size (value);
      g_autofree guint8 *data = g_malloc (MAX (size, 1));

      g_variant_store (value, data);
      g_assert_true (ckpt_normal_form_check (g_variant_get_type (value),
                                             size > 0 ? data : NULL, size));
      check_agree (g_variant_get_type (value), data, size, values[i]);
    }
}

static void
test_mutations (void)
{
  GRand *rand = g_rand_new_with_seed (g_test_rand_int ());
  guint n_checked = 0, n_normal = 0;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autoptr(GVariant) value = parse (values[i]);
      const GVariantType *type = g_variant_get_type (value);
      gsize size = g_variant_get_size (value);
      g_autofree guint8 *data = g_malloc (size + 16);
      guint round;

      g_variant_store (value, data);

      /* Every truncation and a few extensions. */
      for (round = 0; round <= size + 8; round++)
        {
          memset (data + size, round & 1 ? 0 : 0xff, 16);
          check_agree (type, data, MIN (round, size + 8), values[i]);
          n_checked++;
        }
      g_variant_store (value, data);

      /* Every byte set to a few values; random multi-byte damage. */
      for (round = 0; round < size * 6 + 2000; round++)
        {
          g_autofree guint8 *bad = g_memdup2 (data, size + 1);
          gsize bad_size = size;
          guint k, n = 1 + g_rand_int_range (rand, 0, 3);

          if (round < size * 6)
            {
              static const guint8 bytes[] = { 0x00, 0x01, 0x02, 0x80, 0xff, 0x7f };
              bad[round / 6] = bytes[round % 6];
            }
          else
            {
              for (k = 0; k < n && size > 0; k++)
                bad[g_rand_int_range (rand, 0, (gint32) size)] = (guint8) g_rand_int (rand);
              if (g_rand_boolean (rand) && bad_size > 0)
                bad_size -= (gsize) g_rand_int_range (rand, 0, (gint32) MIN (bad_size, 4) + 1);
            }

          check_agree (type, bad, bad_size, values[i]);
          n_normal += ckpt_normal_form_check (type, bad_size > 0 ? bad : NULL, bad_size);
          n_checked++;
        }
    }

  g_test_message ("%u inputs compared with GLib, %u of them normal", n_checked, n_normal);
  g_rand_free (rand);
}

/* Values nested to GLib's depth limit and beyond, through variants. */
static void
test_depth (void)
{
  guint depth;

  for (depth = 120; depth <= 132; depth++)
    {
      GVariant *value = g_variant_new_int32 (1);
      g_autofree guint8 *data = NULL;
      gsize size;
      guint i;

      g_variant_ref_sink (value);
      for (i = 0; i < depth; i++)
        {
          GVariant *outer = g_variant_ref_sink (g_variant_new_variant (value));

          g_variant_unref (value);
          value = outer;
        }
      size = g_variant_get_size (value);
      data = g_malloc (size);
      g_variant_store (value, data);
      check_agree (G_VARIANT_TYPE_VARIANT, data, size, "nested variants");
      g_variant_unref (value);
    }
}

/* Found by the differential fuzzer: 199 empty arrays framed with 2-byte
 * offsets where 1-byte offsets suffice (not normal), and a variant whose
 * type is nested deeper than GLib's limit (GLib's unsigned depth
 * arithmetic lets it pass). */
static void
test_fuzzer_findings (void)
{
  g_autofree guint8 *zeros = g_malloc0 (398);
  g_autoptr(GString) deep = g_string_new (NULL);
  guint i;

  check_agree (G_VARIANT_TYPE ("aa{sv}"), zeros, 398, "wide offsets");
  g_assert_false (ckpt_normal_form_check (G_VARIANT_TYPE ("aa{sv}"), zeros, 398));

  g_string_append_len (deep, "\x01\x15\x30\x01\x00(h", 6);
  for (i = 0; i < 129; i++)
    g_string_append_c (deep, 'a');
  g_string_append (deep, "s)");
  check_agree (G_VARIANT_TYPE_VARIANT, (const guint8 *) deep->str, deep->len, "deep type");

  /* A tuple framed with 2-byte offsets where 1-byte ones suffice. */
  {
    g_autofree guint8 *payload = g_malloc0 (245);
    g_autoptr(GVariant) tuple = NULL;
    g_autofree guint8 *wide = NULL;
    gsize size, body;

    tuple = g_variant_ref_sink (g_variant_new ("(s@at@ay)", "<f4",
                                               g_variant_new_fixed_array (G_VARIANT_TYPE_UINT64, NULL, 0, 8),
                                               g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, payload, 245, 1)));
    size = g_variant_get_size (tuple);
    g_assert_cmpuint (size, <=, 255);
    body = size - 2;                 /* two 1-byte framing offsets */
    wide = g_malloc0 (body + 4);
    g_variant_store (tuple, wide);
    /* Offsets are stored in reverse at the end: re-store them 2 bytes wide. */
    {
      guint8 first = wide[size - 1], second = wide[size - 2];

      wide[body + 2] = second;
      wide[body + 3] = 0;
      wide[body + 0] = first;
      wide[body + 1] = 0;
    }
    check_agree (G_VARIANT_TYPE ("(satay)"), wide, body + 4, "wide tuple offsets");
  }
}

/* The point of it all: a large array of numbers inside a dictionary. */
static void
test_large_array_in_dict (void)
{
  gsize n = 8 * 1024 * 1024, i;
  guint8 *bytes = g_malloc (n);
  g_autoptr(GVariant) dict = NULL;
  g_autoptr(GBytes) serialised = NULL;

  for (i = 0; i < n; i++)
    bytes[i] = (guint8) (i * 31);
  dict = g_variant_ref_sink (g_variant_new_parsed ("{'weights': <%@ay>, 'step': <int64 3>}",
                                                   g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING,
                                                                            bytes, n, TRUE, g_free, bytes)));
  serialised = g_variant_get_data_as_bytes (dict);
  check_agree (g_variant_get_type (dict), g_bytes_get_data (serialised, NULL),
               g_bytes_get_size (serialised), "8 MiB ay in a{sv}");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ckpt/normal/values-are-normal", test_values_are_normal);
  g_test_add_func ("/ckpt/normal/mutations", test_mutations);
  g_test_add_func ("/ckpt/normal/depth", test_depth);
  g_test_add_func ("/ckpt/normal/fuzzer-findings", test_fuzzer_findings);
  g_test_add_func ("/ckpt/normal/large-array-in-dict", test_large_array_in_dict);

  return g_test_run ();
}
