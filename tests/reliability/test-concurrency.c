/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Several writers in one root at once: issue 5, point 6. Four processes
 * (this program run as `--child-writer …`) and four threads of this one
 * (two sharing a manager, two with their own) start together and save:
 *
 *  - different rounds (writer w saves the rounds r with r % 8 == w), with
 *    retention: every save that returned TRUE is intact when read back (or
 *    already pruned by a newer one), a save that others had outrun so far
 *    that retention would delete it at once is refused (SUPERSEDED), and
 *    the final listing is exactly what retention keeps of all the rounds
 *    saved;
 *  - the same rounds (every writer saves every round), keeping all: for each
 *    round exactly one writer succeeds, every other gets CKPT_ERROR_EXISTS
 *    (or CKPT_ERROR_BUSY), and the checkpoint holds the winner's state.
 *
 * Nobody may crash: children must exit with status 0.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <ckpt-glib/ckpt-glib.h>

#include "ckpt-manager-private.h"
#include "ckpt-storage-private.h"
#include "ckpt-test-util.h"

#define PREFIX "ckpt_"
#define STATE_TYPE "(xxad)"
#define N_THREADS 4
#define N_PROCESSES 4
#define N_WRITERS (N_THREADS + N_PROCESSES)
#define DISTINCT_ROUNDS 160
#define DISTINCT_KEEP 5
#define SAME_ROUNDS 40
#define STATE_DOUBLES 8192   /* 64 KiB */

typedef enum
{
  MODE_DISTINCT,
  MODE_SAME,
} Mode;

/* ------------------------------------------------------------------------ */
/* States: (round, writer, 8192 doubles derived from both) */

static GVariant *
make_state (gint64 round_num,
            gint64 writer)
{
  g_autofree double *values = g_new (double, STATE_DOUBLES);
  gsize i;

  for (i = 0; i < STATE_DOUBLES; i++)
    values[i] = (double) round_num * 100.0 + (double) writer + (double) i / 16384.0;
  return g_variant_new ("(xx@ad)", round_num, writer,
                        g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, values,
                                                   STATE_DOUBLES, sizeof (double)));
}

/* The writer whose state @value is; fails unless it is a whole state of
 * @round_num. */
static gint64
state_writer (GVariant *value,
              gint64    round_num)
{
  g_autoptr(GVariant) expected = NULL;
  gint64 stored_round = -1, writer = -1;

  g_assert_nonnull (value);
  g_assert_cmpstr (g_variant_get_type_string (value), ==, STATE_TYPE);
  g_variant_get (value, "(xx@ad)", &stored_round, &writer, NULL);
  g_assert_cmpint (stored_round, ==, round_num);
  g_assert_cmpint (writer, >=, 0);
  g_assert_cmpint (writer, <, N_WRITERS);
  expected = g_variant_ref_sink (make_state (round_num, writer));
  g_assert_true (g_variant_equal (value, expected));
  return writer;
}

/* ------------------------------------------------------------------------ */
/* A writer (thread or process); what it did goes to @out, one line per
 * round: "ok R", "pruned R" (saved, and pruned by a newer save before it
 * was read back), "exists R" or "busy R". */

static CkptManager *
new_manager (const char       *root,
             Mode              mode,
             CkptStorageFlags  flags)
{
  g_autoptr(GError) error = NULL;
  CkptManager *mgr;

  mgr = ckpt_manager_new_for_path (root, NULL,
                                   mode == MODE_DISTINCT ? DISTINCT_KEEP : 0, TRUE, &error);
  g_assert_no_error (error);
  ckpt_manager_set_storage_flags (mgr, flags);
  return mgr;
}

