/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of the checkpoint file format (ckpt-format.c): pure code,
 * bytes in and bytes out.
 */
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
# define CKPT_UNDER_ASAN 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define CKPT_UNDER_ASAN 1
# endif
#endif
#include <sys/resource.h>

#include <ckpt-glib/ckpt-glib.h>
#include "ckpt-format-private.h"
#include "ckpt-test-util.h"

#define TEST_CTIME G_GINT64_CONSTANT (1700000000123456)
#define HOST_BYTE_ORDER (G_BYTE_ORDER == G_LITTLE_ENDIAN ? 'l' : 'B')
#define SWAPPED_BYTE_ORDER (G_BYTE_ORDER == G_LITTLE_ENDIAN ? 'B' : 'l')

/* The value stored in tests/fixtures/byteswapped-v1.ckpt; keep in sync with
 * tests/gen-fixture.c. */
#define FIXTURE_TYPE  "(sxada{sv}ab)"
#define FIXTURE_VALUE "('byteswapped fixture', int64 -1234567890123, " \
                      "[1.5, -2.25, 1e+300], " \
                      "{'answer': <int32 42>, 'name': <'ckpt'>, " \
                      "'pair': <(uint16 513, @ax [1, -2])>}, " \
                      "[true, false, true])"
#define FIXTURE_ROUND 7
#define FIXTURE_CTIME G_GINT64_CONSTANT (1700000000000000)

/* Values for the round trips, in GVariant text format. */
static const char * const round_trip_values[] = {
  "true",
  "false",
  "byte 0xff",
  "int16 -32768",
  "uint16 65535",
  "int32 -2147483648",
  "uint32 4294967295",
  "int64 -9223372036854775808",
  "uint64 18446744073709551615",
  "3.5",
  "-0.0",
  "handle 7",
  "'hello, world'",
  "''",
  "objectpath '/org/example/Object'",
  "signature 'a{sv}(ii)'",
  "<int32 5>",
  "<<'deep'>>",
  "(1, 'two', 3.0)",
  "((1, (true, ('x', byte 0x01))), @ay [], int64 -1)",
  "(byte 1, int32 2)",
  "{'a': <1>, 'b': <'x'>, 'c': <@ad [1.0, 2.0]>, 'd': <{'n': <true>}>}",
  "{1: 'a', 2: 'bb'}",
  "[1.0, 2.5, -3.0]",
  "b'bytes'",
  "@ay [0x00, 0xff, 0x80]",
  "['a', 'bb', '']",
  "[[1, 2], [3]]",
  "@aas [[], ['x']]",
  "[(1, 'a'), (2, 'bb')]",
  "@a(yt) [(1, 2), (3, 4)]",
  "@mi 5",
  "@mi nothing",
  "@ms 'x'",
  "@ms nothing",
  "@mmi just nothing",
  "@m(ii) (1, 2)",
  "@mad []",
  "[@mi 1, nothing, 3]",
  /* Empty arrays: payload size 0. */
  "@ad []",
  "@ay []",
  "@as []",
  "@a{sv} {}",
  "@aay []",
  /* The unit tuple. */
  "()",
  "((), ())",
  "@a() [(), ()]",
  "(@ad [], @as [], @a{sv} {}, ())",
};

/* ---- helpers ---- */

static GVariant *
parse_value (const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *v;

  v = g_variant_parse (NULL, text, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  /* g_variant_parse() returns a full, non-floating reference. */
  return v;
}

static GBytes *
encode_text (const char *text,
             gint64      round_num)
{
  g_autoptr(GVariant) v = parse_value (text);

  return ckpt_format_encode_bytes (v, round_num, TEST_CTIME,
                                   CKPT_FORMAT_ENCODE_NONE);
}

static guint8 *
dup_bytes (GBytes *bytes,
           gsize  *len)
{
  return g_memdup2 (g_bytes_get_data (bytes, len), g_bytes_get_size (bytes));
}

static guint32
header_size_of (GBytes *file)
{
  return ckpt_test_get_le32 ((const guint8 *) g_bytes_get_data (file, NULL) +
                             CKPT_FORMAT_OFFSET_HEADER_SIZE);
}

/* Decodes @file and asserts that it is rejected with @code. */
static void
assert_decode_fails (GBytes                *file,
                     gint64                 expected_round,
                     const GVariantType    *type,
                     CkptFormatDecodeFlags  flags,
                     int                    code,
                     const char            *what)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) v = NULL;
  g_auto(CkptFormatHeader) header = { 0, };

  v = ckpt_format_decode (file, expected_round, type, flags, &header, &error);
  if (v != NULL || !g_error_matches (error, CKPT_ERROR, code))
    g_test_message ("%s: expected code %d, got %s", what, code,
                    error != NULL ? error->message : "success");
  g_assert_null (v);
  g_assert_error (error, CKPT_ERROR, code);
  g_assert_nonnull (error->message);
}

static void
assert_corrupt (GBytes     *file,
                const char *what)
{
  assert_decode_fails (file, -1, NULL, CKPT_FORMAT_DECODE_NONE,
                       CKPT_ERROR_CORRUPT, what);
}

/* Copies @file with the bytes at @offset replaced, optionally resealed. */
static GBytes *
patch (GBytes        *file,
       gsize          offset,
       gconstpointer  data,
       gsize          size,
       gboolean       do_reseal)
{
  gsize len;
  guint8 *buf = dup_bytes (file, &len);

  g_assert_cmpuint (offset + size, <=, len);
  memcpy (buf + offset, data, size);
  if (do_reseal)
    ckpt_test_reseal (buf, len);
  return g_bytes_new_take (buf, len);
}

static GBytes *
patch_le32 (GBytes   *file,
            gsize     offset,
            guint32   value,
            gboolean  do_reseal)
{
  guint8 le[4];

  ckpt_test_put_le32 (le, value);
  return patch (file, offset, le, sizeof le, do_reseal);
}

static GBytes *
patch_le64 (GBytes   *file,
            gsize     offset,
            guint64   value,
            gboolean  do_reseal)
{
  guint8 le[8];

  ckpt_test_put_le64 (le, value);
  return patch (file, offset, le, sizeof le, do_reseal);
}

static GBytes *
patch_byte (GBytes   *file,
            gsize     offset,
            guint8    value,
            gboolean  do_reseal)
{
  return patch (file, offset, &value, 1, do_reseal);
}

