/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Writers killed at any moment: issue 5, points 1 (kill loop) and 3 (crash
 * between commit and prune, and during prune).
 *
 * The program is its own child: run with `--child-stream ROOT FLAGS` it
 * saves rounds of a 1 MiB state into ROOT until it is killed, printing
 * "saved N" after each save returns; with `--child-crash ROOT FLAGS N MODE`
 * it saves one round and stops itself (SIGSTOP) just before or just after
 * the Nth system call of the commit protocol (writev, fsync, linkat,
 * unlinkat), which this program interposes on: the library is
 * linked statically into it, so its calls resolve to the definitions below,
 * which call the C library's through dlsym (RTLD_NEXT).
 *
 * Environment: CKPT_KILL_ITERATIONS (default 300) sets the number of kills
 * of the kill loop, CKPT_TEST_SEED its random seed (printed).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <ckpt-glib/ckpt-glib.h>

#include "ckpt-manager-private.h"
#include "ckpt-storage-private.h"
#include "ckpt-test-util.h"

#define PREFIX "ckpt_"
#define STREAM_TYPE "(xad)"
#define STREAM_DOUBLES (128 * 1024)   /* 1 MiB */
#define CRASH_DOUBLES (32 * 1024)     /* 256 KiB */
#define DEFAULT_KILLS 300
#define MAX_KILL_DELAY_US 30000

/* ------------------------------------------------------------------------ */
/* Crash points (child side) */

typedef enum
{
  CRASH_OFF,
  CRASH_BEFORE,   /* stop just before the Nth call */
  CRASH_AFTER,    /* stop just after it returned */
} CrashMode;

static CrashMode crash_mode = CRASH_OFF;
static guint crash_at;
static guint crash_seen;
static gboolean crash_linked;   /* a linkat() succeeded: the round exists */

static void
write_line (const char *line)
{
  gsize len = strlen (line);

  while (len > 0)
    {
      ssize_t n = write (STDOUT_FILENO, line, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        _exit (3);
      line += n;
      len -= (gsize) n;
    }
}

/* Called before (@after false) and after each interposed call. */
static void
crash_point (const char *call,
             gboolean    after)
{
  char line[128];

  if (crash_mode == CRASH_OFF)
    return;
  if (!after)
    crash_seen++;
  if (crash_seen != crash_at || after != (crash_mode == CRASH_AFTER))
    return;

  g_snprintf (line, sizeof line, "stop %s %s linked=%d\n",
              call, after ? "after" : "before", crash_linked ? 1 : 0);
  write_line (line);
  /* The parent inspects the directory while we hold the writer lock, then
   * kills us. */
  raise (SIGSTOP);
  raise (SIGKILL);
}

#define REAL(type, name, args) \
  static type (*real) args = NULL; \
  if (real == NULL) \
    real = (type (*) args) dlsym (RTLD_NEXT, name); \
  if (real == NULL) \
    abort ()

ssize_t
writev (int                 fd,
        const struct iovec *iov,
        int                 iovcnt)
{
  ssize_t ret;
  REAL (ssize_t, "writev", (int, const struct iovec *, int));

  crash_point ("writev", FALSE);
  ret = real (fd, iov, iovcnt);
  crash_point ("writev", TRUE);
  return ret;
}

int
fsync (int fd)
{
  int ret;
  REAL (int, "fsync", (int));

  crash_point ("fsync", FALSE);
  ret = real (fd);
  crash_point ("fsync", TRUE);
  return ret;
}

int
linkat (int         olddirfd,
        const char *oldpath,
        int         newdirfd,
        const char *newpath,
        int         flags)
{
  int ret;
  REAL (int, "linkat", (int, const char *, int, const char *, int));

  crash_point ("linkat", FALSE);
  ret = real (olddirfd, oldpath, newdirfd, newpath, flags);
  if (ret == 0)
    crash_linked = TRUE;
  crash_point ("linkat", TRUE);
  return ret;
}

int
unlinkat (int         dirfd,
          const char *pathname,
          int         flags)
{
  int ret;
  REAL (int, "unlinkat", (int, const char *, int));

  crash_point ("unlinkat", FALSE);
  ret = real (dirfd, pathname, flags);
  crash_point ("unlinkat", TRUE);
  return ret;
}

/* ------------------------------------------------------------------------ */
/* States */

static GVariant *
make_state (gint64 round_num,
            gsize  n_doubles)
{
  g_autofree double *values = g_new (double, n_doubles);
  gsize i;

  for (i = 0; i < n_doubles; i++)
    values[i] = (double) round_num;
  return g_variant_new ("(x@ad)", round_num,
                        g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, values,
                                                   n_doubles, sizeof (double)));
}

