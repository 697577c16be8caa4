/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Failing system calls, through the internal fault hook
 * (ckpt-glib/ckpt-fault-private.h): issue 5, points 2 (every system call a
 * save reaches fails, one at a time), 3 (pruning interrupted) and 7 (stale
 * temp files of dead writers, files of other programs).
 *
 * Each case starts from the same root (checkpoints 1, 2, 3 of a known
 * content, keep-total 3, keep-first) and saves round 4 with one fault armed.
 * A save that fails must fail with the errno's G_IO_ERROR code and name the
 * root, and leave the root byte for byte as it was; a fault after the point
 * of no return (pruning) must not fail the save, only log a warning. Then an
 * undisturbed save must bring the root to exactly what retention asks.
 *
 * Every case runs over the default local path (O_TMPFILE) and the named temp
 * file path (CKPT_STORAGE_FLAGS_NO_TMPFILE).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <ckpt-glib/ckpt-glib.h>

#include "ckpt-fault-private.h"
#include "ckpt-format-private.h"
#include "ckpt-manager-private.h"
#include "ckpt-storage-private.h"
#include "ckpt-test-util.h"

#define PREFIX "ckpt_"
#define STATE_TYPE "(xa{sv}ad)"
#define SUBPROCESS_ROOT_ENV "CKPT_TEST_FAULTS_ROOT"

static const int fault_errnos[] = { EIO, ENOSPC, EACCES };

static const struct
{
  guint       point;
  const char *name;
} fault_points[] = {
  { CKPT_FAULT_MKDIR, "MKDIR" },
  { CKPT_FAULT_OPEN, "OPEN" },
  { CKPT_FAULT_LOCK, "LOCK" },
  { CKPT_FAULT_WRITE, "WRITE" },
  { CKPT_FAULT_FSYNC_FILE, "FSYNC_FILE" },
  { CKPT_FAULT_LINK, "LINK" },
  { CKPT_FAULT_FSYNC_DIR, "FSYNC_DIR" },
  { CKPT_FAULT_UNLINK, "UNLINK" },
  { CKPT_FAULT_READDIR, "READDIR" },
};

/* ------------------------------------------------------------------------ */
/* Files and directories */

/* Names of temp files of @prefix in @path. */
static guint
count_temps (const char *path,
             const char *prefix)
{
  g_autoptr(GPtrArray) names = ckpt_test_list_dir (path);
  guint i, n = 0;

  for (i = 0; i < names->len; i++)
    if (ckpt_storage_is_temp_name (prefix, g_ptr_array_index (names, i)))
      n++;
  return n;
}

/* A snapshot of a directory tree: relative name → "f:" + bytes,
 * "d:" for directories, "l:" + target for symlinks, "o:" otherwise. */
static void
snapshot_add (GHashTable *snap,
              const char *base,
              const char *rel)
{
  g_autofree char *path = rel[0] != '\0' ? g_build_filename (base, rel, NULL) : g_strdup (base);
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    return;

  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      g_hash_table_insert (snap, g_strdup (rel[0] != '\0' ? rel : "."), g_bytes_new ("d:", 2));
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = rel[0] != '\0' ? g_build_filename (rel, name, NULL) : g_strdup (name);

          snapshot_add (snap, base, child);
        }
    }
  else if (S_ISREG (st.st_mode))
    {
      g_autoptr(GBytes) contents = ckpt_test_read_bytes (path);
      GByteArray *value = g_byte_array_new ();

      g_byte_array_append (value, (const guint8 *) "f:", 2);
      g_byte_array_append (value, g_bytes_get_data (contents, NULL), g_bytes_get_size (contents));
      g_hash_table_insert (snap, g_strdup (rel), g_byte_array_free_to_bytes (value));
    }
  else if (S_ISLNK (st.st_mode))
    {
      g_autofree char *target = g_file_read_link (path, NULL);
      g_autofree char *value = g_strconcat ("l:", target != NULL ? target : "", NULL);

      g_hash_table_insert (snap, g_strdup (rel), g_bytes_new (value, strlen (value)));
    }
  else
    g_hash_table_insert (snap, g_strdup (rel), g_bytes_new ("o:", 2));
}

static GHashTable *
snapshot_take (const char *path)
{
  GHashTable *snap = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) g_bytes_unref);

  snapshot_add (snap, path, "");
  return snap;
}

/* Every entry of @expected is in @actual with the same contents; with
 * @exact, @actual has nothing else. */
static void
snapshot_assert (GHashTable *actual,
                 GHashTable *expected,
                 gboolean    exact)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, expected);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GBytes *other = g_hash_table_lookup (actual, key);

      if (other == NULL)
        g_error ("‘%s’ disappeared", (const char *) key);
      if (!g_bytes_equal (other, value))
        g_error ("‘%s’ was changed", (const char *) key);
    }

  if (exact)
    {
      g_hash_table_iter_init (&iter, actual);
      while (g_hash_table_iter_next (&iter, &key, &value))
        if (!g_hash_table_contains (expected, key))
          g_error ("‘%s’ appeared", (const char *) key);
    }
}

/* ------------------------------------------------------------------------ */
/* States */

/* A state of about 5 KiB whose every part encodes @round_num. */
static GVariant *
make_state (gint64 round_num)
{
  GVariantBuilder dict;
  g_autofree double *values = g_new (double, 600);
  guint i;

  for (i = 0; i < 600; i++)
    values[i] = (double) round_num + (double) i / 1024.0;

  g_variant_builder_init (&dict, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&dict, "{sv}", "round", g_variant_new_int64 (round_num));
  g_variant_builder_add (&dict, "{sv}", "name", g_variant_new_take_string (g_strdup_printf ("state %" G_GINT64_FORMAT, round_num)));

  return g_variant_new ("(x@a{sv}@ad)", round_num, g_variant_builder_end (&dict),
                        g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, values, 600, sizeof (double)));
}

