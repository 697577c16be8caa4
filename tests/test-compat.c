/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Compatibility of names and of file format versions:
 *
 * - a prefix that ends with a digit is refused (its names would read as
 *   rounds of a shorter prefix: round 2 of "run2" is "run22");
 * - a file of a later format version, of whatever layout, is
 *   CKPT_ERROR_UNSUPPORTED when intact and CKPT_ERROR_CORRUPT when damaged,
 *   from the format code, load, load_latest (no fall-back past it),
 *   load_latest_or_default (nothing saved over it) and query_info.
 *
 * Later-version files are made here: only what every version keeps is
 * fixed (the magic, the version field and the checksum rule of
 * docs/file-format.md, Versioning); the rest is what a later version might
 * do with it.
 */

#include <string.h>

#include <glib/gstdio.h>

#include <ckpt-glib/ckpt-glib.h>

#include "ckpt-format-private.h"
#include "ckpt-test-util.h"

/* ------------------------------------------------------------------------ */
/* Fixture */

typedef struct
{
  char  *tmp_path;   /* a fresh directory, removed in teardown */
  char  *root_path;  /* tmp_path/root, not created beforehand */
  GFile *root;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->tmp_path = g_dir_make_tmp ("test-compat-XXXXXX", &error);
  g_assert_no_error (error);
  f->root_path = g_build_filename (f->tmp_path, "root", NULL);
  f->root = g_file_new_for_path (f->root_path);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  ckpt_test_rm_rf (f->tmp_path);
  g_clear_object (&f->root);
  g_clear_pointer (&f->root_path, g_free);
  g_clear_pointer (&f->tmp_path, g_free);
}

/* ------------------------------------------------------------------------ */
/* Prefixes */

static void
test_prefix_trailing_digit (Fixture       *f,
                            gconstpointer  data)
{
  static const char * const bad[] = { "run2", "0", "x9", "ckpt_1", "model-v10", "é5" };
  static const char * const good[] = { "run2_", "run2-", "v2.", "2x", "r", "ckpt_" };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      CkptManager *mgr;
      GObject *obj;

      g_test_message ("prefix \"%s\"", bad[i]);
      mgr = ckpt_manager_new (f->root, bad[i], 5, TRUE, &error);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
      g_assert_null (mgr);
      /* The message says why. */
      g_assert_nonnull (strstr (error->message, bad[i]));
      g_assert_nonnull (strstr (error->message, "digit"));
      g_clear_error (&error);

      mgr = ckpt_manager_new_for_path (f->root_path, bad[i], 0, FALSE, &error);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
      g_assert_null (mgr);
      g_clear_error (&error);

      obj = g_initable_new (CKPT_TYPE_MANAGER, NULL, &error,
                            "root", f->root, "prefix", bad[i], NULL);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
      g_assert_null (obj);
    }

  for (i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      CkptManager *mgr = ckpt_manager_new (f->root, good[i], 5, TRUE, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (ckpt_manager_get_prefix (mgr), ==, good[i]);
      g_assert_finalize_object (mgr);
    }

  /* Nothing touched the disk. */
  g_assert_false (g_file_test (f->root_path, G_FILE_TEST_EXISTS));
}

/* The collision of the issue cannot happen any more: "run" and "run2_"
 * share a root and each sees its own rounds only. */
static void
test_prefix_no_collision (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CkptManager) run = ckpt_manager_new (f->root, "run", 2, FALSE, &error);
  g_autoptr(CkptManager) run2 = NULL;
  g_autofree gint64 *rounds = NULL;
  g_autofree char *listing = NULL;
  gsize n;

  g_assert_no_error (error);
  run2 = ckpt_manager_new (f->root, "run2_", 2, FALSE, &error);
  g_assert_no_error (error);
  ckpt_manager_set_durable (run, FALSE);
  ckpt_manager_set_durable (run2, FALSE);

  for (gint64 r = 1; r <= 3; r++)
    {
      g_assert_true (ckpt_manager_save (run2, g_variant_new_int64 (r), r, NULL, &error));
      g_assert_no_error (error);
    }
  g_assert_true (ckpt_manager_save (run, g_variant_new_int64 (1), 1, NULL, &error));
  g_assert_no_error (error);

  rounds = ckpt_manager_list_rounds (run, &n, &error);
  g_assert_no_error (error);
  listing = ckpt_test_rounds_string (rounds, n);
  g_assert_cmpstr (listing, ==, "1");
  ckpt_test_assert_listing (f->root_path, "run1", "run2_2", "run2_3");
}