/* Whether @value is the state of @round_num: every double equals it. */
static void
assert_state (GVariant *value,
              gint64    round_num,
              gsize     n_doubles)
{
  g_autoptr(GVariant) array = NULL;
  const double *values;
  gint64 stored = -1;
  gsize n = 0, i;

  g_assert_nonnull (value);
  g_assert_cmpstr (g_variant_get_type_string (value), ==, STREAM_TYPE);
  g_variant_get_child (value, 0, "x", &stored);
  g_assert_cmpint (stored, ==, round_num);
  array = g_variant_get_child_value (value, 1);
  values = g_variant_get_fixed_array (array, &n, sizeof (double));
  g_assert_cmpuint (n, ==, n_doubles);
  for (i = 0; i < n; i++)
    if (values[i] != (double) round_num)
      g_error ("Round %" G_GINT64_FORMAT ": value %" G_GSIZE_FORMAT " is %g",
               round_num, i, values[i]);
}

/* ------------------------------------------------------------------------ */
/* Children */

static CkptManager *
child_manager (const char *root,
               const char *flags)
{
  g_autoptr(GError) error = NULL;
  CkptManager *mgr;

  mgr = ckpt_manager_new_for_path (root, NULL, 3, TRUE, &error);
  if (mgr == NULL)
    g_error ("%s", error->message);
  ckpt_manager_set_storage_flags (mgr, (CkptStorageFlags) g_ascii_strtoull (flags, NULL, 10));
  return mgr;
}

/* Saves rounds until killed. */
static int
child_stream (const char *root,
              const char *flags)
{
  g_autoptr(CkptManager) mgr = child_manager (root, flags);
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *rounds = NULL;
  gsize n_rounds = 0;
  gint64 r;

  rounds = ckpt_manager_list_rounds (mgr, &n_rounds, &error);
  if (rounds == NULL)
    g_error ("%s", error->message);
  r = n_rounds > 0 ? rounds[n_rounds - 1] + 1 : 1;

  for (;; r++)
    {
      char line[64];

      if (!ckpt_manager_save (mgr, make_state (r, STREAM_DOUBLES), r, NULL, &error))
        g_error ("Saving round %" G_GINT64_FORMAT ": %s", r, error->message);
      g_snprintf (line, sizeof line, "saved %" G_GINT64_FORMAT "\n", r);
      write_line (line);
    }
  return 0;
}

/* Saves round 6, stopping at the @nth call; prints "done" if it never
 * reaches it. */
static int
child_crash (const char *root,
             const char *flags,
             const char *nth,
             const char *mode)
{
  g_autoptr(CkptManager) mgr = child_manager (root, flags);
  g_autoptr(GVariant) state = g_variant_ref_sink (make_state (6, CRASH_DOUBLES));
  g_autoptr(GError) error = NULL;

  crash_at = (guint) g_ascii_strtoull (nth, NULL, 10);
  crash_mode = g_str_equal (mode, "after") ? CRASH_AFTER : CRASH_BEFORE;
  if (!ckpt_manager_save (mgr, state, 6, NULL, &error))
    g_error ("Saving round 6: %s", error->message);
  crash_mode = CRASH_OFF;
  write_line ("done\n");
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Parent helpers */

/* Temp files of PREFIX in @root, and whether anything else than
 * checkpoints and those is there. */
static GPtrArray *
list_temps (const char *root)
{
  g_autoptr(GDir) dir = g_dir_open (root, 0, NULL);
  GPtrArray *temps = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      if (ckpt_storage_is_temp_name (PREFIX, name))
        g_ptr_array_add (temps, g_strdup (name));
      else if (!ckpt_storage_parse_name (PREFIX, name, NULL))
        g_error ("Unexpected file ‘%s’ in ‘%s’", name, root);
    }
  return temps;
}

