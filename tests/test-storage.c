/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of the storage layer (ckpt-storage*.c): the name helpers, and
 * the operations on a temporary directory, over the three code paths
 * (O_TMPFILE, named temp file, GIO generic).
 */
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <utime.h>

#include <glib/gstdio.h>

#include <ckpt-glib/ckpt-glib.h>
#include "ckpt-fault-private.h"
#include "ckpt-format-private.h"
#include "ckpt-seal-private.h"
#include "ckpt-storage-private.h"
#include "ckpt-test-util.h"

#define PREFIX "ckpt_"

/* ---- helpers ---- */

static void
write_file (const char *dir,
            const char *name,
            const char *contents)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static void
assert_file_contents (const char *dir,
                      const char *name,
                      const char *expected)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, expected);
}

/* A real checkpoint of @text at @round_num, in its two pieces. */
static void
make_checkpoint (const char  *text,
                 gint64       round_num,
                 GBytes     **out_header,
                 GBytes     **out_payload)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) v = g_variant_parse (NULL, text, NULL, NULL, &error);

  g_assert_no_error (error);
  /* g_variant_parse() returns a full, non-floating reference. */
  ckpt_format_encode (v, round_num, 1700000000000000, NULL,
                      CKPT_FORMAT_ENCODE_NONE, out_header, out_payload);
}

static GBytes *
join_bytes (GBytes *a,
            GBytes *b)
{
  GByteArray *arr = g_byte_array_new ();

  g_byte_array_append (arr, g_bytes_get_data (a, NULL), g_bytes_get_size (a));
  g_byte_array_append (arr, g_bytes_get_data (b, NULL), g_bytes_get_size (b));
  return g_byte_array_free_to_bytes (arr);
}

static void
assert_rounds (const gint64 *rounds,
               gsize         n_rounds,
               const gint64 *expected,
               gsize         n_expected)
{
  g_assert_nonnull (rounds);
  g_assert_cmpmem (rounds, n_rounds * sizeof (gint64),
                   expected, n_expected * sizeof (gint64));
}

/* ---- name helpers ---- */

