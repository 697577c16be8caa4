/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Tests of the public CkptManager API (the issue's "Semantics" and "Tests"
 * sections). The core cases run three times, once per storage path: the
 * default local path (O_TMPFILE + linkat), the named hidden temp file
 * fallback (CKPT_STORAGE_FLAGS_NO_TMPFILE) and GIO's generic operations
 * (CKPT_STORAGE_FLAGS_FORCE_GENERIC), selected through the internal hook
 * ckpt_manager_set_storage_flags().
 *
 * Directory listings are read with g_dir_open() and compared exactly, so a
 * temp, index or lock file left behind by any call fails the test.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <ckpt-glib/ckpt-glib.h>

#include "ckpt-manager-private.h"
#include "ckpt-format-private.h"
#include "ckpt-seal-private.h"
#include "ckpt-storage-private.h"
#include "ckpt-test-util.h"

/* The type of make_state(). */
#define STATE_TYPE "(sxada{sv}(ii)ab)"

/* The committed byteswapped fixture (round 7). */
#define FIXTURE_NAME  "byteswapped-v1.ckpt"
#define FIXTURE_TYPE  "(sxada{sv}ab)"
#define FIXTURE_ROUND 7

#define CRASH_ROOT_ENV "CKPT_TEST_MANAGER_CRASH_ROOT"

/* ------------------------------------------------------------------------ */
/* Fixture */

typedef struct
{
  CkptStorageFlags  flags;
  char             *tmp_path;   /* a fresh directory, removed in teardown */
  char             *root_path;  /* tmp_path/root, not created beforehand */
  GFile            *root;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->flags = GPOINTER_TO_UINT (data);

  /* A crash-test child works in its parent's directory and is killed
   * before it could clean anything up: it must not make its own. */
  if (g_test_subprocess ())
    return;

  f->tmp_path = g_dir_make_tmp ("test-manager-XXXXXX", &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->tmp_path);
  f->root_path = g_build_filename (f->tmp_path, "root", NULL);
  f->root = g_file_new_for_path (f->root_path);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->tmp_path != NULL)
    ckpt_test_rm_rf (f->tmp_path);
  g_clear_object (&f->root);
  g_clear_pointer (&f->root_path, g_free);
  g_clear_pointer (&f->tmp_path, g_free);
}

/* ------------------------------------------------------------------------ */
/* Helpers */

/* Set by the *-parallel-nodurable cases: new managers save with
 * durable = FALSE (the other path for large payloads). */
static gboolean managers_not_durable;

static CkptManager *
new_manager_at (Fixture    *f,
                GFile      *root,
                const char *prefix,
                int         keep_total,
                gboolean    keep_first)
{
  g_autoptr(GError) error = NULL;
  CkptManager *mgr;

  mgr = ckpt_manager_new (root, prefix, keep_total, keep_first, &error);
  g_assert_no_error (error);
  g_assert_true (CKPT_IS_MANAGER (mgr));
  if (f->flags != CKPT_STORAGE_FLAGS_NONE)
    ckpt_manager_set_storage_flags (mgr, f->flags);
  if (managers_not_durable)
    ckpt_manager_set_durable (mgr, FALSE);

  return mgr;
}

static CkptManager *
new_manager (Fixture    *f,
             const char *prefix,
             int         keep_total,
             gboolean    keep_first)
{
  return new_manager_at (f, f->root, prefix, keep_total, keep_first);
}

/* A nested state: tuple, string, int64, ad, a{sv} holding nested
 * containers, a maybe and an empty array, (ii) and ab. */
static GVariant *
make_state (gint64 round_num)
{
  GVariantBuilder weights;
  GVariantBuilder moments;
  guint i, n;

  n = 3 + (guint) (round_num % 4);
  g_variant_builder_init (&weights, G_VARIANT_TYPE ("ad"));
  g_variant_builder_init (&moments, G_VARIANT_TYPE ("ad"));
  for (i = 0; i < n; i++)
    {
      g_variant_builder_add (&weights, "d", (double) (round_num % 1000) * 0.25 - (double) i);
      g_variant_builder_add (&moments, "d", 1.0 / (double) (i + 1));
    }

  return g_variant_new_parsed ("(%s, %x, %@ad, "
                               " {'lr': <%d>, 'step': <%x>, 'name': <'adam'>,"
                               "  'moments': <(%@ad, @ad [])>,"
                               "  'nested': <{'a': <(int32 1, @ms nothing)>,"
                               "              'b': <@ay [0x01, 0x00]>}>},"
                               " (%i, %i), [true, false, %b])",
                               "model", round_num,
                               g_variant_builder_end (&weights),
                               0.01 * (double) (round_num % 100), round_num,
                               g_variant_builder_end (&moments),
                               (gint32) (round_num & 0xffff),
                               -(gint32) (round_num & 0xffff),
                               (gboolean) (round_num % 2 == 0));
}

/* (xad) with @n doubles: a larger state, read through a mapping. */
static GVariant *
make_big_state (gint64 round_num,
                gsize  n)
{
  g_autofree double *data = g_new (double, n);
  gsize i;

  for (i = 0; i < n; i++)
    data[i] = (double) round_num + (double) i;

  return g_variant_new ("(x@ad)", round_num,
                        g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE,
                                                   data, n, sizeof (double)));
}

/* @expected may be floating (it is consumed then). */
static void
assert_variant_equal (GVariant *actual,
                      GVariant *expected_in)
{
  g_autoptr(GVariant) expected = NULL;

  g_assert_nonnull (actual);
  g_assert_nonnull (expected_in);
  expected = g_variant_ref_sink (expected_in);
  g_assert_cmpstr (g_variant_get_type_string (actual), ==,
                   g_variant_get_type_string (expected));
  if (!g_variant_equal (actual, expected))
    {
      g_autofree char *a = g_variant_print (actual, TRUE);
      g_autofree char *e = g_variant_print (expected, TRUE);

      g_assert_cmpstr (a, ==, e);
      g_assert_true (g_variant_equal (actual, expected));
    }
  g_assert_true (g_variant_is_normal_form (actual));
  g_assert_false (g_variant_is_floating (actual));
}

static void
save_ok (CkptManager *mgr,
         GVariant    *state,
         gint64       round_num)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = ckpt_manager_save (mgr, state, round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
}

static GVariant *
load_ok (CkptManager        *mgr,
         const GVariantType *type,
         gint64              round_num)
{
  g_autoptr(GError) error = NULL;
  GVariant *value;

  value = ckpt_manager_load (mgr, type, round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (value);
  return value;
}

static void
assert_load_fails (CkptManager        *mgr,
                   const GVariantType *type,
                   gint64              round_num,
                   GQuark              domain,
                   int                 code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;

  value = ckpt_manager_load (mgr, type, round_num, NULL, &error);
  g_assert_error (error, domain, code);
  g_assert_null (value);
}

static void
assert_rounds_array (CkptManager  *mgr,
                     const gint64 *expected,
                     gsize         n_expected)
{
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *rounds = NULL;
  g_autofree char *actual_str = NULL;
  g_autofree char *want_str = NULL;
  gsize n_rounds = G_MAXSIZE;

  rounds = ckpt_manager_list_rounds (mgr, &n_rounds, &error);
  g_assert_no_error (error);
  g_assert_nonnull (rounds);
  g_assert_cmpuint (n_rounds, !=, G_MAXSIZE);
  actual_str = ckpt_test_rounds_string (rounds, n_rounds);
  want_str = ckpt_test_rounds_string (expected, n_expected);
  g_assert_cmpstr (actual_str, ==, want_str);
}

#define assert_rounds(mgr, ...) \
  G_STMT_START { \
    const gint64 expected_rounds_[] = { __VA_ARGS__ }; \
    assert_rounds_array ((mgr), expected_rounds_, G_N_ELEMENTS (expected_rounds_)); \
  } G_STMT_END

#define assert_no_rounds(mgr) assert_rounds_array ((mgr), NULL, 0)

static void
write_string (const char *path,
              const char *contents)
{
  ckpt_test_write_file (path, contents, strlen (contents));
}

static void
assert_file_bytes (const char *path,
                   GBytes     *expected)
{
  g_autoptr(GBytes) actual = ckpt_test_read_bytes (path);

  g_assert_cmpmem (g_bytes_get_data (actual, NULL), g_bytes_get_size (actual),
                   g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
}

static char *
checkpoint_path (Fixture    *f,
                 const char *name)
{
  return g_build_filename (f->root_path, name, NULL);
}

/* Flips one bit of a file in place. */
static void
flip_bit (const char *path,
          gsize       offset,
          guint       bit)
{
  g_autoptr(GBytes) bytes = ckpt_test_read_bytes (path);
  gsize len;
  g_autofree guint8 *buf = g_bytes_unref_to_data (g_steal_pointer (&bytes), &len);

  g_assert_cmpuint (offset, <, len);
  buf[offset] ^= (guint8) (1u << bit);
  ckpt_test_write_file (path, buf, len);
}

/* ------------------------------------------------------------------------ */
/* Signal recorder: "S<n>" saved, "P<n>" pruned, "C<n>" corrupt. */

typedef struct
{
  CkptManager *mgr;
  GString     *log;
  guint        n_saved;
  guint        n_pruned;
  guint        n_corrupt;
  gboolean     reenter;      /* call back into the manager from handlers */
} Recorder;

static void
recorder_append (Recorder *rec,
                 char      kind,
                 gint64    round_num)
{
  g_string_append_printf (rec->log, "%s%c%" G_GINT64_FORMAT,
                          rec->log->len > 0 ? " " : "", kind, round_num);
}

static void
assert_signal_file (CkptManager *mgr,
                    gint64       round_num,
                    GFile       *file)
{
  g_autoptr(GFile) expected = ckpt_manager_get_file (mgr, round_num);

  g_assert_true (G_IS_FILE (file));
  g_assert_true (g_file_equal (file, expected));
}

static void
on_saved (CkptManager *mgr,
          gint64       round_num,
          GFile       *file,
          gpointer     user_data)
{
  Recorder *rec = user_data;

  g_assert_true (mgr == rec->mgr);
  assert_signal_file (mgr, round_num, file);
  /* "once the checkpoint is durably in place" */
  g_assert_true (g_file_query_exists (file, NULL));
  rec->n_saved++;
  recorder_append (rec, 'S', round_num);

  if (rec->reenter)
    {
      g_autoptr(GError) error = NULL;
      g_autofree gint64 *rounds = NULL;
      g_autoptr(GVariant) value = NULL;
      gsize n_rounds = 0;

      /* The writer lock must be released before signals are emitted. */
      rounds = ckpt_manager_list_rounds (mgr, &n_rounds, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (n_rounds, >=, 1);
      value = ckpt_manager_load (mgr, NULL, round_num, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (value);
    }
}

static void
on_pruned (CkptManager *mgr,
           gint64       round_num,
           GFile       *file,
           gpointer     user_data)
{
  Recorder *rec = user_data;

  g_assert_true (mgr == rec->mgr);
  assert_signal_file (mgr, round_num, file);
  g_assert_false (g_file_query_exists (file, NULL));
  rec->n_pruned++;
  recorder_append (rec, 'P', round_num);
}

static void
on_corrupt (CkptManager  *mgr,
            gint64        round_num,
            GFile        *file,
            const GError *error,
            gpointer      user_data)
{
  Recorder *rec = user_data;

  g_assert_true (mgr == rec->mgr);
  assert_signal_file (mgr, round_num, file);
  g_assert_nonnull (error);
  g_assert_error ((GError *) error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
  g_assert_nonnull (error->message);
  rec->n_corrupt++;
  recorder_append (rec, 'C', round_num);
}

static void
recorder_init (Recorder    *rec,
               CkptManager *mgr)
{
  memset (rec, 0, sizeof *rec);
  rec->mgr = mgr;
  rec->log = g_string_new (NULL);
  g_signal_connect (mgr, "saved", G_CALLBACK (on_saved), rec);
  g_signal_connect (mgr, "pruned", G_CALLBACK (on_pruned), rec);
  g_signal_connect (mgr, "corrupt", G_CALLBACK (on_corrupt), rec);
}

static void
recorder_clear (Recorder *rec)
{
  if (rec->mgr != NULL)
    g_signal_handlers_disconnect_by_data (rec->mgr, rec);
  rec->mgr = NULL;
  if (rec->log != NULL)
    g_string_free (rec->log, TRUE);
  rec->log = NULL;
}

static void
recorder_assert (Recorder   *rec,
                 const char *expected)
{
  g_assert_cmpstr (rec->log->str, ==, expected);
}

static void
recorder_reset (Recorder *rec)
{
  g_string_truncate (rec->log, 0);
  rec->n_saved = rec->n_pruned = rec->n_corrupt = 0;
}

/* ------------------------------------------------------------------------ */
/* Core cases (run over the three storage paths) */

/* Semantics 1: saving 1, 2, 3 leaves exactly ckpt_1 ckpt_2 ckpt_3. */
static void
test_listing (Fixture       *f,
              gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, CKPT_MANAGER_DEFAULT_KEEP_TOTAL, TRUE);

  g_assert_false (g_file_test (f->root_path, G_FILE_TEST_EXISTS));
  assert_no_rounds (mgr);

  save_ok (mgr, make_state (1), 1);
  ckpt_test_assert_listing (f->root_path, "ckpt_1");
  save_ok (mgr, make_state (2), 2);
  ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_2");
  save_ok (mgr, make_state (3), 3);
  ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_2", "ckpt_3");
  assert_rounds (mgr, 1, 2, 3);

  /* Nothing beside the root either (no lock file next to it). */
  ckpt_test_assert_listing (f->tmp_path, "root");

  g_assert_finalize_object (mgr);

  /* A new manager sees the same checkpoints. */
  mgr = new_manager (f, NULL, CKPT_MANAGER_DEFAULT_KEEP_TOTAL, TRUE);
  assert_rounds (mgr, 1, 2, 3);
  g_assert_finalize_object (mgr);
}

/* The root need not exist: it is created with its parents on first save. */
static void
test_create_parents (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *deep_path = g_build_filename (f->tmp_path, "a", "b", "c", NULL);
  g_autoptr(GFile) deep = g_file_new_for_path (deep_path);
  CkptManager *mgr = new_manager_at (f, deep, NULL, 0, TRUE);
  g_autoptr(GVariant) value = NULL;

  assert_no_rounds (mgr);
  ckpt_test_assert_listing (f->tmp_path, NULL);
  save_ok (mgr, make_state (4), 4);
  ckpt_test_assert_listing (deep_path, "ckpt_4");
  value = load_ok (mgr, NULL, 4);
  g_assert_finalize_object (mgr);
}

/* Semantics 3, step by step: keep_total 3, keep_first on. */
static void
test_keep_first_on (Fixture       *f,
                    gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 3, TRUE);

  save_ok (mgr, make_state (1), 1);
  ckpt_test_assert_listing (f->root_path, "ckpt_1");
  save_ok (mgr, make_state (2), 2);
  ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_2");
  save_ok (mgr, make_state (3), 3);
  ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_2", "ckpt_3");
  save_ok (mgr, make_state (4), 4);
  ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_3", "ckpt_4");
  assert_rounds (mgr, 1, 3, 4);
  save_ok (mgr, make_state (5), 5);
  ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_4", "ckpt_5");
  assert_rounds (mgr, 1, 4, 5);
  g_assert_finalize_object (mgr);
}

/* Semantics 3, step by step: keep_total 3, keep_first off. */
static void
test_keep_first_off (Fixture       *f,
                     gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 3, FALSE);

  save_ok (mgr, make_state (1), 1);
  save_ok (mgr, make_state (2), 2);
  save_ok (mgr, make_state (3), 3);
  ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_2", "ckpt_3");
  save_ok (mgr, make_state (4), 4);
  ckpt_test_assert_listing (f->root_path, "ckpt_2", "ckpt_3", "ckpt_4");
  assert_rounds (mgr, 2, 3, 4);
  save_ok (mgr, make_state (5), 5);
  ckpt_test_assert_listing (f->root_path, "ckpt_3", "ckpt_4", "ckpt_5");
  g_assert_finalize_object (mgr);
}

/* Semantics 3 as a table: rounds 1..4 saved with each policy. */
static void
test_retention_table (Fixture       *f,
                      gconstpointer  data)
{
  static const struct
  {
    int keep_total;
    gboolean keep_first;
    const char *expected;
  } cases[] = {
    {  3, TRUE,  "ckpt_1 ckpt_3 ckpt_4" },
    {  3, FALSE, "ckpt_2 ckpt_3 ckpt_4" },
    {  0, TRUE,  "ckpt_1 ckpt_2 ckpt_3 ckpt_4" },
    {  0, FALSE, "ckpt_1 ckpt_2 ckpt_3 ckpt_4" },
    { -1, TRUE,  "ckpt_1 ckpt_2 ckpt_3 ckpt_4" },
    { -1, FALSE, "ckpt_1 ckpt_2 ckpt_3 ckpt_4" },
    { G_MININT, FALSE, "ckpt_1 ckpt_2 ckpt_3 ckpt_4" },
    {  1, TRUE,  "ckpt_1 ckpt_4" },
    {  1, FALSE, "ckpt_4" },
    {  2, TRUE,  "ckpt_1 ckpt_4" },
    {  2, FALSE, "ckpt_3 ckpt_4" },
    {  4, TRUE,  "ckpt_1 ckpt_2 ckpt_3 ckpt_4" },
    {  5, FALSE, "ckpt_1 ckpt_2 ckpt_3 ckpt_4" },
    { G_MAXINT, TRUE, "ckpt_1 ckpt_2 ckpt_3 ckpt_4" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("case-%" G_GSIZE_FORMAT, i);
      g_autofree char *path = g_build_filename (f->tmp_path, name, NULL);
      g_autoptr(GFile) root = g_file_new_for_path (path);
      g_autoptr(GPtrArray) names = NULL;
      g_autofree char *listing = NULL;
      g_auto(GStrv) expected = NULL;
      g_autofree char *expected_rounds = NULL;
      g_autofree gint64 *rounds = NULL;
      g_autofree char *rounds_str = NULL;
      g_autoptr(GError) error = NULL;
      CkptManager *mgr;
      gsize n_rounds = 0;
      gint64 r, latest = -2;
      g_autoptr(GVariant) value = NULL;
      guint j;

      g_test_message ("keep_total %d keep_first %d", cases[i].keep_total, cases[i].keep_first);
      mgr = new_manager_at (f, root, NULL, cases[i].keep_total, cases[i].keep_first);
      g_assert_cmpint (ckpt_manager_get_keep_total (mgr), ==, cases[i].keep_total);
      g_assert_cmpint (ckpt_manager_get_keep_first (mgr), ==, cases[i].keep_first);
      for (r = 1; r <= 4; r++)
        save_ok (mgr, make_state (r), r);

      names = ckpt_test_list_dir (path);
      g_ptr_array_add (names, NULL);
      listing = g_strjoinv (" ", (char **) names->pdata);
      g_assert_cmpstr (listing, ==, cases[i].expected);

      /* list_rounds agrees with the directory. */
      expected = g_strsplit (cases[i].expected, " ", -1);
      for (j = 0; expected[j] != NULL; j++)
        {
          char *old = expected[j];

          expected[j] = g_strdup (old + strlen ("ckpt_"));
          g_free (old);
        }
      expected_rounds = g_strjoinv (" ", expected);
      rounds = ckpt_manager_list_rounds (mgr, &n_rounds, &error);
      g_assert_no_error (error);
      rounds_str = ckpt_test_rounds_string (rounds, n_rounds);
      g_assert_cmpstr (rounds_str, ==, expected_rounds);

      /* The newest is never pruned. */
      value = ckpt_manager_load_latest (mgr, NULL, &latest, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (latest, ==, 4);
      assert_variant_equal (value, make_state (4));

      g_assert_finalize_object (mgr);
    }
}

/* Semantics 2: saving an existing round fails with EXISTS and changes
 * nothing (byte-identical file, no signals, no temp file). */
static void
test_exists (Fixture       *f,
             gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 1, FALSE);
  g_autofree char *path = checkpoint_path (f, "ckpt_1");
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GVariant) other = NULL;
  Recorder rec;
  gboolean ok;

  recorder_init (&rec, mgr);
  save_ok (mgr, make_state (1), 1);
  recorder_assert (&rec, "S1");
  before = ckpt_test_read_bytes (path);

  other = g_variant_ref_sink (g_variant_new_parsed ("('other', int64 99, @ad [], @a{sv} {}, (2, 3), @ab [])"));
  ok = ckpt_manager_save (mgr, other, 1, NULL, &error);
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_EXISTS);
  g_assert_false (ok);
  g_clear_error (&error);

  /* Also with a state of another type. */
  ok = ckpt_manager_save (mgr, g_variant_new_int32 (5), 1, NULL, &error);
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_EXISTS);
  g_assert_false (ok);
  g_clear_error (&error);

  assert_file_bytes (path, before);
  ckpt_test_assert_listing (f->root_path, "ckpt_1");
  recorder_assert (&rec, "S1");
  value = load_ok (mgr, NULL, 1);
  assert_variant_equal (value, make_state (1));

  /* keep_total 1: round 2 replaces round 1; then 2 is EXISTS too. */
  save_ok (mgr, make_state (2), 2);
  ckpt_test_assert_listing (f->root_path, "ckpt_2");
  g_clear_pointer (&before, g_bytes_unref);
  g_free (path);
  path = checkpoint_path (f, "ckpt_2");
  before = ckpt_test_read_bytes (path);
  ok = ckpt_manager_save (mgr, make_state (3), 2, NULL, &error);
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_EXISTS);
  g_assert_false (ok);
  assert_file_bytes (path, before);
  ckpt_test_assert_listing (f->root_path, "ckpt_2");
  recorder_assert (&rec, "S1 S2 P1");

  recorder_clear (&rec);
  g_assert_finalize_object (mgr);
}