static void
assert_state (GVariant *value,
              gint64    round_num)
{
  g_autoptr(GVariant) expected = g_variant_ref_sink (make_state (round_num));

  g_assert_nonnull (value);
  g_assert_cmpstr (g_variant_get_type_string (value), ==, STATE_TYPE);
  g_assert_true (g_variant_equal (value, expected));
}

/* ------------------------------------------------------------------------ */
/* Fixture */

typedef struct
{
  CkptStorageFlags  flags;
  char             *tmp_path;
  char             *root_path;
  GHashTable       *template;   /* snapshot of the starting root */
  GPtrArray        *template_files;  /* GBytes of ckpt_1..ckpt_N, index = round - 1 */
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->flags = GPOINTER_TO_UINT (data);
  f->template_files = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  /* A subprocess works in its parent's directory: it may be killed before
   * it could clean up one of its own. */
  if (g_test_subprocess ())
    {
      f->root_path = g_strdup (g_getenv (SUBPROCESS_ROOT_ENV));
      g_assert_nonnull (f->root_path);
      return;
    }

  f->tmp_path = g_dir_make_tmp ("test-faults-XXXXXX", &error);
  g_assert_no_error (error);
  f->root_path = g_build_filename (f->tmp_path, "root", NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  ckpt_fault_disarm ();
  if (f->tmp_path != NULL)
    ckpt_test_rm_rf (f->tmp_path);
  g_clear_pointer (&f->template, g_hash_table_unref);
  g_clear_pointer (&f->template_files, g_ptr_array_unref);
  g_free (f->root_path);
  g_free (f->tmp_path);
}

static CkptManager *
new_manager (Fixture  *f,
             int       keep_total,
             gboolean  keep_first)
{
  g_autoptr(GError) error = NULL;
  CkptManager *mgr;

  mgr = ckpt_manager_new_for_path (f->root_path, NULL, keep_total, keep_first, &error);
  g_assert_no_error (error);
  ckpt_manager_set_storage_flags (mgr, f->flags);
  return mgr;
}

static void
save_ok (CkptManager *mgr,
         gint64       round_num)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (ckpt_manager_save (mgr, make_state (round_num), round_num, NULL, &error));
  g_assert_no_error (error);
}

static void
load_ok (CkptManager *mgr,
         gint64       round_num)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;

  value = ckpt_manager_load (mgr, G_VARIANT_TYPE (STATE_TYPE), round_num, NULL, &error);
  g_assert_no_error (error);
  assert_state (value, round_num);
}

static void
assert_not_found (CkptManager *mgr,
                  gint64       round_num)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;

  value = ckpt_manager_load (mgr, NULL, round_num, NULL, &error);
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
  g_assert_null (value);
}