static void
test_build_name (void)
{
  const struct { const char *prefix; gint64 round; const char *name; } cases[] = {
    { "ckpt_", 0, "ckpt_0" },
    { "ckpt_", 1, "ckpt_1" },
    { "ckpt_", 42, "ckpt_42" },
    { "ckpt_", 100, "ckpt_100" },
    { "ckpt_", G_MAXINT64, "ckpt_9223372036854775807" },
    { "run-", 7, "run-7" },
    { "a", 5, "a5" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = ckpt_storage_build_name (cases[i].prefix, cases[i].round);
      gint64 parsed = -1;

      g_assert_cmpstr (name, ==, cases[i].name);
      g_assert_true (ckpt_storage_parse_name (cases[i].prefix, name, &parsed));
      g_assert_cmpint (parsed, ==, cases[i].round);
    }
}

static void
test_parse_name (void)
{
  const struct { const char *prefix; const char *name; gboolean ok; gint64 round; } cases[] = {
    { "ckpt_", "ckpt_0", TRUE, 0 },
    { "ckpt_", "ckpt_1", TRUE, 1 },
    { "ckpt_", "ckpt_10", TRUE, 10 },
    { "ckpt_", "ckpt_9223372036854775807", TRUE, G_MAXINT64 },
    { "ckpt_", "ckpt_9223372036854775806", TRUE, G_MAXINT64 - 1 },
    { "run-", "run-12", TRUE, 12 },
    /* Leading zeros. */
    { "ckpt_", "ckpt_00", FALSE, 0 },
    { "ckpt_", "ckpt_01", FALSE, 0 },
    { "ckpt_", "ckpt_007", FALSE, 0 },
    /* Overflow. */
    { "ckpt_", "ckpt_9223372036854775808", FALSE, 0 },
    { "ckpt_", "ckpt_9999999999999999999", FALSE, 0 },
    { "ckpt_", "ckpt_18446744073709551616", FALSE, 0 },
    { "ckpt_", "ckpt_99999999999999999999999999", FALSE, 0 },
    /* Empty digits, signs, spaces, junk. */
    { "ckpt_", "ckpt_", FALSE, 0 },
    { "ckpt_", "ckpt_-1", FALSE, 0 },
    { "ckpt_", "ckpt_+1", FALSE, 0 },
    { "ckpt_", "ckpt_-0", FALSE, 0 },
    { "ckpt_", "ckpt_ 1", FALSE, 0 },
    { "ckpt_", "ckpt_1 ", FALSE, 0 },
    { "ckpt_", "ckpt_1\n", FALSE, 0 },
    { "ckpt_", "ckpt_1x", FALSE, 0 },
    { "ckpt_", "ckpt_1.5", FALSE, 0 },
    { "ckpt_", "ckpt_0x10", FALSE, 0 },
    { "ckpt_", "ckpt_1e3", FALSE, 0 },
    { "ckpt_", "ckpt_1.tmp-abcdef", FALSE, 0 },
    { "ckpt_", "ckpt_\xd9\xa1", FALSE, 0 },   /* ARABIC-INDIC DIGIT ONE */
    /* Other prefixes and near misses. */
    { "ckpt_", "ckpt1", FALSE, 0 },
    { "ckpt_", "CKPT_1", FALSE, 0 },
    { "ckpt_", "other_1", FALSE, 0 },
    { "ckpt_", "run-1", FALSE, 0 },
    { "ckpt_", "xckpt_1", FALSE, 0 },
    { "ckpt_", ".ckpt_1", FALSE, 0 },
    { "ckpt_", ".ckpt_1.tmp-abcdef", FALSE, 0 },
    { "ckpt_", "", FALSE, 0 },
    { "ckpt_", "1", FALSE, 0 },
    { "run-", "ckpt_1", FALSE, 0 },
    { "run-", "run-", FALSE, 0 },
    { "run-", "run--1", FALSE, 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gint64 parsed = -1;
      gboolean ok = ckpt_storage_parse_name (cases[i].prefix, cases[i].name, &parsed);

      if (ok != cases[i].ok)
        g_test_message ("prefix '%s' name '%s': expected %s", cases[i].prefix,
                        cases[i].name, cases[i].ok ? "TRUE" : "FALSE");
      g_assert_cmpint (ok, ==, cases[i].ok);
      if (cases[i].ok)
        g_assert_cmpint (parsed, ==, cases[i].round);
    }
}

static void
test_name_round_trip (void)
{
  for (gint64 r = 0; r < 2000; r++)
    {
      g_autofree char *name = ckpt_storage_build_name (PREFIX, r);
      gint64 parsed = -1;

      g_assert_true (ckpt_storage_parse_name (PREFIX, name, &parsed));
      g_assert_cmpint (parsed, ==, r);
    }
  for (int shift = 0; shift < 63; shift++)
    {
      gint64 r = G_MAXINT64 >> shift;
      g_autofree char *name = ckpt_storage_build_name (PREFIX, r);
      gint64 parsed = -1;

      g_assert_true (ckpt_storage_parse_name (PREFIX, name, &parsed));
      g_assert_cmpint (parsed, ==, r);
    }
}

static void
test_temp_name (void)
{
  const struct { const char *name; gboolean is_temp; } cases[] = {
    { ".ckpt_5.tmp-abcdef", TRUE },
    { ".ckpt_0.tmp-XyZ019", TRUE },
    { ".ckpt_9223372036854775807.tmp-abcdef", TRUE },
    { "ckpt_5", FALSE },
    { "ckpt_5.tmp-abcdef", FALSE },
    { ".ckpt_5", FALSE },
    { ".ckpt_5.tmp-", FALSE },
    { ".ckpt_5.tmp-abcde", FALSE },
    { ".ckpt_5.tmp-abcdefg", FALSE },
    { ".ckpt_.tmp-abcdef", FALSE },
    { ".ckpt_x.tmp-abcdef", FALSE },
    { ".other_5.tmp-abcdef", FALSE },
    { "..ckpt_5.tmp-abcdef", FALSE },
    { ".hidden", FALSE },
    { "notes.txt", FALSE },
    { "", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gboolean is_temp = ckpt_storage_is_temp_name (PREFIX, cases[i].name);

      if (is_temp != cases[i].is_temp)
        g_test_message ("'%s': expected %s", cases[i].name,
                        cases[i].is_temp ? "TRUE" : "FALSE");
      g_assert_cmpint (is_temp, ==, cases[i].is_temp);
    }

  for (gint64 r = 0; r < 3; r++)
    {
      g_autofree char *temp = ckpt_storage_build_temp_name (PREFIX, r);
      g_autofree char *start = g_strdup_printf (".ckpt_%" G_GINT64_FORMAT ".tmp-", r);
      gint64 parsed;

      g_assert_true (g_str_has_prefix (temp, start));
      g_assert_cmpuint (strlen (temp), ==, strlen (start) + 6);
      g_assert_true (ckpt_storage_is_temp_name (PREFIX, temp));
      g_assert_false (ckpt_storage_is_temp_name ("run-", temp));
      g_assert_false (ckpt_storage_parse_name (PREFIX, temp, &parsed));
    }
}

/* ---- operations on a directory ---- */

typedef struct
{
  CkptStorageFlags  flags;
  char             *tmpdir;
  char             *root_path;   /* tmpdir/a/b/root: parents missing too */
  GFile            *root;
  CkptStorage      *storage;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->flags = GPOINTER_TO_UINT (data);
  f->tmpdir = g_dir_make_tmp ("ckpt-storage-XXXXXX", &error);
  g_assert_no_error (error);
  f->root_path = g_build_filename (f->tmpdir, "a", "b", "root", NULL);
  f->root = g_file_new_for_path (f->root_path);
  f->storage = ckpt_storage_new (f->root, PREFIX, f->flags);
  g_assert_nonnull (f->storage);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_pointer (&f->storage, ckpt_storage_free);
  g_clear_object (&f->root);
  ckpt_test_rm_rf (f->tmpdir);
  g_clear_pointer (&f->root_path, g_free);
  g_clear_pointer (&f->tmpdir, g_free);
}

static void
make_root (Fixture *f)
{
  g_assert_no_errno (g_mkdir_with_parents (f->root_path, 0755));
}

/* Commits @text as @round_num in its own transaction; returns the bytes
 * written. */
static GBytes *
commit_round (Fixture    *f,
              gint64      round_num,
              const char *text,
              gboolean    durable)
{
  g_autoptr(GBytes) header = NULL;
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(CkptStorageTxn) txn = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  make_checkpoint (text, round_num, &header, &payload);
  txn = ckpt_storage_begin (f->storage, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (txn);
  ok = ckpt_storage_txn_commit (txn, round_num, header, payload, durable,
                                NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  return join_bytes (header, payload);
}

static void
assert_listing (Fixture    *f,
                const char *expected)
{
  g_autofree char *listing = ckpt_test_dir_listing (f->root_path);

  g_assert_cmpstr (listing, ==, expected);
}

static void
assert_list (Fixture      *f,
             const gint64 *expected,
             gsize         n_expected)
{
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *rounds = NULL;
  gsize n = 12345;

  rounds = ckpt_storage_list (f->storage, &n, NULL, &error);
  g_assert_no_error (error);
  assert_rounds (rounds, n, expected, n_expected);
}

static void
test_list_missing_root (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree gint64 *rounds = NULL;
  gsize n = 12345;

  rounds = ckpt_storage_list (f->storage, &n, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (rounds);
  g_assert_cmpuint (n, ==, 0);

  bytes = ckpt_storage_read (f->storage, 1, NULL, &error);
  g_assert_null (bytes);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);

  /* Neither created the root. */
  g_assert_false (g_file_test (f->root_path, G_FILE_TEST_EXISTS));
}

static void
test_begin_creates_root (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  CkptStorageTxn *txn;
  g_autofree gint64 *rounds = NULL;
  gsize n = 12345;

  g_assert_false (g_file_test (f->root_path, G_FILE_TEST_EXISTS));
  txn = ckpt_storage_begin (f->storage, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (txn);
  g_assert_true (g_file_test (f->root_path, G_FILE_TEST_IS_DIR));

  rounds = ckpt_storage_txn_list (txn, &n, &error);
  g_assert_no_error (error);
  g_assert_nonnull (rounds);
  g_assert_cmpuint (n, ==, 0);

  ckpt_storage_txn_free (txn);
  /* No lock or index file left behind. */
  assert_listing (f, "");
}

static void
test_commit_list (Fixture       *f,
                  gconstpointer  data)
{
  const gint64 order[] = { 3, 1, 2, 10, 100, 9 };
  const gint64 expected[] = { 1, 2, 3, 9, 10, 100 };
  g_autoptr(CkptStorageTxn) txn = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *rounds = NULL;
  gsize n = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (order); i++)
    {
      g_autofree char *text = g_strdup_printf ("(int64 %" G_GINT64_FORMAT ", 'x')", order[i]);

      g_bytes_unref (commit_round (f, order[i], text, i % 2 == 0));
    }

  assert_listing (f, "ckpt_1 ckpt_10 ckpt_100 ckpt_2 ckpt_3 ckpt_9");
  assert_list (f, expected, G_N_ELEMENTS (expected));

  txn = ckpt_storage_begin (f->storage, NULL, &error);
  g_assert_no_error (error);
  rounds = ckpt_storage_txn_list (txn, &n, &error);
  g_assert_no_error (error);
  assert_rounds (rounds, n, expected, G_N_ELEMENTS (expected));
}

/* Several commits and a removal within one transaction. */
static void
test_one_txn (Fixture       *f,
              gconstpointer  data)
{
  const gint64 expected[] = { 1, 3 };
  g_autoptr(CkptStorageTxn) txn = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *rounds = NULL;
  gsize n = 0;

  txn = ckpt_storage_begin (f->storage, NULL, &error);
  g_assert_no_error (error);
  for (gint64 r = 1; r <= 3; r++)
    {
      g_autoptr(GBytes) header = NULL;
      g_autoptr(GBytes) payload = NULL;

      make_checkpoint ("'one txn'", r, &header, &payload);
      g_assert_true (ckpt_storage_txn_commit (txn, r, header, payload, TRUE,
                                              NULL, &error));
      g_assert_no_error (error);
    }
  g_assert_true (ckpt_storage_txn_remove (txn, 2, &error));
  g_assert_no_error (error);
  rounds = ckpt_storage_txn_list (txn, &n, &error);
  g_assert_no_error (error);
  assert_rounds (rounds, n, expected, G_N_ELEMENTS (expected));
  g_clear_pointer (&txn, ckpt_storage_txn_free);

  assert_listing (f, "ckpt_1 ckpt_3");
}

static void
test_commit_exists (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GBytes) first = commit_round (f, 1, "('first', 1)", TRUE);
  g_autoptr(GBytes) header = NULL;
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GBytes) read_back = NULL;
  g_autoptr(GError) error = NULL;

  make_checkpoint ("('second, longer than the first', 2)", 1, &header, &payload);
  for (int durable = 0; durable < 2; durable++)
    {
      g_autoptr(CkptStorageTxn) txn = ckpt_storage_begin (f->storage, NULL, &error);

      g_assert_no_error (error);
      g_assert_false (ckpt_storage_txn_commit (txn, 1, header, payload, durable,
                                               NULL, &error));
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_EXISTS);
      g_clear_error (&error);
    }

  read_back = ckpt_storage_read (f->storage, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (read_back, first));
  assert_listing (f, "ckpt_1");
}

static void
test_read_identical (Fixture       *f,
                     gconstpointer  data)
{
  const gsize n_doubles = 3 * 1024 * 1024 / 8 + 3;
  g_autofree double *doubles = g_new (double, n_doubles);
  g_autoptr(GVariant) big = NULL;
  g_autoptr(GBytes) big_header = NULL;
  g_autoptr(GBytes) big_payload = NULL;
  g_autoptr(GBytes) big_file = NULL;
  g_autoptr(GBytes) small = NULL;
  g_autoptr(GBytes) empty = NULL;
  g_autoptr(GBytes) max = NULL;
  g_autoptr(GError) error = NULL;
  const gint64 expected[] = { 0, 1, 2, G_MAXINT64 };

  for (gsize i = 0; i < n_doubles; i++)
    doubles[i] = (double) i / 3.0;
  big = g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, doubles,
                                                       n_doubles, sizeof (double)));
  ckpt_format_encode (big, 2, 1, NULL, CKPT_FORMAT_ENCODE_NONE, &big_header, &big_payload);
  {
    g_autoptr(CkptStorageTxn) txn = ckpt_storage_begin (f->storage, NULL, &error);

    g_assert_no_error (error);
    g_assert_true (ckpt_storage_txn_commit (txn, 2, big_header, big_payload, TRUE,
                                            NULL, &error));
    g_assert_no_error (error);
  }
  big_file = join_bytes (big_header, big_payload);

  small = commit_round (f, 1, "{'k': <'v'>}", TRUE);
  empty = commit_round (f, 0, "@ay []", FALSE);
  max = commit_round (f, G_MAXINT64, "'max'", TRUE);

  assert_listing (f, "ckpt_0 ckpt_1 ckpt_2 ckpt_9223372036854775807");
  assert_list (f, expected, G_N_ELEMENTS (expected));

  {
    const gint64 rounds[] = { 0, 1, 2, G_MAXINT64 };
    GBytes *files[] = { empty, small, big_file, max };

    for (gsize i = 0; i < G_N_ELEMENTS (rounds); i++)
      {
        g_autoptr(GBytes) read_back = ckpt_storage_read (f->storage, rounds[i],
                                                         NULL, &error);
        g_autoptr(GVariant) v = NULL;

        g_assert_no_error (error);
        g_assert_nonnull (read_back);
        g_assert_true (g_bytes_equal (read_back, files[i]));
        v = ckpt_format_decode (read_back, rounds[i], NULL,
                                CKPT_FORMAT_DECODE_NONE, NULL, &error);
        g_assert_no_error (error);
        g_assert_nonnull (v);
      }
  }

  /* A second storage object on the same root sees the same. */
  {
    CkptStorage *other = ckpt_storage_new (f->root, PREFIX, f->flags);
    g_autoptr(GBytes) read_back = ckpt_storage_read (other, 2, NULL, &error);

    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (read_back, big_file));
    ckpt_storage_free (other);
  }
}