static void
run_writer (CkptManager *mgr,
            Mode         mode,
            gint64       writer,
            GString     *out)
{
  gint64 r, n_rounds = mode == MODE_DISTINCT ? DISTINCT_ROUNDS : SAME_ROUNDS;

  for (r = 1; r <= n_rounds; r++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) value = NULL;

      if (mode == MODE_DISTINCT && r % N_WRITERS != writer)
        continue;

      if (!ckpt_manager_save (mgr, make_state (r, writer), r, NULL, &error))
        {
          if (g_error_matches (error, CKPT_ERROR, CKPT_ERROR_EXISTS))
            g_string_append_printf (out, "exists %" G_GINT64_FORMAT "\n", r);
          else if (g_error_matches (error, CKPT_ERROR, CKPT_ERROR_BUSY))
            g_string_append_printf (out, "busy %" G_GINT64_FORMAT "\n", r);
          else if (mode == MODE_DISTINCT && g_error_matches (error, CKPT_ERROR, CKPT_ERROR_SUPERSEDED))
            /* Others are so far ahead that it would be pruned at once. */
            g_string_append_printf (out, "superseded %" G_GINT64_FORMAT "\n", r);
          else
            g_error ("Writer %" G_GINT64_FORMAT ", round %" G_GINT64_FORMAT ": %s",
                     writer, r, error->message);
          continue;
        }

      /* Read it back: whole and ours, unless retention already took it. */
      value = ckpt_manager_load (mgr, G_VARIANT_TYPE (STATE_TYPE), r, NULL, &error);
      if (value == NULL)
        {
          g_assert_error (error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
          g_assert_true (mode == MODE_DISTINCT);
          g_string_append_printf (out, "pruned %" G_GINT64_FORMAT "\n", r);
          continue;
        }
      g_assert_cmpint (state_writer (value, r), ==, writer);
      g_string_append_printf (out, "ok %" G_GINT64_FORMAT "\n", r);
    }
}

/* `--child-writer ROOT MODE FLAGS WRITER`: waits for a byte on stdin, then
 * writes, then prints its report. */