/* Every checkpoint listed loads and holds its round; returns the newest. */
static gint64
assert_all_valid (CkptManager *mgr)
{
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *rounds = NULL;
  g_autoptr(GVariant) latest = NULL;
  gsize n_rounds = 0, i;
  gint64 latest_round = -1;

  rounds = ckpt_manager_list_rounds (mgr, &n_rounds, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_rounds, >=, 1);
  for (i = 0; i < n_rounds; i++)
    load_ok (mgr, rounds[i]);

  latest = ckpt_manager_load_latest (mgr, G_VARIANT_TYPE (STATE_TYPE), &latest_round, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (latest_round, ==, rounds[n_rounds - 1]);
  assert_state (latest, latest_round);
  return latest_round;
}

/* Saves rounds 1..@n_rounds (keeping all) as the template of the root. */
static void
make_template (Fixture *f,
               gint64   n_rounds)
{
  g_autoptr(CkptManager) mgr = NULL;
  gint64 r;

  ckpt_test_rm_rf (f->root_path);
  mgr = new_manager (f, 0, TRUE);
  ckpt_manager_set_durable (mgr, FALSE);
  for (r = 1; r <= n_rounds; r++)
    {
      g_autofree char *name = ckpt_storage_build_name (PREFIX, r);
      g_autofree char *path = g_build_filename (f->root_path, name, NULL);

      save_ok (mgr, r);
      g_ptr_array_add (f->template_files, ckpt_test_read_bytes (path));
    }
  g_clear_pointer (&f->template, g_hash_table_unref);
  f->template = snapshot_take (f->root_path);
}

/* Brings the root back to the template. */
static void
reset_root (Fixture *f)
{
  guint i;

  ckpt_test_rm_rf (f->root_path);
  g_assert_cmpint (g_mkdir (f->root_path, 0755), ==, 0);
  for (i = 0; i < f->template_files->len; i++)
    {
      g_autofree char *name = ckpt_storage_build_name (PREFIX, (gint64) i + 1);
      g_autofree char *path = g_build_filename (f->root_path, name, NULL);
      GBytes *bytes = g_ptr_array_index (f->template_files, i);

      ckpt_test_write_file (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
    }
}

/* The checkpoint of @round_num is as in @snap (or, with @may_be_gone,
 * absent). */
static void
assert_unchanged (Fixture    *f,
                  GHashTable *snap,
                  gint64      round_num,
                  gboolean    may_be_gone)
{
  g_autofree char *name = ckpt_storage_build_name (PREFIX, round_num);
  g_autofree char *path = g_build_filename (f->root_path, name, NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) contents = NULL;
  GBytes *expected = g_hash_table_lookup (snap, name);

  g_assert_nonnull (expected);
  if (may_be_gone && !g_file_test (path, G_FILE_TEST_EXISTS))
    return;
  bytes = ckpt_test_read_bytes (path);
  contents = g_bytes_new_from_bytes (expected, 2, g_bytes_get_size (expected) - 2);
  g_assert_true (g_bytes_equal (bytes, contents));
}

/* ------------------------------------------------------------------------ */
/* Warnings the test cannot announce in advance (faults at all points at
 * once: which call the Nth one is is not known beforehand). */

/* Checkpoints that retention could not delete (prune-failed signals). */
static guint retention_warnings;

static void
count_prune_failed (CkptManager *mgr,
                    gint64       round_num,
                    GFile       *file,
                    GError      *error,
                    gpointer     user_data)
{
  g_assert_nonnull (error);
  g_assert_nonnull (file);
  retention_warnings++;
}

/* ------------------------------------------------------------------------ */
/* Point 2: one failing call in a save, for every call a save reaches */

typedef enum
{
  OUTCOME_UNKNOWN,   /* decided from the result (faults at all points) */
  OUTCOME_FAIL,      /* before the point of no return: the save fails */
  OUTCOME_WARN,      /* pruning fails: saved, with a prune-failed signal */
  OUTCOME_QUIET,     /* a temp file's unlink fails, or a kept checkpoint
                      * cannot be read to verify it: saved, nothing
                      * reported, the victim kept */
} Outcome;

typedef struct
{
  guint runs;
  guint fired;
  guint failed_saves;
  guint warned_saves;
  guint quiet_saves;
  guint temps_left;
} FaultTotals;

static Outcome
expected_outcome (CkptStorageFlags flags,
                  gboolean         warm,
                  guint            point,
                  guint            nth)
{
  switch (point)
    {
    case CKPT_FAULT_OPEN:
      /* The root, the new file, then (a fresh manager, which knows nothing
       * of ckpt_3) the read that verifies ckpt_3 before retention counts it
       * as kept: unverified, it is not counted, and ckpt_2 stays instead. */
      return (!warm && nth == 3) ? OUTCOME_QUIET : OUTCOME_FAIL;
    case CKPT_FAULT_READDIR:
      /* The listing is read before anything is written (a save that
       * retention would delete at once is refused). */
      return OUTCOME_FAIL;
    case CKPT_FAULT_UNLINK:
      /* The named path unlinks its temp file (its second name) right after
       * the link; that failure leaves a stale temp file, which the listing
       * under the lock removes. Every other unlink is pruning. */
      return ((flags & CKPT_STORAGE_FLAGS_NO_TMPFILE) && nth == 1) ? OUTCOME_QUIET : OUTCOME_WARN;
    default:
      return OUTCOME_FAIL;
    }
}

/* Makes the starting root (checkpoints 1, 2, 3) and the manager that will
 * save round 4 into it; returns a snapshot of the root. Cold: the template's
 * files, and a fresh manager, which reads the directory. Warm: the manager
 * saved 1, 2, 3 itself, so it knows the listing from its cache (and the
 * save reads no directory). */
static GHashTable *
prepare_root (Fixture      *f,
              gboolean      warm,
              CkptManager **out_mgr)
{
  CkptManager *mgr;
  gint64 r;

  if (!warm)
    {
      reset_root (f);
      *out_mgr = new_manager (f, 3, TRUE);
      return g_hash_table_ref (f->template);
    }

  ckpt_test_rm_rf (f->root_path);
  mgr = new_manager (f, 3, TRUE);
  ckpt_manager_set_durable (mgr, FALSE);
  for (r = 1; r <= 3; r++)
    save_ok (mgr, r);
  ckpt_manager_set_durable (mgr, TRUE);
  *out_mgr = mgr;
  return snapshot_take (f->root_path);
}

/* How many calls at @points a save of round 4 into the template makes. */
static guint
count_calls (Fixture  *f,
             gboolean  warm,
             guint     points)
{
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(GHashTable) snap = NULL;
  guint n;

  snap = prepare_root (f, warm, &mgr);
  ckpt_fault_arm (points, 0, 0);
  save_ok (mgr, 4);
  n = ckpt_fault_count ();
  g_assert_false (ckpt_fault_fired ());
  ckpt_fault_disarm ();
  return n;
}

/* Saves round 4 into the template with the @nth call at @points failing
 * with @err, and checks everything. Returns whether the fault fired. */
static gboolean
run_one_fault (Fixture     *f,
               gboolean     warm,
               guint        points,
               guint        nth,
               int          err,
               Outcome      outcome,
               FaultTotals *totals)
{
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(CkptManager) checker = NULL;
  g_autoptr(GHashTable) before = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok, fired;
  guint warnings_before = retention_warnings, temps;
  gint64 next;

  before = prepare_root (f, warm, &mgr);
  g_signal_connect (mgr, "prune-failed", G_CALLBACK (count_prune_failed), NULL);

  ckpt_fault_arm (points, nth, err);
  ok = ckpt_manager_save (mgr, make_state (4), 4, NULL, &error);
  fired = ckpt_fault_fired ();
  ckpt_fault_disarm ();

  totals->runs++;
  if (!fired)
    {
      /* Past the last call: an undisturbed save. */
      g_assert_cmpint (outcome, ==, OUTCOME_UNKNOWN);
      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_cmpuint (retention_warnings, ==, warnings_before);
      return FALSE;
    }
  totals->fired++;

  if (outcome == OUTCOME_WARN)
    g_assert_cmpuint (retention_warnings, ==, warnings_before + 1);
  else if (outcome != OUTCOME_UNKNOWN)
    g_assert_cmpuint (retention_warnings, ==, warnings_before);
  if (outcome == OUTCOME_UNKNOWN)
    outcome = !ok ? OUTCOME_FAIL
              : retention_warnings > warnings_before ? OUTCOME_WARN : OUTCOME_QUIET;
  g_assert_cmpuint (retention_warnings, <=, warnings_before + 1);

  checker = new_manager (f, 3, TRUE);
  if (outcome == OUTCOME_FAIL)
    {
      g_autoptr(GHashTable) after = snapshot_take (f->root_path);

      g_assert_false (ok);
      g_assert_error (error, G_IO_ERROR, (int) g_io_error_from_errno (err));
      g_assert_nonnull (strstr (error->message, f->root_path));
      /* Byte for byte as before: no ckpt_4, no temp file. */
      snapshot_assert (after, before, TRUE);
      assert_not_found (checker, 4);
      g_assert_cmpint (assert_all_valid (checker), ==, 3);
      totals->failed_saves++;
      next = 4;
    }
  else
    {
      g_assert_no_error (error);
      g_assert_true (ok);
      load_ok (checker, 4);
      g_assert_cmpint (assert_all_valid (checker), ==, 4);
      assert_unchanged (f, before, 1, FALSE);
      assert_unchanged (f, before, 3, FALSE);
      /* ckpt_2 is the victim: gone, or kept when pruning failed. */
      assert_unchanged (f, before, 2, outcome == OUTCOME_QUIET);
      if (outcome == OUTCOME_WARN)
        totals->warned_saves++;
      else
        totals->quiet_saves++;
      next = 5;
    }

  /* Temp files: none, except after a failed unlink of one (the named path),
   * which the next save removes. */
  temps = count_temps (f->root_path, PREFIX);
  if (temps > 0)
    {
      g_assert_true (f->flags & CKPT_STORAGE_FLAGS_NO_TMPFILE);
      g_assert_true (points & CKPT_FAULT_UNLINK);
      g_assert_cmpint (outcome, ==, OUTCOME_QUIET);
      totals->temps_left++;
    }

  /* An undisturbed save by the same manager (with whatever it cached)
   * brings the root to exactly what retention keeps. */
  save_ok (mgr, next);
  if (next == 4)
    ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_3", "ckpt_4");
  else
    ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_4", "ckpt_5");
  g_assert_cmpint (assert_all_valid (checker), ==, next);
  assert_unchanged (f, before, 1, FALSE);

  return TRUE;
}

static void
report_totals (const char        *what,
               Fixture           *f,
               gboolean           warm,
               const FaultTotals *t)
{
  g_test_message ("%s (%s, %s): %u saves, %u faults injected: %u saves failed cleanly, "
                  "%u saved with a retention warning, %u saved quietly (temp unlink), "
                  "%u left a temp file that the next save removed",
                  what, (f->flags & CKPT_STORAGE_FLAGS_NO_TMPFILE) ? "named temp" : "O_TMPFILE",
                  warm ? "cached listing" : "fresh manager",
                  t->runs, t->fired, t->failed_saves, t->warned_saves, t->quiet_saves,
                  t->temps_left);
}

static void
test_each_point (Fixture       *f,
                 gconstpointer  data)
{
  gboolean warm;

  make_template (f, 3);

  for (warm = FALSE; warm <= TRUE; warm++)
    {
      FaultTotals totals = { 0, };
      gsize p, e;

      for (p = 0; p < G_N_ELEMENTS (fault_points); p++)
        {
          guint point = fault_points[p].point;
          guint n_calls = count_calls (f, warm, point);

          g_test_message ("%s: %u call(s) in a save (%s)", fault_points[p].name, n_calls,
                          warm ? "cached listing" : "fresh manager");
          /* Only the listing may be skipped, when it comes from the cache. */
          if (point != CKPT_FAULT_READDIR || !warm)
            g_assert_cmpuint (n_calls, >=, 1);

          for (e = 0; e < G_N_ELEMENTS (fault_errnos); e++)
            {
              guint nth;

              for (nth = 1; nth <= n_calls; nth++)
                g_assert_true (run_one_fault (f, warm, point, nth, fault_errnos[e],
                                              expected_outcome (f->flags, warm, point, nth), &totals));
              /* The save no longer reaches the next one. */
              g_assert_false (run_one_fault (f, warm, point, n_calls + 1, fault_errnos[e],
                                             OUTCOME_UNKNOWN, &totals));
            }
        }

      report_totals ("each point", f, warm, &totals);
    }
}

/* The Nth call among all points, whatever it is. */
static void
test_all_points (Fixture       *f,
                 gconstpointer  data)
{
  const guint points = CKPT_FAULT_ALL & ~CKPT_FAULT_MMAP;
  gboolean warm;

  make_template (f, 3);

  /* Which call the Nth is is not known here: prune-failed signals are
   * counted, checked to be at most one per save, instead of expected. */

  for (warm = FALSE; warm <= TRUE; warm++)
    {
      FaultTotals totals = { 0, };
      guint n_calls, nth;
      gsize e;

      retention_warnings = 0;
      n_calls = count_calls (f, warm, points);
      g_test_message ("all points: %u calls in a save (%s)", n_calls,
                      warm ? "cached listing" : "fresh manager");

      for (e = 0; e < G_N_ELEMENTS (fault_errnos); e++)
        {
          for (nth = 1; nth <= n_calls; nth++)
            g_assert_true (run_one_fault (f, warm, points, nth, fault_errnos[e], OUTCOME_UNKNOWN, &totals));
          g_assert_false (run_one_fault (f, warm, points, n_calls + 1, fault_errnos[e],
                                         OUTCOME_UNKNOWN, &totals));
        }

      g_assert_cmpuint (totals.warned_saves, ==, retention_warnings);
      report_totals ("all points", f, warm, &totals);
    }

}

/* A failed fsync is never retried into a success: nothing after it runs
 * (no second fsync, no link), the save fails, the round does not exist. */
static void
test_fsync_not_retried (Fixture       *f,
                        gconstpointer  data)
{
  const guint later = CKPT_FAULT_FSYNC_FILE | CKPT_FAULT_LINK | CKPT_FAULT_FSYNC_DIR;
  gsize e;

  make_template (f, 3);

  for (e = 0; e < G_N_ELEMENTS (fault_errnos); e++)
    {
      g_autoptr(CkptManager) mgr = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GHashTable) after = NULL;
      gboolean ok;

      /* The file's fsync fails: no link, no directory fsync follow. */
      reset_root (f);
      mgr = new_manager (f, 3, TRUE);
      ckpt_fault_arm (later, 1, fault_errnos[e]);
      ok = ckpt_manager_save (mgr, make_state (4), 4, NULL, &error);
      g_assert_true (ckpt_fault_fired ());
      g_assert_cmpuint (ckpt_fault_count (), ==, 1);
      ckpt_fault_disarm ();
      g_assert_false (ok);
      g_assert_error (error, G_IO_ERROR, (int) g_io_error_from_errno (fault_errnos[e]));
      after = snapshot_take (f->root_path);
      snapshot_assert (after, f->template, TRUE);
      assert_not_found (mgr, 4);
      g_clear_pointer (&after, g_hash_table_unref);
      g_clear_error (&error);

      /* The directory's fsync fails after the link: the save takes the
       * checkpoint back and fails; it does not fsync again. */
      ckpt_fault_arm (CKPT_FAULT_FSYNC_DIR, 1, fault_errnos[e]);
      ok = ckpt_manager_save (mgr, make_state (4), 4, NULL, &error);
      g_assert_true (ckpt_fault_fired ());
      g_assert_cmpuint (ckpt_fault_count (), ==, 1);
      ckpt_fault_disarm ();
      g_assert_false (ok);
      g_assert_error (error, G_IO_ERROR, (int) g_io_error_from_errno (fault_errnos[e]));
      g_assert_nonnull (strstr (error->message, f->root_path));
      after = snapshot_take (f->root_path);
      snapshot_assert (after, f->template, TRUE);
      assert_not_found (mgr, 4);
      g_clear_error (&error);

      /* The same manager (its listing cache included) then saves round 4
       * for real: it was not left believing round 4 exists. */
      save_ok (mgr, 4);
      ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_3", "ckpt_4");
      load_ok (mgr, 4);
    }

  /* Not durable, pruning nothing: no fsync at all (as fast as it was). */
  {
    g_autoptr(CkptManager) mgr = NULL;

    reset_root (f);
    mgr = new_manager (f, 5, TRUE);
    ckpt_manager_set_durable (mgr, FALSE);
    ckpt_fault_arm (CKPT_FAULT_FSYNC_FILE | CKPT_FAULT_FSYNC_DIR, 1, EIO);
    save_ok (mgr, 4);
    g_assert_cmpuint (ckpt_fault_count (), ==, 0);
    ckpt_fault_disarm ();
  }

  /* Not durable, pruning: an older checkpoint is deleted only after a newer
   * one that is kept (the oldest intact one, ckpt_3) is flushed, so that a
   * power cut cannot leave an empty new file and no old one. One fsync of
   * a file, none of the directory; when it fails, nothing is deleted (and
   * prune-failed says so), and the save still succeeds. */
  for (e = 0; e < G_N_ELEMENTS (fault_errnos); e++)
    {
      g_autoptr(CkptManager) mgr = NULL;
      guint warnings_before = retention_warnings;

      reset_root (f);
      mgr = new_manager (f, 3, TRUE);
      ckpt_manager_set_durable (mgr, FALSE);
      g_signal_connect (mgr, "prune-failed", G_CALLBACK (count_prune_failed), NULL);
      ckpt_fault_arm (CKPT_FAULT_FSYNC_FILE | CKPT_FAULT_FSYNC_DIR, 0, 0);
      save_ok (mgr, 4);
      g_assert_cmpuint (ckpt_fault_count (), ==, 2);
      ckpt_fault_disarm ();
      ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_3", "ckpt_4");

      reset_root (f);
      g_clear_object (&mgr);
      mgr = new_manager (f, 3, TRUE);
      ckpt_manager_set_durable (mgr, FALSE);
      g_signal_connect (mgr, "prune-failed", G_CALLBACK (count_prune_failed), NULL);
      ckpt_fault_arm (CKPT_FAULT_FSYNC_FILE, 1, fault_errnos[e]);
      save_ok (mgr, 4);
      g_assert_true (ckpt_fault_fired ());
      ckpt_fault_disarm ();
      g_assert_cmpuint (retention_warnings, ==, warnings_before + 1);
      ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_2", "ckpt_3", "ckpt_4");
      assert_unchanged (f, f->template, 2, FALSE);

      /* The next save, with the disk back, prunes both. */
      save_ok (mgr, 5);
      ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_4", "ckpt_5");
    }
}

/* Faults while loading: an I/O error is an error, never a silent fallback
 * to an older checkpoint, and nothing on disk changes. */
static void
test_load_faults (Fixture       *f,
                  gconstpointer  data)
{
  const guint points[] = { CKPT_FAULT_OPEN, CKPT_FAULT_MMAP, CKPT_FAULT_READDIR };
  gsize p, e;
  guint n_faults = 0;

  make_template (f, 3);
  reset_root (f);

  for (p = 0; p < G_N_ELEMENTS (points); p++)
    for (e = 0; e < G_N_ELEMENTS (fault_errnos); e++)
      {
        guint nth;

        for (nth = 1; ; nth++)
          {
            g_autoptr(CkptManager) mgr = new_manager (f, 3, TRUE);
            g_autoptr(GError) error = NULL;
            g_autoptr(GVariant) value = NULL;
            g_autoptr(GHashTable) after = NULL;
            gint64 round_num = -2;
            gboolean fired;

            ckpt_fault_arm (points[p], nth, fault_errnos[e]);
            value = ckpt_manager_load_latest (mgr, G_VARIANT_TYPE (STATE_TYPE), &round_num, NULL, &error);
            fired = ckpt_fault_fired ();
            ckpt_fault_disarm ();

            after = snapshot_take (f->root_path);
            snapshot_assert (after, f->template, TRUE);
            if (!fired)
              {
                g_assert_no_error (error);
                g_assert_cmpint (round_num, ==, 3);
                assert_state (value, 3);
                break;
              }
            n_faults++;
            g_assert_null (value);
            g_assert_error (error, G_IO_ERROR, (int) g_io_error_from_errno (fault_errnos[e]));
            g_assert_nonnull (strstr (error->message, f->root_path));
            g_assert_cmpint (round_num, ==, -1);
          }
      }

  g_test_message ("load faults: %u injected", n_faults);
}

/* ------------------------------------------------------------------------ */
/* Point 3: pruning interrupted after the commit */

static void
test_prune_interrupted (Fixture       *f,
                        gconstpointer  data)
{
  guint n_calls, nth;
  gsize e;
  guint n_faults = 0;

  /* Rounds 1..10 on disk; saving 11 with keep-total 3 (keep-first) prunes
   * 2..9: eight unlinks. */
  make_template (f, 10);

  {
    g_autoptr(CkptManager) mgr = NULL;

    reset_root (f);
    mgr = new_manager (f, 3, TRUE);
    ckpt_fault_arm (CKPT_FAULT_UNLINK, 0, 0);
    save_ok (mgr, 11);
    n_calls = ckpt_fault_count ();
    ckpt_fault_disarm ();
    g_assert_cmpuint (n_calls, >=, 8);
    ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_10", "ckpt_11");
  }

  for (e = 0; e < G_N_ELEMENTS (fault_errnos); e++)
    for (nth = 1; nth <= n_calls; nth++)
      {
        Outcome outcome = expected_outcome (f->flags, FALSE, CKPT_FAULT_UNLINK, nth);
        guint warnings_before = retention_warnings;
        g_autoptr(CkptManager) mgr = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree gint64 *rounds = NULL;
        gsize n_rounds = 0, i;
        gboolean ok;

        reset_root (f);
        mgr = new_manager (f, 3, TRUE);
        g_signal_connect (mgr, "prune-failed", G_CALLBACK (count_prune_failed), NULL);
        ckpt_fault_arm (CKPT_FAULT_UNLINK, nth, fault_errnos[e]);
        ok = ckpt_manager_save (mgr, make_state (11), 11, NULL, &error);
        g_assert_true (ckpt_fault_fired ());
        ckpt_fault_disarm ();
        g_assert_cmpuint (retention_warnings, ==, warnings_before + (outcome == OUTCOME_WARN));
        g_assert_no_error (error);
        g_assert_true (ok);
        n_faults++;

        /* The newest loads; every checkpoint left is valid; what is left
         * is the kept ones plus, when pruning failed, the one victim. */
        g_assert_cmpint (assert_all_valid (mgr), ==, 11);
        rounds = ckpt_manager_list_rounds (mgr, &n_rounds, &error);
        g_assert_no_error (error);
        g_assert_cmpuint (n_rounds, ==, outcome == OUTCOME_WARN ? 4 : 3);
        g_assert_cmpint (rounds[0], ==, 1);
        g_assert_cmpint (rounds[n_rounds - 2], ==, 10);
        g_assert_cmpint (rounds[n_rounds - 1], ==, 11);
        for (i = 0; i < n_rounds; i++)
          if (rounds[i] < 11)
            assert_unchanged (f, f->template, rounds[i], FALSE);

        /* The next save prunes what was left over. */
        save_ok (mgr, 12);
        ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_11", "ckpt_12");
        g_assert_cmpint (assert_all_valid (mgr), ==, 12);
      }

  /* The listing fails: it is read before anything is written (to refuse a
   * round that retention would delete at once), so the save fails and
   * changes nothing; the next save goes through. */
  for (e = 0; e < G_N_ELEMENTS (fault_errnos); e++)
    {
      g_autoptr(CkptManager) mgr = NULL;
      g_autoptr(GError) error = NULL;

      reset_root (f);
      mgr = new_manager (f, 3, TRUE);
      ckpt_fault_arm (CKPT_FAULT_READDIR, 1, fault_errnos[e]);
      g_assert_false (ckpt_manager_save (mgr, make_state (11), 11, NULL, &error));
      g_assert_true (ckpt_fault_fired ());
      ckpt_fault_disarm ();
      g_assert_error (error, G_IO_ERROR, (int) g_io_error_from_errno (fault_errnos[e]));
      n_faults++;
      ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_10", "ckpt_2", "ckpt_3",
                                "ckpt_4", "ckpt_5", "ckpt_6", "ckpt_7", "ckpt_8", "ckpt_9");
      g_assert_cmpint (assert_all_valid (mgr), ==, 10);
      save_ok (mgr, 11);
      ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_10", "ckpt_11");
    }

  g_test_message ("interrupted pruning: %u faults injected", n_faults);
}