/* ------------------------------------------------------------------------ */
/* Later format versions */

/* A version-1 file of round @round_num holding (ias). */
static GBytes *
v1_file (gint64 round_num)
{
  GVariant *state = g_variant_new_parsed ("(@i %i, ['a', 'bc'])", (gint32) round_num);

  return ckpt_format_encode_bytes (state, round_num, 1700000000000000, CKPT_FORMAT_ENCODE_NONE);
}

/* Sets the permanent fields: the magic, @version and the checksum by the
 * rule of every version (every byte but the checksum field). */
static GBytes *
seal_later (GByteArray *file,
            guint32     version)
{
  g_assert_cmpuint (file->len, >=, CKPT_FORMAT_PERMANENT_SIZE);
  memcpy (file->data, CKPT_FORMAT_MAGIC, CKPT_FORMAT_MAGIC_LEN);
  ckpt_test_put_le32 (file->data + CKPT_FORMAT_OFFSET_VERSION, version);
  ckpt_test_reseal (file->data, file->len);
  return g_byte_array_free_to_bytes (file);
}

static GByteArray *
array_of (GBytes *bytes)
{
  GByteArray *array = g_byte_array_new ();

  g_byte_array_append (array, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  return array;
}

typedef enum
{
  LATER_SAME_LAYOUT,      /* version 2, else a version-1 file */
  LATER_LARGER_HEADER,    /* a 128-byte fixed header, then metadata and payload */
  LATER_TRAILER,          /* 24 bytes after the payload */
  LATER_RESERVED,         /* the reserved bytes 53..63 set */
  LATER_OTHER_FIELDS,     /* bytes 12..39 of other meanings (sizes no v1 reader accepts) */
  LATER_MINIMAL,          /* just the 48 permanent bytes */
  LATER_HUGE_VERSION,     /* version G_MAXUINT32, with a trailer */
  N_LATER
} Later;

static const char * const later_names[N_LATER] = {
  "same layout", "larger header", "trailer", "reserved bytes", "other fields",
  "48 bytes", "version 2^32-1",
};

/* A file of a later version made from the version-1 file of @round_num
 * (whose round stays at offset 24, where a later version may keep it). */
static GBytes *
later_file (Later  kind,
            gint64 round_num)
{
  g_autoptr(GBytes) v1 = v1_file (round_num);
  GByteArray *file = array_of (v1);
  guint32 header_size = ckpt_test_get_le32 (file->data + CKPT_FORMAT_OFFSET_HEADER_SIZE);
  guint8 extra[64];
  guint i;

  for (i = 0; i < sizeof extra; i++)
    extra[i] = (guint8) (0xa5 ^ i);

  switch (kind)
    {
    case LATER_SAME_LAYOUT:
      return seal_later (file, 2);
    case LATER_LARGER_HEADER:
      /* 64 more bytes of fixed header, none zero, and header_size counting
       * them. */
      {
        GByteArray *bigger = g_byte_array_new ();

        g_byte_array_append (bigger, file->data, CKPT_FORMAT_FIXED_HEADER_SIZE);
        g_byte_array_append (bigger, extra, sizeof extra);
        g_byte_array_append (bigger, file->data + CKPT_FORMAT_FIXED_HEADER_SIZE,
                             file->len - CKPT_FORMAT_FIXED_HEADER_SIZE);
        ckpt_test_put_le32 (bigger->data + CKPT_FORMAT_OFFSET_HEADER_SIZE, header_size + 64);
        g_byte_array_unref (file);
        return seal_later (bigger, 2);
      }
    case LATER_TRAILER:
      g_byte_array_append (file, extra, 24);
      return seal_later (file, 2);
    case LATER_RESERVED:
      memset (file->data + CKPT_FORMAT_OFFSET_BYTE_ORDER + 1, 0x7f,
              CKPT_FORMAT_FIXED_HEADER_SIZE - CKPT_FORMAT_OFFSET_BYTE_ORDER - 1);
      return seal_later (file, 2);
    case LATER_OTHER_FIELDS:
      /* header_size odd and past the end, payload_size huge. */
      memset (file->data + CKPT_FORMAT_OFFSET_HEADER_SIZE, 0xff,
              CKPT_FORMAT_OFFSET_ROUND - CKPT_FORMAT_OFFSET_HEADER_SIZE);
      return seal_later (file, 3);
    case LATER_MINIMAL:
      g_byte_array_set_size (file, CKPT_FORMAT_PERMANENT_SIZE);
      return seal_later (file, 2);
    case LATER_HUGE_VERSION:
      g_byte_array_append (file, extra, 8);
      return seal_later (file, G_MAXUINT32);
    case N_LATER:
    default:
      g_assert_not_reached ();
    }
}

/* @file with the byte at @offset xored with @mask, not resealed. */
static GBytes *
flip (GBytes *file,
      gsize   offset,
      guint8  mask)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (file, &len);
  guint8 *copy = g_memdup2 (data, len);

  g_assert_cmpuint (offset, <, len);
  copy[offset] ^= mask;
  return g_bytes_new_take (copy, len);
}