static void
check_round_trip (GVariant              *value,
                  CkptFormatEncodeFlags  enc_flags)
{
  g_autoptr(GBytes) file = NULL;
  g_autoptr(GVariant) decoded = NULL;
  g_autoptr(GVariant) decoded_any = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(CkptFormatHeader) header = { 0, };
  const guint8 *data;
  gsize len;

  file = ckpt_format_encode_bytes (value, 42, TEST_CTIME, enc_flags);
  g_assert_nonnull (file);
  data = g_bytes_get_data (file, &len);

  decoded = ckpt_format_decode (file, 42, g_variant_get_type (value),
                                CKPT_FORMAT_DECODE_NONE, &header, &error);
  g_assert_no_error (error);
  g_assert_nonnull (decoded);
  g_assert_cmpstr (g_variant_get_type_string (decoded), ==,
                   g_variant_get_type_string (value));
  g_assert_true (g_variant_equal (decoded, value));
  g_assert_true (g_variant_is_normal_form (decoded));

  g_assert_cmpuint (header.version, ==, CKPT_FORMAT_VERSION);
  g_assert_cmpint (header.round_num, ==, 42);
  g_assert_cmpint (header.ctime_usec, ==, TEST_CTIME);
  g_assert_nonnull (header.type);
  g_assert_true (g_variant_type_equal (header.type, g_variant_get_type (value)));
  g_assert_cmpuint (header.header_size % 8, ==, 0);
  /* Writers pad to a cache line (readers need only 8): see file-format.md. */
  g_assert_cmpuint (header.header_size % CKPT_FORMAT_HEADER_ALIGN, ==, 0);
  g_assert_cmpuint (CKPT_FORMAT_HEADER_ALIGN, ==, 64);
  g_assert_cmpuint (header.header_size, >=, CKPT_FORMAT_FIXED_HEADER_SIZE);
  g_assert_cmpuint (header.payload_size, ==, g_variant_get_size (value));
  g_assert_cmpuint (header.header_size + header.payload_size, ==, len);
  g_assert_cmpuint (header.checksum, ==,
                    ckpt_test_get_le64 (data + CKPT_FORMAT_OFFSET_CHECKSUM));
  g_assert_cmpuint (header.checksum, ==, ckpt_test_checksum (data, len));

  if (enc_flags & CKPT_FORMAT_ENCODE_BYTESWAP)
    g_assert_cmpint (header.byte_order, ==, SWAPPED_BYTE_ORDER);
  else
    g_assert_cmpint (header.byte_order, ==, HOST_BYTE_ORDER);
  g_assert_cmpint (data[CKPT_FORMAT_OFFSET_BYTE_ORDER], ==, header.byte_order);

  /* Zero copy: in host byte order, the value is backed by the file. */
  if (!(enc_flags & CKPT_FORMAT_ENCODE_BYTESWAP) && header.payload_size > 0)
    {
      const guint8 *vdata = g_variant_get_data (decoded);

      g_assert_true (vdata >= data + header.header_size);
      g_assert_true (vdata < data + len);
      g_assert_true (vdata == data + header.header_size);
    }

  /* Any type, any round. */
  decoded_any = ckpt_format_decode (file, -1, NULL, CKPT_FORMAT_DECODE_NONE,
                                    NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (decoded_any);
  g_assert_true (g_variant_equal (decoded_any, value));
}

/* A small checkpoint for the damage tests. */
static GBytes *
small_checkpoint (void)
{
  return encode_text ("(5, ['a'])", 3);
}

/* ---- round trips and header ---- */

static void
test_round_trip (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (round_trip_values); i++)
    {
      g_autoptr(GVariant) v = parse_value (round_trip_values[i]);

      g_test_message ("value %s : %s", round_trip_values[i],
                      g_variant_get_type_string (v));
      check_round_trip (v, CKPT_FORMAT_ENCODE_NONE);
    }
}

static void
test_round_trip_byteswap (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (round_trip_values); i++)
    {
      g_autoptr(GVariant) v = parse_value (round_trip_values[i]);

      g_test_message ("value %s : %s", round_trip_values[i],
                      g_variant_get_type_string (v));
      check_round_trip (v, CKPT_FORMAT_ENCODE_BYTESWAP);
    }
}

static void
test_empty_payload (void)
{
  const char *empties[] = { "@ad []", "@ay []", "@as []", "@a{sv} {}", "@mi nothing" };

  for (gsize i = 0; i < G_N_ELEMENTS (empties); i++)
    {
      g_autoptr(GBytes) file = encode_text (empties[i], 0);
      g_auto(CkptFormatHeader) header = { 0, };
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) v = NULL;
      g_autoptr(GVariant) expected = parse_value (empties[i]);

      v = ckpt_format_decode (file, 0, NULL, CKPT_FORMAT_DECODE_NONE,
                              &header, &error);
      g_assert_no_error (error);
      g_assert_nonnull (v);
      g_assert_cmpuint (header.payload_size, ==, 0);
      g_assert_cmpuint (g_bytes_get_size (file), ==, header.header_size);
      g_assert_true (g_variant_equal (v, expected));
    }
}

static void
test_unit_tuple (void)
{
  g_autoptr(GVariant) unit = g_variant_ref_sink (g_variant_new_tuple (NULL, 0));
  g_autoptr(GBytes) file = ckpt_format_encode_bytes (unit, 1, TEST_CTIME,
                                                     CKPT_FORMAT_ENCODE_NONE);
  g_autoptr(GVariant) v = NULL;
  g_autoptr(GError) error = NULL;

  v = ckpt_format_decode (file, 1, G_VARIANT_TYPE_UNIT,
                          CKPT_FORMAT_DECODE_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_assert_cmpstr (g_variant_get_type_string (v), ==, "()");
  g_assert_cmpuint (g_variant_n_children (v), ==, 0);
}

static void
test_large_array (void)
{
  const gsize n = 1024 * 1024;
  g_autofree double *doubles = g_new (double, n);
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GBytes) file = NULL;
  g_autoptr(GVariant) v = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(CkptFormatHeader) header = { 0, };
  const double *got;
  const guint8 *data;
  gsize n_got, len;

  for (gsize i = 0; i < n; i++)
    doubles[i] = (double) i * 0.5 - 1000.0;
  value = g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE,
                                                         doubles, n,
                                                         sizeof (double)));

  file = ckpt_format_encode_bytes (value, 1000, TEST_CTIME,
                                   CKPT_FORMAT_ENCODE_NONE);
  data = g_bytes_get_data (file, &len);
  g_assert_cmpuint (len, >=, n * sizeof (double) + CKPT_FORMAT_FIXED_HEADER_SIZE);

  v = ckpt_format_decode (file, 1000, G_VARIANT_TYPE ("ad"),
                          CKPT_FORMAT_DECODE_NONE, &header, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_assert_cmpuint (header.payload_size, ==, n * sizeof (double));
  got = g_variant_get_fixed_array (v, &n_got, sizeof (double));
  g_assert_cmpuint (n_got, ==, n);
  g_assert_cmpmem (got, n * sizeof (double), doubles, n * sizeof (double));
  /* Zero copy. */
  g_assert_true ((const guint8 *) got == data + header.header_size);
}

static void
test_large_array_byteswap (void)
{
  const gsize n = 1024 * 1024;
  g_autofree double *doubles = g_new (double, n);
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GBytes) file = NULL;
  g_autoptr(GVariant) v = NULL;
  g_autoptr(GError) error = NULL;

  for (gsize i = 0; i < n; i++)
    doubles[i] = (double) i * 0.25 + 3.0;
  value = g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE,
                                                         doubles, n,
                                                         sizeof (double)));
  file = ckpt_format_encode_bytes (value, 1, TEST_CTIME,
                                   CKPT_FORMAT_ENCODE_BYTESWAP);
  v = ckpt_format_decode (file, 1, G_VARIANT_TYPE ("ad"),
                          CKPT_FORMAT_DECODE_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_assert_true (g_variant_equal (v, value));
}