/* CKPT_STORAGE_COMMIT_UNSEALED: the storage fills in the checksum after the
 * write began for payloads of at least CKPT_SEAL_DEFAULT_PARALLEL_MIN
 * bytes (during the writeback when durable, on a second thread otherwise;
 * the threshold is lowered here so that every payload takes those paths,
 * then the default so that small ones are hashed before the write). The
 * file must be the very one ckpt_format_encode () makes with the checksum,
 * and verify. */
static void
test_commit_sealed (Fixture       *f,
                    gconstpointer  data)
{
  const gsize n_doubles = 3 * 1024 * 1024 / 8 + 5;
  g_autofree double *doubles = g_new (double, n_doubles);
  g_autoptr(GVariant) big = NULL;
  g_autoptr(GVariant) small = g_variant_ref_sink (g_variant_new_parsed ("{'k': <[1.5, 2.5]>}"));
  g_autoptr(GVariant) empty = g_variant_ref_sink (g_variant_new_parsed ("@ay []"));
  g_autoptr(GError) error = NULL;
  const gsize mins[] = { 1, 0 };
  gint64 round_num = 0;

  for (gsize i = 0; i < n_doubles; i++)
    doubles[i] = (double) i * 0.25 - 7.0;
  big = g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, doubles,
                                                       n_doubles, sizeof (double)));

  for (gsize m = 0; m < G_N_ELEMENTS (mins); m++)
    {
      GVariant *states[] = { big, small, empty };

      ckpt_seal_set_parallel_min (mins[m]);
      for (gsize i = 0; i < G_N_ELEMENTS (states); i++)
        {
          g_autoptr(GBytes) header = NULL;
          g_autoptr(CkptPayload) payload = NULL;
          g_autoptr(GBytes) expected = NULL;
          g_autoptr(GBytes) read_back = NULL;
          g_autoptr(GVariant) v = NULL;
          g_autoptr(CkptStorageTxn) txn = NULL;

          round_num++;
          ckpt_format_encode_payload (states[i], round_num, 1, NULL,
                                      CKPT_FORMAT_ENCODE_UNSEALED, &header, &payload);
          /* Unsealed: the checksum field is zero. */
          g_assert_cmpmem ((const guint8 *) g_bytes_get_data (header, NULL) + CKPT_FORMAT_OFFSET_CHECKSUM,
                           8, "\0\0\0\0\0\0\0\0", 8);
          expected = ckpt_format_encode_bytes (states[i], round_num, 1, CKPT_FORMAT_ENCODE_NONE);

          txn = ckpt_storage_begin (f->storage, NULL, &error);
          g_assert_no_error (error);
          g_assert_true (ckpt_storage_txn_commit_full (txn, round_num, header, payload,
                                                       CKPT_STORAGE_COMMIT_UNSEALED, i != 1,
                                                       NULL, &error));
          g_assert_no_error (error);
          g_clear_pointer (&txn, ckpt_storage_txn_free);

          read_back = ckpt_storage_read (f->storage, round_num, NULL, &error);
          g_assert_no_error (error);
          g_assert_true (g_bytes_equal (read_back, expected));
          v = ckpt_format_decode (read_back, round_num, NULL, CKPT_FORMAT_DECODE_NONE, NULL, &error);
          g_assert_no_error (error);
          g_assert_true (g_variant_equal (v, states[i]));
        }
    }
  ckpt_seal_set_parallel_min (0);
  assert_listing (f, "ckpt_1 ckpt_2 ckpt_3 ckpt_4 ckpt_5 ckpt_6");

  /* Local roots: a failure of the payload's write (the first write) or of
   * the checksum's (the second) leaves nothing behind, durable (hashed
   * during the writeback) or not (hashed on a thread, which is joined). */
  if (!(f->flags & CKPT_STORAGE_FLAGS_FORCE_GENERIC))
    {
      ckpt_seal_set_parallel_min (1);
      for (guint k = 0; k < 4; k++)
        {
          guint nth = 1 + k % 2;
          gboolean durable = k < 2;
          g_autoptr(GBytes) header = NULL;
          g_autoptr(CkptPayload) payload = NULL;
          g_autoptr(CkptStorageTxn) txn = NULL;
          gboolean ok;

          ckpt_format_encode_payload (big, 10 + nth, 1, NULL,
                                      CKPT_FORMAT_ENCODE_UNSEALED, &header, &payload);
          txn = ckpt_storage_begin (f->storage, NULL, &error);
          g_assert_no_error (error);
          ckpt_fault_arm (CKPT_FAULT_WRITE, nth, ENOSPC);
          ok = ckpt_storage_txn_commit_full (txn, 10 + nth, header, payload,
                                             CKPT_STORAGE_COMMIT_UNSEALED, durable, NULL, &error);
          g_assert_true (ckpt_fault_fired ());
          ckpt_fault_disarm ();
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
          g_assert_false (ok);
          g_clear_error (&error);
        }
      ckpt_seal_set_parallel_min (0);
      assert_listing (f, "ckpt_1 ckpt_2 ckpt_3 ckpt_4 ckpt_5 ckpt_6");
    }
}