/* Every checkpoint on disk loads and holds its round; load_latest gives the
 * newest. Returns the listing. */
static gint64 *
check_root (const char *root,
            gsize       n_doubles,
            gsize      *out_n_rounds)
{
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) latest = NULL;
  gint64 *rounds;
  gint64 latest_round = -2;
  gsize n_rounds = 0, i;

  mgr = ckpt_manager_new_for_path (root, NULL, 3, TRUE, &error);
  g_assert_no_error (error);
  rounds = ckpt_manager_list_rounds (mgr, &n_rounds, &error);
  g_assert_no_error (error);

  for (i = 0; i < n_rounds; i++)
    {
      g_autoptr(GVariant) value = NULL;

      value = ckpt_manager_load (mgr, G_VARIANT_TYPE (STREAM_TYPE), rounds[i], NULL, &error);
      g_assert_no_error (error);
      assert_state (value, rounds[i], n_doubles);
    }

  latest = ckpt_manager_load_latest (mgr, G_VARIANT_TYPE (STREAM_TYPE), &latest_round, NULL, &error);
  g_assert_no_error (error);
  if (n_rounds == 0)
    {
      g_assert_null (latest);
      g_assert_cmpint (latest_round, ==, -1);
    }
  else
    {
      g_assert_cmpint (latest_round, ==, rounds[n_rounds - 1]);
      assert_state (latest, latest_round, n_doubles);
    }

  *out_n_rounds = n_rounds;
  return rounds;
}

/* ------------------------------------------------------------------------ */
/* Point 1: the kill loop */

typedef struct
{
  const char       *label;
  CkptStorageFlags  flags;
  guint             share;   /* of the kills, in thirds */
} KillLoopSpec;

