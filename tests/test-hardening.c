/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Regression tests of issue 13 (hardening before 1.0), the retention and
 * listing items:
 *
 *  1. a save that retention would delete at once is refused
 *     (CKPT_ERROR_SUPERSEDED) before anything is written, and
 *     load_latest_or_default then returns the newer checkpoint;
 *  3. a long-lived manager sees every change made by anyone else by its
 *     next call, also one made during its own save, and leaves the
 *     directory's times alone;
 *  5. without `durable`, an old checkpoint is deleted only after a newer
 *     kept one was flushed (see also test-faults);
 *  6. a checkpoint that retention cannot delete is reported with
 *     `prune-failed`, and the save succeeds;
 *  9. damaged checkpoints take no kept place: retention never deletes the
 *     newest checkpoint that verifies.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <ckpt-glib/ckpt-glib.h>

#include "ckpt-fault-private.h"
#include "ckpt-manager-private.h"
#include "ckpt-test-util.h"

typedef struct
{
  char    *tmpdir;
  char    *root_path;
  GString *log;     /* "S5 P2 C4 F3 …": saved, pruned, corrupt, prune-failed */
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->tmpdir = g_dir_make_tmp ("test-hardening-XXXXXX", &error);
  g_assert_no_error (error);
  f->root_path = g_build_filename (f->tmpdir, "root", NULL);
  f->log = g_string_new (NULL);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  ckpt_test_rm_rf (f->tmpdir);
  g_free (f->root_path);
  g_free (f->tmpdir);
  g_string_free (f->log, TRUE);
}

static void
log_event (Fixture    *f,
           char        kind,
           gint64      round_num)
{
  g_string_append_printf (f->log, "%s%c%" G_GINT64_FORMAT, f->log->len > 0 ? " " : "", kind, round_num);
}

static void
on_saved (CkptManager *mgr, gint64 round_num, GFile *file, Fixture *f)
{
  log_event (f, 'S', round_num);
}

static void
on_pruned (CkptManager *mgr, gint64 round_num, GFile *file, Fixture *f)
{
  log_event (f, 'P', round_num);
}

static void
on_corrupt (CkptManager *mgr, gint64 round_num, GFile *file, GError *error, Fixture *f)
{
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
  log_event (f, 'C', round_num);
}

static void
on_prune_failed (CkptManager *mgr, gint64 round_num, GFile *file, GError *error, Fixture *f)
{
  g_autofree char *path = g_file_get_path (file);

  g_assert_nonnull (error);
  /* The file is still there. */
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  log_event (f, 'F', round_num);
}

static void
assert_log (Fixture    *f,
            const char *expected)
{
  g_assert_cmpstr (f->log->str, ==, expected);
  g_string_truncate (f->log, 0);
}

static CkptManager *
new_manager (Fixture  *f,
             int       keep_total,
             gboolean  keep_first)
{
  g_autoptr(GError) error = NULL;
  CkptManager *mgr = ckpt_manager_new_for_path (f->root_path, NULL, keep_total, keep_first, &error);

  g_assert_no_error (error);
  g_signal_connect (mgr, "saved", G_CALLBACK (on_saved), f);
  g_signal_connect (mgr, "pruned", G_CALLBACK (on_pruned), f);
  g_signal_connect (mgr, "corrupt", G_CALLBACK (on_corrupt), f);
  g_signal_connect (mgr, "prune-failed", G_CALLBACK (on_prune_failed), f);
  return mgr;
}

static GVariant *
make_state (gint64 round_num)
{
  return g_variant_new ("(xs)", round_num, "some state");
}

static void
save_ok (CkptManager *mgr,
         gint64       round_num)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (ckpt_manager_save (mgr, make_state (round_num), round_num, NULL, &error));
  g_assert_no_error (error);
}

static char *
rounds_of (CkptManager *mgr)
{
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *rounds = NULL;
  gsize n = 0;

  rounds = ckpt_manager_list_rounds (mgr, &n, &error);
  g_assert_no_error (error);
  return ckpt_test_rounds_string (rounds, n);
}

static char *
path_of (Fixture *f,
         gint64   round_num)
{
  g_autofree char *name = g_strdup_printf ("ckpt_%" G_GINT64_FORMAT, round_num);

  return g_build_filename (f->root_path, name, NULL);
}