/* A payload of many pieces (what a state in tree form with large leaves
 * is written as) gives the very file that one piece gives, however the
 * pieces fall against the write chunks and the hash chunks, sealed by
 * every strategy. */
static void
test_commit_pieces (Fixture       *f,
                    gconstpointer  data)
{
  const gsize n_doubles = 9 * 1024 * 1024 / 8 + 3;
  g_autofree double *doubles = g_new (double, n_doubles);
  g_autoptr(GVariant) big = NULL;
  g_autoptr(GError) error = NULL;
  const gsize mins[] = { 1, 0 };
  gint64 round_num = 100;

  for (gsize i = 0; i < n_doubles; i++)
    doubles[i] = (double) i * 0.5 + 1.0;
  big = g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, doubles,
                                                       n_doubles, sizeof (double)));

  for (gsize m = 0; m < G_N_ELEMENTS (mins); m++)
    for (guint durable = 0; durable < 2; durable++)
      {
        g_autoptr(GBytes) header = NULL;
        g_autoptr(GBytes) whole = NULL;
        g_autoptr(GBytes) expected = NULL;
        g_autoptr(GBytes) read_back = NULL;
        g_autoptr(CkptPayload) payload = NULL;
        g_autoptr(CkptStorageTxn) txn = NULL;
        GPtrArray *pieces = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
        /* Odd sizes, one byte, an empty piece, and one across 8 MiB. */
        const gsize cuts[] = { 1, 0, 4095, 3, 8 * 1024 * 1024 + 1, 17 };
        gsize done = 0, size;

        round_num++;
        ckpt_seal_set_parallel_min (mins[m]);
        ckpt_format_encode (big, round_num, 1, NULL, CKPT_FORMAT_ENCODE_UNSEALED, &header, &whole);
        size = g_bytes_get_size (whole);
        for (gsize c = 0; done < size; c++)
          {
            gsize n = MIN (c < G_N_ELEMENTS (cuts) ? cuts[c] : size, size - done);

            g_ptr_array_add (pieces, g_bytes_new_from_bytes (whole, done, n));
            done += n;
          }
        payload = ckpt_payload_new_pieces (pieces);
        g_assert_cmpuint (ckpt_payload_get_size (payload), ==, size);
        g_assert_cmpuint (ckpt_payload_get_n_pieces (payload), >, 5);
        expected = ckpt_format_encode_bytes (big, round_num, 1, CKPT_FORMAT_ENCODE_NONE);

        txn = ckpt_storage_begin (f->storage, NULL, &error);
        g_assert_no_error (error);
        g_assert_true (ckpt_storage_txn_commit_full (txn, round_num, header, payload,
                                                     CKPT_STORAGE_COMMIT_UNSEALED, durable,
                                                     NULL, &error));
        g_assert_no_error (error);
        g_clear_pointer (&txn, ckpt_storage_txn_free);

        read_back = ckpt_storage_read (f->storage, round_num, NULL, &error);
        g_assert_no_error (error);
        g_assert_true (g_bytes_equal (read_back, expected));
      }
  ckpt_seal_set_parallel_min (0);
}