static void
assert_unsupported_error (const GError *error,
                          guint32       version)
{
  g_autofree char *version_text = g_strdup_printf ("version %u", version);

  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_UNSUPPORTED);
  /* Says the version found and what this library reads. */
  g_assert_nonnull (strstr (error->message, version_text));
  g_assert_nonnull (strstr (error->message, "version 1 and older"));
}

static guint32
version_of (GBytes *file)
{
  return ckpt_test_get_le32 ((const guint8 *) g_bytes_get_data (file, NULL) +
                             CKPT_FORMAT_OFFSET_VERSION);
}

/* The format code alone: intact later versions are UNSUPPORTED (also
 * without verifying), damaged ones CORRUPT. */
static void
test_later_decode (void)
{
  for (Later kind = 0; kind < N_LATER; kind++)
    {
      g_autoptr(GBytes) file = later_file (kind, 3);
      gsize len = g_bytes_get_size (file);
      guint32 version = version_of (file);
      const gsize offsets[] = { 0, 7, CKPT_FORMAT_OFFSET_VERSION, CKPT_FORMAT_OFFSET_VERSION + 3,
                                12, 30, CKPT_FORMAT_OFFSET_CHECKSUM, CKPT_FORMAT_OFFSET_CHECKSUM + 7,
                                CKPT_FORMAT_PERMANENT_SIZE - 1, len / 2, len - 1 };

      g_test_message ("%s", later_names[kind]);

      for (int verify = 0; verify < 2; verify++)
        {
          CkptFormatDecodeFlags flags = verify ? CKPT_FORMAT_DECODE_NONE : CKPT_FORMAT_DECODE_NO_VERIFY;
          g_auto(CkptFormatHeader) header = { 0, };
          g_autoptr(GError) error = NULL;
          g_autoptr(GVariant) v = NULL;

          g_assert_false (ckpt_format_read_header (file, flags, &header, &error));
          assert_unsupported_error (error, version);
          g_clear_error (&error);

          v = ckpt_format_decode (file, 3, G_VARIANT_TYPE ("(ias)"), flags, NULL, &error);
          g_assert_null (v);
          assert_unsupported_error (error, version);
          g_clear_error (&error);

          v = ckpt_format_decode (file, -1, NULL, flags, NULL, &error);
          g_assert_null (v);
          assert_unsupported_error (error, version);
        }

      /* Damaged: any flipped bit, the last byte cut off, a byte added. */
      for (gsize i = 0; i < G_N_ELEMENTS (offsets); i++)
        for (guint bit = 0; bit < 8; bit += 3)
          {
            g_autoptr(GBytes) damaged = flip (file, offsets[i], (guint8) (1u << bit));
            g_autoptr(GError) error = NULL;
            g_autoptr(GVariant) v = NULL;

            v = ckpt_format_decode (damaged, -1, NULL, CKPT_FORMAT_DECODE_NONE, NULL, &error);
            if (!g_error_matches (error, CKPT_ERROR, CKPT_ERROR_CORRUPT))
              g_test_message ("byte %" G_GSIZE_FORMAT " bit %u: %s", offsets[i], bit,
                              error != NULL ? error->message : "loaded");
            g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
            g_assert_null (v);
            g_clear_error (&error);
            g_assert_false (ckpt_format_read_header (damaged, CKPT_FORMAT_DECODE_NONE, NULL, &error));
            g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
          }
      {
        g_autoptr(GBytes) shorter = g_bytes_new_from_bytes (file, 0, len - 1);
        g_autoptr(GByteArray) longer = array_of (file);
        g_autoptr(GBytes) longer_bytes = NULL;
        g_autoptr(GError) error = NULL;

        g_assert_false (ckpt_format_read_header (shorter, CKPT_FORMAT_DECODE_NONE, NULL, &error));
        g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
        g_clear_error (&error);

        g_byte_array_append (longer, (const guint8 *) "", 1);
        longer_bytes = g_bytes_new (longer->data, longer->len);
        g_assert_false (ckpt_format_read_header (longer_bytes, CKPT_FORMAT_DECODE_NONE, NULL, &error));
        g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
      }
    }
}