/* Load of each round equals what was saved, for nested states and edge
 * cases (empty payload, unit, a larger mapped state). */
static void
test_roundtrip (Fixture       *f,
                gconstpointer  data)
{
  static const gint64 rounds[] = { 0, 1, 2, 5, 10 };
  CkptManager *mgr = new_manager (f, NULL, 0, TRUE);
  g_autoptr(GVariant) empty_array = g_variant_ref_sink (g_variant_new_parsed ("@ad []"));
  g_autoptr(GVariant) unit = g_variant_ref_sink (g_variant_new_parsed ("()"));
  g_autoptr(GVariant) nothing = g_variant_ref_sink (g_variant_new_parsed ("@ms nothing"));
  g_autoptr(GVariant) big = g_variant_ref_sink (make_big_state (23, 200000));
  g_autoptr(GVariant) str = g_variant_ref_sink (g_variant_new_string ("héllo\nworld"));
  g_autoptr(GError) error = NULL;
  gint64 latest = -2;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (rounds); i++)
    {
      g_autoptr(GVariant) state = g_variant_ref_sink (make_state (rounds[i]));

      save_ok (mgr, state, rounds[i]);
    }
  save_ok (mgr, empty_array, 20);
  save_ok (mgr, unit, 21);
  save_ok (mgr, nothing, 22);
  save_ok (mgr, big, 23);
  save_ok (mgr, str, 24);
  assert_rounds (mgr, 0, 1, 2, 5, 10, 20, 21, 22, 23, 24);
  ckpt_test_assert_listing (f->root_path, "ckpt_0", "ckpt_1", "ckpt_2", "ckpt_5", "ckpt_10",
                            "ckpt_20", "ckpt_21", "ckpt_22", "ckpt_23", "ckpt_24");

  for (i = 0; i < G_N_ELEMENTS (rounds); i++)
    {
      g_autoptr(GVariant) expected = g_variant_ref_sink (make_state (rounds[i]));
      g_autoptr(GVariant) any = load_ok (mgr, NULL, rounds[i]);
      g_autoptr(GVariant) exact = load_ok (mgr, G_VARIANT_TYPE (STATE_TYPE), rounds[i]);
      g_autoptr(GVariant) tuple = load_ok (mgr, G_VARIANT_TYPE_TUPLE, rounds[i]);
      g_autoptr(GVariant) star = load_ok (mgr, G_VARIANT_TYPE_ANY, rounds[i]);
      g_autoptr(GVariant) partial = load_ok (mgr, G_VARIANT_TYPE ("(sx*a{sv}r*)"), rounds[i]);
      gint64 round_in_state = -1;

      assert_variant_equal (any, expected);
      assert_variant_equal (exact, expected);
      assert_variant_equal (tuple, expected);
      assert_variant_equal (star, expected);
      assert_variant_equal (partial, expected);
      g_variant_get_child (any, 1, "x", &round_in_state);
      g_assert_cmpint (round_in_state, ==, rounds[i]);
    }

  {
    g_autoptr(GVariant) v20 = load_ok (mgr, NULL, 20);
    g_autoptr(GVariant) v21 = load_ok (mgr, NULL, 21);
    g_autoptr(GVariant) v22 = load_ok (mgr, NULL, 22);
    g_autoptr(GVariant) v23 = load_ok (mgr, G_VARIANT_TYPE ("(xad)"), 23);
    g_autoptr(GVariant) v24 = load_ok (mgr, G_VARIANT_TYPE_STRING, 24);
    g_autoptr(GVariant) latest_value = NULL;

    assert_variant_equal (v20, empty_array);
    assert_variant_equal (v21, unit);
    assert_variant_equal (v22, nothing);
    assert_variant_equal (v23, big);
    assert_variant_equal (v24, str);

    latest_value = ckpt_manager_load_latest (mgr, NULL, &latest, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (latest, ==, 24);
    assert_variant_equal (latest_value, str);
  }

  /* out_round_num is optional. */
  {
    g_autoptr(GVariant) latest_value = NULL;

    latest_value = ckpt_manager_load_latest (mgr, G_VARIANT_TYPE_STRING, NULL, NULL, &error);
    g_assert_no_error (error);
    assert_variant_equal (latest_value, str);
  }

  g_assert_finalize_object (mgr);
}

/* A floating state passed to save is sunk (GLib's convention for GVariant
 * arguments), so `save (mgr, g_variant_new (...), ...)` does not leak. */
static void
test_floating (Fixture       *f,
               gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 0, TRUE);
  GVariant *state = make_state (1);
  GVariant *def;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  gint64 round_num = -2;

  g_assert_true (g_variant_is_floating (state));
  g_variant_ref (state);   /* ours: keeps it alive after save consumes the floating ref */
  save_ok (mgr, state, 1);
  g_assert_false (g_variant_is_floating (state));
  value = load_ok (mgr, NULL, 1);
  assert_variant_equal (value, state);
  g_variant_unref (state);
  g_clear_pointer (&value, g_variant_unref);

  /* load_latest_or_default with a floating default. */
  {
    g_autofree char *other_path = g_build_filename (f->tmp_path, "other", NULL);
    g_autoptr(GFile) other = g_file_new_for_path (other_path);
    CkptManager *mgr2 = new_manager_at (f, other, NULL, 0, TRUE);

    def = make_state (0);
    g_variant_ref (def);
    g_assert_true (g_variant_is_floating (def));
    value = ckpt_manager_load_latest_or_default (mgr2, def, &round_num, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (round_num, ==, 0);
    g_assert_false (g_variant_is_floating (def));
    assert_variant_equal (value, def);
    g_variant_unref (def);
    g_assert_finalize_object (mgr2);
  }

  g_assert_finalize_object (mgr);
}