static void
test_header_fields (void)
{
  g_autoptr(GBytes) file = encode_text ("(5, ['a'])", 3);
  g_auto(CkptFormatHeader) header = { 0, };
  g_auto(CkptFormatHeader) header2 = { 0, };
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) v = NULL;
  g_autofree char *version = NULL;
  g_autofree char *type_string = NULL;
  const guint8 *data;
  gsize len;

  data = g_bytes_get_data (file, &len);

  g_assert_cmpmem (data, CKPT_FORMAT_MAGIC_LEN, CKPT_FORMAT_MAGIC, CKPT_FORMAT_MAGIC_LEN);
  g_assert_cmpuint (ckpt_test_get_le32 (data + CKPT_FORMAT_OFFSET_VERSION), ==, 1);
  g_assert_cmpuint (ckpt_test_get_le32 (data + CKPT_FORMAT_OFFSET_HEADER_SIZE) % 8, ==, 0);
  g_assert_cmpuint (ckpt_test_get_le32 (data + CKPT_FORMAT_OFFSET_HEADER_SIZE) +
                    ckpt_test_get_le64 (data + CKPT_FORMAT_OFFSET_PAYLOAD_SIZE), ==, len);
  g_assert_cmpint ((gint64) ckpt_test_get_le64 (data + CKPT_FORMAT_OFFSET_ROUND), ==, 3);
  g_assert_cmpint ((gint64) ckpt_test_get_le64 (data + CKPT_FORMAT_OFFSET_CTIME), ==, TEST_CTIME);
  g_assert_cmpuint (ckpt_test_get_le64 (data + CKPT_FORMAT_OFFSET_CHECKSUM), ==,
                    ckpt_test_checksum (data, len));
  g_assert_cmpuint (CKPT_FORMAT_FIXED_HEADER_SIZE + ckpt_test_get_le32 (data + CKPT_FORMAT_OFFSET_META_SIZE),
                    <=, ckpt_test_get_le32 (data + CKPT_FORMAT_OFFSET_HEADER_SIZE));
  for (gsize i = CKPT_FORMAT_OFFSET_BYTE_ORDER + 1; i < CKPT_FORMAT_FIXED_HEADER_SIZE; i++)
    g_assert_cmpuint (data[i], ==, 0);

  g_assert_true (ckpt_format_read_header (file, CKPT_FORMAT_DECODE_NONE,
                                          &header, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (header.version, ==, 1);
  g_assert_cmpint (header.round_num, ==, 3);
  g_assert_cmpint (header.ctime_usec, ==, TEST_CTIME);
  g_assert_cmpint (header.byte_order, ==, HOST_BYTE_ORDER);
  g_assert_cmpuint (header.header_size, ==, ckpt_test_get_le32 (data + CKPT_FORMAT_OFFSET_HEADER_SIZE));
  g_assert_cmpuint (header.payload_size, ==, ckpt_test_get_le64 (data + CKPT_FORMAT_OFFSET_PAYLOAD_SIZE));
  g_assert_cmpuint (header.checksum, ==, ckpt_test_get_le64 (data + CKPT_FORMAT_OFFSET_CHECKSUM));
  type_string = g_variant_type_dup_string (header.type);
  g_assert_cmpstr (type_string, ==, "(ias)");
  g_assert_nonnull (header.metadata);
  g_assert_cmpstr (g_variant_get_type_string (header.metadata), ==, "a{sv}");
  g_assert_true (g_variant_lookup (header.metadata, "ckpt-glib-version", "s", &version));
  g_assert_cmpstr (version, ==, CKPT_VERSION_S);

  v = ckpt_format_decode (file, 3, NULL, CKPT_FORMAT_DECODE_NONE, &header2, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_assert_cmpint (header2.round_num, ==, 3);
  g_assert_true (g_variant_type_equal (header2.type, header.type));
  g_assert_true (g_variant_equal (header2.metadata, header.metadata));
}

static void
test_round_extremes (void)
{
  const gint64 rounds[] = { 0, 1, G_MAXINT32, (gint64) G_MAXINT32 + 1, G_MAXINT64 };

  for (gsize i = 0; i < G_N_ELEMENTS (rounds); i++)
    {
      g_autoptr(GBytes) file = encode_text ("'x'", rounds[i]);
      g_auto(CkptFormatHeader) header = { 0, };
      g_autoptr(GVariant) v = NULL;
      g_autoptr(GError) error = NULL;

      v = ckpt_format_decode (file, rounds[i], NULL, CKPT_FORMAT_DECODE_NONE,
                              &header, &error);
      g_assert_no_error (error);
      g_assert_nonnull (v);
      g_assert_cmpint (header.round_num, ==, rounds[i]);
    }
}

static void
test_encode_pieces (void)
{
  g_autoptr(GVariant) state = parse_value ("(int64 9, [1.0, 2.0, 3.0], 'tail')");
  g_autoptr(GVariant) user_meta = parse_value ("{'user-key': <'user-value'>}");
  g_autoptr(GBytes) header_bytes = NULL;
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GByteArray) joined = g_byte_array_new ();
  g_autoptr(GBytes) file = NULL;
  g_autoptr(GVariant) v = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(CkptFormatHeader) header = { 0, };
  g_autofree char *user_value = NULL;
  g_autofree char *version = NULL;

  ckpt_format_encode (state, 11, TEST_CTIME, user_meta, CKPT_FORMAT_ENCODE_NONE,
                      &header_bytes, &payload);
  g_assert_nonnull (header_bytes);
  g_assert_nonnull (payload);
  g_assert_cmpuint (g_bytes_get_size (header_bytes), ==, header_size_of (header_bytes));
  g_assert_cmpuint (g_bytes_get_size (header_bytes) % 64, ==, 0);
  g_assert_cmpmem (g_bytes_get_data (payload, NULL), g_bytes_get_size (payload),
                   g_variant_get_data (state), g_variant_get_size (state));

  g_byte_array_append (joined, g_bytes_get_data (header_bytes, NULL),
                       g_bytes_get_size (header_bytes));
  g_byte_array_append (joined, g_bytes_get_data (payload, NULL),
                       g_bytes_get_size (payload));
  file = g_byte_array_free_to_bytes (g_steal_pointer (&joined));

  v = ckpt_format_decode (file, 11, G_VARIANT_TYPE ("(xads)"),
                          CKPT_FORMAT_DECODE_NONE, &header, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_assert_true (g_variant_equal (v, state));
  g_assert_true (g_variant_lookup (header.metadata, "user-key", "s", &user_value));
  g_assert_cmpstr (user_value, ==, "user-value");
  g_assert_true (g_variant_lookup (header.metadata, "ckpt-glib-version", "s", &version));
  g_assert_cmpstr (version, ==, CKPT_VERSION_S);
}

static void
test_encode_no_copy (void)
{
  const gsize n = 4096;
  g_autofree double *doubles = g_new0 (double, n);
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GBytes) header_bytes = NULL;
  g_autoptr(GBytes) payload = NULL;

  state = g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE,
                                                         doubles, n,
                                                         sizeof (double)));
  ckpt_format_encode (state, 1, TEST_CTIME, NULL, CKPT_FORMAT_ENCODE_NONE,
                      &header_bytes, &payload);
  g_assert_true (g_bytes_get_data (payload, NULL) == g_variant_get_data (state));
}

/* A state built as a tree (GVariantBuilder) is serialised into a buffer of
 * the encoder's own: the bytes are those of g_variant_get_data(), and the
 * caller's value is left as a tree (it still hands out the child instances
 * it holds) instead of being converted. A serialised container is shared. */
static GVariant *
build_tree (GBytes *array)
{
  GVariantBuilder outer, inner;
  int i;

  g_variant_builder_init (&outer, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&inner, G_VARIANT_TYPE ("a{sd}"));
  for (i = 0; i < 50; i++)
    {
      g_autofree char *key = g_strdup_printf ("w_%03d", i);

      g_variant_builder_add (&inner, "{sd}", key, i * 0.25);
    }
  g_variant_builder_add (&outer, "{sv}", "named", g_variant_builder_end (&inner));
  g_variant_builder_add (&outer, "{sv}", "array",
                         g_variant_new_from_bytes (G_VARIANT_TYPE ("ad"), array, TRUE));
  g_variant_builder_add (&outer, "{sv}", "epoch", g_variant_new_int64 (7));
  return g_variant_ref_sink (g_variant_builder_end (&outer));
}