static void
test_kill_loop (gconstpointer data)
{
  const KillLoopSpec *spec = data;
  g_autofree char *tmp = NULL;
  g_autofree char *root = NULL;
  g_autofree char *exe = ckpt_test_self_exe ();
  g_autofree char *flags = g_strdup_printf ("%u", (guint) spec->flags);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) stale = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GRand) rand = NULL;
  guint32 seed = ckpt_test_seed ();
  guint n_kills = MAX (ckpt_test_env_count ("CKPT_KILL_ITERATIONS", DEFAULT_KILLS) * spec->share / 3, 1);
  guint k, saves_reported = 0, unreported = 0, temps_seen = 0, max_listed = 0;
  gint64 last_reported = -1;
  guint allowed = 4;
  gint64 t0 = g_get_monotonic_time ();

  g_test_message ("kill loop (%s): %u kills, seed %u (CKPT_TEST_SEED=%u reproduces it)",
                  spec->label, n_kills, seed, seed);
  rand = g_rand_new_with_seed (seed);

  tmp = g_dir_make_tmp ("test-killloop-XXXXXX", &error);
  g_assert_no_error (error);
  root = g_build_filename (tmp, "root", NULL);

  for (k = 0; k < n_kills; k++)
    {
      char *argv[] = { exe, (char *) "--child-stream", root, flags, NULL };
      g_autofree gint64 *rounds = NULL;
      g_autofree char *out = NULL;
      g_autoptr(GPtrArray) temps = NULL;
      g_auto(GStrv) lines = NULL;
      gboolean reported_now = FALSE;
      int out_fd = -1, status = 0;
      gsize n_rounds = 0, i;
      GPid pid;

      pid = ckpt_test_spawn_child (argv, NULL, &out_fd);
      if (k == n_kills - 1 && saves_reported == 0)
        {
          /* A slow machine (valgrind, other load) may have killed every
           * writer before its first save: the last one is killed only once
           * it has reported one, so that the checks below have something
           * to check. */
          GPollFD pfd = { out_fd, G_IO_IN, 0 };

          g_assert_cmpint (g_poll (&pfd, 1, 120 * 1000), ==, 1);
        }
      else
        g_usleep (g_rand_int_range (rand, 0, MAX_KILL_DELAY_US + 1));
      g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_spawn_close_pid (pid);
      out = ckpt_test_read_all (out_fd);
      close (out_fd);

      /* It died of the kill, not of an error of its own. */
      if (!WIFSIGNALED (status) || WTERMSIG (status) != SIGKILL)
        g_error ("The writer was not killed but ended (status %d): %s", status, out);

      lines = g_strsplit (out, "\n", -1);
      for (i = 0; lines[i] != NULL; i++)
        {
          gint64 r;

          if (lines[i][0] == '\0')
            continue;
          g_assert_true (g_str_has_prefix (lines[i], "saved "));
          r = g_ascii_strtoll (lines[i] + 6, NULL, 10);
          g_assert_cmpint (r, >, last_reported);
          last_reported = r;
          saves_reported++;
          reported_now = TRUE;
        }

      /* Every checkpoint there is whole and holds its round; the newest is
       * at least the last one reported; keep-first keeps the first (the
       * writers start at round 1, and go on from the newest there is). */
      rounds = check_root (root, STREAM_DOUBLES, &n_rounds);
      if (n_rounds > 0)
        g_assert_cmpint (rounds[0], ==, 1);
      if (last_reported >= 0)
        {
          g_assert_cmpuint (n_rounds, >=, 1);
          g_assert_cmpint (rounds[n_rounds - 1], >=, last_reported);
          if (rounds[n_rounds - 1] > last_reported)
            unreported++;
        }
      /* keep-total 3, plus one saved but not pruned by each writer killed
       * between commit and prune since the last save that completed. */
      allowed = reported_now ? 4 : allowed + 1;
      g_assert_cmpuint (n_rounds, <=, allowed);
      max_listed = MAX (max_listed, (guint) n_rounds);

      /* Temp files: never with O_TMPFILE; in the named path, those of an
       * earlier kill are gone once a later writer completed a save. */
      temps = list_temps (root);
      if (!(spec->flags & CKPT_STORAGE_FLAGS_NO_TMPFILE))
        g_assert_cmpuint (temps->len, ==, 0);
      if (reported_now)
        {
          for (i = 0; i < stale->len; i++)
            g_assert_false (g_ptr_array_find_with_equal_func (temps, g_ptr_array_index (stale, i),
                                                              g_str_equal, NULL));
          g_ptr_array_set_size (stale, 0);
        }
      for (i = 0; i < temps->len; i++)
        if (!g_ptr_array_find_with_equal_func (stale, g_ptr_array_index (temps, i), g_str_equal, NULL))
          {
            g_ptr_array_add (stale, g_strdup (g_ptr_array_index (temps, i)));
            temps_seen++;
          }
    }

  /* A last writer, not killed: its save leaves exactly the retained
   * checkpoints and no temp file. */
  {
    g_autoptr(CkptManager) mgr = NULL;
    g_autofree gint64 *rounds = NULL;
    g_autoptr(GPtrArray) temps = NULL;
    gsize n_rounds = 0;
    gint64 next;

    mgr = ckpt_manager_new_for_path (root, NULL, 3, TRUE, &error);
    g_assert_no_error (error);
    ckpt_manager_set_storage_flags (mgr, spec->flags);
    rounds = ckpt_manager_list_rounds (mgr, &n_rounds, &error);
    g_assert_no_error (error);
    next = n_rounds > 0 ? rounds[n_rounds - 1] + 1 : 1;
    g_assert_true (ckpt_manager_save (mgr, make_state (next, STREAM_DOUBLES), next, NULL, &error));
    g_assert_no_error (error);
    g_clear_pointer (&rounds, g_free);
    rounds = check_root (root, STREAM_DOUBLES, &n_rounds);
    g_assert_cmpuint (n_rounds, ==, MIN (next, 3));
    g_assert_cmpint (rounds[n_rounds - 1], ==, next);
    temps = list_temps (root);
    g_assert_cmpuint (temps->len, ==, 0);
  }

  g_test_message ("kill loop (%s): %u kills survived in %.1f s; %u saves reported, last round %"
                  G_GINT64_FORMAT "; %u kills found a newer round than reported "
                  "(killed between commit and report), %u stale temp files seen and removed, "
                  "at most %u checkpoints at once",
                  spec->label, n_kills, (g_get_monotonic_time () - t0) / 1e6,
                  saves_reported, last_reported, unreported, temps_seen, max_listed);
  g_assert_cmpuint (saves_reported, >, 0);

  ckpt_test_rm_rf (tmp);
}