/* Semantics 5: NOT_FOUND. */
static void
test_not_found (Fixture       *f,
                gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 0, TRUE);
  Recorder rec;

  recorder_init (&rec, mgr);

  /* Missing root. */
  assert_load_fails (mgr, NULL, 1, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
  assert_load_fails (mgr, NULL, 0, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
  assert_load_fails (mgr, G_VARIANT_TYPE (STATE_TYPE), G_MAXINT64, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
  /* Loading does not create the root. */
  g_assert_false (g_file_test (f->root_path, G_FILE_TEST_EXISTS));

  /* Existing root, other rounds present. */
  save_ok (mgr, make_state (1), 1);
  save_ok (mgr, make_state (3), 3);
  assert_load_fails (mgr, NULL, 0, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
  assert_load_fails (mgr, NULL, 2, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
  assert_load_fails (mgr, NULL, 4, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
  assert_load_fails (mgr, NULL, 10, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
  ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_3");

  /* A file that would be round 2 for another prefix is not round 2. */
  {
    g_autofree char *p = checkpoint_path (f, "ckpt_02");
    g_autofree char *src = checkpoint_path (f, "ckpt_1");
    g_autoptr(GBytes) bytes = ckpt_test_read_bytes (src);

    ckpt_test_write_file (p, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
    assert_load_fails (mgr, NULL, 2, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
  }

  recorder_assert (&rec, "S1 S3");
  recorder_clear (&rec);
  g_assert_finalize_object (mgr);
}

static void
assert_latest_none (CkptManager *mgr)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  gint64 round_num = 12345;

  value = ckpt_manager_load_latest (mgr, NULL, &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (value);
  g_assert_cmpint (round_num, ==, -1);

  round_num = 12345;
  value = ckpt_manager_load_latest (mgr, G_VARIANT_TYPE (STATE_TYPE), &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (value);
  g_assert_cmpint (round_num, ==, -1);
}

/* Semantics 5: load_latest on an empty or missing root. */
static void
test_latest_empty (Fixture       *f,
                   gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 0, TRUE);
  g_autofree char *deep_path = g_build_filename (f->tmp_path, "x", "y", NULL);
  g_autoptr(GFile) deep = g_file_new_for_path (deep_path);
  CkptManager *deep_mgr = new_manager_at (f, deep, NULL, 0, TRUE);
  Recorder rec;

  recorder_init (&rec, mgr);

  /* Missing root (and missing parent). */
  assert_latest_none (mgr);
  assert_latest_none (deep_mgr);
  assert_no_rounds (deep_mgr);
  g_assert_false (g_file_test (f->root_path, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (deep_path, G_FILE_TEST_EXISTS));

  /* Empty root. */
  g_assert_cmpint (g_mkdir (f->root_path, 0755), ==, 0);
  assert_latest_none (mgr);
  assert_no_rounds (mgr);
  ckpt_test_assert_listing (f->root_path, NULL);

  /* A root holding only what is not a checkpoint. */
  {
    g_autofree char *p = checkpoint_path (f, "notes.txt");

    write_string (p, "not a checkpoint\n");
    assert_latest_none (mgr);
    ckpt_test_assert_listing (f->root_path, "notes.txt");
  }

  recorder_assert (&rec, "");
  recorder_clear (&rec);
  g_assert_finalize_object (deep_mgr);
  g_assert_finalize_object (mgr);
}

/* load_latest_or_default: on an empty root it saves the default as round 0
 * (exactly ckpt_0), the next call loads it; later rounds are returned. */
static void
test_or_default (Fixture       *f,
                 gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, CKPT_MANAGER_DEFAULT_KEEP_TOTAL, TRUE);
  g_autoptr(GVariant) def = g_variant_ref_sink (make_state (0));
  g_autoptr(GVariant) other_def = g_variant_ref_sink (make_state (99));
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  gint64 round_num = -2;
  Recorder rec;

  recorder_init (&rec, mgr);

  /* Missing root. */
  value = ckpt_manager_load_latest_or_default (mgr, def, &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 0);
  assert_variant_equal (value, def);
  ckpt_test_assert_listing (f->root_path, "ckpt_0");
  recorder_assert (&rec, "S0");
  g_clear_pointer (&value, g_variant_unref);

  /* Next call loads it (not the new default), saves nothing. */
  round_num = -2;
  value = ckpt_manager_load_latest_or_default (mgr, other_def, &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 0);
  assert_variant_equal (value, def);
  ckpt_test_assert_listing (f->root_path, "ckpt_0");
  recorder_assert (&rec, "S0");
  g_clear_pointer (&value, g_variant_unref);

  /* Later rounds win. */
  save_ok (mgr, make_state (1), 1);
  round_num = -2;
  value = ckpt_manager_load_latest_or_default (mgr, other_def, &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 1);
  assert_variant_equal (value, make_state (1));
  ckpt_test_assert_listing (f->root_path, "ckpt_0", "ckpt_1");
  g_clear_pointer (&value, g_variant_unref);

  /* The default's type is the template: another type is TYPE_MISMATCH and
   * nothing is saved. */
  round_num = -2;
  value = ckpt_manager_load_latest_or_default (mgr, g_variant_new_int32 (3), &round_num, NULL, &error);
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_TYPE_MISMATCH);
  g_assert_null (value);
  g_clear_error (&error);
  ckpt_test_assert_listing (f->root_path, "ckpt_0", "ckpt_1");
  recorder_assert (&rec, "S0 S1");

  recorder_clear (&rec);
  g_assert_finalize_object (mgr);

  /* Existing empty root. */
  {
    g_autofree char *empty_path = g_build_filename (f->tmp_path, "empty", NULL);
    g_autoptr(GFile) empty = g_file_new_for_path (empty_path);

    g_assert_cmpint (g_mkdir (empty_path, 0755), ==, 0);
    mgr = new_manager_at (f, empty, NULL, 1, FALSE);
    round_num = -2;
    value = ckpt_manager_load_latest_or_default (mgr, def, &round_num, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (round_num, ==, 0);
    assert_variant_equal (value, def);
    ckpt_test_assert_listing (empty_path, "ckpt_0");
    g_clear_pointer (&value, g_variant_unref);
    g_assert_finalize_object (mgr);
  }
}

/* TYPE_MISMATCH names both types; supertypes are accepted; load_latest
 * does not fall back past a mismatching newest checkpoint. */
static void
test_type_mismatch (Fixture       *f,
                    gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 0, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  gint64 round_num = -2;
  Recorder rec;

  recorder_init (&rec, mgr);
  save_ok (mgr, g_variant_new ("(si)", "x", 1), 1);

  value = ckpt_manager_load (mgr, G_VARIANT_TYPE ("(ss)"), 1, NULL, &error);
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_TYPE_MISMATCH);
  g_assert_null (value);
  g_assert_nonnull (strstr (error->message, "(si)"));
  g_assert_nonnull (strstr (error->message, "(ss)"));
  g_clear_error (&error);

  assert_load_fails (mgr, G_VARIANT_TYPE_INT32, 1, CKPT_ERROR, CKPT_ERROR_TYPE_MISMATCH);
  assert_load_fails (mgr, G_VARIANT_TYPE ("(sis)"), 1, CKPT_ERROR, CKPT_ERROR_TYPE_MISMATCH);
  assert_load_fails (mgr, G_VARIANT_TYPE_ARRAY, 1, CKPT_ERROR, CKPT_ERROR_TYPE_MISMATCH);

  /* Supertypes. */
  {
    g_autoptr(GVariant) a = load_ok (mgr, G_VARIANT_TYPE ("(s*)"), 1);
    g_autoptr(GVariant) b = load_ok (mgr, G_VARIANT_TYPE ("r"), 1);
    g_autoptr(GVariant) c = load_ok (mgr, G_VARIANT_TYPE ("*"), 1);
    g_autoptr(GVariant) d = load_ok (mgr, G_VARIANT_TYPE ("(?i)"), 1);
    g_autoptr(GVariant) e = load_ok (mgr, G_VARIANT_TYPE ("(si)"), 1);

    g_assert_cmpstr (g_variant_get_type_string (a), ==, "(si)");
    g_assert_true (g_variant_equal (a, b) && g_variant_equal (b, c) &&
                   g_variant_equal (c, d) && g_variant_equal (d, e));
  }

  /* load_latest with a mismatching type: error, no fallback. */
  value = ckpt_manager_load_latest (mgr, G_VARIANT_TYPE ("(ss)"), &round_num, NULL, &error);
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_TYPE_MISMATCH);
  g_assert_null (value);
  g_clear_error (&error);

  save_ok (mgr, g_variant_new_int32 (2), 2);
  value = ckpt_manager_load_latest (mgr, G_VARIANT_TYPE ("(si)"), &round_num, NULL, &error);
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_TYPE_MISMATCH);
  g_assert_nonnull (strstr (error->message, "(si)"));
  g_assert_null (value);
  g_clear_error (&error);

  /* Mismatch is not corruption. */
  recorder_assert (&rec, "S1 S2");
  ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_2");
  recorder_clear (&rec);
  g_assert_finalize_object (mgr);
}

/* Signals: saved/pruned arguments, counts and order (saved first, then
 * pruned ascending); handlers may call back into the manager. */
static void
test_signals (Fixture       *f,
              gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 2, FALSE);
  gint64 r;
  Recorder rec;

  recorder_init (&rec, mgr);
  rec.reenter = TRUE;

  for (r = 1; r <= 4; r++)
    save_ok (mgr, make_state (r), r);
  recorder_assert (&rec, "S1 S2 S3 P1 S4 P2");
  g_assert_cmpuint (rec.n_saved, ==, 4);
  g_assert_cmpuint (rec.n_pruned, ==, 2);
  g_assert_cmpuint (rec.n_corrupt, ==, 0);
  ckpt_test_assert_listing (f->root_path, "ckpt_3", "ckpt_4");

  /* keep_first on: the first kept counts among keep_total. */
  recorder_reset (&rec);
  ckpt_manager_set_keep_first (mgr, TRUE);
  save_ok (mgr, make_state (5), 5);
  recorder_assert (&rec, "S5 P4");
  ckpt_test_assert_listing (f->root_path, "ckpt_3", "ckpt_5");

  /* Several rounds pruned by one save: ascending, after saved. */
  recorder_reset (&rec);
  ckpt_manager_set_keep_total (mgr, 0);
  for (r = 6; r <= 9; r++)
    save_ok (mgr, make_state (r), r);
  recorder_assert (&rec, "S6 S7 S8 S9");
  ckpt_test_assert_listing (f->root_path, "ckpt_3", "ckpt_5", "ckpt_6", "ckpt_7", "ckpt_8", "ckpt_9");
  ckpt_manager_set_keep_total (mgr, 2);
  ckpt_manager_set_keep_first (mgr, FALSE);
  recorder_reset (&rec);
  save_ok (mgr, make_state (10), 10);
  recorder_assert (&rec, "S10 P3 P5 P6 P7 P8");
  g_assert_cmpuint (rec.n_saved, ==, 1);
  g_assert_cmpuint (rec.n_pruned, ==, 5);
  ckpt_test_assert_listing (f->root_path, "ckpt_9", "ckpt_10");

  /* Failed saves emit nothing. */
  recorder_reset (&rec);
  {
    g_autoptr(GError) error = NULL;

    g_assert_false (ckpt_manager_save (mgr, make_state (10), 10, NULL, &error));
    g_assert_error (error, CKPT_ERROR, CKPT_ERROR_EXISTS);
    g_clear_error (&error);
    g_assert_false (ckpt_manager_save (mgr, make_state (1), -1, NULL, &error));
    g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
  }
  recorder_assert (&rec, "");

  /* Loads emit nothing unless damaged. */
  {
    g_autoptr(GVariant) v = load_ok (mgr, NULL, 9);
    g_autoptr(GVariant) latest = NULL;
    g_autoptr(GError) error = NULL;
    gint64 round_num;

    latest = ckpt_manager_load_latest (mgr, NULL, &round_num, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (round_num, ==, 10);
  }
  recorder_assert (&rec, "");

  recorder_clear (&rec);
  g_assert_finalize_object (mgr);
}

/* Every single-bit flip of a small checkpoint is CORRUPT (and emits
 * corrupt); restoring the file makes it load again. */
static void
test_bit_flips (Fixture       *f,
                gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 0, TRUE);
  g_autofree char *path = checkpoint_path (f, "ckpt_1");
  g_autoptr(GVariant) state = g_variant_ref_sink (g_variant_new_parsed ("('w', [0.5, -2.0], {'k': <int32 3>})"));
  g_autoptr(GBytes) orig = NULL;
  g_autofree guint8 *buf = NULL;
  gsize len, i;
  guint bit, n_flips = 0;
  Recorder rec;

  save_ok (mgr, state, 1);
  recorder_init (&rec, mgr);
  orig = ckpt_test_read_bytes (path);
  buf = g_memdup2 (g_bytes_get_data (orig, NULL), g_bytes_get_size (orig));
  len = g_bytes_get_size (orig);
  g_assert_cmpuint (len, >=, CKPT_FORMAT_FIXED_HEADER_SIZE);
  g_assert_cmpuint (len, <, 1024);

  for (i = 0; i < len; i++)
    for (bit = 0; bit < 8; bit++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) value = NULL;
        gint64 round_num = -2;

        buf[i] ^= (guint8) (1u << bit);
        ckpt_test_write_file (path, buf, len);

        value = ckpt_manager_load (mgr, NULL, 1, NULL, &error);
        if (value != NULL || !g_error_matches (error, CKPT_ERROR, CKPT_ERROR_CORRUPT))
          g_test_message ("flip of byte %" G_GSIZE_FORMAT " bit %u not rejected", i, bit);
        g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
        g_assert_null (value);
        g_clear_error (&error);

        /* The only checkpoint is damaged: load_latest is CORRUPT. */
        value = ckpt_manager_load_latest (mgr, NULL, &round_num, NULL, &error);
        g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
        g_assert_null (value);

        n_flips++;
        g_assert_cmpuint (rec.n_corrupt, ==, 2 * n_flips);
        buf[i] ^= (guint8) (1u << bit);
      }
  g_assert_cmpuint (n_flips, ==, 8 * len);
  g_assert_cmpuint (rec.n_saved, ==, 0);
  g_assert_cmpuint (rec.n_pruned, ==, 0);
  g_assert_cmpuint (rec.log->len, >, 0);

  /* Restored: loads again. */
  ckpt_test_write_file (path, buf, len);
  {
    g_autoptr(GVariant) value = load_ok (mgr, NULL, 1);

    assert_variant_equal (value, state);
  }
  g_assert_cmpuint (rec.n_corrupt, ==, 2 * n_flips);
  /* Damaged files are reported, never deleted. */
  ckpt_test_assert_listing (f->root_path, "ckpt_1");

  recorder_clear (&rec);
  g_assert_finalize_object (mgr);
}

/* Every truncation (and an extension) of a checkpoint is CORRUPT. */
static void
test_truncations (Fixture       *f,
                  gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 0, TRUE);
  g_autofree char *path = checkpoint_path (f, "ckpt_5");
  g_autoptr(GVariant) state = g_variant_ref_sink (make_state (5));
  g_autoptr(GBytes) orig = NULL;
  g_autofree guint8 *longer = NULL;
  const guint8 *buf;
  gsize len, n;
  Recorder rec;

  save_ok (mgr, state, 5);
  recorder_init (&rec, mgr);
  orig = ckpt_test_read_bytes (path);
  buf = g_bytes_get_data (orig, &len);

  for (n = 0; n < len; n++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) value = NULL;

      ckpt_test_write_file (path, buf, n);
      value = ckpt_manager_load (mgr, NULL, 5, NULL, &error);
      if (value != NULL || !g_error_matches (error, CKPT_ERROR, CKPT_ERROR_CORRUPT))
        g_test_message ("truncation to %" G_GSIZE_FORMAT " bytes not rejected", n);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
      g_assert_null (value);
      g_assert_cmpuint (rec.n_corrupt, ==, n + 1);
    }

  /* Trailing bytes too. */
  longer = g_malloc0 (len + 8);
  memcpy (longer, buf, len);
  for (n = len + 1; n <= len + 8; n++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) value = NULL;

      ckpt_test_write_file (path, longer, n);
      value = ckpt_manager_load (mgr, NULL, 5, NULL, &error);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
      g_assert_null (value);
    }

  ckpt_test_write_file (path, buf, len);
  {
    g_autoptr(GVariant) value = load_ok (mgr, NULL, 5);

    assert_variant_equal (value, state);
  }
  g_assert_cmpuint (rec.n_corrupt, ==, len + 8);
  ckpt_test_assert_listing (f->root_path, "ckpt_5");

  recorder_clear (&rec);
  g_assert_finalize_object (mgr);
}

/* Semantics 6: corrupt newest → previous returned, corrupt emitted once per
 * damaged checkpoint passed over; all damaged → CORRUPT. */