static int
child_writer (char **argv)
{
  Mode mode = (Mode) g_ascii_strtoull (argv[3], NULL, 10);
  g_autoptr(CkptManager) mgr = new_manager (argv[2], mode,
                                            (CkptStorageFlags) g_ascii_strtoull (argv[4], NULL, 10));
  g_autoptr(GString) out = g_string_new (NULL);
  char go;

  if (read (STDIN_FILENO, &go, 1) != 1)
    return 2;
  run_writer (mgr, mode, g_ascii_strtoll (argv[5], NULL, 10), out);
  if (write (STDOUT_FILENO, out->str, out->len) != (ssize_t) out->len)
    return 3;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* The parent */

typedef struct
{
  CkptManager *mgr;
  Mode         mode;
  gint64       writer;
  GString     *out;
  GMutex      *lock;
  GCond       *cond;
  gboolean    *go;
} ThreadData;

static gpointer
writer_thread (gpointer data)
{
  ThreadData *t = data;

  g_mutex_lock (t->lock);
  while (!*t->go)
    g_cond_wait (t->cond, t->lock);
  g_mutex_unlock (t->lock);

  run_writer (t->mgr, t->mode, t->writer, t->out);
  return NULL;
}

typedef struct
{
  guint ok;
  guint pruned;
  guint exists;
  guint busy;
  guint superseded;
} Tally;

/* Runs the eight writers at once; fills @winners (round → writer that
 * saved it, -1 if none) and @tally. */
static void
run_all (const char       *root,
         Mode              mode,
         CkptStorageFlags  flags,
         gint64           *winners,
         gsize             n_winners,
         Tally            *tally)
{
  g_autofree char *exe = ckpt_test_self_exe ();
  g_autofree char *mode_str = g_strdup_printf ("%d", (int) mode);
  g_autofree char *flags_str = g_strdup_printf ("%u", (guint) flags);
  g_autoptr(CkptManager) shared = new_manager (root, mode, flags);
  GString *outs[N_WRITERS];
  ThreadData threads[N_THREADS];
  GThread *handles[N_THREADS];
  GPid pids[N_PROCESSES];
  int in_fds[N_PROCESSES], out_fds[N_PROCESSES];
  GMutex lock;
  GCond cond;
  gboolean go = FALSE;
  gsize i, w;

  g_mutex_init (&lock);
  g_cond_init (&cond);
  for (i = 0; i < n_winners; i++)
    winners[i] = -1;

  for (w = 0; w < N_THREADS; w++)
    {
      /* Threads 0 and 1 share a manager; 2 and 3 have their own. */
      threads[w] = (ThreadData) {
        w < 2 ? g_object_ref (shared) : new_manager (root, mode, flags),
        mode, (gint64) w, g_string_new (NULL), &lock, &cond, &go,
      };
      outs[w] = threads[w].out;
      handles[w] = g_thread_new ("writer", writer_thread, &threads[w]);
    }
  for (i = 0; i < N_PROCESSES; i++)
    {
      g_autofree char *writer_str = g_strdup_printf ("%" G_GSIZE_FORMAT, N_THREADS + i);
      char *argv[] = { exe, (char *) "--child-writer", (char *) root, mode_str, flags_str,
                       writer_str, NULL };

      pids[i] = ckpt_test_spawn_child (argv, &in_fds[i], &out_fds[i]);
    }

  /* Go. */
  g_mutex_lock (&lock);
  go = TRUE;
  g_cond_broadcast (&cond);
  g_mutex_unlock (&lock);
  for (i = 0; i < N_PROCESSES; i++)
    {
      g_assert_cmpint (write (in_fds[i], "g", 1), ==, 1);
      close (in_fds[i]);
    }

  for (i = 0; i < N_PROCESSES; i++)
    {
      g_autofree char *out = ckpt_test_read_all (out_fds[i]);
      int status = 0;

      close (out_fds[i]);
      g_assert_cmpint (waitpid (pids[i], &status, 0), ==, pids[i]);
      g_spawn_close_pid (pids[i]);
      if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
        g_error ("Writer process %" G_GSIZE_FORMAT " failed (status %d)", N_THREADS + i, status);
      outs[N_THREADS + i] = g_string_new (out);
    }
  for (w = 0; w < N_THREADS; w++)
    {
      g_thread_join (handles[w]);
      g_object_unref (threads[w].mgr);
    }
  g_mutex_clear (&lock);
  g_cond_clear (&cond);

  memset (tally, 0, sizeof *tally);
  for (w = 0; w < N_WRITERS; w++)
    {
      g_auto(GStrv) lines = g_strsplit (outs[w]->str, "\n", -1);

      for (i = 0; lines[i] != NULL; i++)
        {
          g_auto(GStrv) words = NULL;
          gint64 r;

          if (lines[i][0] == '\0')
            continue;
          words = g_strsplit (lines[i], " ", 2);
          r = g_ascii_strtoll (words[1], NULL, 10);
          g_assert_cmpint (r, >=, 1);
          g_assert_cmpint (r, <, (gint64) n_winners);
          if (g_str_equal (words[0], "ok") || g_str_equal (words[0], "pruned"))
            {
              /* Exactly one writer saved each round. */
              if (winners[r] != -1)
                g_error ("Round %" G_GINT64_FORMAT " saved by writers %" G_GINT64_FORMAT
                         " and %" G_GSIZE_FORMAT, r, winners[r], w);
              winners[r] = (gint64) w;
              if (g_str_equal (words[0], "ok"))
                tally->ok++;
              else
                tally->pruned++;
            }
          else if (g_str_equal (words[0], "exists"))
            tally->exists++;
          else if (g_str_equal (words[0], "busy"))
            tally->busy++;
          else if (g_str_equal (words[0], "superseded"))
            tally->superseded++;
          else
            g_error ("Unexpected report ‘%s’", lines[i]);
        }
      g_string_free (outs[w], TRUE);
    }
}

/* No temp file, nothing but checkpoints. */
static void
assert_clean (const char *root)
{
  g_autoptr(GDir) dir = g_dir_open (root, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (!ckpt_storage_parse_name (PREFIX, name, NULL))
      g_error ("Unexpected file ‘%s’", name);
}

static void
test_distinct_rounds (gconstpointer data)
{
  CkptStorageFlags flags = GPOINTER_TO_UINT (data);
  g_autofree char *tmp = NULL;
  g_autofree char *root = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CkptManager) mgr = NULL;
  g_autofree gint64 *rounds = NULL;
  gint64 winners[DISTINCT_ROUNDS + 1];
  gsize n_rounds = 0, i;
  Tally tally;
  gint64 r;

  tmp = g_dir_make_tmp ("test-concurrency-XXXXXX", &error);
  g_assert_no_error (error);
  root = g_build_filename (tmp, "root", NULL);

  run_all (root, MODE_DISTINCT, flags, winners, G_N_ELEMENTS (winners), &tally);

  /* Every round was saved, by the writer it belongs to, or refused before
   * anything was written because retention would have deleted it at once. */
  for (r = 1; r <= DISTINCT_ROUNDS; r++)
    if (winners[r] != -1)
      g_assert_cmpint (winners[r], ==, r % N_WRITERS);
  g_assert_cmpuint (tally.ok + tally.pruned + tally.superseded, ==, DISTINCT_ROUNDS);
  g_assert_cmpuint (tally.exists + tally.busy, ==, 0);

  /* Retention over everything saved: the first and the newest four. */
  mgr = new_manager (root, MODE_DISTINCT, flags);
  rounds = ckpt_manager_list_rounds (mgr, &n_rounds, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_rounds, ==, DISTINCT_KEEP);
  g_assert_cmpint (rounds[0], ==, 1);
  for (i = 1; i < n_rounds; i++)
    g_assert_cmpint (rounds[i], ==, DISTINCT_ROUNDS - (DISTINCT_KEEP - 1) + (gint64) i);
  for (i = 0; i < n_rounds; i++)
    {
      g_autoptr(GVariant) value = ckpt_manager_load (mgr, G_VARIANT_TYPE (STATE_TYPE),
                                                     rounds[i], NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpint (state_writer (value, rounds[i]), ==, winners[rounds[i]]);
    }
  assert_clean (root);

  g_test_message ("different rounds (%s): %u saves by %d writers (%d processes, %d threads), "
                  "%u read back intact, %u already pruned by a newer save, "
                  "%u refused as superseded",
                  (flags & CKPT_STORAGE_FLAGS_NO_TMPFILE) ? "named temp" : "O_TMPFILE",
                  tally.ok + tally.pruned, N_WRITERS, N_PROCESSES, N_THREADS,
                  tally.ok, tally.pruned, tally.superseded);
  ckpt_test_rm_rf (tmp);
}

static void
test_same_rounds (gconstpointer data)
{
  CkptStorageFlags flags = GPOINTER_TO_UINT (data);
  g_autofree char *tmp = NULL;
  g_autofree char *root = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CkptManager) mgr = NULL;
  g_autofree gint64 *rounds = NULL;
  gint64 winners[SAME_ROUNDS + 1];
  guint wins[N_WRITERS] = { 0, };
  gsize n_rounds = 0, i;
  Tally tally;
  guint n_winners = 0;

  tmp = g_dir_make_tmp ("test-concurrency-XXXXXX", &error);
  g_assert_no_error (error);
  root = g_build_filename (tmp, "root", NULL);

  run_all (root, MODE_SAME, flags, winners, G_N_ELEMENTS (winners), &tally);

  /* Each round: one winner, seven losers. */
  g_assert_cmpuint (tally.ok, ==, SAME_ROUNDS);
  g_assert_cmpuint (tally.pruned, ==, 0);
  g_assert_cmpuint (tally.exists + tally.busy, ==, SAME_ROUNDS * (N_WRITERS - 1));

  mgr = new_manager (root, MODE_SAME, flags);
  rounds = ckpt_manager_list_rounds (mgr, &n_rounds, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_rounds, ==, SAME_ROUNDS);
  for (i = 0; i < n_rounds; i++)
    {
      g_autoptr(GVariant) value = NULL;

      g_assert_cmpint (rounds[i], ==, (gint64) i + 1);
      g_assert_cmpint (winners[rounds[i]], >=, 0);
      value = ckpt_manager_load (mgr, G_VARIANT_TYPE (STATE_TYPE), rounds[i], NULL, &error);
      g_assert_no_error (error);
      /* The checkpoint is the winner's state, whole. */
      g_assert_cmpint (state_writer (value, rounds[i]), ==, winners[rounds[i]]);
      wins[winners[rounds[i]]]++;
    }
  assert_clean (root);

  for (i = 0; i < N_WRITERS; i++)
    if (wins[i] > 0)
      n_winners++;
  g_test_message ("same rounds (%s): %d rounds x %d writers: %u won, %u got EXISTS, %u got BUSY; "
                  "%u different writers won rounds",
                  (flags & CKPT_STORAGE_FLAGS_NO_TMPFILE) ? "named temp" : "O_TMPFILE",
                  SAME_ROUNDS, N_WRITERS, tally.ok, tally.exists, tally.busy, n_winners);
  ckpt_test_rm_rf (tmp);
}

int
main (int   argc,
      char *argv[])
{
  if (argc == 6 && g_str_equal (argv[1], "--child-writer"))
    return child_writer (argv);

  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/ckpt/reliability/concurrency/different-rounds/tmpfile",
                        GUINT_TO_POINTER (CKPT_STORAGE_FLAGS_NONE), test_distinct_rounds);
  g_test_add_data_func ("/ckpt/reliability/concurrency/different-rounds/named-temp",
                        GUINT_TO_POINTER (CKPT_STORAGE_FLAGS_NO_TMPFILE), test_distinct_rounds);
  g_test_add_data_func ("/ckpt/reliability/concurrency/same-round/tmpfile",
                        GUINT_TO_POINTER (CKPT_STORAGE_FLAGS_NONE), test_same_rounds);
  g_test_add_data_func ("/ckpt/reliability/concurrency/same-round/named-temp",
                        GUINT_TO_POINTER (CKPT_STORAGE_FLAGS_NO_TMPFILE), test_same_rounds);

  return g_test_run ();
}