/* ------------------------------------------------------------------------ */
/* Point 3: stopped (then killed) at every call of a save */

typedef struct
{
  gboolean stop_done;   /* the child ran to the end: N is past the last call */
  char    *call;
  gboolean after;
  gboolean linked;
} StopReport;

static gpointer
cancel_later (gpointer data)
{
  g_usleep (20000);
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_crash_points (gconstpointer data)
{
  CkptStorageFlags flags = GPOINTER_TO_UINT (data);
  g_autofree char *tmp = NULL;
  g_autofree char *root = NULL;
  g_autofree char *exe = ckpt_test_self_exe ();
  g_autofree char *flags_str = g_strdup_printf ("%u", (guint) flags);
  g_autoptr(GError) error = NULL;
  guint n_points = 0, n_linked = 0;
  const char *modes[] = { "before", "after" };
  gsize m;

  tmp = g_dir_make_tmp ("test-killloop-XXXXXX", &error);
  g_assert_no_error (error);
  root = g_build_filename (tmp, "root", NULL);

  for (m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      guint nth;

      for (nth = 1; ; nth++)
        {
          g_autofree char *nth_str = g_strdup_printf ("%u", nth);
          char *argv[] = { exe, (char *) "--child-crash", root, flags_str, nth_str,
                           (char *) modes[m], NULL };
          g_autoptr(CkptManager) mgr = NULL;
          g_autofree gint64 *rounds = NULL;
          g_autofree char *out = NULL;
          g_autoptr(GPtrArray) temps = NULL;
          g_auto(GStrv) words = NULL;
          gboolean linked;
          int out_fd = -1, status = 0;
          gsize n_rounds = 0;
          gint64 r;
          GPid pid;

          /* Rounds 1..5, all kept; the child saves 6 with keep-total 3
           * (keep-first), which prunes 2, 3, 4. */
          ckpt_test_rm_rf (root);
          mgr = ckpt_manager_new_for_path (root, NULL, 0, TRUE, &error);
          g_assert_no_error (error);
          ckpt_manager_set_storage_flags (mgr, flags);
          ckpt_manager_set_durable (mgr, FALSE);
          for (r = 1; r <= 5; r++)
            {
              g_assert_true (ckpt_manager_save (mgr, make_state (r, CRASH_DOUBLES), r, NULL, &error));
              g_assert_no_error (error);
            }
          g_clear_object (&mgr);

          pid = ckpt_test_spawn_child (argv, NULL, &out_fd);
          g_assert_cmpint (waitpid (pid, &status, WUNTRACED), ==, pid);

          if (WIFEXITED (status))
            {
              /* It never reached the Nth call. */
              g_assert_cmpint (WEXITSTATUS (status), ==, 0);
              out = ckpt_test_read_all (out_fd);
              close (out_fd);
              g_spawn_close_pid (pid);
              g_assert_cmpstr (out, ==, "done\n");
              break;
            }
          g_assert_true (WIFSTOPPED (status));

          /* Stopped, holding the writer lock, in the middle of the save.
           * Readers do not need the lock: every checkpoint present is
           * whole, the newest is round 6 once it was linked. */
          {
            char line[128];
            gssize n = read (out_fd, line, sizeof line - 1);

            g_assert_cmpint (n, >, 0);
            line[n] = '\0';
            g_strchomp (line);
            words = g_strsplit (line, " ", -1);
            g_assert_cmpuint (g_strv_length (words), ==, 4);
            g_assert_cmpstr (words[0], ==, "stop");
            g_assert_cmpstr (words[2], ==, modes[m]);
            linked = g_str_equal (words[3], "linked=1");
          }

          rounds = check_root (root, CRASH_DOUBLES, &n_rounds);
          g_assert_cmpint (rounds[0], ==, 1);
          g_assert_cmpint (rounds[n_rounds - 1], ==, linked ? 6 : 5);
          if (!(flags & CKPT_STORAGE_FLAGS_NO_TMPFILE))
            {
              temps = list_temps (root);
              g_assert_cmpuint (temps->len, ==, 0);
              g_clear_pointer (&temps, g_ptr_array_unref);
            }

          /* Another writer waits for the lock (and can give up waiting). */
          {
            g_autoptr(GCancellable) cancellable = g_cancellable_new ();
            g_autoptr(GError) local_error = NULL;
            GThread *canceller;

            mgr = ckpt_manager_new_for_path (root, NULL, 3, TRUE, &error);
            g_assert_no_error (error);
            ckpt_manager_set_storage_flags (mgr, flags);
            canceller = g_thread_new ("cancel", cancel_later, cancellable);
            g_assert_false (ckpt_manager_save (mgr, make_state (7, CRASH_DOUBLES), 7,
                                               cancellable, &local_error));
            g_assert_error (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
            g_thread_join (canceller);
          }

          /* Now it dies there. */
          g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
          g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
          g_spawn_close_pid (pid);
          g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
          close (out_fd);
          n_points++;
          if (linked)
            n_linked++;

          g_clear_pointer (&rounds, g_free);
          rounds = check_root (root, CRASH_DOUBLES, &n_rounds);
          g_assert_cmpuint (n_rounds, >=, 1);
          g_assert_cmpint (rounds[0], ==, 1);
          g_assert_cmpint (rounds[n_rounds - 1], ==, linked ? 6 : 5);
          if (!(flags & CKPT_STORAGE_FLAGS_NO_TMPFILE))
            {
              temps = list_temps (root);
              g_assert_cmpuint (temps->len, ==, 0);
              g_clear_pointer (&temps, g_ptr_array_unref);
            }

          /* The next save (the waiting writer's manager) finishes the job:
           * exactly what retention keeps, no temp file. */
          g_assert_true (ckpt_manager_save (mgr, make_state (7, CRASH_DOUBLES), 7, NULL, &error));
          g_assert_no_error (error);
          g_clear_pointer (&rounds, g_free);
          rounds = check_root (root, CRASH_DOUBLES, &n_rounds);
          g_assert_cmpuint (n_rounds, ==, 3);
          g_assert_cmpint (rounds[0], ==, 1);
          g_assert_cmpint (rounds[1], ==, linked ? 6 : 5);
          g_assert_cmpint (rounds[2], ==, 7);
          temps = list_temps (root);
          g_assert_cmpuint (temps->len, ==, 0);

          g_test_message ("stopped and killed %s %s (call %u): round 6 %s",
                          modes[m], words[1], nth, linked ? "saved" : "not saved");
        }
    }

  g_test_message ("crash points: %u (%u after the commit)", n_points, n_linked);
  g_assert_cmpuint (n_points, >=, 10);
  g_assert_cmpuint (n_linked, >=, 4);
  ckpt_test_rm_rf (tmp);
}

int
main (int   argc,
      char *argv[])
{
  static const KillLoopSpec loops[] = {
    { "O_TMPFILE", CKPT_STORAGE_FLAGS_NONE, 2 },
    { "named temp", CKPT_STORAGE_FLAGS_NO_TMPFILE, 1 },
  };

  if (argc == 4 && g_str_equal (argv[1], "--child-stream"))
    return child_stream (argv[2], argv[3]);
  if (argc == 6 && g_str_equal (argv[1], "--child-crash"))
    return child_crash (argv[2], argv[3], argv[4], argv[5]);

  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/ckpt/reliability/kill-loop/tmpfile", &loops[0], test_kill_loop);
  g_test_add_data_func ("/ckpt/reliability/kill-loop/named-temp", &loops[1], test_kill_loop);
  g_test_add_data_func ("/ckpt/reliability/crash-point/tmpfile",
                        GUINT_TO_POINTER (CKPT_STORAGE_FLAGS_NONE), test_crash_points);
  g_test_add_data_func ("/ckpt/reliability/crash-point/named-temp",
                        GUINT_TO_POINTER (CKPT_STORAGE_FLAGS_NO_TMPFILE), test_crash_points);

  return g_test_run ();
}