static void
test_corrupt_newest (Fixture       *f,
                     gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 0, TRUE);
  g_autofree char *p1 = checkpoint_path (f, "ckpt_1");
  g_autofree char *p2 = checkpoint_path (f, "ckpt_2");
  g_autofree char *p3 = checkpoint_path (f, "ckpt_3");
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  gint64 round_num = -2;
  GStatBuf st;
  Recorder rec;

  save_ok (mgr, make_state (1), 1);
  save_ok (mgr, make_state (2), 2);
  save_ok (mgr, make_state (3), 3);
  recorder_init (&rec, mgr);

  g_assert_cmpint (g_stat (p3, &st), ==, 0);
  flip_bit (p3, (gsize) st.st_size / 2, 3);

  value = ckpt_manager_load_latest (mgr, G_VARIANT_TYPE (STATE_TYPE), &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 2);
  assert_variant_equal (value, make_state (2));
  recorder_assert (&rec, "C3");
  g_assert_cmpuint (rec.n_corrupt, ==, 1);
  g_clear_pointer (&value, g_variant_unref);

  /* or_default also falls back to the previous one, saving nothing. */
  round_num = -2;
  value = ckpt_manager_load_latest_or_default (mgr, make_state (0), &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 2);
  assert_variant_equal (value, make_state (2));
  recorder_assert (&rec, "C3 C3");
  g_clear_pointer (&value, g_variant_unref);

  /* Two damaged (round 2 emptied): reported newest first. */
  recorder_reset (&rec);
  ckpt_test_write_file (p2, "", 0);
  value = ckpt_manager_load_latest (mgr, NULL, &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 1);
  assert_variant_equal (value, make_state (1));
  recorder_assert (&rec, "C3 C2");
  g_clear_pointer (&value, g_variant_unref);

  /* All damaged: CORRUPT, each reported. */
  recorder_reset (&rec);
  flip_bit (p1, 0, 0);
  round_num = -2;
  value = ckpt_manager_load_latest (mgr, NULL, &round_num, NULL, &error);
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
  g_assert_null (value);
  g_clear_error (&error);
  recorder_assert (&rec, "C3 C2 C1");

  /* or_default does not paper over damage by starting again from round 0. */
  recorder_reset (&rec);
  value = ckpt_manager_load_latest_or_default (mgr, make_state (0), &round_num, NULL, &error);
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
  g_assert_null (value);
  g_clear_error (&error);
  recorder_assert (&rec, "C3 C2 C1");

  /* Damaged checkpoints are kept (for inspection) and not retried as data. */
  ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_2", "ckpt_3");

  /* A new save is loaded again. */
  recorder_reset (&rec);
  save_ok (mgr, make_state (4), 4);
  value = ckpt_manager_load_latest (mgr, NULL, &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 4);
  recorder_assert (&rec, "S4");

  recorder_clear (&rec);
  g_assert_finalize_object (mgr);
}

/* A valid checkpoint of another round under a checkpoint's name is CORRUPT. */
static void
test_renamed (Fixture       *f,
              gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 0, TRUE);
  g_autofree char *p2 = checkpoint_path (f, "ckpt_2");
  g_autofree char *p3 = checkpoint_path (f, "ckpt_3");
  g_autoptr(GBytes) b2 = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  gint64 round_num = -2;
  Recorder rec;

  save_ok (mgr, make_state (2), 2);
  save_ok (mgr, make_state (3), 3);
  recorder_init (&rec, mgr);
  b2 = ckpt_test_read_bytes (p2);
  ckpt_test_write_file (p3, g_bytes_get_data (b2, NULL), g_bytes_get_size (b2));

  assert_load_fails (mgr, NULL, 3, CKPT_ERROR, CKPT_ERROR_CORRUPT);
  recorder_assert (&rec, "C3");
  value = ckpt_manager_load_latest (mgr, NULL, &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 2);
  assert_variant_equal (value, make_state (2));
  recorder_assert (&rec, "C3 C3");

  recorder_clear (&rec);
  g_assert_finalize_object (mgr);
}

/* Files altered with a valid checksum: a newer format version is
 * UNSUPPORTED (returned by load_latest, no fallback, not "corrupt");
 * version 0 and a non-normal payload are CORRUPT. Also checks that the
 * checksum is the documented one. */
static void
test_rehashed (Fixture       *f,
               gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 0, TRUE);
  g_autofree char *p1 = checkpoint_path (f, "ckpt_1");
  g_autofree char *p2 = checkpoint_path (f, "ckpt_2");
  g_autoptr(GVariant) bools = g_variant_ref_sink (g_variant_new_parsed ("[true, false, true]"));
  g_autoptr(GBytes) orig = NULL;
  g_autofree guint8 *buf = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  gint64 round_num = -2;
  guint32 header_size;
  gsize len;
  Recorder rec;

  save_ok (mgr, make_state (1), 1);
  save_ok (mgr, bools, 2);
  recorder_init (&rec, mgr);

  orig = ckpt_test_read_bytes (p2);
  len = g_bytes_get_size (orig);
  buf = g_memdup2 (g_bytes_get_data (orig, NULL), len);

  /* The header as documented. */
  g_assert_cmpmem (buf, CKPT_FORMAT_MAGIC_LEN, CKPT_FORMAT_MAGIC, CKPT_FORMAT_MAGIC_LEN);
  g_assert_cmpuint (ckpt_test_get_le32 (buf + CKPT_FORMAT_OFFSET_VERSION), ==, 1);
  header_size = ckpt_test_get_le32 (buf + CKPT_FORMAT_OFFSET_HEADER_SIZE);
  g_assert_cmpuint (header_size % 8, ==, 0);
  g_assert_cmpuint (header_size, >=, CKPT_FORMAT_FIXED_HEADER_SIZE);
  g_assert_cmpuint (ckpt_test_get_le64 (buf + CKPT_FORMAT_OFFSET_PAYLOAD_SIZE), ==, 3);
  g_assert_cmpuint (header_size + 3, ==, len);
  g_assert_cmpint ((gint64) ckpt_test_get_le64 (buf + CKPT_FORMAT_OFFSET_ROUND), ==, 2);
  g_assert_cmpuint (ckpt_test_get_le64 (buf + CKPT_FORMAT_OFFSET_CHECKSUM), ==,
                    ckpt_test_checksum (buf, len));
  g_assert_cmpmem (buf + header_size, 3, "\1\0\1", 3);

  /* Non-normal payload (a boolean byte of 2). */
  buf[header_size] = 2;
  ckpt_test_reseal (buf, len);
  ckpt_test_write_file (p2, buf, len);
  assert_load_fails (mgr, NULL, 2, CKPT_ERROR, CKPT_ERROR_CORRUPT);
  recorder_assert (&rec, "C2");
  buf[header_size] = 1;

  /* Version 0. */
  recorder_reset (&rec);
  ckpt_test_put_le32 (buf + CKPT_FORMAT_OFFSET_VERSION, 0);
  ckpt_test_reseal (buf, len);
  ckpt_test_write_file (p2, buf, len);
  assert_load_fails (mgr, NULL, 2, CKPT_ERROR, CKPT_ERROR_CORRUPT);
  recorder_assert (&rec, "C2");

  /* A newer version. */
  recorder_reset (&rec);
  ckpt_test_put_le32 (buf + CKPT_FORMAT_OFFSET_VERSION, 2);
  ckpt_test_reseal (buf, len);
  ckpt_test_write_file (p2, buf, len);
  assert_load_fails (mgr, NULL, 2, CKPT_ERROR, CKPT_ERROR_UNSUPPORTED);
  value = ckpt_manager_load_latest (mgr, NULL, &round_num, NULL, &error);
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_UNSUPPORTED);
  g_assert_null (value);
  g_clear_error (&error);
  recorder_assert (&rec, "");

  /* Restored. */
  ckpt_test_write_file (p2, g_bytes_get_data (orig, NULL), len);
  value = ckpt_manager_load_latest (mgr, NULL, &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 2);
  assert_variant_equal (value, bools);
  g_assert_true (g_file_test (p1, G_FILE_TEST_IS_REGULAR));

  recorder_clear (&rec);
  g_assert_finalize_object (mgr);
}

/* Semantics 3: names that are not <prefix><canonical round> are never
 * counted, pruned or loaded; a directory with a checkpoint's name neither. */