static void
test_read_missing (Fixture       *f,
                   gconstpointer  data)
{
  const gint64 missing[] = { 0, 2, 10, G_MAXINT64 };

  g_bytes_unref (commit_round (f, 1, "1", TRUE));

  write_file (f->root_path, "ckpt_02", "foreign");
  write_file (f->root_path, ".ckpt_10.tmp-abcdef", "stale");
  for (gsize i = 0; i < G_N_ELEMENTS (missing); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = ckpt_storage_read (f->storage, missing[i], NULL, &error);

      g_assert_null (bytes);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    }
}

static void
test_remove (Fixture       *f,
             gconstpointer  data)
{
  const gint64 expected[] = { 1, 3 };
  const gint64 expected2[] = { 3 };
  g_autoptr(GError) error = NULL;

  for (gint64 r = 1; r <= 3; r++)
    g_bytes_unref (commit_round (f, r, "'r'", TRUE));

  {
    g_autoptr(CkptStorageTxn) txn = ckpt_storage_begin (f->storage, NULL, &error);

    g_assert_no_error (error);
    g_assert_true (ckpt_storage_txn_remove (txn, 2, &error));
    g_assert_no_error (error);
  }
  assert_listing (f, "ckpt_1 ckpt_3");
  assert_list (f, expected, G_N_ELEMENTS (expected));

  {
    g_autoptr(CkptStorageTxn) txn = ckpt_storage_begin (f->storage, NULL, &error);
    g_autoptr(GBytes) bytes = NULL;

    g_assert_no_error (error);
    g_assert_true (ckpt_storage_txn_remove (txn, 1, &error));
    g_assert_no_error (error);
    bytes = ckpt_storage_read (f->storage, 1, NULL, &error);
    g_assert_null (bytes);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }
  assert_listing (f, "ckpt_3");
  assert_list (f, expected2, G_N_ELEMENTS (expected2));
}

static const char * const foreign_files[] = {
  "notes.txt", ".hidden", "ckpt_01", "ckpt_-1", "ckpt_1x", "ckpt_", "CKPT_3",
  "other_2", "run-4", ".other_5.tmp-abcdef", "ckpt_5.tmp-abcdef", ".ckpt_5",
};

static void
write_foreign_files (Fixture *f)
{
  g_autofree char *subdir = g_build_filename (f->root_path, "subdir", NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (foreign_files); i++)
    write_file (f->root_path, foreign_files[i], foreign_files[i]);
  g_assert_no_errno (g_mkdir (subdir, 0755));
  write_file (subdir, "ckpt_1", "in a subdirectory");
}

static void
assert_foreign_files (Fixture *f)
{
  g_autofree char *subdir = g_build_filename (f->root_path, "subdir", NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (foreign_files); i++)
    assert_file_contents (f->root_path, foreign_files[i], foreign_files[i]);
  assert_file_contents (subdir, "ckpt_1", "in a subdirectory");
}

/* The expected listing of the root: the foreign files, "subdir" and the
 * names given (NULL-terminated). */
static char *
foreign_listing (const char *first,
                 ...)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  va_list ap;
  const char *name;

  for (gsize i = 0; i < G_N_ELEMENTS (foreign_files); i++)
    g_ptr_array_add (names, (gpointer) foreign_files[i]);
  g_ptr_array_add (names, (gpointer) "subdir");
  va_start (ap, first);
  for (name = first; name != NULL; name = va_arg (ap, const char *))
    g_ptr_array_add (names, (gpointer) name);
  va_end (ap);
  g_ptr_array_sort (names, ckpt_test_strptr_cmp);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

/* Writes a temp file last modified two hours ago. */
static void
write_old_file (const char *dir,
                const char *name,
                const char *contents)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  struct utimbuf times;

  write_file (dir, name, contents);
  times.actime = times.modtime = time (NULL) - 2 * 60 * 60;
  g_assert_no_errno (g_utime (path, &times));
}