/* ------------------------------------------------------------------------ */
/* Point 7: stale leftovers and other programs' files */

static void
write_temp (Fixture      *f,
            gint64        round_num,
            GBytes       *contents,
            gsize         len,
            GPtrArray    *names)
{
  g_autofree char *name = ckpt_storage_build_temp_name (PREFIX, round_num);
  g_autofree char *path = g_build_filename (f->root_path, name, NULL);

  g_assert_true (ckpt_storage_is_temp_name (PREFIX, name));
  ckpt_test_write_file (path, g_bytes_get_data (contents, NULL), MIN (len, g_bytes_get_size (contents)));
  g_ptr_array_add (names, g_steal_pointer (&name));
}

static void
test_stale_temps (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(GPtrArray) temps = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GBytes) full4 = ckpt_format_encode_bytes (make_state (4), 4, 0, CKPT_FORMAT_ENCODE_NONE);
  g_autoptr(GBytes) full9 = ckpt_format_encode_bytes (make_state (9), 9, 0, CKPT_FORMAT_ENCODE_NONE);
  g_autoptr(GHashTable) before = NULL;
  g_autoptr(GHashTable) after = NULL;
  g_autoptr(GVariant) latest = NULL;
  g_autoptr(GError) error = NULL;
  gint64 latest_round = -1;
  guint i;

  make_template (f, 3);
  reset_root (f);

  /* What writers killed at various moments leave in the named path: an
   * empty file, a half-written one, a complete one never linked (round 9,
   * newer than anything), one of a round that exists. */
  write_temp (f, 4, full4, 0, temps);
  write_temp (f, 4, full4, g_bytes_get_size (full4) / 2, temps);
  write_temp (f, 9, full9, G_MAXSIZE, temps);
  write_temp (f, 2, g_ptr_array_index (f->template_files, 1), G_MAXSIZE, temps);
  /* A temp file of another prefix is another program's. */
  {
    g_autofree char *other = ckpt_storage_build_temp_name ("other_", 4);
    g_autofree char *path = g_build_filename (f->root_path, other, NULL);

    ckpt_test_write_file (path, "other", 5);
  }

  /* Loads and listings ignore them and change nothing. */
  before = snapshot_take (f->root_path);
  mgr = new_manager (f, 3, TRUE);
  g_assert_cmpint (assert_all_valid (mgr), ==, 3);
  assert_not_found (mgr, 4);
  assert_not_found (mgr, 9);
  latest = ckpt_manager_load_latest (mgr, NULL, &latest_round, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (latest_round, ==, 3);
  after = snapshot_take (f->root_path);
  snapshot_assert (after, before, TRUE);
  g_assert_cmpuint (count_temps (f->root_path, PREFIX), ==, temps->len);

  /* The next save (either path) removes every one of ours. */
  save_ok (mgr, 4);
  g_assert_cmpuint (count_temps (f->root_path, PREFIX), ==, 0);
  for (i = 0; i < temps->len; i++)
    {
      g_autofree char *path = g_build_filename (f->root_path, g_ptr_array_index (temps, i), NULL);

      g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
    }
  g_clear_pointer (&after, g_hash_table_unref);
  after = snapshot_take (f->root_path);
  g_assert_cmpuint (count_temps (f->root_path, "other_"), ==, 1);
  {
    g_autoptr(GPtrArray) names = ckpt_test_list_dir (f->root_path);

    g_assert_cmpuint (names->len, ==, 4);   /* ckpt_1, ckpt_3, ckpt_4, .other_… */
  }
  g_assert_cmpint (assert_all_valid (mgr), ==, 4);
  assert_unchanged (f, f->template, 1, FALSE);
  assert_unchanged (f, f->template, 3, FALSE);
}