static void
test_encode_tree (void)
{
  g_autofree double *doubles = g_new (double, 1000);
  g_autoptr(GBytes) array = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GVariant) twin = NULL;
  g_autoptr(GVariant) child = NULL;
  g_autoptr(GVariant) again = NULL;
  g_autoptr(GVariant) serialised = NULL;
  g_autoptr(GBytes) header_bytes = NULL;
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GBytes) expected = NULL;
  int i;

  for (i = 0; i < 1000; i++)
    doubles[i] = i / 3.0;
  array = g_bytes_new_static (doubles, 1000 * sizeof (double));

  state = build_tree (array);
  ckpt_format_encode (state, 1, TEST_CTIME, NULL, CKPT_FORMAT_ENCODE_NONE,
                      &header_bytes, &payload);

  twin = build_tree (array);
  expected = g_variant_get_data_as_bytes (twin);
  g_assert_true (g_bytes_equal (payload, expected));

  child = g_variant_get_child_value (state, 0);
  again = g_variant_get_child_value (state, 0);
  g_assert_true (child == again);

  /* The same value, serialised: shared, not copied. */
  g_clear_pointer (&header_bytes, g_bytes_unref);
  g_clear_pointer (&payload, g_bytes_unref);
  serialised = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, expected, TRUE));
  ckpt_format_encode (serialised, 1, TEST_CTIME, NULL, CKPT_FORMAT_ENCODE_NONE,
                      &header_bytes, &payload);
  g_assert_true (g_bytes_get_data (payload, NULL) == g_bytes_get_data (expected, NULL));
}