static void
test_stale_temp (Fixture       *f,
                 gconstpointer  data)
{
  const gint64 expected[] = { 1 };
  gboolean generic = (f->flags & CKPT_STORAGE_FLAGS_FORCE_GENERIC) != 0;
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *rounds = NULL;
  g_autofree char *before = foreign_listing (".ckpt_1.tmp-XyZ019", ".ckpt_5.tmp-abcdef",
                                             ".ckpt_8.tmp-fresh1", "ckpt_1", NULL);
  g_autofree char *after = NULL;
  gsize n = 12345;

  g_bytes_unref (commit_round (f, 1, "'one'", TRUE));
  write_old_file (f->root_path, ".ckpt_5.tmp-abcdef", "stale temp");
  write_old_file (f->root_path, ".ckpt_1.tmp-XyZ019", "stale temp of an existing round");
  /* Recent: under the local back end's lock it is stale all the same; the
   * generic back end, which cannot tell a live writer's temp file from a
   * dead one's, only removes old ones. */
  write_file (f->root_path, ".ckpt_8.tmp-fresh1", "recent temp");
  write_foreign_files (f);

  /* Ignored and kept by the lock-free listing. */
  assert_list (f, expected, G_N_ELEMENTS (expected));
  assert_listing (f, before);

  /* Removed by the writer's listing. */
  {
    g_autoptr(CkptStorageTxn) txn = ckpt_storage_begin (f->storage, NULL, &error);

    g_assert_no_error (error);
    rounds = ckpt_storage_txn_list (txn, &n, &error);
    g_assert_no_error (error);
    assert_rounds (rounds, n, expected, G_N_ELEMENTS (expected));
  }
  if (generic)
    after = foreign_listing (".ckpt_8.tmp-fresh1", "ckpt_1", NULL);
  else
    after = foreign_listing ("ckpt_1", NULL);
  assert_listing (f, after);
  assert_foreign_files (f);
}

static void
test_foreign_files (Fixture       *f,
                    gconstpointer  data)
{
  const gint64 expected[] = { 2, 3 };
  g_autoptr(GError) error = NULL;
  g_autofree char *after = foreign_listing ("ckpt_2", "ckpt_3", NULL);

  make_root (f);
  write_foreign_files (f);
  assert_list (f, NULL, 0);

  for (gint64 r = 1; r <= 3; r++)
    g_bytes_unref (commit_round (f, r, "'r'", TRUE));
  {
    g_autoptr(CkptStorageTxn) txn = ckpt_storage_begin (f->storage, NULL, &error);
    g_autofree gint64 *rounds = NULL;
    gsize n = 0;

    g_assert_no_error (error);
    rounds = ckpt_storage_txn_list (txn, &n, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (n, ==, 3);
    g_assert_true (ckpt_storage_txn_remove (txn, 1, &error));
    g_assert_no_error (error);
  }

  assert_list (f, expected, G_N_ELEMENTS (expected));
  assert_listing (f, after);
  assert_foreign_files (f);
}

/* Storages of two prefixes share a root without seeing each other. */
static void
test_prefixes (Fixture       *f,
               gconstpointer  data)
{
  CkptStorage *other = ckpt_storage_new (f->root, "run-", f->flags);
  const gint64 expected_ckpt[] = { 1 };
  const gint64 expected_run[] = { 5 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) header = NULL;
  g_autoptr(GBytes) payload = NULL;

  g_bytes_unref (commit_round (f, 1, "'ckpt'", TRUE));
  write_file (f->root_path, ".ckpt_7.tmp-abcdef", "stale temp of ckpt_");
  make_checkpoint ("'run'", 5, &header, &payload);
  {
    g_autoptr(CkptStorageTxn) txn = ckpt_storage_begin (other, NULL, &error);
    g_autofree gint64 *rounds = NULL;
    gsize n = 0;

    g_assert_no_error (error);
    g_assert_true (ckpt_storage_txn_commit (txn, 5, header, payload, TRUE, NULL, &error));
    g_assert_no_error (error);
    rounds = ckpt_storage_txn_list (txn, &n, &error);
    g_assert_no_error (error);
    assert_rounds (rounds, n, expected_run, G_N_ELEMENTS (expected_run));
  }
  assert_list (f, expected_ckpt, G_N_ELEMENTS (expected_ckpt));
  /* The other prefix's writer left our temp file alone. */
  assert_listing (f, ".ckpt_7.tmp-abcdef ckpt_1 run-5");
  ckpt_storage_free (other);
}

static void
test_cancelled (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GBytes) header = NULL;
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GError) error = NULL;

  make_checkpoint ("'cancelled'", 4, &header, &payload);
  {
    g_autoptr(CkptStorageTxn) txn = ckpt_storage_begin (f->storage, NULL, &error);

    g_assert_no_error (error);
    g_cancellable_cancel (cancellable);
    g_assert_false (ckpt_storage_txn_commit (txn, 4, header, payload, TRUE,
                                             cancellable, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  }
  assert_listing (f, "");
  assert_list (f, NULL, 0);
}

static void
test_root_is_file (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *parent = g_path_get_dirname (f->root_path);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) header = NULL;
  g_autoptr(GBytes) payload = NULL;
  CkptStorageTxn *txn;

  g_assert_no_errno (g_mkdir_with_parents (parent, 0755));
  g_assert_true (g_file_set_contents (f->root_path, "not a directory", -1, NULL));
  make_checkpoint ("'x'", 1, &header, &payload);

  txn = ckpt_storage_begin (f->storage, NULL, &error);
  if (txn != NULL)
    {
      g_assert_no_error (error);
      g_assert_false (ckpt_storage_txn_commit (txn, 1, header, payload, TRUE,
                                               NULL, &error));
      ckpt_storage_txn_free (txn);
    }
  g_assert_nonnull (error);
  g_test_message ("root is a file: %s", error->message);
  g_assert_true (error->domain == G_IO_ERROR);
  g_assert_nonnull (strstr (error->message, f->tmpdir));
  g_clear_error (&error);

  /* Listing and reading fail or find nothing. */
  {
    g_autofree gint64 *rounds = NULL;
    g_autoptr(GBytes) bytes = NULL;
    gsize n = 12345;

    rounds = ckpt_storage_list (f->storage, &n, NULL, &error);
    if (rounds == NULL)
      g_assert_true (error->domain == G_IO_ERROR);
    else
      g_assert_cmpuint (n, ==, 0);
    g_clear_error (&error);

    bytes = ckpt_storage_read (f->storage, 1, NULL, &error);
    g_assert_null (bytes);
    g_assert_true (error->domain == G_IO_ERROR);
  }

  assert_file_contents (parent, "root", "not a directory");
}

/* The root is below a regular file: it cannot be created. */
static void
test_root_under_file (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *file_path = g_build_filename (f->tmpdir, "a", NULL);
  g_autoptr(GError) error = NULL;
  CkptStorageTxn *txn;

  g_assert_true (g_file_set_contents (file_path, "a file", -1, NULL));
  txn = ckpt_storage_begin (f->storage, NULL, &error);
  g_assert_null (txn);
  g_assert_nonnull (error);
  g_test_message ("root under a file: %s", error->message);
  g_assert_true (error->domain == G_IO_ERROR);
  assert_file_contents (f->tmpdir, "a", "a file");
}