/* Whatever is not a checkpoint of this prefix is left alone, through any
 * number of saves, prunes and loads. */
static void
test_foreign_files (Fixture       *f,
                    gconstpointer  data)
{
  static const char * const foreign[] = {
    "other_1", "other_2", "ckpt_01", "ckpt_007", "ckpt_1.bak", "ckpt_", "ckpt_x",
    "ckpt_-1", "ckpt_+2", "ckpt_ 3", "ckpt_3 ", "ckpt_99999999999999999999", "CKPT_3",
    "ckpt", "xckpt_3", ".hidden", ".ckpt_3", ".ckpt_3.tmp-", ".ckpt_3.tmp-ABC",
    ".ckpt_3.tmp-ABCDEF.bak", ".ckpt_03.tmp-ABCDEF", ".ckpt_x.tmp-ABCDEF",
    ".ckpt_3.tmp-ABC_EF", "ckpt_3.tmp-ABCDEF", ".other_3.tmp-ABCDEF",
    "..ckpt_3.tmp-ABCDEF",
  };
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(GHashTable) before = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  gsize i;
  gint64 r;

  g_assert_cmpint (g_mkdir_with_parents (f->root_path, 0755), ==, 0);
  for (i = 0; i < G_N_ELEMENTS (foreign); i++)
    {
      g_autofree char *p = g_build_filename (f->root_path, foreign[i], NULL);

      ckpt_test_write_file (p, foreign[i], strlen (foreign[i]));
    }
  /* A directory and a symlink under checkpoint names, a directory under a
   * temp name, a subdirectory holding checkpoint names. */
  path = g_build_filename (f->root_path, "ckpt_7", NULL);
  g_assert_cmpint (g_mkdir (path, 0755), ==, 0);
  g_free (path);
  path = g_build_filename (f->root_path, "ckpt_7", "ckpt_1", NULL);
  ckpt_test_write_file (path, "inner", 5);
  g_free (path);
  path = g_build_filename (f->root_path, "ckpt_8", NULL);
  g_assert_cmpint (symlink ("other_1", path), ==, 0);
  g_free (path);
  path = g_build_filename (f->root_path, ".ckpt_5.tmp-ABCDEF", NULL);
  g_assert_cmpint (g_mkdir (path, 0755), ==, 0);
  g_free (path);
  path = g_build_filename (f->root_path, "sub", NULL);
  g_assert_cmpint (g_mkdir (path, 0755), ==, 0);
  g_free (path);
  path = g_build_filename (f->root_path, "sub", "ckpt_1", NULL);
  ckpt_test_write_file (path, "nested", 6);
  g_clear_pointer (&path, g_free);

  before = snapshot_take (f->root_path);

  mgr = new_manager (f, 2, FALSE);
  {
    g_autofree gint64 *rounds = NULL;
    gsize n_rounds = 99;

    rounds = ckpt_manager_list_rounds (mgr, &n_rounds, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (n_rounds, ==, 0);
  }

  for (r = 1; r <= 12; r++)
    {
      g_autoptr(GHashTable) now = NULL;

      if (r == 7 || r == 8)
        {
          /* The name is taken (a directory, a symlink): never replaced. */
          g_assert_false (ckpt_manager_save (mgr, make_state (r), r, NULL, &error));
          g_assert_error (error, CKPT_ERROR, CKPT_ERROR_EXISTS);
          g_clear_error (&error);
          continue;
        }
      save_ok (mgr, r);
      g_assert_cmpint (assert_all_valid (mgr), ==, r);
      now = snapshot_take (f->root_path);
      snapshot_assert (now, before, FALSE);
    }

  /* Ours: the newest two; theirs: all of it, unchanged. */
  {
    g_autoptr(GHashTable) now = snapshot_take (f->root_path);
    g_autofree gint64 *rounds = NULL;
    gsize n_rounds = 0;

    snapshot_assert (now, before, FALSE);
    g_assert_cmpuint (g_hash_table_size (now), ==, g_hash_table_size (before) + 2);
    rounds = ckpt_manager_list_rounds (mgr, &n_rounds, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (n_rounds, ==, 2);
    g_assert_cmpint (rounds[0], ==, 11);
    g_assert_cmpint (rounds[1], ==, 12);
  }
}

/* A FIFO (or other special file) under a checkpoint's name is not a
 * checkpoint: listings skip it, saves refuse its round, and loading its
 * round explicitly fails without blocking on the FIFO. */
static void
test_fifo (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(GHashTable) before = NULL;
  g_autoptr(GHashTable) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *fifo = NULL;

  if (g_test_subprocess ())
    {
      g_autoptr(GVariant) value = NULL;

      mgr = new_manager (f, 3, TRUE);
      value = ckpt_manager_load (mgr, NULL, 6, NULL, &error);
      g_assert_null (value);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
      return;
    }

  g_assert_cmpint (g_mkdir_with_parents (f->root_path, 0755), ==, 0);
  fifo = g_build_filename (f->root_path, "ckpt_6", NULL);
  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);

  mgr = new_manager (f, 3, TRUE);
  save_ok (mgr, 5);
  before = snapshot_take (f->root_path);
  g_assert_cmpint (assert_all_valid (mgr), ==, 5);
  g_assert_false (ckpt_manager_save (mgr, make_state (6), 6, NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_EXISTS);
  save_ok (mgr, 7);

  /* The explicit load, in a subprocess: a blocking open() of the FIFO
   * would hang until the timeout. */
  g_setenv (SUBPROCESS_ROOT_ENV, f->root_path, TRUE);
  g_test_trap_subprocess (NULL, 5 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv (SUBPROCESS_ROOT_ENV);
  g_test_trap_assert_passed ();

  after = snapshot_take (f->root_path);
  snapshot_assert (after, before, FALSE);
}

int
main (int   argc,
      char *argv[])
{
  static const struct
  {
    const char       *suffix;
    CkptStorageFlags  flags;
  } paths[] = {
    { "tmpfile", CKPT_STORAGE_FLAGS_NONE },
    { "named-temp", CKPT_STORAGE_FLAGS_NO_TMPFILE },
  };
  static const struct
  {
    const char *path;
    void (*func) (Fixture *, gconstpointer);
  } tests[] = {
    { "/ckpt/reliability/faults/each-point", test_each_point },
    { "/ckpt/reliability/faults/all-points", test_all_points },
    { "/ckpt/reliability/faults/fsync-not-retried", test_fsync_not_retried },
    { "/ckpt/reliability/faults/load", test_load_faults },
    { "/ckpt/reliability/prune/interrupted", test_prune_interrupted },
    { "/ckpt/reliability/leftovers/stale-temps", test_stale_temps },
    { "/ckpt/reliability/leftovers/foreign-files", test_foreign_files },
    { "/ckpt/reliability/leftovers/fifo", test_fifo },
  };
  gsize t, p;

  g_test_init (&argc, &argv, NULL);

  for (t = 0; t < G_N_ELEMENTS (tests); t++)
    for (p = 0; p < G_N_ELEMENTS (paths); p++)
      {
        g_autofree char *name = g_strdup_printf ("%s/%s", tests[t].path, paths[p].suffix);

        g_test_add (name, Fixture, GUINT_TO_POINTER (paths[p].flags),
                    fixture_setup, tests[t].func, fixture_teardown);
      }

  /* GIO's generic operations too (CKPT_STORAGE_FLAGS_FORCE_GENERIC). */
  g_test_add ("/ckpt/reliability/leftovers/fifo/generic", Fixture,
              GUINT_TO_POINTER (CKPT_STORAGE_FLAGS_FORCE_GENERIC),
              fixture_setup, test_fifo, fixture_teardown);

  return g_test_run ();
}