static void
test_encode_floating (void)
{
  g_autoptr(GBytes) file = NULL;
  g_autoptr(GVariant) v = NULL;
  g_autoptr(GError) error = NULL;

  file = ckpt_format_encode_bytes (g_variant_new ("(si)", "floating", 3), 2,
                                   TEST_CTIME, CKPT_FORMAT_ENCODE_NONE);
  v = ckpt_format_decode (file, 2, G_VARIANT_TYPE ("(si)"),
                          CKPT_FORMAT_DECODE_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_assert_cmpstr (g_variant_get_type_string (v), ==, "(si)");
}

/* A state that is not in normal form is written in normal form. */
static void
test_encode_non_normal (void)
{
  static const guint8 bad_bool = 2;
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GVariant) normal = NULL;
  g_autoptr(GBytes) file = NULL;
  g_autoptr(GVariant) v = NULL;
  g_autoptr(GError) error = NULL;

  state = g_variant_ref_sink (g_variant_new_from_data (G_VARIANT_TYPE_BOOLEAN,
                                                       &bad_bool, 1, FALSE,
                                                       NULL, NULL));
  g_assert_false (g_variant_is_normal_form (state));
  normal = g_variant_get_normal_form (state);
  file = ckpt_format_encode_bytes (state, 1, TEST_CTIME, CKPT_FORMAT_ENCODE_NONE);
  v = ckpt_format_decode (file, 1, G_VARIANT_TYPE_BOOLEAN,
                          CKPT_FORMAT_DECODE_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_assert_true (g_variant_is_normal_form (v));
  g_assert_true (g_variant_equal (v, normal));
}

/* The input need not be aligned: decoding copies then. */
static void
test_unaligned_input (void)
{
  g_autoptr(GVariant) state = parse_value ("(int64 -5, [1.0, 2.0], {'k': <uint64 7>})");
  g_autoptr(GBytes) file = ckpt_format_encode_bytes (state, 4, TEST_CTIME,
                                                     CKPT_FORMAT_ENCODE_NONE);
  g_autoptr(GBytes) big = NULL;
  g_autoptr(GBytes) slice = NULL;
  g_autoptr(GVariant) v = NULL;
  g_autoptr(GError) error = NULL;
  gsize len = g_bytes_get_size (file);
  guint8 *buf = g_malloc0 (len + 1);

  memcpy (buf + 1, g_bytes_get_data (file, NULL), len);
  big = g_bytes_new_take (buf, len + 1);
  slice = g_bytes_new_from_bytes (big, 1, len);

  v = ckpt_format_decode (slice, 4, G_VARIANT_TYPE ("(xada{sv})"),
                          CKPT_FORMAT_DECODE_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_assert_true (g_variant_equal (v, state));
}

/* ---- damage ---- */

static void
test_bit_flips (void)
{
  g_autoptr(GBytes) file = small_checkpoint ();
  gsize len;
  const guint8 *orig = g_bytes_get_data (file, &len);
  guint n_bad = 0;

  g_assert_cmpuint (len, <, 512);
  for (gsize bit = 0; bit < len * 8; bit++)
    {
      g_autoptr(GBytes) damaged = NULL;
      g_autoptr(GVariant) v = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) error2 = NULL;
      g_auto(CkptFormatHeader) header = { 0, };
      guint8 *buf = g_memdup2 (orig, len);

      buf[bit / 8] ^= (guint8) (1u << (bit % 8));
      damaged = g_bytes_new_take (buf, len);

      v = ckpt_format_decode (damaged, 3, G_VARIANT_TYPE ("(ias)"),
                              CKPT_FORMAT_DECODE_NONE, NULL, &error);
      if (v != NULL || !g_error_matches (error, CKPT_ERROR, CKPT_ERROR_CORRUPT))
        {
          g_test_message ("bit %" G_GSIZE_FORMAT " (byte %" G_GSIZE_FORMAT "): decode gave %s",
                          bit, bit / 8, error != NULL ? error->message : "success");
          n_bad++;
        }
      if (ckpt_format_read_header (damaged, CKPT_FORMAT_DECODE_NONE, &header, &error2) ||
          !g_error_matches (error2, CKPT_ERROR, CKPT_ERROR_CORRUPT))
        {
          g_test_message ("bit %" G_GSIZE_FORMAT ": read_header gave %s",
                          bit, error2 != NULL ? error2->message : "success");
          n_bad++;
        }
    }
  g_assert_cmpuint (n_bad, ==, 0);
}

static void
test_truncations (void)
{
  g_autoptr(GBytes) file = small_checkpoint ();
  gsize len;
  const guint8 *orig = g_bytes_get_data (file, &len);

  for (gsize n = 0; n < len; n++)
    {
      g_autoptr(GBytes) truncated = g_bytes_new (orig, n);
      g_autofree char *what = g_strdup_printf ("truncated to %" G_GSIZE_FORMAT, n);

      assert_decode_fails (truncated, 3, G_VARIANT_TYPE ("(ias)"),
                           CKPT_FORMAT_DECODE_NONE, CKPT_ERROR_CORRUPT, what);
      /* Structure is checked even without the checksum. */
      assert_decode_fails (truncated, 3, G_VARIANT_TYPE ("(ias)"),
                           CKPT_FORMAT_DECODE_NO_VERIFY, CKPT_ERROR_CORRUPT, what);
    }
}

static void
test_appended (void)
{
  g_autoptr(GBytes) file = small_checkpoint ();
  const guint8 extra[8] = { 0, };
  gsize len;
  const guint8 *orig = g_bytes_get_data (file, &len);

  for (gsize n = 1; n <= sizeof extra; n++)
    {
      g_autoptr(GByteArray) arr = g_byte_array_new ();
      g_autoptr(GBytes) longer = NULL;
      g_autofree char *what = g_strdup_printf ("%" G_GSIZE_FORMAT " bytes appended", n);

      g_byte_array_append (arr, orig, len);
      g_byte_array_append (arr, extra, n);
      longer = g_byte_array_free_to_bytes (g_steal_pointer (&arr));
      assert_corrupt (longer, what);
      assert_decode_fails (longer, -1, NULL, CKPT_FORMAT_DECODE_NO_VERIFY,
                           CKPT_ERROR_CORRUPT, what);
    }
}

static void
test_zero_length (void)
{
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(GBytes) zeros = NULL;
  g_autoptr(GBytes) small = small_checkpoint ();
  g_auto(CkptFormatHeader) header = { 0, };
  g_autoptr(GError) error = NULL;

  assert_corrupt (empty, "empty");
  assert_decode_fails (empty, -1, NULL, CKPT_FORMAT_DECODE_NO_VERIFY,
                       CKPT_ERROR_CORRUPT, "empty, no verify");
  g_assert_false (ckpt_format_read_header (empty, CKPT_FORMAT_DECODE_NONE,
                                           &header, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);

  /* Zeroed data of the right length. */
  zeros = g_bytes_new_take (g_malloc0 (g_bytes_get_size (small)),
                            g_bytes_get_size (small));
  assert_corrupt (zeros, "zeroed");
}

static void
test_huge_sizes_run (void)
{
  g_autoptr(GBytes) file = small_checkpoint ();
  gsize len = g_bytes_get_size (file);
  guint32 hsize = header_size_of (file);
  const guint8 *data = g_bytes_get_data (file, NULL);
  guint32 meta_size = ckpt_test_get_le32 (data + CKPT_FORMAT_OFFSET_META_SIZE);
  const guint64 payload_sizes[] = {
    G_MAXUINT64, G_MAXUINT64 - hsize + 1, G_MAXUINT64 - 7,
    (guint64) G_MAXINT64, (guint64) G_MAXINT64 + 1, G_GUINT64_CONSTANT (1) << 40,
    G_MAXUINT32, len, len - hsize + 1, len - hsize - 1, 0,
  };
  const guint32 header_sizes[] = {
    G_MAXUINT32, G_MAXUINT32 - 7, 0x80000000u, 0, 8, 56, 63, hsize + 1, hsize - 1,
    hsize + 8, (guint32) len, (guint32) len + 8,
  };
  const guint32 meta_sizes[] = {
    G_MAXUINT32, G_MAXUINT32 - 63, 0x80000000u, hsize, hsize - 63, (guint32) len,
    meta_size + 1, meta_size - 1, 0,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (payload_sizes); i++)
    for (int sealed = 0; sealed < 2; sealed++)
      {
        g_autoptr(GBytes) bad = patch_le64 (file, CKPT_FORMAT_OFFSET_PAYLOAD_SIZE,
                                            payload_sizes[i], sealed);
        g_autofree char *what = g_strdup_printf ("payload_size %" G_GUINT64_FORMAT, payload_sizes[i]);

        assert_corrupt (bad, what);
        assert_decode_fails (bad, -1, NULL, CKPT_FORMAT_DECODE_NO_VERIFY,
                             CKPT_ERROR_CORRUPT, what);
      }

  for (gsize i = 0; i < G_N_ELEMENTS (header_sizes); i++)
    for (int sealed = 0; sealed < 2; sealed++)
      {
        g_autoptr(GBytes) bad = patch_le32 (file, CKPT_FORMAT_OFFSET_HEADER_SIZE,
                                            header_sizes[i], sealed);
        g_autofree char *what = g_strdup_printf ("header_size %u", header_sizes[i]);

        assert_corrupt (bad, what);
        assert_decode_fails (bad, -1, NULL, CKPT_FORMAT_DECODE_NO_VERIFY,
                             CKPT_ERROR_CORRUPT, what);
      }

  /* Header and payload sizes changed together, consistent with the
   * length: a misaligned payload offset. */
  for (int sealed = 0; sealed < 2; sealed++)
    {
      g_autoptr(GBytes) tmp = patch_le32 (file, CKPT_FORMAT_OFFSET_HEADER_SIZE,
                                          hsize + 1, FALSE);
      g_autoptr(GBytes) bad = patch_le64 (tmp, CKPT_FORMAT_OFFSET_PAYLOAD_SIZE,
                                          len - hsize - 1, sealed);

      assert_corrupt (bad, "misaligned header_size");
      assert_decode_fails (bad, -1, NULL, CKPT_FORMAT_DECODE_NO_VERIFY,
                           CKPT_ERROR_CORRUPT, "misaligned header_size");
    }

  for (gsize i = 0; i < G_N_ELEMENTS (meta_sizes); i++)
    for (int sealed = 0; sealed < 2; sealed++)
      {
        g_autoptr(GBytes) bad = patch_le32 (file, CKPT_FORMAT_OFFSET_META_SIZE,
                                            meta_sizes[i], sealed);
        g_autofree char *what = g_strdup_printf ("meta_size %u", meta_sizes[i]);

        assert_corrupt (bad, what);
        assert_decode_fails (bad, -1, NULL, CKPT_FORMAT_DECODE_NO_VERIFY,
                             CKPT_ERROR_CORRUPT, what);
      }
}

/* Huge declared sizes must be rejected before anything is allocated: run
 * with a small address-space limit so that an allocation of the declared
 * size aborts the subprocess. */
static void
test_huge_sizes (void)
{
  if (g_test_subprocess ())
    {
      struct rlimit limit = { 512 * 1024 * 1024, 512 * 1024 * 1024 };

      /* AddressSanitizer reserves terabytes of shadow address space; its
       * own allocator reports allocations beyond max_allocation there. */
#ifndef CKPT_UNDER_ASAN
      g_assert_no_errno (setrlimit (RLIMIT_AS, &limit));
#else
      (void) limit;
#endif
      test_huge_sizes_run ();
      g_print ("huge sizes checked\n");
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*huge sizes checked*");
}

static void
test_expected_round (void)
{
  g_autoptr(GBytes) file = encode_text ("'r'", 5);
  g_autoptr(GVariant) v = NULL;
  g_autoptr(GVariant) v2 = NULL;
  g_autoptr(GError) error = NULL;

  assert_decode_fails (file, 6, NULL, CKPT_FORMAT_DECODE_NONE,
                       CKPT_ERROR_CORRUPT, "round 5 read as 6");
  assert_decode_fails (file, 4, NULL, CKPT_FORMAT_DECODE_NONE,
                       CKPT_ERROR_CORRUPT, "round 5 read as 4");
  assert_decode_fails (file, 0, NULL, CKPT_FORMAT_DECODE_NONE,
                       CKPT_ERROR_CORRUPT, "round 5 read as 0");
  assert_decode_fails (file, 6, NULL, CKPT_FORMAT_DECODE_NO_VERIFY,
                       CKPT_ERROR_CORRUPT, "round 5 read as 6, no verify");

  v = ckpt_format_decode (file, 5, NULL, CKPT_FORMAT_DECODE_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  v2 = ckpt_format_decode (file, -1, NULL, CKPT_FORMAT_DECODE_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v2);
}

static void
test_type_mismatch (void)
{
  g_autoptr(GBytes) file = small_checkpoint ();
  const char *wrong[] = { "(is)", "ai", "(iasi)", "i", "v", "a*", "m*", "(iay)" };

  for (gsize i = 0; i < G_N_ELEMENTS (wrong); i++)
    {
      g_autoptr(GVariant) v = NULL;
      g_autoptr(GError) error = NULL;

      if (!g_variant_type_string_is_valid (wrong[i]))
        continue;
      v = ckpt_format_decode (file, 3, G_VARIANT_TYPE (wrong[i]),
                              CKPT_FORMAT_DECODE_NONE, NULL, &error);
      g_assert_null (v);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_TYPE_MISMATCH);
      g_test_message ("%s: %s", wrong[i], error->message);
      g_assert_nonnull (strstr (error->message, "(ias)"));
      g_assert_nonnull (strstr (error->message, wrong[i]));
    }
}

static void
test_supertypes (void)
{
  const struct { const char *value; const char *type; } cases[] = {
    { "(5, ['a'])", "*" },
    { "(5, ['a'])", "r" },
    { "(5, ['a'])", "(i*)" },
    { "(5, ['a'])", "(ia*)" },
    { "(5, ['a'])", "(?a?)" },
    { "['a', 'b']", "a*" },
    { "['a', 'b']", "a?" },
    { "{'k': <1>}", "a{?*}" },
    { "{'k': <1>}", "a{sv}" },
    { "@mi 3", "m*" },
    { "int32 3", "?" },
    { "<3>", "v" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GVariant) value = parse_value (cases[i].value);
      g_autoptr(GBytes) file = ckpt_format_encode_bytes (value, 1, TEST_CTIME,
                                                         CKPT_FORMAT_ENCODE_NONE);
      g_autoptr(GVariant) v = NULL;
      g_autoptr(GError) error = NULL;

      v = ckpt_format_decode (file, 1, G_VARIANT_TYPE (cases[i].type),
                              CKPT_FORMAT_DECODE_NONE, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (v);
      g_assert_true (g_variant_equal (v, value));
    }
}

static void
test_reseal_control (void)
{
  /* The resealing helper itself: a resealed valid change decodes. */
  g_autoptr(GBytes) file = encode_text ("true", 1);
  g_autoptr(GBytes) changed = patch_byte (file, header_size_of (file), 0, TRUE);
  g_autoptr(GBytes) unsealed = patch_byte (file, header_size_of (file), 0, FALSE);
  g_autoptr(GBytes) resealed_same = patch_byte (file, 0, 0x89, TRUE);
  g_autoptr(GVariant) v = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_bytes_equal (resealed_same, file));

  v = ckpt_format_decode (changed, 1, G_VARIANT_TYPE_BOOLEAN,
                          CKPT_FORMAT_DECODE_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_assert_false (g_variant_get_boolean (v));

  assert_corrupt (unsealed, "changed without reseal");
}

static void
test_version (void)
{
  g_autoptr(GBytes) file = small_checkpoint ();
  const guint32 newer[] = { 2, 3, 1000, G_MAXUINT32 };
  g_autoptr(GBytes) v0 = patch_le32 (file, CKPT_FORMAT_OFFSET_VERSION, 0, TRUE);
  g_autoptr(GBytes) v2_unsealed = patch_le32 (file, CKPT_FORMAT_OFFSET_VERSION, 2, FALSE);

  for (gsize i = 0; i < G_N_ELEMENTS (newer); i++)
    {
      g_autoptr(GBytes) bad = patch_le32 (file, CKPT_FORMAT_OFFSET_VERSION, newer[i], TRUE);
      g_auto(CkptFormatHeader) header = { 0, };
      g_autoptr(GError) error = NULL;
      g_autofree char *what = g_strdup_printf ("version %u", newer[i]);

      assert_decode_fails (bad, 3, G_VARIANT_TYPE ("(ias)"), CKPT_FORMAT_DECODE_NONE,
                           CKPT_ERROR_UNSUPPORTED, what);
      assert_decode_fails (bad, -1, NULL, CKPT_FORMAT_DECODE_NONE,
                           CKPT_ERROR_UNSUPPORTED, what);
      g_assert_false (ckpt_format_read_header (bad, CKPT_FORMAT_DECODE_NONE,
                                               &header, &error));
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_UNSUPPORTED);
    }

  assert_corrupt (v0, "version 0");
  /* The checksum is checked first. */
  assert_corrupt (v2_unsealed, "version 2, old checksum");
  assert_decode_fails (v2_unsealed, -1, NULL, CKPT_FORMAT_DECODE_NO_VERIFY,
                       CKPT_ERROR_UNSUPPORTED, "version 2, no verify");
}

static void
test_reserved (void)
{
  g_autoptr(GBytes) file = small_checkpoint ();

  for (gsize off = CKPT_FORMAT_OFFSET_BYTE_ORDER + 1; off < CKPT_FORMAT_FIXED_HEADER_SIZE; off++)
    {
      g_autoptr(GBytes) bad = patch_byte (file, off, 1, TRUE);
      g_autoptr(GBytes) bad_ff = patch_byte (file, off, 0xff, TRUE);
      g_autofree char *what = g_strdup_printf ("reserved byte %" G_GSIZE_FORMAT, off);

      assert_corrupt (bad, what);
      assert_corrupt (bad_ff, what);
    }
}

/* Bytes between the end of the metadata and the payload must be zero. */
static void
test_padding (void)
{
  g_autoptr(GBytes) file = small_checkpoint ();
  const guint8 *data = g_bytes_get_data (file, NULL);
  guint32 meta_end = CKPT_FORMAT_FIXED_HEADER_SIZE +
                     ckpt_test_get_le32 (data + CKPT_FORMAT_OFFSET_META_SIZE);
  guint32 hsize = header_size_of (file);

  if (meta_end == hsize)
    {
      g_test_skip ("no padding in this encoding");
      return;
    }
  for (guint32 off = meta_end; off < hsize; off++)
    {
      g_autoptr(GBytes) bad = patch_byte (file, off, 1, TRUE);
      g_autofree char *what = g_strdup_printf ("padding byte %u", off);

      assert_corrupt (bad, what);
    }
}

static void
test_bad_magic_and_byte_order (void)
{
  g_autoptr(GBytes) file = small_checkpoint ();
  const guint8 bad_orders[] = { 0, 'L', 'b', 'x', 0xff };

  for (gsize off = 0; off < CKPT_FORMAT_MAGIC_LEN; off++)
    {
      g_autoptr(GBytes) bad = patch_byte (file, off, 'Z', TRUE);

      assert_corrupt (bad, "magic");
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad_orders); i++)
    {
      g_autoptr(GBytes) bad = patch_byte (file, CKPT_FORMAT_OFFSET_BYTE_ORDER,
                                          bad_orders[i], TRUE);

      assert_corrupt (bad, "byte order");
    }
}
/* Without verification a payload is trusted: a damaged one may decode (to
 * wrong values, which must still be safe to read) or fail as CORRUPT when a
 * cheap structural check catches it. */
static void
assert_no_verify_safe (GBytes     *file,
                       gint64      round_num,
                       const char *what)
{
  g_autoptr(GVariant) v = NULL;
  g_autoptr(GError) error = NULL;

  v = ckpt_format_decode (file, round_num, NULL, CKPT_FORMAT_DECODE_NO_VERIFY, NULL, &error);
  if (v != NULL)
    {
      g_autofree char *text = g_variant_print (v, TRUE);

      g_assert_no_error (error);
      g_assert_nonnull (text);
    }
  else
    {
      g_test_message ("%s: rejected without verification too", what);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
    }
}



/* Payload bytes changed into a serialisation that is not in normal form,
 * with a valid checksum. */
static void
test_not_normal_form (void)
{
  const struct { const char *value; gsize offset; guint8 byte; } cases[] = {
    /* "b": 1 byte, only 0 and 1 are normal. */
    { "true", 0, 2 },
    { "false", 0, 0xff },
    /* "ab" */
    { "[true, false]", 1, 2 },
    /* "s": "abc\0" without its terminator. */
    { "'abc'", 3, 'd' },
    /* "(ss)": "a\0b\0" + framing offset 2 */
    { "('a', 'b')", 4, 9 },
    { "('a', 'b')", 4, 1 },
    /* "as": "a\0bb\0" + offsets 2 5 */
    { "['a', 'bb']", 5, 3 },
    { "['a', 'bb']", 6, 9 },
    /* "(yi)": nonzero padding */
    { "(byte 1, int32 2)", 1, 0xff },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) file = encode_text (cases[i].value, 1);
      guint32 hsize = header_size_of (file);
      g_autoptr(GBytes) bad = NULL;
      g_autofree char *what = g_strdup_printf ("%s with payload byte %" G_GSIZE_FORMAT " = %u",
                                               cases[i].value, cases[i].offset,
                                               cases[i].byte);

      g_assert_cmpuint (hsize + cases[i].offset, <, g_bytes_get_size (file));
      bad = patch_byte (file, hsize + cases[i].offset, cases[i].byte, TRUE);
      assert_corrupt (bad, what);
      assert_no_verify_safe (bad, 1, what);
    }
}

/* Rebuilds @file with @payload as its payload (payload_size updated,
 * resealed). */
static GBytes *
replace_payload (GBytes        *file,
                 gconstpointer  payload,
                 gsize          payload_size)
{
  guint32 hsize = header_size_of (file);
  guint8 *buf = g_malloc0 (hsize + payload_size + 1);

  memcpy (buf, g_bytes_get_data (file, NULL), hsize);
  if (payload_size > 0)
    memcpy (buf + hsize, payload, payload_size);
  ckpt_test_put_le64 (buf + CKPT_FORMAT_OFFSET_PAYLOAD_SIZE, payload_size);
  ckpt_test_reseal (buf, hsize + payload_size);
  return g_bytes_new_take (buf, hsize + payload_size);
}

/* Payloads of the wrong size for their type, with a valid checksum. */
static void
test_payload_size (void)
{
  static const guint8 zeros[64] = { 0, };
  const struct { const char *value; gsize size; gboolean ok; } cases[] = {
    /* Arrays of fixed-size numbers: a multiple of the element size. */
    { "@ad [1.0]", 7, FALSE },
    { "@ad [1.0]", 9, FALSE },
    { "@ad [1.0]", 16, TRUE },
    { "@ad [1.0]", 0, TRUE },
    { "@an [1]", 3, FALSE },
    { "@an [1]", 4, TRUE },
    { "@ai [1]", 6, FALSE },
    { "@at [1]", 12, FALSE },
    { "@ah [1]", 5, FALSE },
    /* Other fixed-size types: exactly their size. */
    { "int32 1", 0, FALSE },
    { "int32 1", 3, FALSE },
    { "int32 1", 8, FALSE },
    { "(1, 2)", 7, FALSE },
    { "(1, 2)", 8, TRUE },
    { "@a(ii) [(1, 2)]", 12, FALSE },
    { "@a(ii) [(1, 2)]", 16, TRUE },
    { "@ab [true]", 3, TRUE },
    /* Strings need their terminator. */
    { "'s'", 0, FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) file = encode_text (cases[i].value, 1);
      g_autoptr(GBytes) changed = replace_payload (file, zeros, cases[i].size);
      g_autofree char *what = g_strdup_printf ("%s with a payload of %" G_GSIZE_FORMAT " zero bytes",
                                               cases[i].value, cases[i].size);

      if (cases[i].ok)
        {
          g_autoptr(GVariant) v = NULL;
          g_autoptr(GError) error = NULL;

          v = ckpt_format_decode (changed, 1, NULL, CKPT_FORMAT_DECODE_NONE, NULL, &error);
          g_assert_no_error (error);
          g_assert_nonnull (v);
          g_assert_cmpuint (g_variant_get_size (v), ==, cases[i].size);
        }
      else
        {
          assert_corrupt (changed, what);
          assert_no_verify_safe (changed, 1, what);
        }
    }
}

static GBytes *
replace_type_string (GBytes     *file,
                     const char *from,
                     const char *to)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (file, &len);
  guint32 hsize = header_size_of (file);
  const guint8 *found;

  g_assert_cmpuint (strlen (from), ==, strlen (to));
  found = memmem (data + CKPT_FORMAT_FIXED_HEADER_SIZE,
                  hsize - CKPT_FORMAT_FIXED_HEADER_SIZE, from, strlen (from) + 1);
  g_assert_nonnull (found);
  return patch (file, found - data, to, strlen (to), TRUE);
}