/* The rule a version-1 reader checks on every version is the version-1
 * checksum itself: a version-1 file's checksum is over every byte of the
 * file but its own field, so version-1 files keep their bytes. */
static void
test_permanent_checksum (void)
{
  g_autoptr(GBytes) file = v1_file (5);
  gsize len;
  const guint8 *data = g_bytes_get_data (file, &len);

  g_assert_cmpuint (ckpt_test_get_le32 (data + CKPT_FORMAT_OFFSET_VERSION), ==, 1);
  g_assert_cmpuint (ckpt_test_get_le64 (data + CKPT_FORMAT_OFFSET_CHECKSUM), ==,
                    ckpt_test_checksum (data, len));
}

/* Writes @file as round @round_num of the default prefix. */
static void
put_round (Fixture *f,
           gint64   round_num,
           GBytes  *file)
{
  g_autofree char *name = g_strdup_printf ("ckpt_%" G_GINT64_FORMAT, round_num);
  g_autofree char *path = g_build_filename (f->root_path, name, NULL);

  g_assert_cmpint (g_mkdir_with_parents (f->root_path, 0700), ==, 0);
  ckpt_test_write_file (path, g_bytes_get_data (file, NULL), g_bytes_get_size (file));
}

static void
on_corrupt (CkptManager  *mgr,
            gint64        round_num,
            GFile        *file,
            const GError *error,
            gpointer      user_data)
{
  GString *seen = user_data;

  g_string_append_printf (seen, "C%" G_GINT64_FORMAT " ", round_num);
}

static CkptManager *
compat_manager (Fixture *f,
                GString *seen)
{
  g_autoptr(GError) error = NULL;
  CkptManager *mgr = ckpt_manager_new (f->root, NULL, 0, TRUE, &error);

  g_assert_no_error (error);
  ckpt_manager_set_durable (mgr, FALSE);
  g_signal_connect (mgr, "corrupt", G_CALLBACK (on_corrupt), seen);
  return mgr;
}