static void
test_junk (Fixture       *f,
           gconstpointer  data)
{
  static const char * const junk_files[] = {
    "notes.txt", "ckpt_01", "ckpt_x", ".ckpt_3", "ckpt_-1", "ckpt_1x",
    "ckpt_", "ckpt_+5", "ckpt_ 5", "CKPT_5", "ckpt_9223372036854775808",
    "other_2", "xckpt_2", "ckpt_2.bak",
  };
  CkptManager *mgr = new_manager (f, NULL, 2, FALSE);
  g_autofree char *dir9 = checkpoint_path (f, "ckpt_9");
  g_autofree char *inner = g_build_filename (dir9, "inner", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  gint64 round_num = -2;
  gint64 r;
  gsize i;
  Recorder rec;

  recorder_init (&rec, mgr);
  g_assert_cmpint (g_mkdir_with_parents (dir9, 0755), ==, 0);
  write_string (inner, "inner");
  for (i = 0; i < G_N_ELEMENTS (junk_files); i++)
    {
      g_autofree char *p = checkpoint_path (f, junk_files[i]);

      write_string (p, junk_files[i]);
    }

  assert_no_rounds (mgr);
  value = ckpt_manager_load_latest (mgr, NULL, &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (value);
  g_assert_cmpint (round_num, ==, -1);
  /* Loading "round 9" explicitly fails without calling it damaged: there is
   * no checkpoint (NOT_FOUND) or something else is in the way. */
  value = ckpt_manager_load (mgr, NULL, 9, NULL, &error);
  g_assert_null (value);
  g_assert_nonnull (error);
  g_test_message ("load of a directory named like round 9: %s", error->message);
  g_assert_true (g_error_matches (error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND) ||
                 error->domain == G_IO_ERROR);
  g_clear_error (&error);
  recorder_assert (&rec, "");

  /* A valid checkpoint of round 1 under a non-canonical name is junk too. */
  for (r = 1; r <= 4; r++)
    {
      save_ok (mgr, make_state (r), r);
      if (r == 1)
        {
          g_autofree char *src = checkpoint_path (f, "ckpt_1");
          g_autofree char *dst = checkpoint_path (f, "ckpt_001");
          g_autoptr(GBytes) bytes = ckpt_test_read_bytes (src);

          ckpt_test_write_file (dst, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
        }
    }

  assert_rounds (mgr, 3, 4);
  recorder_assert (&rec, "S1 S2 S3 P1 S4 P2");
  value = ckpt_manager_load_latest (mgr, NULL, &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 4);
  assert_variant_equal (value, make_state (4));

  /* Junk untouched. */
  {
    g_autoptr(GPtrArray) names = ckpt_test_list_dir (f->root_path);
    g_autoptr(GPtrArray) want = g_ptr_array_new ();
    g_autofree char *names_str = NULL;
    g_autofree char *want_str = NULL;

    for (i = 0; i < G_N_ELEMENTS (junk_files); i++)
      g_ptr_array_add (want, (gpointer) junk_files[i]);
    g_ptr_array_add (want, (gpointer) "ckpt_9");
    g_ptr_array_add (want, (gpointer) "ckpt_001");
    g_ptr_array_add (want, (gpointer) "ckpt_3");
    g_ptr_array_add (want, (gpointer) "ckpt_4");
    g_ptr_array_sort (want, ckpt_test_strptr_cmp);
    g_ptr_array_add (want, NULL);
    g_ptr_array_add (names, NULL);
    names_str = g_strjoinv ("|", (char **) names->pdata);
    want_str = g_strjoinv ("|", (char **) want->pdata);
    g_assert_cmpstr (names_str, ==, want_str);
  }
  for (i = 0; i < G_N_ELEMENTS (junk_files); i++)
    {
      g_autofree char *p = checkpoint_path (f, junk_files[i]);
      g_autofree char *contents = NULL;

      g_file_get_contents (p, &contents, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (contents, ==, junk_files[i]);
    }
  g_assert_true (g_file_test (inner, G_FILE_TEST_IS_REGULAR));
  ckpt_test_assert_listing (dir9, "inner");

  recorder_clear (&rec);
  g_assert_finalize_object (mgr);
}

/* Makes @path look written two hours ago: the generic (lock-less) back end
 * only takes temp files older than an hour for a dead writer's. */
static void
age_file (const char *path)
{
  struct timespec times[2];

  times[0].tv_sec = times[1].tv_sec = time (NULL) - 2 * 3600;
  times[0].tv_nsec = times[1].tv_nsec = 0;
  g_assert_cmpint (utimensat (AT_FDCWD, path, times, 0), ==, 0);
}

/* A fresh temp file may be a live writer's: the generic back end, which
 * has no cross-process lock, leaves it alone; the local one holds the
 * directory lock and knows no writer is alive. */
static void
test_fresh_temp (Fixture       *f,
                 gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 0, TRUE);
  g_autofree char *fresh = checkpoint_path (f, ".ckpt_5.tmp-Ab12Cd");

  g_assert_cmpint (g_mkdir (f->root_path, 0755), ==, 0);
  write_string (fresh, "being written");
  save_ok (mgr, make_state (1), 1);
  if (f->flags & CKPT_STORAGE_FLAGS_FORCE_GENERIC)
    ckpt_test_assert_listing (f->root_path, ".ckpt_5.tmp-Ab12Cd", "ckpt_1");
  else
    ckpt_test_assert_listing (f->root_path, "ckpt_1");
  g_assert_finalize_object (mgr);
}

/* Local roots remember their listing between saves (validated by a stamp on
 * the directory's mtime): a checkpoint added or removed behind the
 * manager's back is seen at once. */
static void
test_listing_cache_sees_changes (Fixture       *f,
                                 gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 0, TRUE);
  CkptManager *other = NULL;
  g_autofree char *path2 = checkpoint_path (f, "ckpt_2");

  save_ok (mgr, make_state (1), 1);
  save_ok (mgr, make_state (2), 2);
  assert_rounds (mgr, 1, 2);

  /* Another writer (its own cache) adds one. */
  other = new_manager (f, NULL, 0, TRUE);
  save_ok (other, make_state (7), 7);
  assert_rounds (mgr, 1, 2, 7);

  /* Somebody deletes one. */
  g_assert_cmpint (g_unlink (path2), ==, 0);
  assert_rounds (mgr, 1, 7);
  save_ok (mgr, make_state (8), 8);
  assert_rounds (mgr, 1, 7, 8);
  ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_7", "ckpt_8");

  g_assert_finalize_object (other);
  g_assert_finalize_object (mgr);
}

/* The worst case for a cached listing: a checkpoint deleted by somebody
 * who then restored the directory's mtime. Retention must not count the
 * missing checkpoint among those it keeps (and so delete one too many). */
static void
test_listing_cache_phantom (Fixture       *f,
                            gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 0, FALSE);
  g_autofree char *path3 = checkpoint_path (f, "ckpt_3");
  struct stat st;
  struct timespec times[2];

  save_ok (mgr, make_state (1), 1);
  save_ok (mgr, make_state (2), 2);
  save_ok (mgr, make_state (3), 3);

  g_assert_cmpint (stat (f->root_path, &st), ==, 0);
  g_assert_cmpint (g_unlink (path3), ==, 0);
  times[0] = st.st_atim;
  times[1] = st.st_mtim;
  g_assert_cmpint (utimensat (AT_FDCWD, f->root_path, times, 0), ==, 0);

  ckpt_manager_set_keep_total (mgr, 2);
  save_ok (mgr, make_state (4), 4);
  /* keep_total 2 of {1, 2, 4}: 2 and 4 stay. */
  ckpt_test_assert_listing (f->root_path, "ckpt_2", "ckpt_4");
  g_assert_finalize_object (mgr);
}

/* Many pruning saves on one root: the remembered listing drops its oldest
 * rounds by moving a head index, and gives the space back after 1024 of
 * them; whatever it does, the listing (remembered or read afresh by a
 * second manager) stays exactly the directory's, with and without
 * keep_first. At the end, a kept checkpoint deleted behind the cache's back
 * (the directory's mtime restored) is noticed before anything is pruned on
 * the strength of the stale listing. */
static void
test_listing_cache_long_run (Fixture       *f,
                             gconstpointer  data)
{
  const gint64 n_saves = 1100;
  g_autoptr(GVariant) state = g_variant_ref_sink (g_variant_new_parsed ("(int64 1, 'x')"));

  for (int keep_first = 0; keep_first <= 1; keep_first++)
    {
      g_autofree char *prefix = g_strdup_printf ("run%d_", keep_first);
      CkptManager *mgr = new_manager (f, prefix, 3, keep_first);
      CkptManager *reader = new_manager (f, prefix, 0, FALSE);
      gint64 r;

      ckpt_manager_set_durable (mgr, FALSE);
      for (r = 1; r <= n_saves; r++)
        {
          save_ok (mgr, state, r);
          if (r % 250 == 0 || (r >= 1020 && r <= 1035) || r == n_saves)
            {
              gint64 expected[3] = { keep_first ? 1 : r - 2, r - 1, r };

              assert_rounds_array (mgr, expected, 3);
              assert_rounds_array (reader, expected, 3);
            }
        }

      /* Round n_saves - 1 disappears; the mtime is put back. */
      {
        g_autofree char *name = g_strdup_printf ("%s%" G_GINT64_FORMAT, prefix, n_saves - 1);
        g_autofree char *path = g_build_filename (f->root_path, name, NULL);
        struct stat st;
        struct timespec times[2];

        g_assert_cmpint (stat (f->root_path, &st), ==, 0);
        g_assert_cmpint (g_unlink (path), ==, 0);
        times[0] = st.st_atim;
        times[1] = st.st_mtim;
        g_assert_cmpint (utimensat (AT_FDCWD, f->root_path, times, 0), ==, 0);
      }
      save_ok (mgr, state, n_saves + 1);
      {
        /* Kept: 3 of {first or n-2, n, n+1}: nothing is pruned. */
        gint64 expected[3] = { keep_first ? 1 : n_saves - 2, n_saves, n_saves + 1 };

        assert_rounds_array (mgr, expected, 3);
        assert_rounds_array (reader, expected, 3);
      }

      g_assert_finalize_object (reader);
      g_assert_finalize_object (mgr);
    }
}

/* query_info: the header, without the state; verification on demand; the
 * errors of load. */
static void
test_query_info (Fixture       *f,
                 gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 0, TRUE);
  g_autoptr(CkptInfo) info = NULL;
  g_autoptr(CkptInfo) unverified = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path3 = checkpoint_path (f, "ckpt_3");
  g_autofree char *path4 = checkpoint_path (f, "ckpt_4");
  g_autofree char *contents = NULL;
  g_autoptr(GDateTime) now = NULL;
  const char *version = NULL;
  gsize length;

  save_ok (mgr, make_state (3), 3);
  now = g_date_time_new_now_utc ();
  info = ckpt_manager_query_info (mgr, 3, CKPT_QUERY_VERIFY, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ckpt_info_get_round (info), ==, 3);
  {
    g_autoptr(GVariant) state = g_variant_ref_sink (make_state (3));
    g_autofree char *type = g_variant_type_dup_string (ckpt_info_get_state_type (info));

    g_assert_cmpstr (type, ==, g_variant_get_type_string (state));
  }
  g_assert_true (g_file_get_contents (path3, &contents, &length, NULL));
  g_assert_cmpuint (ckpt_info_get_size (info), ==, length);
  g_assert_cmpuint (ckpt_info_get_state_size (info), <, length);
  g_assert_cmpuint (ckpt_info_get_format_version (info), ==, 1);
  g_assert_true (ckpt_info_get_verified (info));
  g_assert_true (g_variant_lookup (ckpt_info_get_metadata (info), "ckpt-glib-version", "&s", &version));
  g_assert_cmpstr (version, ==, CKPT_VERSION_S);
  g_assert_cmpint (g_date_time_difference (now, ckpt_info_get_creation_time (info)), >=, 0);
  g_assert_cmpint (g_date_time_difference (now, ckpt_info_get_creation_time (info)), <, 600 * G_USEC_PER_SEC);

  /* Damage in the state: seen only when verifying. */
  contents[length - 1] ^= 0x20;
  ckpt_test_write_file (path3, contents, length);
  unverified = ckpt_manager_query_info (mgr, 3, CKPT_QUERY_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (ckpt_info_get_verified (unverified));
  g_assert_null (ckpt_manager_query_info (mgr, 3, CKPT_QUERY_VERIFY, NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
  g_clear_error (&error);

  /* Another round's file under this name. */
  contents[length - 1] ^= 0x20;
  ckpt_test_write_file (path4, contents, length);
  g_assert_null (ckpt_manager_query_info (mgr, 4, CKPT_QUERY_NONE, NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
  g_clear_error (&error);

  g_assert_null (ckpt_manager_query_info (mgr, 9, CKPT_QUERY_VERIFY, NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (ckpt_manager_query_info (mgr, -1, CKPT_QUERY_VERIFY, NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);

  g_assert_finalize_object (mgr);
}

/* prune: retention now, under the writer lock; dry runs delete nothing. */
static void
test_prune (Fixture       *f,
            gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 0, TRUE);
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *dry = NULL;
  g_autofree gint64 *done = NULL;
  g_autofree gint64 *none = NULL;
  gsize n = 99;
  Recorder rec;
  gint64 r;

  for (r = 1; r <= 5; r++)
    save_ok (mgr, make_state (r), r);
  recorder_init (&rec, mgr);
  ckpt_manager_set_keep_total (mgr, 3);

  dry = ckpt_manager_prune (mgr, CKPT_PRUNE_DRY_RUN, &n, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpint (dry[0], ==, 2);
  g_assert_cmpint (dry[1], ==, 3);
  recorder_assert (&rec, "");
  ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_2", "ckpt_3", "ckpt_4", "ckpt_5");

  done = ckpt_manager_prune (mgr, CKPT_PRUNE_NONE, &n, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpint (done[0], ==, 2);
  g_assert_cmpint (done[1], ==, 3);
  recorder_assert (&rec, "P2 P3");
  ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_4", "ckpt_5");

  none = ckpt_manager_prune (mgr, CKPT_PRUNE_NONE, &n, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (none);
  g_assert_cmpuint (n, ==, 0);

  recorder_clear (&rec);
  g_assert_finalize_object (mgr);
}

/* Semantics 7: stale temp files of a dead writer are removed by the next
 * save; other hidden files are not. */
static void
test_stale_temp (Fixture       *f,
                 gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 0, TRUE);
  g_autofree char *stale = checkpoint_path (f, ".ckpt_5.tmp-Ab12Cd");
  g_autofree char *stale2 = checkpoint_path (f, ".ckpt_1.tmp-zzzzzz");
  g_autofree char *hidden = checkpoint_path (f, ".ckpt_5");

  g_assert_cmpint (g_mkdir (f->root_path, 0755), ==, 0);
  write_string (stale, "half-written");
  write_string (stale2, "");
  write_string (hidden, "user file");
  age_file (stale);
  age_file (stale2);
  age_file (hidden);

  /* Readers neither see nor touch them. */
  assert_no_rounds (mgr);
  assert_latest_none (mgr);
  ckpt_test_assert_listing (f->root_path, ".ckpt_1.tmp-zzzzzz", ".ckpt_5", ".ckpt_5.tmp-Ab12Cd");

  save_ok (mgr, make_state (1), 1);
  ckpt_test_assert_listing (f->root_path, ".ckpt_5", "ckpt_1");
  assert_rounds (mgr, 1);
  g_assert_finalize_object (mgr);
}

/* Semantics 7: a cancelled save leaves nothing and emits nothing. */
static void
test_cancelled (Fixture       *f,
                gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 0, TRUE);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  Recorder rec;
  gboolean ok;

  recorder_init (&rec, mgr);
  g_cancellable_cancel (cancellable);
  ok = ckpt_manager_save (mgr, make_state (1), 1, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (ok);
  g_clear_error (&error);
  ckpt_test_assert_listing (f->root_path, NULL);
  assert_no_rounds (mgr);
  recorder_assert (&rec, "");

  /* The same round saves fine afterwards. */
  save_ok (mgr, make_state (1), 1);
  value = load_ok (mgr, NULL, 1);
  assert_variant_equal (value, make_state (1));
  ckpt_test_assert_listing (f->root_path, "ckpt_1");
  recorder_assert (&rec, "S1");

  recorder_clear (&rec);
  g_assert_finalize_object (mgr);
}

/* Root that is a regular file, or below one: save fails with a G_IO_ERROR
 * naming the path; the file is unchanged. Construction never touches disk. */
static void
test_root_not_dir (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *file_path = g_build_filename (f->tmp_path, "plainfile", NULL);
  g_autofree char *below_path = g_build_filename (file_path, "sub", "dir", NULL);
  g_autoptr(GFile) file_root = g_file_new_for_path (file_path);
  g_autoptr(GFile) below_root = g_file_new_for_path (below_path);
  const char *precious = "precious data\n";
  CkptManager *mgr;
  GFile *roots[2];
  guint i;

  write_string (file_path, precious);
  roots[0] = file_root;
  roots[1] = below_root;

  for (i = 0; i < G_N_ELEMENTS (roots); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *contents = NULL;
      Recorder rec;
      gboolean ok;

      mgr = new_manager_at (f, roots[i], NULL, 0, TRUE);
      recorder_init (&rec, mgr);

      ok = ckpt_manager_save (mgr, make_state (1), 1, NULL, &error);
      g_assert_false (ok);
      g_assert_nonnull (error);
      g_test_message ("save into %s: %s", i == 0 ? "a file" : "below a file", error->message);
      g_assert_true (error->domain == G_IO_ERROR);
      g_assert_nonnull (strstr (error->message, file_path));
      g_clear_error (&error);

      /* Also via or_default, which saves round 0. */
      {
        g_autoptr(GVariant) value = NULL;
        gint64 round_num;

        value = ckpt_manager_load_latest_or_default (mgr, make_state (0), &round_num, NULL, &error);
        g_assert_null (value);
        g_assert_nonnull (error);
        g_assert_true (error->domain == G_IO_ERROR);
        g_clear_error (&error);
      }

      g_file_get_contents (file_path, &contents, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (contents, ==, precious);
      ckpt_test_assert_listing (f->tmp_path, "plainfile");
      recorder_assert (&rec, "");

      recorder_clear (&rec);
      g_assert_finalize_object (mgr);
    }
}

/* A read-only root: save fails with G_IO_ERROR and nothing is lost. Root
 * bypasses permissions, so this is skipped when running as root (the
 * root-not-dir case gives a failure that always happens). */
static void
test_read_only (Fixture       *f,
                gconstpointer  data)
{
  CkptManager *mgr;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  gint64 round_num = -2;
  gboolean ok;

  if (geteuid () == 0)
    {
      g_test_skip ("permissions do not apply to root");
      return;
    }

  mgr = new_manager (f, NULL, 1, FALSE);
  save_ok (mgr, make_state (1), 1);
  g_assert_cmpint (g_chmod (f->root_path, 0555), ==, 0);

  ok = ckpt_manager_save (mgr, make_state (2), 2, NULL, &error);
  g_assert_false (ok);
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_IO_ERROR);
  g_assert_nonnull (strstr (error->message, f->root_path));
  g_clear_error (&error);

  ckpt_test_assert_listing (f->root_path, "ckpt_1");
  value = ckpt_manager_load_latest (mgr, NULL, &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 1);
  assert_variant_equal (value, make_state (1));

  g_assert_cmpint (g_chmod (f->root_path, 0755), ==, 0);
  g_assert_finalize_object (mgr);
}

/* durable FALSE: same results. */
static void
test_not_durable (Fixture       *f,
                  gconstpointer  data)
{
  CkptManager *mgr = new_manager (f, NULL, 3, TRUE);
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  gint64 round_num = -2;
  gint64 r;

  /* Local files can be flushed; GIO's generic operations cannot. */
  g_assert_cmpint (ckpt_manager_get_durable_storage (mgr), ==,
                   !(f->flags & CKPT_STORAGE_FLAGS_FORCE_GENERIC));
  {
    gboolean durable_storage = FALSE;

    g_object_get (mgr, "durable-storage", &durable_storage, NULL);
    g_assert_cmpint (durable_storage, ==, ckpt_manager_get_durable_storage (mgr));
  }

  ckpt_manager_set_durable (mgr, FALSE);
  g_assert_false (ckpt_manager_get_durable (mgr));
  /* A property of the storage, not of the setting. */
  g_assert_cmpint (ckpt_manager_get_durable_storage (mgr), ==,
                   !(f->flags & CKPT_STORAGE_FLAGS_FORCE_GENERIC));
  for (r = 1; r <= 4; r++)
    save_ok (mgr, make_state (r), r);
  ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_3", "ckpt_4");
  value = ckpt_manager_load_latest (mgr, NULL, &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 4);
  assert_variant_equal (value, make_state (4));
  g_clear_pointer (&value, g_variant_unref);
  value = load_ok (mgr, NULL, 1);
  assert_variant_equal (value, make_state (1));
  g_assert_false (ckpt_manager_save (mgr, make_state (4), 4, NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_EXISTS);
  ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_3", "ckpt_4");
  g_assert_finalize_object (mgr);
}

/* Semantics 4: rounds up to G_MAXINT64 save, list and load. */
static void
test_big_rounds (Fixture       *f,
                 gconstpointer  data)
{
  static const gint64 rounds[] = { G_MAXINT64, 0, G_MAXINT64 - 1, 1, G_MAXINT32, (gint64) G_MAXUINT32 + 1 };
  CkptManager *mgr = new_manager (f, NULL, 0, TRUE);
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *expected_path = NULL;
  g_autofree char *actual_path = NULL;
  gint64 round_num = -2;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (rounds); i++)
    save_ok (mgr, make_state (rounds[i]), rounds[i]);

  assert_rounds (mgr, 0, 1, G_MAXINT32, (gint64) G_MAXUINT32 + 1, G_MAXINT64 - 1, G_MAXINT64);
  ckpt_test_assert_listing (f->root_path, "ckpt_0", "ckpt_1", "ckpt_2147483647", "ckpt_4294967296",
                            "ckpt_9223372036854775806", "ckpt_9223372036854775807");
  for (i = 0; i < G_N_ELEMENTS (rounds); i++)
    {
      g_autoptr(GVariant) v = load_ok (mgr, G_VARIANT_TYPE (STATE_TYPE), rounds[i]);

      assert_variant_equal (v, make_state (rounds[i]));
    }

  value = ckpt_manager_load_latest (mgr, NULL, &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, G_MAXINT64);
  assert_variant_equal (value, make_state (G_MAXINT64));

  file = ckpt_manager_get_file (mgr, G_MAXINT64);
  actual_path = g_file_get_path (file);
  expected_path = checkpoint_path (f, "ckpt_9223372036854775807");
  g_assert_cmpstr (actual_path, ==, expected_path);

  g_assert_finalize_object (mgr);

  /* Retention with them, in another root. */
  {
    g_autofree char *other_path = g_build_filename (f->tmp_path, "other", NULL);
    g_autoptr(GFile) other = g_file_new_for_path (other_path);

    mgr = new_manager_at (f, other, NULL, 2, TRUE);
    save_ok (mgr, make_state (0), 0);
    save_ok (mgr, make_state (G_MAXINT64 - 1), G_MAXINT64 - 1);
    save_ok (mgr, make_state (G_MAXINT64), G_MAXINT64);
    assert_rounds (mgr, 0, G_MAXINT64);
    ckpt_test_assert_listing (other_path, "ckpt_0", "ckpt_9223372036854775807");
    ckpt_manager_set_keep_first (mgr, FALSE);
    g_assert_finalize_object (mgr);
  }
}

/* Semantics 4: negative rounds are INVALID_ARGUMENT for save and load and
 * touch nothing. */
static void
test_negative_round (Fixture       *f,
                     gconstpointer  data)
{
  static const gint64 rounds[] = { -1, -2, G_MININT64 };
  CkptManager *mgr = new_manager (f, NULL, 0, TRUE);
  gsize i;
  Recorder rec;

  recorder_init (&rec, mgr);
  for (i = 0; i < G_N_ELEMENTS (rounds); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) state = g_variant_ref_sink (make_state (1));
      gboolean ok;

      ok = ckpt_manager_save (mgr, state, rounds[i], NULL, &error);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
      g_assert_false (ok);
      g_clear_error (&error);

      assert_load_fails (mgr, NULL, rounds[i], CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
      assert_load_fails (mgr, G_VARIANT_TYPE (STATE_TYPE), rounds[i], CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
    }
  g_assert_false (g_file_test (f->root_path, G_FILE_TEST_EXISTS));

  /* Also with checkpoints present. */
  save_ok (mgr, make_state (0), 0);
  assert_load_fails (mgr, NULL, -1, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
  ckpt_test_assert_listing (f->root_path, "ckpt_0");
  recorder_assert (&rec, "S0");

  recorder_clear (&rec);
  g_assert_finalize_object (mgr);
}

/* get_file: root/prefix+round. */
static void
test_get_file (Fixture       *f,
               gconstpointer  data)
{
  static const struct
  {
    const char *prefix;
    gint64 round_num;
    const char *name;
  } cases[] = {
    { NULL, 0, "ckpt_0" },
    { NULL, 7, "ckpt_7" },
    { "ckpt_", 1234567, "ckpt_1234567" },
    { "model-", G_MAXINT64, "model-9223372036854775807" },
    { "x", 10, "x10" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      CkptManager *mgr = new_manager (f, cases[i].prefix, 0, TRUE);
      g_autoptr(GFile) file = ckpt_manager_get_file (mgr, cases[i].round_num);
      g_autoptr(GFile) parent = g_file_get_parent (file);
      g_autofree char *path = g_file_get_path (file);
      g_autofree char *expected = checkpoint_path (f, cases[i].name);
      g_autofree char *basename = g_file_get_basename (file);

      g_assert_cmpstr (path, ==, expected);
      g_assert_cmpstr (basename, ==, cases[i].name);
      g_assert_true (g_file_equal (parent, f->root));
      g_assert_true (g_file_equal (parent, ckpt_manager_get_root (mgr)));
      g_assert_finalize_object (mgr);
    }
  /* No disk access. */
  g_assert_false (g_file_test (f->root_path, G_FILE_TEST_EXISTS));
}

/* A different prefix in the same root neither sees nor prunes the other's
 * checkpoints, even when one prefix is a prefix of the other. */
static void
test_prefix_isolation (Fixture       *f,
                       gconstpointer  data)
{
  static const char * const prefixes[] = { "ckpt_", "ckpt", "ckpt_a_", "run-" };
  CkptManager *mgrs[G_N_ELEMENTS (prefixes)];
  gint64 r;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (prefixes); i++)
    mgrs[i] = new_manager (f, prefixes[i], 2, FALSE);

  /* The first prefix saves six rounds before the others start. */
  for (r = 1; r <= 6; r++)
    save_ok (mgrs[0], g_variant_new ("(sx)", prefixes[0], r), r);
  for (r = 1; r <= 4; r++)
    for (i = 1; i < G_N_ELEMENTS (prefixes); i++)
      save_ok (mgrs[i], g_variant_new ("(sx)", prefixes[i], r), r);

  ckpt_test_assert_listing (f->root_path, "ckpt_5", "ckpt_6", "ckpt3", "ckpt4", "ckpt_a_3", "ckpt_a_4",
                            "run-3", "run-4");
  assert_rounds (mgrs[0], 5, 6);
  for (i = 1; i < G_N_ELEMENTS (prefixes); i++)
    assert_rounds (mgrs[i], 3, 4);

  for (i = 0; i < G_N_ELEMENTS (prefixes); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) value = NULL;
      gint64 round_num = -2;
      gint64 expected_round = i == 0 ? 6 : 4;

      value = ckpt_manager_load_latest (mgrs[i], NULL, &round_num, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (round_num, ==, expected_round);
      assert_variant_equal (value, g_variant_new ("(sx)", prefixes[i], expected_round));
      assert_load_fails (mgrs[i], NULL, i == 0 ? 4 : 6, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
    }

  for (i = 0; i < G_N_ELEMENTS (prefixes); i++)
    g_assert_finalize_object (mgrs[i]);
}

/* Semantics 8: concurrent writers (one manager per thread) into one root
 * never corrupt or lose anything. */
typedef struct
{
  Fixture  *f;
  guint     index;
  guint     n_threads;
  gint64    n_rounds;
  int       keep_total;
  gboolean  keep_first;
  gint     *n_saved;
  gint     *n_pruned;
  gint     *n_superseded;
} WriterData;

static void
count_signal (CkptManager *mgr,
              gint64       round_num,
              GFile       *file,
              gpointer     user_data)
{
  g_atomic_int_inc ((gint *) user_data);
}

static gpointer
writer_thread (gpointer data)
{
  WriterData *w = data;
  CkptManager *mgr = new_manager (w->f, NULL, w->keep_total, w->keep_first);
  gint64 r;

  g_signal_connect (mgr, "saved", G_CALLBACK (count_signal), w->n_saved);
  g_signal_connect (mgr, "pruned", G_CALLBACK (count_signal), w->n_pruned);

  for (r = w->index + 1; r <= w->n_rounds; r += w->n_threads)
    {
      g_autoptr(GVariant) state = g_variant_ref_sink (make_state (r));

      for (;;)
        {
          g_autoptr(GError) error = NULL;

          if (ckpt_manager_save (mgr, state, r, NULL, &error))
            break;
          /* Another thread is so far ahead that this round would not be
           * kept: refused, nothing written. */
          if (g_error_matches (error, CKPT_ERROR, CKPT_ERROR_SUPERSEDED))
            {
              g_atomic_int_inc (w->n_superseded);
              break;
            }
          /* Failing fast with BUSY is allowed; retry. */
          if (g_error_matches (error, CKPT_ERROR, CKPT_ERROR_BUSY))
            {
              g_usleep (500);
              continue;
            }
          g_assert_no_error (error);
        }
    }

  g_assert_finalize_object (mgr);
  return NULL;
}

static void
run_writers (Fixture  *f,
             int       keep_total,
             gboolean  keep_first,
             gint64    n_rounds,
             gint     *n_saved,
             gint     *n_pruned,
             gint     *n_superseded)
{
  enum { N_THREADS = 4 };
  WriterData wd[N_THREADS];
  GThread *threads[N_THREADS];
  guint i;

  for (i = 0; i < N_THREADS; i++)
    {
      wd[i] = (WriterData) { f, i, N_THREADS, n_rounds, keep_total, keep_first, n_saved, n_pruned,
                             n_superseded };
      threads[i] = g_thread_new ("writer", writer_thread, &wd[i]);
    }
  for (i = 0; i < N_THREADS; i++)
    g_thread_join (threads[i]);
}

static void
test_concurrent (Fixture       *f,
                 gconstpointer  data)
{
  const gint64 n_rounds = 32;
  gint n_saved = 0, n_pruned = 0, n_superseded = 0;
  CkptManager *mgr;
  g_autoptr(GPtrArray) names = NULL;
  gint64 r;

  /* Keep everything: every round is there and valid. */
  run_writers (f, 0, TRUE, n_rounds, &n_saved, &n_pruned, &n_superseded);
  g_assert_cmpint (n_saved, ==, n_rounds);
  g_assert_cmpint (n_pruned, ==, 0);
  g_assert_cmpint (n_superseded, ==, 0);

  names = ckpt_test_list_dir (f->root_path);
  g_assert_cmpuint (names->len, ==, n_rounds);
  mgr = new_manager (f, NULL, 0, TRUE);
  for (r = 1; r <= n_rounds; r++)
    {
      g_autofree char *name = g_strdup_printf ("ckpt_%" G_GINT64_FORMAT, r);
      g_autoptr(GVariant) value = load_ok (mgr, NULL, r);

      g_assert_true (g_ptr_array_find_with_equal_func (names, name, g_str_equal, NULL));
      assert_variant_equal (value, make_state (r));
    }
  g_assert_finalize_object (mgr);

  /* With retention, into a fresh root: the result is as if sequential. */
  ckpt_test_rm_rf (f->root_path);
  n_saved = n_pruned = n_superseded = 0;
  run_writers (f, 3, TRUE, n_rounds, &n_saved, &n_pruned, &n_superseded);
  /* A round that would be pruned at once is refused, not saved. */
  g_assert_cmpint (n_saved + n_superseded, ==, n_rounds);
  g_assert_cmpint (n_pruned, ==, n_saved - 3);
  ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_31", "ckpt_32");
  mgr = new_manager (f, NULL, 0, TRUE);
  for (r = 1; r <= n_rounds; r++)
    if (r == 1 || r >= n_rounds - 1)
      {
        g_autoptr(GVariant) value = load_ok (mgr, NULL, r);

        assert_variant_equal (value, make_state (r));
      }
  g_assert_finalize_object (mgr);
}

/* Semantics 7: a writer killed at any instant leaves no partial file under
 * a checkpoint's name; its temp file is removed by the next save. */
#define CRASH_STATE_DOUBLES (1u << 19)   /* 4 MiB */

static void
crash_child (Fixture *f)
{
  const char *root_path = g_getenv (CRASH_ROOT_ENV);
  g_autoptr(GFile) root = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *rounds = NULL;
  CkptManager *mgr;
  gsize n_rounds = 0;
  gint64 r;

  g_assert_nonnull (root_path);
  root = g_file_new_for_path (root_path);
  mgr = new_manager_at (f, root, NULL, 3, TRUE);
  rounds = ckpt_manager_list_rounds (mgr, &n_rounds, &error);
  g_assert_no_error (error);
  r = n_rounds > 0 ? rounds[n_rounds - 1] + 1 : 1;

  /* Until killed. */
  for (;; r++)
    save_ok (mgr, make_big_state (r, CRASH_STATE_DOUBLES), r);
}

static void
test_crash (Fixture       *f,
            gconstpointer  data)
{
  static const guint64 timeouts_ms[] = { 15, 40, 75, 120, 180, 260 };
  CkptManager *mgr;
  g_autoptr(GPtrArray) names = NULL;
  g_autofree gint64 *rounds = NULL;
  g_autoptr(GError) error = NULL;
  gsize n_rounds = 0;
  gsize i, k;
  gint64 next;
  Recorder rec;

  if (g_test_subprocess ())
    {
      crash_child (f);
      return;
    }

  g_setenv (CRASH_ROOT_ENV, f->root_path, TRUE);
  mgr = new_manager (f, NULL, 0, TRUE);
  recorder_init (&rec, mgr);

  for (k = 0; k < G_N_ELEMENTS (timeouts_ms); k++)
    {
      g_test_trap_subprocess (NULL, timeouts_ms[k] * 1000, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_failed ();   /* killed by the timeout */
      g_test_trap_assert_stderr_unmatched ("*ERROR*");
      g_test_trap_assert_stderr_unmatched ("*CRITICAL*");

      /* Every checkpoint present is complete and holds its round. */
      g_clear_pointer (&rounds, g_free);
      rounds = ckpt_manager_list_rounds (mgr, &n_rounds, &error);
      g_assert_no_error (error);
      g_test_message ("after kill %" G_GSIZE_FORMAT ": %" G_GSIZE_FORMAT " checkpoints", k, n_rounds);
      for (i = 0; i < n_rounds; i++)
        {
          g_autoptr(GVariant) value = load_ok (mgr, G_VARIANT_TYPE ("(xad)"), rounds[i]);
          g_autoptr(GVariant) weights = NULL;
          gint64 stored = -1;

          g_variant_get_child (value, 0, "x", &stored);
          g_assert_cmpint (stored, ==, rounds[i]);
          weights = g_variant_get_child_value (value, 1);
          g_assert_cmpuint (g_variant_n_children (weights), ==, CRASH_STATE_DOUBLES);
        }
    }
  g_unsetenv (CRASH_ROOT_ENV);
  recorder_assert (&rec, "");

  /* The next save cleans up whatever a dead writer left. */
  g_clear_pointer (&rounds, g_free);
  rounds = ckpt_manager_list_rounds (mgr, &n_rounds, &error);
  g_assert_no_error (error);
  next = n_rounds > 0 ? rounds[n_rounds - 1] + 1 : 1;
  save_ok (mgr, g_variant_new_int32 (0), next);
  g_clear_pointer (&rounds, g_free);
  rounds = ckpt_manager_list_rounds (mgr, &n_rounds, &error);
  g_assert_no_error (error);
  names = ckpt_test_list_dir (f->root_path);
  /* The generic back end cannot tell a dead writer's fresh temp file from a
   * live one's: it leaves those under an hour old. */
  if (f->flags & CKPT_STORAGE_FLAGS_FORCE_GENERIC)
    for (i = names->len; i-- > 0;)
      if (ckpt_storage_is_temp_name ("ckpt_", g_ptr_array_index (names, i)))
        g_ptr_array_remove_index (names, i);
  for (i = 0; i < names->len; i++)
    g_assert_true (g_str_has_prefix (g_ptr_array_index (names, i), "ckpt_"));
  g_assert_cmpuint (names->len, ==, n_rounds);

  recorder_clear (&rec);
  g_assert_finalize_object (mgr);
}

/* The byteswapped fixture (written in the non-native byte order) loads, and
 * equals its payload byteswapped by GLib. */
static void
test_byteswapped (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *fixture = g_test_build_filename (G_TEST_DIST, "fixtures", FIXTURE_NAME, NULL);
  g_autofree char *dest = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GVariant) raw = NULL;
  g_autoptr(GVariant) swapped = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GVariant) typed = NULL;
  g_autoptr(GVariant) latest = NULL;
  g_autoptr(GVariant) resaved = NULL;
  g_autoptr(GError) error = NULL;
  CkptManager *mgr;
  const guint8 *buf;
  gsize len;
  guint32 header_size;
  guint64 payload_size;
  gint64 round_num = -2;
  Recorder rec;

  if (!g_file_test (fixture, G_FILE_TEST_IS_REGULAR))
    {
      g_test_skip ("fixture " FIXTURE_NAME " missing");
      return;
    }

  bytes = ckpt_test_read_bytes (fixture);
  buf = g_bytes_get_data (bytes, &len);
  g_assert_cmpuint (len, >=, CKPT_FORMAT_FIXED_HEADER_SIZE);
  g_assert_cmpmem (buf, CKPT_FORMAT_MAGIC_LEN, CKPT_FORMAT_MAGIC, CKPT_FORMAT_MAGIC_LEN);
  g_assert_cmpint ((gint64) ckpt_test_get_le64 (buf + CKPT_FORMAT_OFFSET_ROUND), ==, FIXTURE_ROUND);
  /* It really is in the other byte order. */
  g_assert_cmpint (buf[CKPT_FORMAT_OFFSET_BYTE_ORDER], ==,
                   G_BYTE_ORDER == G_LITTLE_ENDIAN ? 'B' : 'l');
  header_size = ckpt_test_get_le32 (buf + CKPT_FORMAT_OFFSET_HEADER_SIZE);
  payload_size = ckpt_test_get_le64 (buf + CKPT_FORMAT_OFFSET_PAYLOAD_SIZE);
  g_assert_cmpuint ((guint64) header_size + payload_size, ==, len);

  g_assert_cmpint (g_mkdir (f->root_path, 0755), ==, 0);
  dest = checkpoint_path (f, "ckpt_7");
  ckpt_test_write_file (dest, buf, len);

  mgr = new_manager (f, NULL, 0, TRUE);
  recorder_init (&rec, mgr);

  value = load_ok (mgr, NULL, FIXTURE_ROUND);
  g_assert_cmpstr (g_variant_get_type_string (value), ==, FIXTURE_TYPE);
  g_assert_true (g_variant_is_normal_form (value));

  /* Independent check: GLib's own byteswap of the stored payload. */
  payload = g_bytes_new_from_bytes (bytes, header_size, (gsize) payload_size);
  raw = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (FIXTURE_TYPE), payload, FALSE));
  swapped = g_variant_byteswap (raw);
  assert_variant_equal (value, swapped);

  typed = load_ok (mgr, G_VARIANT_TYPE (FIXTURE_TYPE), FIXTURE_ROUND);
  assert_variant_equal (typed, value);
  assert_load_fails (mgr, G_VARIANT_TYPE (STATE_TYPE), FIXTURE_ROUND, CKPT_ERROR, CKPT_ERROR_TYPE_MISMATCH);

  latest = ckpt_manager_load_latest (mgr, G_VARIANT_TYPE (FIXTURE_TYPE), &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, FIXTURE_ROUND);
  assert_variant_equal (latest, value);

  /* Saved back in native order, it reads the same. */
  save_ok (mgr, value, FIXTURE_ROUND + 1);
  resaved = load_ok (mgr, NULL, FIXTURE_ROUND + 1);
  assert_variant_equal (resaved, value);
  ckpt_test_assert_listing (f->root_path, "ckpt_7", "ckpt_8");
  recorder_assert (&rec, "S8");

  /* The fixture itself is protected by the checksum too. */
  flip_bit (dest, len - 1, 0);
  assert_load_fails (mgr, NULL, FIXTURE_ROUND, CKPT_ERROR, CKPT_ERROR_CORRUPT);
  recorder_assert (&rec, "S8 C7");

  recorder_clear (&rec);
  g_assert_finalize_object (mgr);
}

/* ------------------------------------------------------------------------ */
/* Properties, construction, validation (storage independent) */

static void
test_property_defaults (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) root = NULL;
  g_autofree char *prefix = NULL;
  CkptManager *mgr;
  int keep_total = 0;
  gboolean keep_first = FALSE, durable = FALSE;

  /* Only the root given: every default. */
  mgr = g_initable_new (CKPT_TYPE_MANAGER, NULL, &error, "root", f->root, NULL);
  g_assert_no_error (error);
  g_assert_true (CKPT_IS_MANAGER (mgr));
  g_assert_cmpstr (ckpt_manager_get_prefix (mgr), ==, "ckpt_");
  g_assert_cmpstr (ckpt_manager_get_prefix (mgr), ==, CKPT_MANAGER_DEFAULT_PREFIX);
  g_assert_cmpint (ckpt_manager_get_keep_total (mgr), ==, 5);
  g_assert_cmpint (ckpt_manager_get_keep_total (mgr), ==, CKPT_MANAGER_DEFAULT_KEEP_TOTAL);
  g_assert_true (ckpt_manager_get_keep_first (mgr));
  g_assert_true (ckpt_manager_get_durable (mgr));
  g_assert_true (ckpt_manager_get_root (mgr) == f->root);

  g_object_get (mgr,
                "root", &root,
                "prefix", &prefix,
                "keep-total", &keep_total,
                "keep-first", &keep_first,
                "durable", &durable,
                NULL);
  g_assert_true (g_file_equal (root, f->root));
  g_assert_cmpstr (prefix, ==, "ckpt_");
  g_assert_cmpint (keep_total, ==, 5);
  g_assert_true (keep_first);
  g_assert_true (durable);
  g_clear_object (&root);
  g_assert_finalize_object (mgr);

  /* NULL prefix in the constructor means the default. */
  mgr = ckpt_manager_new (f->root, NULL, 5, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ckpt_manager_get_prefix (mgr), ==, "ckpt_");
  g_assert_true (ckpt_manager_get_durable (mgr));
  g_assert_finalize_object (mgr);

  /* Construction does not touch the disk. */
  g_assert_false (g_file_test (f->root_path, G_FILE_TEST_EXISTS));
  ckpt_test_assert_listing (f->tmp_path, NULL);
}

static void
test_property_getters (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) root = NULL;
  g_autofree char *prefix = NULL;
  CkptManager *mgr;
  int keep_total = 0;
  gboolean keep_first = TRUE, durable = FALSE;

  mgr = ckpt_manager_new (f->root, "model-", 7, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_equal (ckpt_manager_get_root (mgr), f->root));
  g_assert_cmpstr (ckpt_manager_get_prefix (mgr), ==, "model-");
  g_assert_cmpint (ckpt_manager_get_keep_total (mgr), ==, 7);
  g_assert_false (ckpt_manager_get_keep_first (mgr));
  g_assert_true (ckpt_manager_get_durable (mgr));

  g_object_get (mgr, "root", &root, "prefix", &prefix, "keep-total", &keep_total,
                "keep-first", &keep_first, "durable", &durable, NULL);
  g_assert_true (g_file_equal (root, f->root));
  g_assert_cmpstr (prefix, ==, "model-");
  g_assert_cmpint (keep_total, ==, 7);
  g_assert_false (keep_first);
  g_assert_true (durable);
  g_clear_object (&root);
  g_assert_finalize_object (mgr);

  /* Negative keep_total is kept as given (≤ 0 keeps all). */
  mgr = ckpt_manager_new (f->root, NULL, -1, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ckpt_manager_get_keep_total (mgr), ==, -1);
  g_assert_finalize_object (mgr);

  /* All properties through g_initable_new. */
  mgr = g_initable_new (CKPT_TYPE_MANAGER, NULL, &error,
                        "root", f->root, "prefix", "p_", "keep-total", 2,
                        "keep-first", FALSE, "durable", FALSE, NULL);
  g_assert_no_error (error);
  g_assert_cmpstr (ckpt_manager_get_prefix (mgr), ==, "p_");
  g_assert_cmpint (ckpt_manager_get_keep_total (mgr), ==, 2);
  g_assert_false (ckpt_manager_get_keep_first (mgr));
  g_assert_false (ckpt_manager_get_durable (mgr));
  g_assert_finalize_object (mgr);
}

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           gpointer    user_data)
{
  GString *log = user_data;

  g_string_append_printf (log, "%s%s", log->len > 0 ? " " : "", pspec->name);
}

/* Setters notify only on change. */
static void
test_property_notify (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  GString *log = g_string_new (NULL);
  CkptManager *mgr;

  mgr = ckpt_manager_new (f->root, NULL, 5, TRUE, &error);
  g_assert_no_error (error);
  g_signal_connect (mgr, "notify", G_CALLBACK (on_notify), log);

  ckpt_manager_set_keep_total (mgr, 5);
  g_assert_cmpstr (log->str, ==, "");
  ckpt_manager_set_keep_total (mgr, 3);
  g_assert_cmpstr (log->str, ==, "keep-total");
  g_assert_cmpint (ckpt_manager_get_keep_total (mgr), ==, 3);
  ckpt_manager_set_keep_total (mgr, 3);
  g_object_set (mgr, "keep-total", 3, NULL);
  g_assert_cmpstr (log->str, ==, "keep-total");
  g_object_set (mgr, "keep-total", 4, NULL);
  g_assert_cmpstr (log->str, ==, "keep-total keep-total");
  ckpt_manager_set_keep_total (mgr, 0);
  ckpt_manager_set_keep_total (mgr, -1);
  g_assert_cmpint (ckpt_manager_get_keep_total (mgr), ==, -1);
  g_assert_cmpstr (log->str, ==, "keep-total keep-total keep-total keep-total");
  g_string_truncate (log, 0);

  ckpt_manager_set_keep_first (mgr, TRUE);
  g_object_set (mgr, "keep-first", TRUE, NULL);
  g_assert_cmpstr (log->str, ==, "");
  ckpt_manager_set_keep_first (mgr, FALSE);
  g_assert_false (ckpt_manager_get_keep_first (mgr));
  ckpt_manager_set_keep_first (mgr, FALSE);
  g_object_set (mgr, "keep-first", FALSE, NULL);
  g_assert_cmpstr (log->str, ==, "keep-first");
  g_string_truncate (log, 0);

  ckpt_manager_set_durable (mgr, TRUE);
  g_object_set (mgr, "durable", TRUE, NULL);
  g_assert_cmpstr (log->str, ==, "");
  ckpt_manager_set_durable (mgr, FALSE);
  g_assert_false (ckpt_manager_get_durable (mgr));
  ckpt_manager_set_durable (mgr, FALSE);
  g_assert_cmpstr (log->str, ==, "durable");
  g_object_set (mgr, "durable", TRUE, NULL);
  g_assert_cmpstr (log->str, ==, "durable durable");
  g_assert_true (ckpt_manager_get_durable (mgr));

  g_signal_handlers_disconnect_by_data (mgr, log);
  g_string_free (log, TRUE);
  g_assert_finalize_object (mgr);
}

/* Param specs: types, defaults, construct-only root/prefix, explicit notify. */
static void
test_property_specs (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GTypeClass) type_class = g_type_class_ref (CKPT_TYPE_MANAGER);
  GObjectClass *klass = G_OBJECT_CLASS (type_class);
  GParamSpec *pspec;

  g_assert_true (G_TYPE_IS_FINAL (CKPT_TYPE_MANAGER));
  g_assert_true (g_type_is_a (CKPT_TYPE_MANAGER, G_TYPE_INITABLE));

  pspec = g_object_class_find_property (klass, "root");
  g_assert_nonnull (pspec);
  g_assert_true (pspec->value_type == G_TYPE_FILE);
  g_assert_true (pspec->flags & G_PARAM_CONSTRUCT_ONLY);
  g_assert_true (pspec->flags & G_PARAM_READABLE);

  pspec = g_object_class_find_property (klass, "prefix");
  g_assert_nonnull (pspec);
  g_assert_true (pspec->value_type == G_TYPE_STRING);
  g_assert_true (pspec->flags & G_PARAM_CONSTRUCT_ONLY);
  g_assert_cmpstr (G_PARAM_SPEC_STRING (pspec)->default_value, ==, "ckpt_");

  pspec = g_object_class_find_property (klass, "keep-total");
  g_assert_nonnull (pspec);
  g_assert_true (pspec->value_type == G_TYPE_INT);
  g_assert_false (pspec->flags & G_PARAM_CONSTRUCT_ONLY);
  g_assert_true (pspec->flags & G_PARAM_WRITABLE);
  g_assert_true (pspec->flags & G_PARAM_EXPLICIT_NOTIFY);
  g_assert_cmpint (G_PARAM_SPEC_INT (pspec)->default_value, ==, 5);
  g_assert_cmpint (G_PARAM_SPEC_INT (pspec)->minimum, <=, -1);

  pspec = g_object_class_find_property (klass, "keep-first");
  g_assert_nonnull (pspec);
  g_assert_true (pspec->value_type == G_TYPE_BOOLEAN);
  g_assert_false (pspec->flags & G_PARAM_CONSTRUCT_ONLY);
  g_assert_true (pspec->flags & G_PARAM_EXPLICIT_NOTIFY);
  g_assert_true (G_PARAM_SPEC_BOOLEAN (pspec)->default_value);

  pspec = g_object_class_find_property (klass, "durable");
  g_assert_nonnull (pspec);
  g_assert_true (pspec->value_type == G_TYPE_BOOLEAN);
  g_assert_false (pspec->flags & G_PARAM_CONSTRUCT_ONLY);
  g_assert_true (pspec->flags & G_PARAM_EXPLICIT_NOTIFY);
  g_assert_true (G_PARAM_SPEC_BOOLEAN (pspec)->default_value);
}

/* Signal signatures (what bindings see). */
static void
test_signal_specs (Fixture       *f,
                   gconstpointer  data)
{
  GSignalQuery q;
  guint id;

  g_type_class_unref (g_type_class_ref (CKPT_TYPE_MANAGER));

  id = g_signal_lookup ("saved", CKPT_TYPE_MANAGER);
  g_assert_cmpuint (id, !=, 0);
  g_signal_query (id, &q);
  g_assert_true (q.return_type == G_TYPE_NONE);
  g_assert_cmpuint (q.n_params, ==, 2);
  g_assert_true ((q.param_types[0] & ~G_SIGNAL_TYPE_STATIC_SCOPE) == G_TYPE_INT64);
  g_assert_true ((q.param_types[1] & ~G_SIGNAL_TYPE_STATIC_SCOPE) == G_TYPE_FILE);

  id = g_signal_lookup ("pruned", CKPT_TYPE_MANAGER);
  g_assert_cmpuint (id, !=, 0);
  g_signal_query (id, &q);
  g_assert_cmpuint (q.n_params, ==, 2);
  g_assert_true ((q.param_types[0] & ~G_SIGNAL_TYPE_STATIC_SCOPE) == G_TYPE_INT64);
  g_assert_true ((q.param_types[1] & ~G_SIGNAL_TYPE_STATIC_SCOPE) == G_TYPE_FILE);

  id = g_signal_lookup ("corrupt", CKPT_TYPE_MANAGER);
  g_assert_cmpuint (id, !=, 0);
  g_signal_query (id, &q);
  g_assert_cmpuint (q.n_params, ==, 3);
  g_assert_true ((q.param_types[0] & ~G_SIGNAL_TYPE_STATIC_SCOPE) == G_TYPE_INT64);
  g_assert_true ((q.param_types[1] & ~G_SIGNAL_TYPE_STATIC_SCOPE) == G_TYPE_FILE);
  g_assert_true ((q.param_types[2] & ~G_SIGNAL_TYPE_STATIC_SCOPE) == G_TYPE_ERROR);

  id = g_signal_lookup ("prune-failed", CKPT_TYPE_MANAGER);
  g_assert_cmpuint (id, !=, 0);
  g_signal_query (id, &q);
  g_assert_cmpuint (q.n_params, ==, 3);
  g_assert_true ((q.param_types[0] & ~G_SIGNAL_TYPE_STATIC_SCOPE) == G_TYPE_INT64);
  g_assert_true ((q.param_types[1] & ~G_SIGNAL_TYPE_STATIC_SCOPE) == G_TYPE_FILE);
  g_assert_true ((q.param_types[2] & ~G_SIGNAL_TYPE_STATIC_SCOPE) == G_TYPE_ERROR);
}

/* The error domain and its registered enum. */
static void
test_error_enum (Fixture       *f,
                 gconstpointer  data)
{
  static const int codes[] = {
    CKPT_ERROR_NOT_FOUND, CKPT_ERROR_EXISTS, CKPT_ERROR_TYPE_MISMATCH,
    CKPT_ERROR_CORRUPT, CKPT_ERROR_UNSUPPORTED, CKPT_ERROR_INVALID_ARGUMENT,
    CKPT_ERROR_BUSY, CKPT_ERROR_SUPERSEDED, CKPT_ERROR_FAILED,
  };
  g_autoptr(GEnumClass) klass = g_type_class_ref (CKPT_TYPE_ERROR);
  gsize i;

  g_assert_cmpuint (CKPT_ERROR, !=, 0);
  g_assert_cmpuint (CKPT_ERROR, ==, ckpt_error_quark ());
  g_assert_true (G_TYPE_IS_ENUM (CKPT_TYPE_ERROR));
  g_assert_cmpuint (klass->n_values, ==, G_N_ELEMENTS (codes));
  for (i = 0; i < G_N_ELEMENTS (codes); i++)
    g_assert_nonnull (g_enum_get_value (klass, codes[i]));
}

/* Semantics 4: invalid prefixes, from every constructor. */
static void
test_invalid_prefix (Fixture       *f,
                     gconstpointer  data)
{
  static const char * const bad[] = { "", "a/b", "/", "ckpt/", "/abs", ".", ".hidden", "..", ".ckpt_" };
  static const char * const good[] = { "x", "ckpt-", "a.b_", "model_v2.", "ckpt_" };
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
      g_clear_error (&error);

      mgr = ckpt_manager_new_for_path (f->root_path, bad[i], 5, TRUE, &error);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
      g_assert_null (mgr);
      g_clear_error (&error);

      obj = g_initable_new (CKPT_TYPE_MANAGER, NULL, &error, "root", f->root, "prefix", bad[i], NULL);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
      g_assert_null (obj);
    }

  for (i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      CkptManager *mgr;

      mgr = ckpt_manager_new (f->root, good[i], 5, TRUE, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (ckpt_manager_get_prefix (mgr), ==, good[i]);
      g_assert_finalize_object (mgr);
    }

  g_assert_false (g_file_test (f->root_path, G_FILE_TEST_EXISTS));
}

static void
test_new_for_path (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autofree char *root_path = NULL;
  g_autofree char *file_path = NULL;
  g_autofree char *expected = checkpoint_path (f, "run-3");
  CkptManager *mgr;
  gint64 round_num = -2;

  mgr = ckpt_manager_new_for_path (f->root_path, "run-", 2, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (CKPT_IS_MANAGER (mgr));
  root_path = g_file_get_path (ckpt_manager_get_root (mgr));
  g_assert_cmpstr (root_path, ==, f->root_path);
  g_assert_true (g_file_equal (ckpt_manager_get_root (mgr), f->root));
  g_assert_cmpstr (ckpt_manager_get_prefix (mgr), ==, "run-");
  g_assert_cmpint (ckpt_manager_get_keep_total (mgr), ==, 2);
  g_assert_false (ckpt_manager_get_keep_first (mgr));
  g_assert_true (ckpt_manager_get_durable (mgr));

  file = ckpt_manager_get_file (mgr, 3);
  file_path = g_file_get_path (file);
  g_assert_cmpstr (file_path, ==, expected);

  save_ok (mgr, make_state (1), 1);
  save_ok (mgr, make_state (2), 2);
  save_ok (mgr, make_state (3), 3);
  ckpt_test_assert_listing (f->root_path, "run-2", "run-3");
  value = ckpt_manager_load_latest (mgr, NULL, &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 3);
  assert_variant_equal (value, make_state (3));
  g_assert_finalize_object (mgr);

  /* NULL prefix means the default here too. */
  mgr = ckpt_manager_new_for_path (f->root_path, NULL, 0, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ckpt_manager_get_prefix (mgr), ==, "ckpt_");
  assert_no_rounds (mgr);
  g_assert_finalize_object (mgr);
}

/* ------------------------------------------------------------------------ */
/* Programmer errors: g_return_if_fail criticals (fatal in tests, so each is
 * checked in a subprocess). */

#define NOWHERE "/nonexistent/ckpt-glib-test/never-created"

static CkptManager *
nowhere_manager (void)
{
  g_autoptr(GError) error = NULL;
  CkptManager *mgr = ckpt_manager_new_for_path (NOWHERE, NULL, 5, TRUE, &error);

  g_assert_no_error (error);
  return mgr;
}

static void
crit_save_null_self (void)
{
  g_autoptr(GError) error = NULL;

  ckpt_manager_save (NULL, g_variant_new_int32 (1), 1, NULL, &error);
}

static void
crit_save_null_state (void)
{
  g_autoptr(GError) error = NULL;
  CkptManager *mgr = nowhere_manager ();

  ckpt_manager_save (mgr, NULL, 1, NULL, &error);
  g_object_unref (mgr);
}

static void
crit_load_null_self (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) v = ckpt_manager_load (NULL, NULL, 1, NULL, &error);
}

static void
crit_load_latest_null_self (void)
{
  g_autoptr(GError) error = NULL;
  gint64 r;
  g_autoptr(GVariant) v = ckpt_manager_load_latest (NULL, NULL, &r, NULL, &error);
}

static void
crit_or_default_null_self (void)
{
  g_autoptr(GError) error = NULL;
  gint64 r;
  g_autoptr(GVariant) v = ckpt_manager_load_latest_or_default (NULL, g_variant_new_int32 (1), &r, NULL, &error);
}

static void
crit_or_default_null_state (void)
{
  g_autoptr(GError) error = NULL;
  CkptManager *mgr = nowhere_manager ();
  gint64 r;
  g_autoptr(GVariant) v = ckpt_manager_load_latest_or_default (mgr, NULL, &r, NULL, &error);

  g_object_unref (mgr);
}

static void
crit_list_null_self (void)
{
  g_autoptr(GError) error = NULL;
  gsize n;
  g_autofree gint64 *r = ckpt_manager_list_rounds (NULL, &n, &error);
}

static void
crit_get_file_null_self (void)
{
  g_autoptr(GFile) file = ckpt_manager_get_file (NULL, 1);
}

static void
crit_get_file_negative (void)
{
  CkptManager *mgr = nowhere_manager ();
  g_autoptr(GFile) file = ckpt_manager_get_file (mgr, -1);

  g_object_unref (mgr);
}

static void
crit_getter_null_self (void)
{
  g_assert_null (ckpt_manager_get_prefix (NULL));
}

static void
crit_setter_null_self (void)
{
  ckpt_manager_set_keep_total (NULL, 3);
}

static void
crit_new_null_root (void)
{
  g_autoptr(GError) error = NULL;
  CkptManager *mgr = ckpt_manager_new (NULL, NULL, 5, TRUE, &error);

  g_assert_null (mgr);
}

static void
crit_set_prefix_after_construction (void)
{
  CkptManager *mgr = nowhere_manager ();

  g_object_set (mgr, "prefix", "other_", NULL);
  g_object_unref (mgr);
}

static void
crit_set_root_after_construction (void)
{
  CkptManager *mgr = nowhere_manager ();
  g_autoptr(GFile) other = g_file_new_for_path ("/nonexistent/other");

  g_object_set (mgr, "root", other, NULL);
  g_object_unref (mgr);
}

typedef struct
{
  const char *name;
  void (*func) (void);
  const char *stderr_pattern;
} CriticalCase;

static const CriticalCase critical_cases[] = {
  { "save-null-self", crit_save_null_self, "*CRITICAL*ckpt_manager_save*assertion*failed*" },
  { "save-null-state", crit_save_null_state, "*CRITICAL*ckpt_manager_save*assertion*state*failed*" },
  { "load-null-self", crit_load_null_self, "*CRITICAL*ckpt_manager_load*assertion*failed*" },
  { "load-latest-null-self", crit_load_latest_null_self, "*CRITICAL*ckpt_manager_load_latest*assertion*failed*" },
  { "or-default-null-self", crit_or_default_null_self, "*CRITICAL*ckpt_manager_load_latest_or_default*assertion*failed*" },
  { "or-default-null-state", crit_or_default_null_state, "*CRITICAL*ckpt_manager_load_latest_or_default*assertion*failed*" },
  { "list-null-self", crit_list_null_self, "*CRITICAL*ckpt_manager_list_rounds*assertion*failed*" },
  { "get-file-null-self", crit_get_file_null_self, "*CRITICAL*ckpt_manager_get_file*assertion*failed*" },
  { "get-file-negative", crit_get_file_negative, "*CRITICAL*ckpt_manager_get_file*assertion*failed*" },
  { "getter-null-self", crit_getter_null_self, "*CRITICAL*ckpt_manager_get_prefix*assertion*failed*" },
  { "setter-null-self", crit_setter_null_self, "*CRITICAL*ckpt_manager_set_keep_total*assertion*failed*" },
  { "new-null-root", crit_new_null_root, "*CRITICAL*ckpt_manager_new*assertion*failed*" },
  { "set-prefix-after-construction", crit_set_prefix_after_construction, "*construct property*prefix*after construction*" },
  { "set-root-after-construction", crit_set_root_after_construction, "*construct property*root*after construction*" },
};

static void
test_critical (gconstpointer data)
{
  const CriticalCase *c = data;

  if (g_test_subprocess ())
    {
      c->func ();
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr (c->stderr_pattern);
}

/* ------------------------------------------------------------------------ */

typedef void (*FixtureFunc) (Fixture *f, gconstpointer data);

static const struct
{
  const char *name;
  CkptStorageFlags flags;
} storage_variants[] = {
  { "default", CKPT_STORAGE_FLAGS_NONE },
  { "no-tmpfile", CKPT_STORAGE_FLAGS_NO_TMPFILE },
  { "generic", CKPT_STORAGE_FLAGS_FORCE_GENERIC },
};

/* The same with every payload above the threshold of the large-payload
 * save paths, whatever its size: the checksum computed during the
 * writeback (durable saves) or on a second thread while the payload is
 * written (not durable), then stored last. The files must load and
 * verify, and every damaged one must be caught. */
static void
run_parallel (Fixture       *f,
              gconstpointer  data,
              FixtureFunc    func,
              gboolean       durable)
{
  ckpt_seal_set_parallel_min (1);
  managers_not_durable = !durable;
  func (f, data);
  managers_not_durable = FALSE;
  ckpt_seal_set_parallel_min (0);
}

static void
test_roundtrip_parallel (Fixture       *f,
                         gconstpointer  data)
{
  run_parallel (f, data, test_roundtrip, TRUE);
}

static void
test_roundtrip_parallel_nodurable (Fixture       *f,
                                   gconstpointer  data)
{
  run_parallel (f, data, test_roundtrip, FALSE);
}

static void
test_bit_flips_parallel (Fixture       *f,
                         gconstpointer  data)
{
  run_parallel (f, data, test_bit_flips, TRUE);
}

static void
test_bit_flips_parallel_nodurable (Fixture       *f,
                                   gconstpointer  data)
{
  run_parallel (f, data, test_bit_flips, FALSE);
}

static const struct
{
  const char *name;
  FixtureFunc func;
} core_cases[] = {
  { "listing", test_listing },
  { "create-parents", test_create_parents },
  { "keep-first-on", test_keep_first_on },
  { "keep-first-off", test_keep_first_off },
  { "retention-table", test_retention_table },
  { "exists", test_exists },
  { "roundtrip", test_roundtrip },
  { "roundtrip-parallel", test_roundtrip_parallel },
  { "roundtrip-parallel-nodurable", test_roundtrip_parallel_nodurable },
  { "floating", test_floating },
  { "not-found", test_not_found },
  { "latest-empty", test_latest_empty },
  { "or-default", test_or_default },
  { "type-mismatch", test_type_mismatch },
  { "signals", test_signals },
  { "bit-flips", test_bit_flips },
  { "bit-flips-parallel", test_bit_flips_parallel },
  { "bit-flips-parallel-nodurable", test_bit_flips_parallel_nodurable },
  { "truncations", test_truncations },
  { "corrupt-newest", test_corrupt_newest },
  { "renamed", test_renamed },
  { "rehashed", test_rehashed },
  { "junk", test_junk },
  { "stale-temp", test_stale_temp },
  { "fresh-temp", test_fresh_temp },
  { "listing-cache-sees-changes", test_listing_cache_sees_changes },
  { "listing-cache-phantom", test_listing_cache_phantom },
  { "listing-cache-long-run", test_listing_cache_long_run },
  { "query-info", test_query_info },
  { "prune", test_prune },
  { "cancelled", test_cancelled },
  { "root-not-dir", test_root_not_dir },
  { "read-only", test_read_only },
  { "not-durable", test_not_durable },
  { "big-rounds", test_big_rounds },
  { "negative-round", test_negative_round },
  { "get-file", test_get_file },
  { "prefix-isolation", test_prefix_isolation },
  { "concurrent", test_concurrent },
  { "crash", test_crash },
  { "byteswapped", test_byteswapped },
};

static const struct
{
  const char *name;
  FixtureFunc func;
} api_cases[] = {
  { "/ckpt/manager/properties/defaults", test_property_defaults },
  { "/ckpt/manager/properties/getters", test_property_getters },
  { "/ckpt/manager/properties/notify", test_property_notify },
  { "/ckpt/manager/properties/specs", test_property_specs },
  { "/ckpt/manager/signals/specs", test_signal_specs },
  { "/ckpt/manager/error/enum", test_error_enum },
  { "/ckpt/manager/validation/prefix", test_invalid_prefix },
  { "/ckpt/manager/new-for-path", test_new_for_path },
};

int
main (int   argc,
      char *argv[])
{
  gsize v, i;

  g_test_init (&argc, &argv, NULL);

  for (v = 0; v < G_N_ELEMENTS (storage_variants); v++)
    for (i = 0; i < G_N_ELEMENTS (core_cases); i++)
      {
        g_autofree char *path = g_strdup_printf ("/ckpt/manager/%s/%s",
                                                 storage_variants[v].name,
                                                 core_cases[i].name);

        g_test_add (path, Fixture, GUINT_TO_POINTER (storage_variants[v].flags),
                    fixture_setup, core_cases[i].func, fixture_teardown);
      }

  for (i = 0; i < G_N_ELEMENTS (api_cases); i++)
    g_test_add (api_cases[i].name, Fixture, NULL,
                fixture_setup, api_cases[i].func, fixture_teardown);

  for (i = 0; i < G_N_ELEMENTS (critical_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ckpt/manager/critical/%s", critical_cases[i].name);

      g_test_add_data_func (path, &critical_cases[i], test_critical);
    }

  return g_test_run ();
}