typedef struct
{
  Fixture  *f;
  int       acquired;
  GError   *error;
} ThreadData;

static gpointer
second_writer (gpointer user_data)
{
  ThreadData *td = user_data;
  CkptStorage *storage = ckpt_storage_new (td->f->root, PREFIX, td->f->flags);
  g_autoptr(GBytes) header = NULL;
  g_autoptr(GBytes) payload = NULL;
  CkptStorageTxn *txn;

  make_checkpoint ("'second'", 2, &header, &payload);
  txn = ckpt_storage_begin (storage, NULL, &td->error);
  if (txn != NULL)
    {
      g_atomic_int_set (&td->acquired, 1);
      ckpt_storage_txn_commit (txn, 2, header, payload, TRUE, NULL, &td->error);
      ckpt_storage_txn_free (txn);
    }
  ckpt_storage_free (storage);
  return NULL;
}

static void
test_two_writers (Fixture       *f,
                  gconstpointer  data)
{
  ThreadData td = { f, 0, NULL };
  const gint64 expected[] = { 1, 2 };
  g_autoptr(GBytes) header = NULL;
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GError) error = NULL;
  CkptStorageTxn *txn;
  GThread *thread;

  make_checkpoint ("'first'", 1, &header, &payload);
  txn = ckpt_storage_begin (f->storage, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (txn);

  thread = g_thread_new ("second-writer", second_writer, &td);
  g_usleep (300 * G_TIME_SPAN_MILLISECOND);
  /* The second writer waits for the first. */
  g_assert_cmpint (g_atomic_int_get (&td.acquired), ==, 0);

  g_assert_true (ckpt_storage_txn_commit (txn, 1, header, payload, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_usleep (100 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (g_atomic_int_get (&td.acquired), ==, 0);
  /* The generic back end's writer lease is a directory in the root while
   * it is held. */
  assert_listing (f, (f->flags & CKPT_STORAGE_FLAGS_FORCE_GENERIC) ? ".ckpt_lease ckpt_1" : "ckpt_1");

  ckpt_storage_txn_free (txn);
  g_thread_join (thread);
  g_assert_no_error (td.error);
  g_assert_cmpint (td.acquired, ==, 1);
  assert_list (f, expected, G_N_ELEMENTS (expected));
  assert_listing (f, "ckpt_1 ckpt_2");
}

static void
add_storage_test (const char       *name,
                  CkptStorageFlags  flags,
                  void (*func) (Fixture *, gconstpointer))
{
  const char *variant;
  g_autofree char *path = NULL;

  switch ((int) flags)
    {
    case CKPT_STORAGE_FLAGS_NONE:
      variant = "default";
      break;
    case CKPT_STORAGE_FLAGS_NO_TMPFILE:
      variant = "no-tmpfile";
      break;
    case CKPT_STORAGE_FLAGS_FORCE_GENERIC:
      variant = "generic";
      break;
    default:
      g_assert_not_reached ();
    }
  path = g_strdup_printf ("/ckpt/storage/%s/%s", variant, name);
  g_test_add (path, Fixture, GUINT_TO_POINTER (flags),
              fixture_setup, func, fixture_teardown);
}

/* Sealing during the writeback hashes the bytes as they are in the file,
 * and refuses (CKPT_SEAL_CHANGED) a payload whose memory no longer holds
 * what was written: its owner changed it during the save. */
static int
read_back_from (goffset  offset,
                gsize    length,
                guint8  *buffer,
                gpointer data)
{
  GBytes *file = data;

  g_assert_cmpuint ((gsize) offset + length, <=, g_bytes_get_size (file));
  memcpy (buffer, (const guint8 *) g_bytes_get_data (file, NULL) + offset, length);
  return 0;
}

static void
test_seal_changed (void)
{
  const gsize n = 20 * 1024 * 1024 + 5;   /* three writeback chunks */
  g_autofree guint8 *memory = g_malloc (n);
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GBytes) header = NULL;
  g_autoptr(GBytes) payload_bytes = NULL;
  g_autoptr(GBytes) expected = NULL;
  g_autoptr(GBytes) file = NULL;
  g_autoptr(CkptPayload) payload = NULL;
  guint64 digest = 0;
  gsize i;

  for (i = 0; i < n; i++)
    memory[i] = (guint8) (i * 13);
  state = g_variant_ref_sink (g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, memory, n,
                                                       TRUE, NULL, NULL));
  ckpt_format_encode (state, 1, 1, NULL, CKPT_FORMAT_ENCODE_UNSEALED, &header, &payload_bytes);
  payload = ckpt_payload_new (payload_bytes);
  expected = ckpt_format_encode_bytes (state, 1, 1, CKPT_FORMAT_ENCODE_NONE);
  /* What a writer put in the file: header then payload, as they were. */
  {
    GByteArray *bytes = g_byte_array_new ();

    g_byte_array_append (bytes, g_bytes_get_data (header, NULL), g_bytes_get_size (header));
    g_byte_array_append (bytes, memory, n);
    file = g_byte_array_free_to_bytes (bytes);
  }

  /* Unchanged: the checksum of the file, the one a sealed encoding has. */
  {
    g_autoptr(CkptSeal) seal = ckpt_seal_start (header, payload, CKPT_SEAL_DURING_WRITEBACK);

    g_assert_true (ckpt_seal_pending (seal));
    g_assert_cmpint (ckpt_seal_finish (seal, read_back_from, file, NULL, &digest), ==, 0);
    g_assert_cmpuint (digest, ==,
                      ckpt_test_get_le64 ((const guint8 *) g_bytes_get_data (expected, NULL) +
                                          CKPT_FORMAT_OFFSET_CHECKSUM));
  }

  /* The owner changes its memory in the last chunk after the write. */
  memory[n - 2] ^= 0x40;
  {
    g_autoptr(CkptSeal) seal = ckpt_seal_start (header, payload, CKPT_SEAL_DURING_WRITEBACK);

    g_assert_cmpint (ckpt_seal_finish (seal, read_back_from, file, NULL, &digest), ==,
                     CKPT_SEAL_CHANGED);
  }
}

/* Two readers of a fresh storage (no cached listing yet): A reads the
 * directory, somebody changes it, B's lookup reads the events of that
 * change (with no listing to apply them to), then A offers its listing,
 * which predates the change, to the cache. It must not be taken: the next
 * listing must be the directory as it is. (The hook orders the readers.) */
typedef struct
{
  GMutex    lock;
  GCond     cond;
  GThread  *a, *b;
  gboolean  a_read, b_read, go_a, go_b;
} ReaderOrder;

static ReaderOrder *reader_order;

static void
order_before_offer (void)
{
  ReaderOrder *o = reader_order;
  GThread *self = g_thread_self ();

  g_mutex_lock (&o->lock);
  if (self == o->a)
    {
      o->a_read = TRUE;
      g_cond_broadcast (&o->cond);
      while (!o->go_a)
        g_cond_wait (&o->cond, &o->lock);
    }
  else if (self == o->b)
    {
      o->b_read = TRUE;
      g_cond_broadcast (&o->cond);
      while (!o->go_b)
        g_cond_wait (&o->cond, &o->lock);
    }
  g_mutex_unlock (&o->lock);
}

static gpointer
list_thread (gpointer data)
{
  gsize n = 0;

  g_free (ckpt_storage_list (data, &n, NULL, NULL));
  return NULL;
}

static void
wait_flag (ReaderOrder *o,
           gboolean    *flag)
{
  g_mutex_lock (&o->lock);
  while (!*flag)
    g_cond_wait (&o->cond, &o->lock);
  g_mutex_unlock (&o->lock);
}

static void
set_flag (ReaderOrder *o,
          gboolean    *flag)
{
  g_mutex_lock (&o->lock);
  *flag = TRUE;
  g_cond_broadcast (&o->cond);
  g_mutex_unlock (&o->lock);
}

static void
test_readers_race (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("test-storage-race-XXXXXX", &error);
  g_autoptr(GFile) root = g_file_new_for_path (tmp);
  g_autofree gint64 *rounds = NULL;
  g_autofree char *listing = NULL;
  CkptStorage *storage;
  ReaderOrder order = { 0, };
  gsize n = 0;
  gint64 r;

  g_assert_no_error (error);
  for (r = 1; r <= 5; r++)
    {
      g_autofree char *path = g_strdup_printf ("%s/ckpt_%" G_GINT64_FORMAT, tmp, r);

      ckpt_test_write_file (path, "x", 1);
    }
  storage = ckpt_storage_new (root, "ckpt_", CKPT_STORAGE_FLAGS_NONE);
  g_mutex_init (&order.lock);
  g_cond_init (&order.cond);
  reader_order = &order;
  ckpt_local_test_before_offer = order_before_offer;

  g_mutex_lock (&order.lock);
  order.a = g_thread_new ("reader-a", list_thread, storage);
  g_mutex_unlock (&order.lock);
  wait_flag (&order, &order.a_read);

  /* Somebody deletes one and creates one. */
  {
    g_autofree char *gone = g_strdup_printf ("%s/ckpt_2", tmp);
    g_autofree char *added = g_strdup_printf ("%s/ckpt_9", tmp);

    g_assert_cmpint (g_unlink (gone), ==, 0);
    ckpt_test_write_file (added, "x", 1);
  }

  g_mutex_lock (&order.lock);
  order.b = g_thread_new ("reader-b", list_thread, storage);
  g_mutex_unlock (&order.lock);
  wait_flag (&order, &order.b_read);

  set_flag (&order, &order.go_a);
  g_thread_join (order.a);
  set_flag (&order, &order.go_b);
  g_thread_join (order.b);
  ckpt_local_test_before_offer = NULL;

  rounds = ckpt_storage_list (storage, &n, NULL, &error);
  g_assert_no_error (error);
  listing = ckpt_test_rounds_string (rounds, n);
  g_assert_cmpstr (listing, ==, "1 3 4 5 9");

  ckpt_storage_free (storage);
  g_mutex_clear (&order.lock);
  g_cond_clear (&order.cond);
  ckpt_test_rm_rf (tmp);
}

int
main (int   argc,
      char *argv[])
{
  const CkptStorageFlags all_flags[] = {
    CKPT_STORAGE_FLAGS_NONE,
    CKPT_STORAGE_FLAGS_NO_TMPFILE,
    CKPT_STORAGE_FLAGS_FORCE_GENERIC,
  };

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ckpt/storage/names/build", test_build_name);
  g_test_add_func ("/ckpt/storage/names/parse", test_parse_name);
  g_test_add_func ("/ckpt/storage/names/round-trip", test_name_round_trip);
  g_test_add_func ("/ckpt/storage/names/temp", test_temp_name);
  g_test_add_func ("/ckpt/storage/default/readers-race", test_readers_race);
  g_test_add_func ("/ckpt/storage/seal/changed-during-save", test_seal_changed);

  for (gsize i = 0; i < G_N_ELEMENTS (all_flags); i++)
    {
      CkptStorageFlags flags = all_flags[i];

      add_storage_test ("list-missing-root", flags, test_list_missing_root);
      add_storage_test ("begin-creates-root", flags, test_begin_creates_root);
      add_storage_test ("commit-list", flags, test_commit_list);
      add_storage_test ("one-txn", flags, test_one_txn);
      add_storage_test ("commit-exists", flags, test_commit_exists);
      add_storage_test ("read-identical", flags, test_read_identical);
      add_storage_test ("read-missing", flags, test_read_missing);
      add_storage_test ("commit-sealed", flags, test_commit_sealed);
      add_storage_test ("commit-pieces", flags, test_commit_pieces);
      add_storage_test ("remove", flags, test_remove);
      add_storage_test ("stale-temp", flags, test_stale_temp);
      add_storage_test ("foreign-files", flags, test_foreign_files);
      add_storage_test ("prefixes", flags, test_prefixes);
      add_storage_test ("cancelled", flags, test_cancelled);
      add_storage_test ("root-is-file", flags, test_root_is_file);
      add_storage_test ("root-under-file", flags, test_root_under_file);
      add_storage_test ("two-writers", flags, test_two_writers);
    }

  return g_test_run ();
}