/* The manager: round 1 of version 1, round 2 of a later version. */
static void
test_later_manager (Fixture       *f,
                    gconstpointer  data)
{
  for (Later kind = 0; kind < N_LATER; kind++)
    {
      g_autoptr(GBytes) old = v1_file (1);
      g_autoptr(GBytes) later = later_file (kind, 2);
      g_autoptr(GString) seen = g_string_new ("");
      g_autoptr(CkptManager) mgr = compat_manager (f, seen);
      g_autoptr(GVariant) value = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(CkptInfo) info = NULL;
      guint32 version = version_of (later);
      gint64 round_num = -2;

      g_test_message ("%s", later_names[kind]);
      ckpt_test_rm_rf (f->root_path);
      put_round (f, 1, old);
      put_round (f, 2, later);

      value = ckpt_manager_load (mgr, NULL, 2, NULL, &error);
      g_assert_null (value);
      assert_unsupported_error (error, version);
      g_clear_error (&error);

      /* Not passed over for round 1. */
      value = ckpt_manager_load_latest (mgr, G_VARIANT_TYPE ("(ias)"), &round_num, NULL, &error);
      g_assert_null (value);
      assert_unsupported_error (error, version);
      g_assert_cmpint (round_num, ==, -1);
      g_clear_error (&error);

      /* Nothing saved over it. */
      value = ckpt_manager_load_latest_or_default (mgr, g_variant_new_parsed ("(7, ['d'])"),
                                                   &round_num, NULL, &error);
      g_assert_null (value);
      assert_unsupported_error (error, version);
      g_clear_error (&error);

      for (int verify = 0; verify < 2; verify++)
        {
          info = ckpt_manager_query_info (mgr, 2, verify ? CKPT_QUERY_VERIFY : CKPT_QUERY_NONE, NULL, &error);
          g_assert_null (info);
          assert_unsupported_error (error, version);
          g_clear_error (&error);
        }

      /* Never reported as damaged. */
      g_assert_cmpstr (seen->str, ==, "");
      ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_2");

      /* Round 1 loads as ever. */
      value = ckpt_manager_load (mgr, G_VARIANT_TYPE ("(ias)"), 1, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (value);
    }
}

/* With only a later-version checkpoint, load_latest_or_default fails and
 * saves no round 0 beside it. */
static void
test_later_only (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GBytes) later = later_file (LATER_TRAILER, 5);
  g_autoptr(GString) seen = g_string_new ("");
  g_autoptr(CkptManager) mgr = compat_manager (f, seen);
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  gint64 round_num = -2;

  put_round (f, 5, later);
  value = ckpt_manager_load_latest_or_default (mgr, g_variant_new_int32 (0), &round_num, NULL, &error);
  g_assert_null (value);
  assert_unsupported_error (error, 2);
  g_clear_error (&error);
  value = ckpt_manager_load_latest (mgr, NULL, &round_num, NULL, &error);
  g_assert_null (value);
  assert_unsupported_error (error, 2);
  g_assert_cmpstr (seen->str, ==, "");
  ckpt_test_assert_listing (f->root_path, "ckpt_5");
}

/* A damaged file of a later version is damaged: load_latest reports it
 * and falls back to round 1. */
static void
test_later_damaged (Fixture       *f,
                    gconstpointer  data)
{
  for (Later kind = 0; kind < N_LATER; kind++)
    {
      g_autoptr(GBytes) old = v1_file (1);
      g_autoptr(GBytes) later = later_file (kind, 2);
      g_autoptr(GBytes) damaged = flip (later, g_bytes_get_size (later) - 1, 0x10);
      g_autoptr(GString) seen = g_string_new ("");
      g_autoptr(CkptManager) mgr = compat_manager (f, seen);
      g_autoptr(GVariant) value = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(CkptInfo) info = NULL;
      gint64 round_num = -2;

      g_test_message ("%s", later_names[kind]);
      ckpt_test_rm_rf (f->root_path);
      put_round (f, 1, old);
      put_round (f, 2, damaged);

      info = ckpt_manager_query_info (mgr, 2, CKPT_QUERY_VERIFY, NULL, &error);
      g_assert_null (info);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
      g_clear_error (&error);

      value = ckpt_manager_load_latest (mgr, G_VARIANT_TYPE ("(ias)"), &round_num, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (value);
      g_assert_cmpint (round_num, ==, 1);
      g_assert_cmpstr (seen->str, ==, "C2 ");
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/ckpt/compat/prefix/trailing-digit", test_prefix_trailing_digit);
  ADD ("/ckpt/compat/prefix/no-collision", test_prefix_no_collision);
  g_test_add_func ("/ckpt/compat/version/decode", test_later_decode);
  g_test_add_func ("/ckpt/compat/version/permanent-checksum", test_permanent_checksum);
  ADD ("/ckpt/compat/version/manager", test_later_manager);
  ADD ("/ckpt/compat/version/only-later", test_later_only);
  ADD ("/ckpt/compat/version/damaged", test_later_damaged);

#undef ADD

  return g_test_run ();
}