static void
test_invalid_type_string (void)
{
  g_autoptr(GBytes) file = encode_text ("(uint32 1, uint16 2, byte 1)", 1);
  const char *invalid[] = { "(uqZ)", "(uq)y", ")uqy(", "(uqyy", "a{vq}", "mmmm(" };

  for (gsize i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autoptr(GBytes) bad = replace_type_string (file, "(uqy)", invalid[i]);
      g_autofree char *what = g_strdup_printf ("type string %s", invalid[i]);

      g_assert_false (g_variant_type_string_is_valid (invalid[i]));
      assert_corrupt (bad, what);
      assert_decode_fails (bad, 1, G_VARIANT_TYPE ("(uqy)"), CKPT_FORMAT_DECODE_NONE,
                           CKPT_ERROR_CORRUPT, what);
    }
}

/* Control for the above: a valid but different type string is read. */
static void
test_changed_type_string (void)
{
  g_autoptr(GBytes) file = encode_text ("(uint32 1, uint16 2, byte 1)", 1);
  g_autoptr(GBytes) changed = replace_type_string (file, "(uqy)", "(uqb)");
  g_autoptr(GVariant) v = NULL;
  g_autoptr(GError) error = NULL;
  gboolean b = FALSE;

  v = ckpt_format_decode (changed, 1, NULL, CKPT_FORMAT_DECODE_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_assert_cmpstr (g_variant_get_type_string (v), ==, "(uqb)");
  g_variant_get_child (v, 2, "b", &b);
  g_assert_true (b);

  assert_decode_fails (changed, 1, G_VARIANT_TYPE ("(uqy)"), CKPT_FORMAT_DECODE_NONE,
                       CKPT_ERROR_TYPE_MISMATCH, "(uqb) read as (uqy)");
}

static void
test_no_verify (void)
{
  g_autoptr(GBytes) file = encode_text ("b'hello world'", 9);
  guint32 hsize = header_size_of (file);
  g_autoptr(GBytes) flipped = patch_byte (file, hsize + 1, 'E', FALSE);
  g_autoptr(GBytes) bad_magic = patch_byte (file, 1, 'X', FALSE);
  g_autoptr(GBytes) truncated = g_bytes_new_from_bytes (file, 0, g_bytes_get_size (file) - 1);
  g_autoptr(GVariant) v = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(CkptFormatHeader) header = { 0, };
  const char *str;

  assert_corrupt (flipped, "payload byte changed");

  v = ckpt_format_decode (flipped, 9, G_VARIANT_TYPE_BYTESTRING,
                          CKPT_FORMAT_DECODE_NO_VERIFY, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  str = g_variant_get_bytestring (v);
  g_assert_cmpstr (str, ==, "hEllo world");

  g_assert_true (ckpt_format_read_header (flipped, CKPT_FORMAT_DECODE_NO_VERIFY,
                                          &header, &error));
  g_assert_no_error (error);
  g_assert_cmpint (header.round_num, ==, 9);

  /* Structure is still checked. */
  assert_decode_fails (bad_magic, 9, NULL, CKPT_FORMAT_DECODE_NO_VERIFY,
                       CKPT_ERROR_CORRUPT, "magic, no verify");
  assert_decode_fails (truncated, 9, NULL, CKPT_FORMAT_DECODE_NO_VERIFY,
                       CKPT_ERROR_CORRUPT, "truncated, no verify");
  assert_decode_fails (flipped, 8, NULL, CKPT_FORMAT_DECODE_NO_VERIFY,
                       CKPT_ERROR_CORRUPT, "round, no verify");
  assert_decode_fails (flipped, 9, G_VARIANT_TYPE ("as"), CKPT_FORMAT_DECODE_NO_VERIFY,
                       CKPT_ERROR_TYPE_MISMATCH, "type, no verify");
}

static void
test_byteswapped_header (void)
{
  g_autoptr(GVariant) value = parse_value (FIXTURE_VALUE);
  g_autoptr(GBytes) file = ckpt_format_encode_bytes (value, 3, TEST_CTIME,
                                                     CKPT_FORMAT_ENCODE_BYTESWAP);
  g_autoptr(GBytes) native = ckpt_format_encode_bytes (value, 3, TEST_CTIME,
                                                       CKPT_FORMAT_ENCODE_NONE);
  g_auto(CkptFormatHeader) header = { 0, };
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) v = NULL;
  g_autofree char *version = NULL;
  const guint8 *data = g_bytes_get_data (file, NULL);
  guint32 hsize = header_size_of (file);

  /* The fixed header stays little-endian. */
  g_assert_cmpint ((gint64) ckpt_test_get_le64 (data + CKPT_FORMAT_OFFSET_ROUND), ==, 3);
  g_assert_cmpint (data[CKPT_FORMAT_OFFSET_BYTE_ORDER], ==, SWAPPED_BYTE_ORDER);
  /* The payload really is in the other byte order. */
  g_assert_cmpuint (g_bytes_get_size (file) - hsize, ==, g_variant_get_size (value));
  g_assert_true (memcmp (data + hsize, g_variant_get_data (value),
                         g_variant_get_size (value)) != 0);
  g_assert_false (g_bytes_equal (file, native));

  v = ckpt_format_decode (file, 3, G_VARIANT_TYPE (FIXTURE_TYPE),
                          CKPT_FORMAT_DECODE_NONE, &header, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_assert_true (g_variant_equal (v, value));
  g_assert_true (g_variant_lookup (header.metadata, "ckpt-glib-version", "s", &version));
  g_assert_cmpstr (version, ==, CKPT_VERSION_S);
}

static void
test_fixture (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "fixtures",
                                                 "byteswapped-v1.ckpt", NULL);
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(GBytes) file = NULL;
  g_autoptr(GVariant) expected = NULL;
  g_autoptr(GVariant) v = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(CkptFormatHeader) header = { 0, };
  g_autofree char *version = NULL;
  g_autofree char *str = NULL;
  g_autofree char *type_string = NULL;
  gint64 x;
  gint32 answer;

  mapped = g_mapped_file_new (path, FALSE, &error);
  g_assert_no_error (error);
  file = g_mapped_file_get_bytes (mapped);

  expected = g_variant_parse (G_VARIANT_TYPE (FIXTURE_TYPE),
                              FIXTURE_VALUE, NULL, NULL, &error);
  g_assert_no_error (error);

  v = ckpt_format_decode (file, FIXTURE_ROUND, G_VARIANT_TYPE (FIXTURE_TYPE),
                          CKPT_FORMAT_DECODE_NONE, &header, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_assert_true (g_variant_is_normal_form (v));
  g_assert_true (g_variant_equal (v, expected));

  g_assert_cmpuint (header.version, ==, 1);
  g_assert_cmpint (header.round_num, ==, FIXTURE_ROUND);
  g_assert_cmpint (header.ctime_usec, ==, FIXTURE_CTIME);
  g_assert_cmpint (header.byte_order, ==, 'B');
  type_string = g_variant_type_dup_string (header.type);
  g_assert_cmpstr (type_string, ==, FIXTURE_TYPE);
  g_assert_true (g_variant_lookup (header.metadata, "ckpt-glib-version", "s", &version));

  /* Spot checks of the byte-order dependent members. */
  g_variant_get_child (v, 1, "x", &x);
  g_assert_cmpint (x, ==, G_GINT64_CONSTANT (-1234567890123));
  g_variant_get_child (v, 0, "s", &str);
  g_assert_cmpstr (str, ==, "byteswapped fixture");
  {
    g_autoptr(GVariant) dict = g_variant_get_child_value (v, 3);

    g_assert_true (g_variant_lookup (dict, "answer", "i", &answer));
    g_assert_cmpint (answer, ==, 42);
  }

  /* Any type, and the header alone. */
  {
    g_autoptr(GVariant) any = ckpt_format_decode (file, -1, NULL,
                                                  CKPT_FORMAT_DECODE_NONE,
                                                  NULL, &error);
    g_auto(CkptFormatHeader) h2 = { 0, };

    g_assert_no_error (error);
    g_assert_true (g_variant_equal (any, expected));
    g_assert_true (ckpt_format_read_header (file, CKPT_FORMAT_DECODE_NONE, &h2, &error));
    g_assert_no_error (error);
    g_assert_cmpint (h2.round_num, ==, FIXTURE_ROUND);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ckpt/format/round-trip", test_round_trip);
  g_test_add_func ("/ckpt/format/round-trip-byteswap", test_round_trip_byteswap);
  g_test_add_func ("/ckpt/format/empty-payload", test_empty_payload);
  g_test_add_func ("/ckpt/format/unit-tuple", test_unit_tuple);
  g_test_add_func ("/ckpt/format/large-array", test_large_array);
  g_test_add_func ("/ckpt/format/large-array-byteswap", test_large_array_byteswap);
  g_test_add_func ("/ckpt/format/header-fields", test_header_fields);
  g_test_add_func ("/ckpt/format/round-extremes", test_round_extremes);
  g_test_add_func ("/ckpt/format/encode-pieces", test_encode_pieces);
  g_test_add_func ("/ckpt/format/encode-no-copy", test_encode_no_copy);
  g_test_add_func ("/ckpt/format/encode-tree", test_encode_tree);
  g_test_add_func ("/ckpt/format/encode-floating", test_encode_floating);
  g_test_add_func ("/ckpt/format/encode-non-normal", test_encode_non_normal);
  g_test_add_func ("/ckpt/format/unaligned-input", test_unaligned_input);
  g_test_add_func ("/ckpt/format/bit-flips", test_bit_flips);
  g_test_add_func ("/ckpt/format/truncations", test_truncations);
  g_test_add_func ("/ckpt/format/appended", test_appended);
  g_test_add_func ("/ckpt/format/zero-length", test_zero_length);
  g_test_add_func ("/ckpt/format/huge-sizes", test_huge_sizes);
  g_test_add_func ("/ckpt/format/expected-round", test_expected_round);
  g_test_add_func ("/ckpt/format/type-mismatch", test_type_mismatch);
  g_test_add_func ("/ckpt/format/supertypes", test_supertypes);
  g_test_add_func ("/ckpt/format/reseal-control", test_reseal_control);
  g_test_add_func ("/ckpt/format/version", test_version);
  g_test_add_func ("/ckpt/format/reserved", test_reserved);
  g_test_add_func ("/ckpt/format/padding", test_padding);
  g_test_add_func ("/ckpt/format/bad-magic-byte-order", test_bad_magic_and_byte_order);
  g_test_add_func ("/ckpt/format/not-normal-form", test_not_normal_form);
  g_test_add_func ("/ckpt/format/payload-size", test_payload_size);
  g_test_add_func ("/ckpt/format/invalid-type-string", test_invalid_type_string);
  g_test_add_func ("/ckpt/format/changed-type-string", test_changed_type_string);
  g_test_add_func ("/ckpt/format/no-verify", test_no_verify);
  g_test_add_func ("/ckpt/format/byteswapped", test_byteswapped_header);
  g_test_add_func ("/ckpt/format/fixture", test_fixture);

  return g_test_run ();
}