/* Changes the last byte of a checkpoint in place (its checksum no longer
 * matches). */
static void
damage (Fixture *f,
        gint64   round_num)
{
  g_autofree char *path = path_of (f, round_num);
  struct stat st;
  guint8 byte;
  int fd = open (path, O_RDWR);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (fstat (fd, &st), ==, 0);
  g_assert_cmpint (pread (fd, &byte, 1, st.st_size - 1), ==, 1);
  byte ^= 0x5a;
  g_assert_cmpint (pwrite (fd, &byte, 1, st.st_size - 1), ==, 1);
  close (fd);
}

/* Item 1 ------------------------------------------------------------------ */

static void
test_superseded (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = new_manager (f, 3, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autofree char *listing = NULL;
  gint64 r;

  for (r = 0; r <= 10; r++)
    save_ok (mgr, r);
  g_string_truncate (f->log, 0);
  listing = rounds_of (mgr);
  g_assert_cmpstr (listing, ==, "0 9 10");

  /* Rolled back to round 4, the program saves round 5: retention would
   * delete it at once. Refused, nothing written, no signal. */
  g_assert_false (ckpt_manager_save (mgr, make_state (5), 5, NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_SUPERSEDED);
  g_assert_nonnull (strstr (error->message, "round 5"));
  g_assert_nonnull (strstr (error->message, "keep-total 3"));
  g_assert_nonnull (strstr (error->message, "Nothing was written"));
  g_clear_error (&error);
  assert_log (f, "");
  ckpt_test_assert_listing (f->root_path, "ckpt_0", "ckpt_10", "ckpt_9");
  value = ckpt_manager_load (mgr, NULL, 5, NULL, &error);
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
  g_assert_null (value);
  g_clear_error (&error);

  /* Round 8 would be kept (9 and 10 are the two newest besides round 0,
   * so 8 would be the third newest): also refused, keep-total 3 keeps 2
   * besides the first. Round 11 goes through and prunes 9. */
  g_assert_false (ckpt_manager_save (mgr, make_state (8), 8, NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_SUPERSEDED);
  g_clear_error (&error);
  save_ok (mgr, 11);
  assert_log (f, "S11 P9");

  /* With more room, an older round is kept, not refused. */
  ckpt_manager_set_keep_total (mgr, 5);
  save_ok (mgr, 7);
  assert_log (f, "S7");
  g_free (listing);
  listing = rounds_of (mgr);
  g_assert_cmpstr (listing, ==, "0 7 10 11");

  /* A round older than every other becomes the first, which is kept. */
  ckpt_test_rm_rf (f->root_path);
  ckpt_manager_set_keep_total (mgr, 2);
  save_ok (mgr, 20);
  save_ok (mgr, 21);
  save_ok (mgr, 22);
  g_string_truncate (f->log, 0);
  save_ok (mgr, 3);
  assert_log (f, "S3 P20");

  /* Without keep-first, round 0 of a program starting fresh while another
   * writer is ahead is refused too. */
  ckpt_manager_set_keep_first (mgr, FALSE);
  g_assert_false (ckpt_manager_save (mgr, make_state (0), 0, NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_SUPERSEDED);
  g_clear_error (&error);
  assert_log (f, "");
}

/* load_latest_or_default finds no checkpoint, and by the time it saves its
 * round 0, another writer has saved rounds 1 and 2 (keep-total 2, without
 * keep-first): round 0 would be pruned at once, so it is not saved, and the
 * other writer's newest is returned. The other writer holds the directory's
 * lock while the manager starts, so the manager's save waits for it. */
typedef struct
{
  Fixture *f;
  int      lock_fd;
  GBytes  *ckpt[3];
} AheadWriter;

static gpointer
ahead_writer_thread (gpointer data)
{
  AheadWriter *w = data;
  gint64 r;

  /* Time for the manager to list an empty root and wait for the lock. */
  g_usleep (300 * 1000);
  for (r = 1; r <= 2; r++)
    {
      g_autofree char *path = path_of (w->f, r);

      ckpt_test_write_file (path, g_bytes_get_data (w->ckpt[r], NULL), g_bytes_get_size (w->ckpt[r]));
    }
  close (w->lock_fd);   /* releases the flock */
  return NULL;
}

static void
test_or_default_behind (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(CkptManager) other = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *elsewhere = g_build_filename (f->tmpdir, "elsewhere", NULL);
  AheadWriter w = { f, -1, { NULL, } };
  GThread *thread;
  gint64 round_num = -1, r;

  /* The other writer's checkpoints, made elsewhere first. */
  other = ckpt_manager_new_for_path (elsewhere, NULL, 0, TRUE, &error);
  g_assert_no_error (error);
  for (r = 1; r <= 2; r++)
    {
      g_autofree char *name = g_strdup_printf ("ckpt_%" G_GINT64_FORMAT, r);
      g_autofree char *path = g_build_filename (elsewhere, name, NULL);

      save_ok (other, r);
      w.ckpt[r] = ckpt_test_read_bytes (path);
    }

  g_assert_cmpint (g_mkdir (f->root_path, 0755), ==, 0);
  w.lock_fd = open (f->root_path, O_RDONLY | O_DIRECTORY);
  g_assert_cmpint (w.lock_fd, >=, 0);
  g_assert_cmpint (flock (w.lock_fd, LOCK_EX), ==, 0);
  thread = g_thread_new ("ahead", ahead_writer_thread, &w);

  mgr = new_manager (f, 2, FALSE);
  value = ckpt_manager_load_latest_or_default (mgr, make_state (0), &round_num, NULL, &error);
  g_thread_join (thread);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 2);
  {
    g_autoptr(GVariant) first = g_variant_get_child_value (value, 0);

    g_assert_cmpint (g_variant_get_int64 (first), ==, 2);
  }
  ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_2");
  for (r = 1; r <= 2; r++)
    g_bytes_unref (w.ckpt[r]);
}

/* Item 3 ------------------------------------------------------------------ */

/* Writes a copy of the checkpoint of @from as round @to, as a person
 * copying files would (in place, then under its name). */
static void
copy_checkpoint (Fixture *f,
                 gint64   from,
                 gint64   to,
                 GBytes  *bytes)
{
  g_autofree char *path = path_of (f, to);

  ckpt_test_write_file (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

/* Another checkpoint file of round @round_num, as another writer would
 * write it: a manager of its own. */
static void
save_elsewhere (Fixture *f,
                gint64   round_num)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CkptManager) other = ckpt_manager_new_for_path (f->root_path, NULL, 0, TRUE, &error);

  g_assert_no_error (error);
  save_ok (other, round_num);
}

static void
test_outside_changes (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = new_manager (f, 0, TRUE);
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *listing = NULL;
  g_autofree char *path = NULL;
  gint64 latest = -1, before;
  struct stat st;

  save_ok (mgr, 1);
  before = g_get_real_time ();
  save_ok (mgr, 2);
  listing = rounds_of (mgr);
  g_assert_cmpstr (listing, ==, "1 2");
  /* The directory's times are the kernel's (no stamp into the past). */
  g_assert_cmpint (stat (f->root_path, &st), ==, 0);
  g_assert_cmpint ((gint64) st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000,
                   >=, before - 20000);

  /* Another manager saves; a person deletes one and copies one in. */
  save_elsewhere (f, 5);
  path = path_of (f, 5);
  bytes = ckpt_test_read_bytes (path);
  g_clear_pointer (&listing, g_free);
  listing = rounds_of (mgr);
  g_assert_cmpstr (listing, ==, "1 2 5");
  value = ckpt_manager_load_latest (mgr, NULL, &latest, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (latest, ==, 5);
  g_clear_pointer (&value, g_variant_unref);

  g_clear_pointer (&path, g_free);
  path = path_of (f, 1);
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_clear_pointer (&listing, g_free);
  listing = rounds_of (mgr);
  g_assert_cmpstr (listing, ==, "2 5");

  /* A copy renamed into place (g_file_set_contents() writes a temp file
   * and renames it). It holds round 5, so it is damaged as round 7, but it
   * is listed. */
  g_clear_pointer (&path, g_free);
  path = path_of (f, 7);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error));
  g_assert_no_error (error);
  g_clear_pointer (&listing, g_free);
  listing = rounds_of (mgr);
  g_assert_cmpstr (listing, ==, "2 5 7");
  value = ckpt_manager_load_latest (mgr, NULL, &latest, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (latest, ==, 5);
  g_clear_pointer (&value, g_variant_unref);

  /* A directory or a symbolic link under a checkpoint's name is not one. */
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (g_mkdir (path, 0755), ==, 0);
  g_clear_pointer (&path, g_free);
  path = path_of (f, 8);
  g_assert_cmpint (symlink ("ckpt_5", path), ==, 0);
  g_clear_pointer (&listing, g_free);
  listing = rounds_of (mgr);
  g_assert_cmpstr (listing, ==, "2 5");

  /* The writer's own next save sees it all too. */
  save_ok (mgr, 9);
  g_clear_pointer (&listing, g_free);
  listing = rounds_of (mgr);
  g_assert_cmpstr (listing, ==, "2 5 9");
  copy_checkpoint (f, 5, 6, bytes);
  g_clear_pointer (&listing, g_free);
  listing = rounds_of (mgr);
  g_assert_cmpstr (listing, ==, "2 5 6 9");
}

typedef struct
{
  Fixture  *f;
  GBytes   *bytes;
  gboolean  done;   /* atomic: the save returned */
  gboolean  wrote;
} Intruder;

/* Waits for the manager's temp file to appear (its save is writing), then
 * writes a checkpoint of its own, as another program would. */
static gpointer
intruder_thread (gpointer data)
{
  Intruder *in = data;

  while (!g_atomic_int_get (&in->done))
    {
      g_autoptr(GPtrArray) names = ckpt_test_list_dir (in->f->root_path);
      guint i;

      for (i = 0; i < names->len; i++)
        if (g_str_has_prefix (g_ptr_array_index (names, i), ".ckpt_100.tmp-"))
          {
            copy_checkpoint (in->f, 5, 50, in->bytes);
            in->wrote = TRUE;
            return NULL;
          }
      g_usleep (100);
    }
  return NULL;
}

static void
test_change_during_save (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = new_manager (f, 0, TRUE);
  g_autoptr(GVariant) big = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *listing = NULL;
  g_autofree char *path = NULL;
  g_autofree guint8 *zeros = g_malloc0 (64 * 1024 * 1024);
  Intruder in = { f, NULL, FALSE, FALSE };
  GThread *thread;
  struct stat st;
  gint64 before;
  guint attempt;

  /* A named temp file shows when the save is under way. */
  ckpt_manager_set_storage_flags (mgr, CKPT_STORAGE_FLAGS_NO_TMPFILE);
  save_ok (mgr, 5);
  path = path_of (f, 5);
  in.bytes = ckpt_test_read_bytes (path);
  big = g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, zeros,
                                                       64 * 1024 * 1024, 1));

  for (attempt = 0; attempt < 5 && !in.wrote; attempt++)
    {
      g_atomic_int_set (&in.done, FALSE);
      thread = g_thread_new ("intruder", intruder_thread, &in);
      before = g_get_real_time ();
      g_assert_true (ckpt_manager_save (mgr, big, 100, NULL, &error));
      g_assert_no_error (error);
      g_atomic_int_set (&in.done, TRUE);
      g_thread_join (thread);

      /* The directory's times are the kernel's, not rewritten into the
       * past. */
      g_assert_cmpint (stat (f->root_path, &st), ==, 0);
      g_assert_cmpint ((gint64) st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000,
                       >=, before - 20000);
      if (!in.wrote)
        {
          /* The save was too quick to be caught: again. */
          g_clear_pointer (&path, g_free);
          path = path_of (f, 100);
          g_assert_cmpint (g_unlink (path), ==, 0);
        }
    }
  g_assert_true (in.wrote);

  /* Written while the manager's save held the directory: seen now, and
   * ever after. */
  listing = rounds_of (mgr);
  g_assert_cmpstr (listing, ==, "5 50 100");
  save_ok (mgr, 101);
  g_clear_pointer (&listing, g_free);
  listing = rounds_of (mgr);
  g_assert_cmpstr (listing, ==, "5 50 100 101");
  g_bytes_unref (in.bytes);
}

/* Item 6 ------------------------------------------------------------------ */

static void
test_prune_failed (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = new_manager (f, 2, FALSE);
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *pruned = NULL;
  gsize n = 0;

  save_ok (mgr, 1);
  save_ok (mgr, 2);
  assert_log (f, "S1 S2");

  /* Pruning 1 fails: the save of 3 succeeds, and says so. */
  ckpt_fault_arm (CKPT_FAULT_UNLINK, 1, EACCES);
  save_ok (mgr, 3);
  g_assert_true (ckpt_fault_fired ());
  ckpt_fault_disarm ();
  assert_log (f, "S3 F1");
  ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_2", "ckpt_3");

  /* prune() reports it the same way, and fails with the error. */
  ckpt_fault_arm (CKPT_FAULT_UNLINK, 1, EIO);
  pruned = ckpt_manager_prune (mgr, CKPT_PRUNE_NONE, &n, NULL, &error);
  ckpt_fault_disarm ();
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_null (pruned);
  g_clear_error (&error);
  assert_log (f, "F1");

  /* The next save tries again. */
  save_ok (mgr, 4);
  assert_log (f, "S4 P1 P2");
  ckpt_test_assert_listing (f->root_path, "ckpt_3", "ckpt_4");
}

/* Item 5 ------------------------------------------------------------------ */

static void
test_not_durable_flushes_before_pruning (Fixture       *f,
                                         gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = new_manager (f, 2, FALSE);

  ckpt_manager_set_durable (mgr, FALSE);
  ckpt_fault_arm (CKPT_FAULT_FSYNC_FILE | CKPT_FAULT_FSYNC_DIR, 0, 0);
  save_ok (mgr, 1);
  save_ok (mgr, 2);
  /* Nothing pruned: nothing flushed. */
  g_assert_cmpuint (ckpt_fault_count (), ==, 0);
  save_ok (mgr, 3);
  /* Round 1 is deleted only after a newer kept one (the newest, 3) is on
   * disk: one fsync of the file and one of the directory. */
  g_assert_cmpuint (ckpt_fault_count (), ==, 2);
  /* Round 3, flushed, is newer than the next victim (2): no flush. */
  save_ok (mgr, 4);
  g_assert_cmpuint (ckpt_fault_count (), ==, 2);
  ckpt_fault_disarm ();
  assert_log (f, "S1 S2 S3 P1 S4 P2");

  /* The next victim is 3 itself: round 5 must be flushed first. When that
   * fails, nothing is deleted, and the save still succeeds. */
  ckpt_fault_arm (CKPT_FAULT_FSYNC_FILE, 1, EIO);
  save_ok (mgr, 5);
  g_assert_true (ckpt_fault_fired ());
  ckpt_fault_disarm ();
  assert_log (f, "S5 F3");
  ckpt_test_assert_listing (f->root_path, "ckpt_3", "ckpt_4", "ckpt_5");

  /* A durable save counts as flushed. */
  ckpt_manager_set_durable (mgr, TRUE);
  save_ok (mgr, 6);
  assert_log (f, "S6 P3 P4");
  ckpt_manager_set_durable (mgr, FALSE);
  ckpt_fault_arm (CKPT_FAULT_FSYNC_FILE | CKPT_FAULT_FSYNC_DIR, 0, 0);
  save_ok (mgr, 7);
  g_assert_cmpuint (ckpt_fault_count (), ==, 0);
  ckpt_fault_disarm ();
  assert_log (f, "S7 P5");

  /* A flushed checkpoint that somebody changed no longer counts: round 6
   * (saved durably) is damaged, and is the victim of the save of 8, which
   * flushes 8 first. */
  damage (f, 6);
  ckpt_fault_arm (CKPT_FAULT_FSYNC_FILE | CKPT_FAULT_FSYNC_DIR, 0, 0);
  save_ok (mgr, 8);
  g_assert_cmpuint (ckpt_fault_count (), ==, 2);
  ckpt_fault_disarm ();
  assert_log (f, "S8 P6");

  /* A flushed checkpoint rewritten in place (even with the same bytes) is
   * not known to be on disk any more. Keep 3: 8 is flushed (saved
   * durably), 9 deletes 7 without a flush... */
  ckpt_manager_set_keep_total (mgr, 3);
  save_ok (mgr, 9);
  ckpt_manager_set_durable (mgr, TRUE);
  save_ok (mgr, 10);
  ckpt_manager_set_durable (mgr, FALSE);
  ckpt_fault_arm (CKPT_FAULT_FSYNC_FILE | CKPT_FAULT_FSYNC_DIR, 0, 0);
  save_ok (mgr, 11);
  g_assert_cmpuint (ckpt_fault_count (), ==, 0);
  ckpt_fault_disarm ();
  assert_log (f, "S9 S10 P7 S11 P8");
  /* ... then somebody rewrites 10 in place: the save of 12 (victim 9)
   * flushes again. */
  {
    g_autofree char *path = path_of (f, 10);
    g_autoptr(GBytes) bytes = ckpt_test_read_bytes (path);

    ckpt_test_write_file (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  }
  ckpt_fault_arm (CKPT_FAULT_FSYNC_FILE | CKPT_FAULT_FSYNC_DIR, 0, 0);
  save_ok (mgr, 12);
  g_assert_cmpuint (ckpt_fault_count (), ==, 2);
  ckpt_fault_disarm ();
  assert_log (f, "S12 P9");
}

/* Item 9 ------------------------------------------------------------------ */

static void
test_damaged_not_kept (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(CkptManager) writer = new_manager (f, 0, FALSE);
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *pruned = NULL;
  g_autofree char *listing = NULL;
  gsize n = 0;
  gint64 r;

  for (r = 1; r <= 5; r++)
    save_ok (writer, r);
  g_clear_object (&writer);
  damage (f, 4);
  damage (f, 5);
  g_string_truncate (f->log, 0);

  /* ckpt prune --keep-total 2: the newest two that verify are 2 and 3. */
  mgr = new_manager (f, 2, FALSE);
  pruned = ckpt_manager_prune (mgr, CKPT_PRUNE_DRY_RUN, &n, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (pruned[0], ==, 1);
  g_clear_pointer (&pruned, g_free);
  assert_log (f, "C5 C4");
  pruned = ckpt_manager_prune (mgr, CKPT_PRUNE_NONE, &n, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 1);
  g_clear_pointer (&pruned, g_free);
  assert_log (f, "C5 C4 P1");
  ckpt_test_assert_listing (f->root_path, "ckpt_2", "ckpt_3", "ckpt_4", "ckpt_5");

  /* A save of 6: 6 and 3 are the two kept, the damaged ones stay, 2 goes. */
  save_ok (mgr, 6);
  assert_log (f, "S6 C5 C4 P2");
  ckpt_test_assert_listing (f->root_path, "ckpt_3", "ckpt_4", "ckpt_5", "ckpt_6");

  /* Once two intact ones are newer, the damaged ones go like any other. */
  save_ok (mgr, 7);
  assert_log (f, "S7 P3 P4 P5");
  listing = rounds_of (mgr);
  g_assert_cmpstr (listing, ==, "6 7");
}

/* A manager that wrote its checkpoints knows them intact, until somebody
 * changes one in place. */
static void
test_damaged_after_writing (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = new_manager (f, 3, FALSE);
  gint64 r;

  for (r = 1; r <= 3; r++)
    save_ok (mgr, r);
  g_string_truncate (f->log, 0);

  damage (f, 2);
  damage (f, 3);
  save_ok (mgr, 4);
  /* 4 and 1 are the intact ones kept; nothing deleted. */
  assert_log (f, "S4 C3 C2");
  ckpt_test_assert_listing (f->root_path, "ckpt_1", "ckpt_2", "ckpt_3", "ckpt_4");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/ckpt/hardening/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("superseded", test_superseded);
  ADD ("or-default-behind", test_or_default_behind);
  ADD ("outside-changes", test_outside_changes);
  ADD ("change-during-save", test_change_during_save);
  ADD ("prune-failed", test_prune_failed);
  ADD ("not-durable-flushes-before-pruning", test_not_durable_flushes_before_pruning);
  ADD ("damaged-not-kept", test_damaged_not_kept);
  ADD ("damaged-after-writing", test_damaged_after_writing);

  return g_test_run ();
}
