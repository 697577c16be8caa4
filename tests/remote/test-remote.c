/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Checkpoints on remote roots (issue 8, suite `remote`): the core semantics
 * and several writer processes, on an sftp and a WebDAV root reached
 * through GVfs. run-remote.sh starts the servers, the private session bus
 * and the mounts, and passes the roots in the environment:
 *
 *   CKPT_REMOTE_SFTP_URI, CKPT_REMOTE_DAV_URI   existing directories
 *   CKPT_REMOTE_{SFTP,DAV}_{STOP,START}         commands (for /bin/sh -c)
 *                                               that stop and restart the
 *                                               server
 *
 * Without them (run by hand) every test is skipped. Each test works in a
 * fresh directory under the root, removed in teardown; remote listings are
 * read through GIO and compared exactly, so a temp file left behind fails.
 *
 * `test-remote --writer URI NAME KEEP-TOTAL` is a writer process of the
 * multi-process tests: it saves the rounds read from stdin, one a line,
 * and answers each with a line "ROUND OK", "ROUND EXISTS", "ROUND SUPERSEDED" or
 * "ROUND ERROR DOMAIN CODE MESSAGE".
 */
#include <signal.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ckpt-glib/ckpt-glib.h>

#include "ckpt-lease-private.h"
#include "ckpt-retention-private.h"
#include "ckpt-test-util.h"

#define STATE_TYPE "(sxay)"
#define STATE_SIZE (64 * 1024)
#define WRITER_STATE_SIZE (128 * 1024)
/* The writer lease's timeout in this suite (the default is 30 s), given
 * to every process through the environment. */
#define LEASE_TIMEOUT_MS 2000

typedef struct
{
  const char *name;      /* "sftp", "dav" */
  const char *uri_env;
  const char *stop_env;  /* NULL: the server cannot be stopped here */
  const char *start_env;
} Backend;

static const Backend backends[] = {
  { "sftp", "CKPT_REMOTE_SFTP_URI", "CKPT_REMOTE_SFTP_STOP", "CKPT_REMOTE_SFTP_START" },
  { "dav", "CKPT_REMOTE_DAV_URI", "CKPT_REMOTE_DAV_STOP", "CKPT_REMOTE_DAV_START" },
};

static char *self_exe;

/* A GVfs call that never returns would otherwise hold the suite until
 * meson's timeout: each test, and each writer process, has this long. */
#define WATCHDOG_SECONDS 30

static char watchdog_message[256];
static int watchdog_fd = STDOUT_FILENO;   /* the TAP stream, or stderr */

static void
on_watchdog (int signum)
{
  ssize_t unused;

  unused = write (watchdog_fd, watchdog_message, strlen (watchdog_message));
  (void) unused;
  abort ();
}

static void
watchdog_arm (const char *what)
{
  g_snprintf (watchdog_message, sizeof watchdog_message,
              "Bail out! %s did not finish in %d s: a GIO call blocked\n",
              what, WATCHDOG_SECONDS);
  signal (SIGALRM, on_watchdog);
  alarm (WATCHDOG_SECONDS);
}

/* ------------------------------------------------------------------------ */
/* Fixture */

typedef struct
{
  const Backend *backend;
  GFile         *root;   /* a fresh directory under the backend's root, not created */
  char          *uri;
} Fixture;

static void
delete_recursive (GFile *file)
{
  g_autoptr(GFileEnumerator) children = NULL;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  if (children != NULL)
    {
      for (;;)
        {
          GFileInfo *info;
          GFile *child;

          if (!g_file_enumerator_iterate (children, &info, &child, NULL, NULL) || info == NULL)
            break;
          delete_recursive (child);
        }
    }
  g_file_delete (file, NULL, NULL);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  const char *base_uri;
  g_autoptr(GFile) base = NULL;
  g_autofree char *name = NULL;

  f->backend = data;
  watchdog_arm (g_test_get_path ());
  base_uri = g_getenv (f->backend->uri_env);
  if (base_uri == NULL || *base_uri == '\0')
    return;

  base = g_file_new_for_uri (base_uri);
  name = g_strdup_printf ("t-%08x", g_random_int ());
  f->root = g_file_get_child (base, name);
  f->uri = g_file_get_uri (f->root);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->root != NULL)
    delete_recursive (f->root);
  g_clear_object (&f->root);
  g_clear_pointer (&f->uri, g_free);
  alarm (0);
}

/* Whether the test can run; else it is skipped with the reason. */
static gboolean
have_root (Fixture *f)
{
  if (f->root != NULL)
    return TRUE;

  {
    g_autofree char *msg = g_strdup_printf ("%s is not set: run through run-remote.sh",
                                            f->backend->uri_env);
    g_test_skip (msg);
  }
  return FALSE;
}

/* ------------------------------------------------------------------------ */
/* Helpers */

static guint8
state_byte (const char *writer,
            gint64      round_num,
            gsize       i)
{
  return (guint8) (i * 7u + (guint64) round_num * 13u + g_str_hash (writer));
}

static GVariant *
make_state (const char *writer,
            gint64      round_num,
            gsize       size)
{
  guint8 *data = g_malloc (size);
  gsize i;

  for (i = 0; i < size; i++)
    data[i] = state_byte (writer, round_num, i);

  return g_variant_new ("(sx@ay)", writer, round_num,
                        g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, data, size,
                                                 TRUE, g_free, data));
}

/* Whether @state is make_state (@writer, @round_num, @size); names what
 * differs in @why otherwise. */
static gboolean
state_is (GVariant    *state,
          const char  *writer,
          gint64       round_num,
          gsize        size,
          char       **why)
{
  const char *actual_writer;
  gint64 actual_round;
  g_autoptr(GVariant) bytes = NULL;
  const guint8 *data;
  gsize n, i;

  if (!g_variant_is_of_type (state, G_VARIANT_TYPE (STATE_TYPE)))
    {
      *why = g_strdup_printf ("type %s", g_variant_get_type_string (state));
      return FALSE;
    }
  g_variant_get (state, "(&sx@ay)", &actual_writer, &actual_round, &bytes);
  data = g_variant_get_fixed_array (bytes, &n, 1);
  if (g_strcmp0 (actual_writer, writer) != 0 || actual_round != round_num || n != size)
    {
      *why = g_strdup_printf ("(%s, %" G_GINT64_FORMAT ", %" G_GSIZE_FORMAT " bytes)",
                              actual_writer, actual_round, n);
      return FALSE;
    }
  for (i = 0; i < n; i++)
    if (data[i] != state_byte (writer, round_num, i))
      {
        *why = g_strdup_printf ("byte %" G_GSIZE_FORMAT " differs", i);
        return FALSE;
      }

  return TRUE;
}

static void
assert_state (GVariant   *state,
              const char *writer,
              gint64      round_num,
              gsize       size)
{
  g_autofree char *why = NULL;

  g_assert_nonnull (state);
  if (!state_is (state, writer, round_num, size, &why))
    g_error ("Expected the state of %s, round %" G_GINT64_FORMAT ", got %s",
             writer, round_num, why);
}

static CkptManager *
new_manager (Fixture  *f,
             int       keep_total,
             gboolean  keep_first)
{
  g_autoptr(GError) error = NULL;
  CkptManager *mgr;

  mgr = ckpt_manager_new (f->root, NULL, keep_total, keep_first, &error);
  g_assert_no_error (error);
  g_assert_true (CKPT_IS_MANAGER (mgr));
  return mgr;
}

static void
save_ok (CkptManager *mgr,
         const char  *writer,
         gint64       round_num)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = ckpt_manager_save (mgr, make_state (writer, round_num, STATE_SIZE), round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
}

static void
load_ok (CkptManager *mgr,
         const char  *writer,
         gint64       round_num)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) state = NULL;

  state = ckpt_manager_load (mgr, G_VARIANT_TYPE (STATE_TYPE), round_num, NULL, &error);
  g_assert_no_error (error);
  assert_state (state, writer, round_num, STATE_SIZE);
}

static void
assert_rounds (CkptManager *mgr,
               const char  *expected)
{
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *rounds = NULL;
  g_autofree char *actual = NULL;
  gsize n_rounds = 0;

  rounds = ckpt_manager_list_rounds (mgr, &n_rounds, &error);
  g_assert_no_error (error);
  g_assert_nonnull (rounds);
  actual = ckpt_test_rounds_string (rounds, n_rounds);
  g_assert_cmpstr (actual, ==, expected);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

/* Every name in @dir (hidden ones too), sorted, space-separated: read
 * through GIO from the server. */
static char *
remote_names (GFile *dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GFileEnumerator) children = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  children = g_file_enumerate_children (dir, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, &error);
  g_assert_no_error (error);
  for (;;)
    {
      GFileInfo *info;
      gboolean ok;

      ok = g_file_enumerator_iterate (children, &info, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (ok);
      if (info == NULL)
        break;
      g_ptr_array_add (names, g_strdup (g_file_info_get_name (info)));
    }
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);

  return g_strjoinv (" ", (char **) names->pdata);
}

static void
assert_remote_names (Fixture    *f,
                     const char *expected)
{
  g_autofree char *actual = remote_names (f->root);

  g_assert_cmpstr (actual, ==, expected);
}

static GBytes *
remote_contents (GFile *file)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize length = 0;
  gboolean ok;

  ok = g_file_load_contents (file, NULL, &contents, &length, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  return g_bytes_new_take (contents, length);
}

/* Flips a byte in the middle of @file (inside the payload), through GIO. */
static void
damage_remote (GFile *file)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = remote_contents (file);
  gsize length = 0;
  guint8 *data = g_bytes_unref_to_data (g_steal_pointer (&bytes), &length);
  gboolean ok;

  g_assert_cmpuint (length, >, 1024);
  data[length / 2] ^= 0x55;
  ok = g_file_replace_contents (file, (const char *) data, length, NULL, FALSE,
                                G_FILE_CREATE_NONE, NULL, NULL, &error);
  g_free (data);
  g_assert_no_error (error);
  g_assert_true (ok);
}

/* Runs @command (of the environment variable @env) with /bin/sh. */
static void
run_control (const char *env)
{
  g_autoptr(GError) error = NULL;
  const char *command = g_getenv (env);
  const char *argv[] = { "/bin/sh", "-c", NULL, NULL };
  int status = 0;
  gboolean ok;

  g_assert_nonnull (command);
  argv[2] = command;
  ok = g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                     NULL, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_spawn_check_wait_status (status, &error);
  g_assert_no_error (error);
}

/* Signals */

typedef struct
{
  GString *log;   /* "saved 1, pruned 2, …" */
} Recorder;

static void
record (Recorder   *rec,
        const char *what,
        gint64      round_num,
        GFile      *file)
{
  g_autofree char *basename = g_file_get_basename (file);
  g_autofree char *expected = g_strdup_printf ("ckpt_%" G_GINT64_FORMAT, round_num);

  g_assert_cmpstr (basename, ==, expected);
  g_string_append_printf (rec->log, "%s%s %" G_GINT64_FORMAT,
                          rec->log->len > 0 ? ", " : "", what, round_num);
}

static void
on_saved (CkptManager *mgr,
          gint64       round_num,
          GFile       *file,
          Recorder    *rec)
{
  record (rec, "saved", round_num, file);
}

static void
on_pruned (CkptManager *mgr,
           gint64       round_num,
           GFile       *file,
           Recorder    *rec)
{
  record (rec, "pruned", round_num, file);
}

static void
on_corrupt (CkptManager *mgr,
            gint64       round_num,
            GFile       *file,
            GError      *error,
            Recorder    *rec)
{
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
  record (rec, "corrupt", round_num, file);
}

static void
recorder_connect (Recorder    *rec,
                  CkptManager *mgr)
{
  rec->log = g_string_new (NULL);
  g_signal_connect (mgr, "saved", G_CALLBACK (on_saved), rec);
  g_signal_connect (mgr, "pruned", G_CALLBACK (on_pruned), rec);
  g_signal_connect (mgr, "corrupt", G_CALLBACK (on_corrupt), rec);
}

static void
recorder_check (Recorder   *rec,
                const char *expected)
{
  g_assert_cmpstr (rec->log->str, ==, expected);
  g_string_truncate (rec->log, 0);
}

/* ------------------------------------------------------------------------ */
/* Core semantics */

static void
test_save_load (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) state = NULL;
  gint64 round_num = -1;
  gint64 r;

  if (!have_root (f))
    return;
  mgr = new_manager (f, 0, TRUE);
  /* GIO cannot flush a file on a GVfs back end: never claimed durable. */
  g_assert_true (ckpt_manager_get_durable (mgr));
  g_assert_false (ckpt_manager_get_durable_storage (mgr));

  /* A missing root lists as empty; it is created by the first save. */
  assert_rounds (mgr, "");
  for (r = 1; r <= 3; r++)
    save_ok (mgr, f->backend->name, r);
  for (r = 1; r <= 3; r++)
    load_ok (mgr, f->backend->name, r);

  state = ckpt_manager_load_latest (mgr, G_VARIANT_TYPE (STATE_TYPE), &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 3);
  assert_state (state, f->backend->name, 3, STATE_SIZE);
  g_clear_pointer (&state, g_variant_unref);

  state = ckpt_manager_load (mgr, G_VARIANT_TYPE (STATE_TYPE), 4, NULL, &error);
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
  g_assert_null (state);

  assert_rounds (mgr, "1 2 3");
  assert_remote_names (f, "ckpt_1 ckpt_2 ckpt_3");
}

static void
test_latest_fallback (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GFile) third = NULL;
  Recorder rec;
  gint64 round_num = -1;
  gint64 r;

  if (!have_root (f))
    return;
  mgr = new_manager (f, 0, TRUE);
  for (r = 1; r <= 3; r++)
    save_ok (mgr, f->backend->name, r);
  recorder_connect (&rec, mgr);

  third = ckpt_manager_get_file (mgr, 3);
  damage_remote (third);
  assert_remote_names (f, "ckpt_1 ckpt_2 ckpt_3");

  state = ckpt_manager_load_latest (mgr, G_VARIANT_TYPE (STATE_TYPE), &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 2);
  assert_state (state, f->backend->name, 2, STATE_SIZE);
  g_clear_pointer (&state, g_variant_unref);
  recorder_check (&rec, "corrupt 3");

  state = ckpt_manager_load (mgr, G_VARIANT_TYPE (STATE_TYPE), 3, NULL, &error);
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
  g_assert_null (state);
  g_clear_error (&error);
  recorder_check (&rec, "corrupt 3");

  /* The damaged file is left for inspection; the next round saves. */
  assert_remote_names (f, "ckpt_1 ckpt_2 ckpt_3");
  save_ok (mgr, f->backend->name, 4);
  recorder_check (&rec, "saved 4");
  state = ckpt_manager_load_latest (mgr, G_VARIANT_TYPE (STATE_TYPE), &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 4);
  g_string_free (rec.log, TRUE);
}

static void
test_latest_or_default (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GVariant) fallback = NULL;
  gint64 round_num = -1;

  if (!have_root (f))
    return;
  mgr = new_manager (f, 0, TRUE);
  fallback = g_variant_ref_sink (make_state ("default", 0, STATE_SIZE));

  /* Nothing there (not even the root): the default, saved as round 0. */
  state = ckpt_manager_load_latest_or_default (mgr, fallback, &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 0);
  assert_state (state, "default", 0, STATE_SIZE);
  g_clear_pointer (&state, g_variant_unref);
  assert_remote_names (f, "ckpt_0");

  save_ok (mgr, f->backend->name, 1);
  state = ckpt_manager_load_latest_or_default (mgr, fallback, &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 1);
  assert_state (state, f->backend->name, 1, STATE_SIZE);
  assert_remote_names (f, "ckpt_0 ckpt_1");
}

static void
test_retention (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = NULL;
  Recorder rec;
  gint64 r;

  if (!have_root (f))
    return;
  mgr = new_manager (f, 3, TRUE);
  recorder_connect (&rec, mgr);

  for (r = 1; r <= 3; r++)
    save_ok (mgr, f->backend->name, r);
  recorder_check (&rec, "saved 1, saved 2, saved 3");
  assert_remote_names (f, "ckpt_1 ckpt_2 ckpt_3");

  save_ok (mgr, f->backend->name, 4);
  recorder_check (&rec, "saved 4, pruned 2");
  assert_rounds (mgr, "1 3 4");
  assert_remote_names (f, "ckpt_1 ckpt_3 ckpt_4");
  load_ok (mgr, f->backend->name, 1);
  load_ok (mgr, f->backend->name, 4);
  g_string_free (rec.log, TRUE);
}

static void
test_exists (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GBytes) after = NULL;
  Recorder rec;
  gboolean ok;

  if (!have_root (f))
    return;
  mgr = new_manager (f, 0, TRUE);
  save_ok (mgr, "first", 1);
  file = ckpt_manager_get_file (mgr, 1);
  before = remote_contents (file);
  recorder_connect (&rec, mgr);

  ok = ckpt_manager_save (mgr, make_state ("second", 1, STATE_SIZE), 1, NULL, &error);
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_EXISTS);
  g_assert_false (ok);
  recorder_check (&rec, "");

  after = remote_contents (file);
  g_assert_true (g_bytes_equal (before, after));
  load_ok (mgr, "first", 1);
  assert_remote_names (f, "ckpt_1");
  g_string_free (rec.log, TRUE);
}

/* The way past a damaged round on a GVfs root: the save's EXISTS message
 * names the damage, ckpt_manager_delete() removes it (emitting pruned), and
 * the round saves again. */
static void
test_delete_damaged (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  Recorder rec;

  if (!have_root (f))
    return;
  mgr = new_manager (f, 0, TRUE);
  save_ok (mgr, f->backend->name, 1);
  save_ok (mgr, f->backend->name, 2);
  file = ckpt_manager_get_file (mgr, 2);
  damage_remote (file);
  recorder_connect (&rec, mgr);

  g_assert_false (ckpt_manager_save (mgr, make_state ("again", 2, STATE_SIZE), 2, NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "is damaged ("));
  g_clear_error (&error);

  g_assert_true (ckpt_manager_delete (mgr, 2, NULL, &error));
  g_assert_no_error (error);
  recorder_check (&rec, "pruned 2");
  assert_remote_names (f, "ckpt_1");

  g_assert_false (ckpt_manager_delete (mgr, 2, NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
  g_clear_error (&error);

  save_ok (mgr, f->backend->name, 2);
  load_ok (mgr, f->backend->name, 2);
  assert_remote_names (f, "ckpt_1 ckpt_2");
  g_string_free (rec.log, TRUE);
}

/* Many saves through one mount, pruning as they go: a back end must not run
 * out of anything (connections, handles) along the way. */
static void
test_many_saves (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = NULL;
  gint64 r;

  if (!have_root (f))
    return;
  mgr = new_manager (f, 2, FALSE);
  for (r = 1; r <= 50; r++)
    save_ok (mgr, f->backend->name, r);
  assert_rounds (mgr, "49 50");
  assert_remote_names (f, "ckpt_49 ckpt_50");
  load_ok (mgr, f->backend->name, 49);
}

/* Async */

typedef struct
{
  Fixture   *f;
  GMainLoop *loop;
  guint      pending;
  GString   *order;
} AsyncData;

static void
async_done (AsyncData  *ad,
            const char *what)
{
  g_string_append_printf (ad->order, "%s%s", ad->order->len > 0 ? " " : "", what);
  if (--ad->pending == 0)
    g_main_loop_quit (ad->loop);
}

static void
saved_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = ckpt_manager_save_finish (CKPT_MANAGER (source), result, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  async_done (user_data, "save");
}

static void
loaded_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  AsyncData *ad = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) state = NULL;

  state = ckpt_manager_load_finish (CKPT_MANAGER (source), result, &error);
  g_assert_no_error (error);
  assert_state (state, ad->f->backend->name, 1, STATE_SIZE);
  async_done (ad, "load");
}

static void
latest_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  AsyncData *ad = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) state = NULL;
  gint64 round_num = -1;

  state = ckpt_manager_load_latest_finish (CKPT_MANAGER (source), result, &round_num, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 2);
  assert_state (state, ad->f->backend->name, 2, STATE_SIZE);
  async_done (ad, "latest");
}

static void
listed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *rounds = NULL;
  g_autofree char *listed = NULL;
  gsize n_rounds = 0;

  rounds = ckpt_manager_list_rounds_finish (CKPT_MANAGER (source), result, &n_rounds, &error);
  g_assert_no_error (error);
  listed = ckpt_test_rounds_string (rounds, n_rounds);
  g_assert_cmpstr (listed, ==, "1 2");
  async_done (user_data, "list");
}

static void
test_async (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  AsyncData ad = { 0 };

  if (!have_root (f))
    return;
  mgr = new_manager (f, 0, TRUE);
  loop = g_main_loop_new (NULL, FALSE);
  ad.f = f;
  ad.loop = loop;
  ad.order = g_string_new (NULL);

  /* One queue, in call order: each sees the saves started before it. */
  ad.pending = 5;
  ckpt_manager_save_async (mgr, make_state (f->backend->name, 1, STATE_SIZE), 1, NULL, saved_cb, &ad);
  ckpt_manager_save_async (mgr, make_state (f->backend->name, 2, STATE_SIZE), 2, NULL, saved_cb, &ad);
  ckpt_manager_load_async (mgr, G_VARIANT_TYPE (STATE_TYPE), 1, NULL, loaded_cb, &ad);
  ckpt_manager_load_latest_async (mgr, G_VARIANT_TYPE (STATE_TYPE), NULL, latest_cb, &ad);
  ckpt_manager_list_rounds_async (mgr, NULL, listed_cb, &ad);
  g_main_loop_run (loop);

  g_assert_cmpstr (ad.order->str, ==, "save save load latest list");
  g_assert_false (ckpt_manager_get_busy (mgr));
  assert_remote_names (f, "ckpt_1 ckpt_2");
  g_string_free (ad.order, TRUE);
}

/* The server goes away between two saves: a GIO error naming the root,
 * nothing lost, and the next save works once the server is back. */
static void
test_server_gone (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *where = NULL;
  gboolean ok;

  if (!have_root (f))
    return;
  if (f->backend->stop_env == NULL || g_getenv (f->backend->stop_env) == NULL ||
      g_getenv (f->backend->start_env) == NULL)
    {
      g_test_skip ("no way to stop and restart this server");
      return;
    }

  mgr = new_manager (f, 0, TRUE);
  save_ok (mgr, f->backend->name, 1);

  run_control (f->backend->stop_env);
  ok = ckpt_manager_save (mgr, make_state (f->backend->name, 2, STATE_SIZE), 2, NULL, &error);
  g_test_message ("Save with the server gone: %s %d: %s",
                  error != NULL ? g_quark_to_string (error->domain) : "(none)",
                  error != NULL ? error->code : 0,
                  error != NULL ? error->message : "");
  run_control (f->backend->start_env);

  g_assert_false (ok);
  g_assert_nonnull (error);
  g_assert_cmpstr (g_quark_to_string (error->domain), ==, g_quark_to_string (G_IO_ERROR));
  where = g_file_get_parse_name (f->root);
  if (strstr (error->message, where) == NULL)
    g_error ("The error does not name ‘%s’: %s", where, error->message);
  g_clear_error (&error);

  save_ok (mgr, f->backend->name, 2);
  load_ok (mgr, f->backend->name, 1);
  load_ok (mgr, f->backend->name, 2);
  assert_rounds (mgr, "1 2");
  assert_remote_names (f, "ckpt_1 ckpt_2");
}

/* ------------------------------------------------------------------------ */
/* Several writer processes on one root */

#define N_WRITERS    5
#define N_ITERATIONS 8

typedef struct
{
  char             *name;
  GSubprocess      *process;
  GOutputStream    *in;
  GDataInputStream *out;
} Writer;

static char *
read_reply (Writer *w)
{
  g_autoptr(GError) error = NULL;
  char *line;

  line = g_data_input_stream_read_line_utf8 (w->out, NULL, NULL, &error);
  g_assert_no_error (error);
  if (line == NULL)
    g_error ("Writer %s exited early (see its messages above)", w->name);
  return line;
}

static void
writer_start (Writer     *w,
              const char *uri,
              const char *name,
              int         keep_total)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *keep = g_strdup_printf ("%d", keep_total);

  w->name = g_strdup (name);
  w->process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                                 &error, self_exe, "--writer", uri, name, keep, NULL);
  g_assert_no_error (error);
  w->in = g_object_ref (g_subprocess_get_stdin_pipe (w->process));
  w->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (w->process));
}

static void
writer_wait_ready (Writer *w)
{
  g_autofree char *line = read_reply (w);

  g_assert_cmpstr (line, ==, "READY");
}

static void
writer_send (Writer *w,
             gint64  round_num)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_strdup_printf ("%" G_GINT64_FORMAT "\n", round_num);
  gboolean ok;

  ok = g_output_stream_write_all (w->in, line, strlen (line), NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
}

static void
writer_finish (Writer *w)
{
  g_autoptr(GError) error = NULL;

  g_output_stream_close (w->in, NULL, &error);
  g_assert_no_error (error);
  g_subprocess_wait_check (w->process, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&w->in);
  g_clear_object (&w->out);
  g_clear_object (&w->process);
  g_free (w->name);
}

/* The round of writer @i in iteration @k: writers below @n_distinct save
 * rounds of their own, the others all save the same round. */
static gint64
writer_round (guint i,
              guint k,
              guint n_distinct)
{
  if (i < n_distinct)
    return 1000 * (gint64) (i + 1) + k;
  return 10 + k;
}

typedef struct
{
  gint64 round_num;
  char  *winner;   /* the writer whose save succeeded, or NULL */
} Saved;

/* Runs N_WRITERS writer processes for N_ITERATIONS rounds, all released at
 * once in each, and checks what they answered: every save of a round of its
 * own must succeed, and of the writers racing for one round (those from
 * @n_distinct on) exactly one must succeed and the others fail with
 * CKPT_ERROR_EXISTS. Returns the rounds saved, each with its writer. With
 * @keep_total > 0 the writers also prune, and a save of a round that others
 * outran so far that retention would delete it at once may be refused
 * (CKPT_ERROR_SUPERSEDED). */
static GArray *
run_writers (Fixture *f,
             guint    n_distinct,
             int      keep_total,
             guint   *out_failures)
{
  guint n_same = N_WRITERS - n_distinct;
  Writer writers[N_WRITERS];
  g_autoptr(GArray) saved = g_array_new (FALSE, TRUE, sizeof (Saved));
  g_autoptr(GError) error = NULL;
  guint failures = 0, superseded = 0;
  guint i, k;

  /* Created beforehand, so that the race is the saves', not mkdir's. */
  g_file_make_directory (f->root, NULL, &error);
  g_assert_no_error (error);

  for (i = 0; i < N_WRITERS; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s%u", i < n_distinct ? "writer" : "racer", i);

      writer_start (&writers[i], f->uri, name, keep_total);
    }
  for (i = 0; i < N_WRITERS; i++)
    writer_wait_ready (&writers[i]);

  for (k = 0; k < N_ITERATIONS; k++)
    {
      g_autofree char *same_winner = NULL;
      guint same_ok = 0, same_exists = 0;
      GString *summary = g_string_new (NULL);

      for (i = 0; i < N_WRITERS; i++)
        writer_send (&writers[i], writer_round (i, k, n_distinct));

      for (i = 0; i < N_WRITERS; i++)
        {
          g_autofree char *reply = read_reply (&writers[i]);
          g_autofree char *prefix = g_strdup_printf ("%" G_GINT64_FORMAT " ",
                                                    writer_round (i, k, n_distinct));
          const char *outcome;

          g_string_append_printf (summary, "%s%s: %s", i > 0 ? "; " : "", writers[i].name, reply);
          g_assert_true (g_str_has_prefix (reply, prefix));
          outcome = reply + strlen (prefix);

          if (i < n_distinct)
            {
              if (g_str_equal (outcome, "OK"))
                {
                  Saved s = { writer_round (i, k, n_distinct), g_strdup (writers[i].name) };

                  g_array_append_val (saved, s);
                }
              /* Others saved so many newer rounds that retention would
               * delete this one at once: refused, nothing written. */
              else if (keep_total > 0 && g_str_equal (outcome, "SUPERSEDED"))
                superseded++;
              else
                failures++;
            }
          else if (g_str_equal (outcome, "OK"))
            {
              same_ok++;
              g_free (same_winner);
              same_winner = g_strdup (writers[i].name);
            }
          else if (g_str_equal (outcome, "EXISTS"))
            same_exists++;
        }

      g_test_message ("Iteration %u: %s", k, summary->str);
      g_string_free (summary, TRUE);
      if (n_same > 0 && (same_ok != 1 || same_exists != n_same - 1))
        {
          g_test_message ("Iteration %u: round %" G_GINT64_FORMAT ": %u successes and %u EXISTS "
                          "(expected 1 and %u)", k, writer_round (n_distinct, k, n_distinct),
                          same_ok, same_exists, n_same - 1);
          failures++;
        }
      if (same_ok > 0)
        {
          /* With several successes, the load below says whose it is. */
          Saved s = { writer_round (n_distinct, k, n_distinct),
                      same_ok == 1 ? g_steal_pointer (&same_winner) : NULL };

          g_array_append_val (saved, s);
        }
    }

  for (i = 0; i < N_WRITERS; i++)
    writer_finish (&writers[i]);

  if (superseded > 0)
    g_test_message ("%u saves refused as superseded", superseded);
  *out_failures = failures;
  return g_steal_pointer (&saved);
}

static int
compare_saved (gconstpointer a,
               gconstpointer b)
{
  const Saved *sa = a, *sb = b;

  return (sa->round_num > sb->round_num) - (sa->round_num < sb->round_num);
}

static void
saved_free (GArray *saved)
{
  guint i;

  for (i = 0; i < saved->len; i++)
    g_free (g_array_index (saved, Saved, i).winner);
  g_array_unref (saved);
}

/* Loads round @s through @mgr: whether it is intact and its writer's. */
static gboolean
check_saved (CkptManager *mgr,
             const Saved *s)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autofree char *why = NULL;
  const char *writer = NULL;

  state = ckpt_manager_load (mgr, G_VARIANT_TYPE (STATE_TYPE), s->round_num, NULL, &error);
  if (state == NULL)
    {
      g_test_message ("Round %" G_GINT64_FORMAT " (by %s): %s", s->round_num,
                      s->winner != NULL ? s->winner : "?", error->message);
      return FALSE;
    }
  g_variant_get (state, "(&sx@ay)", &writer, NULL, NULL);
  if (s->winner == NULL)
    {
      g_test_message ("Round %" G_GINT64_FORMAT " holds the state of %s", s->round_num, writer);
      return FALSE;
    }
  if (!state_is (state, s->winner, s->round_num, WRITER_STATE_SIZE, &why))
    {
      g_test_message ("Round %" G_GINT64_FORMAT " (by %s): %s", s->round_num, s->winner, why);
      return FALSE;
    }
  return TRUE;
}

/* Three writers of rounds of their own and two racing for the same rounds,
 * keeping everything: every save intact, one winner per race. */
static void
test_writers (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(GPtrArray) expected_names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *expected = NULL;
  g_autofree char *names = NULL;
  GArray *saved;
  guint failures = 0, bad = 0, i;

  if (!have_root (f))
    return;

  saved = run_writers (f, 3, 0, &failures);
  g_array_sort (saved, compare_saved);
  mgr = new_manager (f, 0, TRUE);
  for (i = 0; i < saved->len; i++)
    {
      const Saved *s = &g_array_index (saved, Saved, i);

      if (!check_saved (mgr, s))
        bad++;
      g_ptr_array_add (expected_names, g_strdup_printf ("ckpt_%" G_GINT64_FORMAT, s->round_num));
    }
  /* Listings are sorted by name, not by round. */
  g_ptr_array_sort (expected_names, compare_names);
  g_ptr_array_add (expected_names, NULL);
  expected = g_strjoinv (" ", (char **) expected_names->pdata);

  names = remote_names (f->root);
  if (!g_str_equal (names, expected))
    g_test_message ("Remote listing: %s; expected: %s", names, expected);
  g_test_message ("%u failed saves or races, %u damaged or foreign checkpoints", failures, bad);
  g_assert_cmpuint (failures, ==, 0);
  g_assert_cmpuint (bad, ==, 0);
  g_assert_cmpstr (names, ==, expected);
  saved_free (saved);
}

/* Five writers of rounds of their own, each pruning to keep_total 3 with
 * keep_first: none may delete what the policy keeps of all the rounds
 * saved, nor damage any. */
static void
test_writers_retention (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) victims = NULL;
  g_autofree gint64 *present = NULL;
  g_autofree char *present_str = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *names = NULL;
  GArray *saved;
  gsize n_present = 0;
  guint failures = 0, missing = 0, bad = 0, extra = 0, i, v, p;

  if (!have_root (f))
    return;

  saved = run_writers (f, N_WRITERS, 3, &failures);
  g_array_sort (saved, compare_saved);
  for (i = 0; i < saved->len; i++)
    g_array_append_val (all, g_array_index (saved, Saved, i).round_num);
  victims = ckpt_retention_select ((const gint64 *) (gpointer) all->data, all->len, 3, TRUE);

  mgr = new_manager (f, 3, TRUE);
  present = ckpt_manager_list_rounds (mgr, &n_present, &error);
  g_assert_no_error (error);
  present_str = ckpt_test_rounds_string (present, n_present);
  g_test_message ("Left after all writers: %s", present_str);

  /* What the policy keeps must be there and intact. */
  for (i = 0, v = 0, p = 0; i < saved->len; i++)
    {
      const Saved *s = &g_array_index (saved, Saved, i);

      if (v < victims->len && g_array_index (victims, gint64, v) == s->round_num)
        {
          v++;
          continue;
        }
      while (p < n_present && present[p] < s->round_num)
        p++;
      if (p == n_present || present[p] != s->round_num)
        {
          g_test_message ("Round %" G_GINT64_FORMAT " (by %s) should be kept but is gone",
                          s->round_num, s->winner);
          missing++;
        }
      else if (!check_saved (mgr, s))
        bad++;
    }
  if (n_present > all->len - victims->len)
    extra = (guint) (n_present - (all->len - victims->len));

  names = remote_names (f->root);
  g_test_message ("Remote listing: %s", names);
  g_test_message ("%u failed saves or races, %u kept rounds missing, %u damaged, "
                  "%u more than the policy keeps", failures, missing, bad, extra);
  g_assert_cmpuint (failures, ==, 0);
  g_assert_cmpuint (missing, ==, 0);
  g_assert_cmpuint (bad, ==, 0);
  g_assert_null (strstr (names, ".tmp-"));
  saved_free (saved);
}

/* A root the server refuses to change (WebDAV under /readonly, the same
 * directory as the writable root): loads work, a save and a prune fail
 * with a G_IO_ERROR naming the root, and nothing is left behind. */
static void
test_read_only (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(CkptManager) ro = NULL;
  g_autoptr(GFile) ro_base = NULL;
  g_autoptr(GFile) ro_root = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *pruned = NULL;
  gsize n_pruned = 0;
  g_autofree char *basename = NULL;
  g_autofree char *where = NULL;
  const char *ro_uri;
  gboolean ok;

  if (!have_root (f))
    return;
  ro_uri = g_getenv ("CKPT_REMOTE_DAV_READONLY_URI");
  if (!g_str_equal (f->backend->name, "dav") || ro_uri == NULL)
    {
      /* The sftp server runs as the test's user, root in CI: it can write
       * anywhere. */
      g_test_skip ("no read-only location on this server");
      return;
    }

  mgr = new_manager (f, 1, FALSE);
  save_ok (mgr, f->backend->name, 1);

  ro_base = g_file_new_for_uri (ro_uri);
  basename = g_file_get_basename (f->root);
  ro_root = g_file_get_child (ro_base, basename);
  ro = ckpt_manager_new (ro_root, NULL, 1, FALSE, &error);
  g_assert_no_error (error);
  load_ok (ro, f->backend->name, 1);
  assert_rounds (ro, "1");

  where = g_file_get_parse_name (ro_root);
  ok = ckpt_manager_save (ro, make_state (f->backend->name, 2, STATE_SIZE), 2, NULL, &error);
  g_test_message ("Save to a read-only root: %s %d: %s",
                  error != NULL ? g_quark_to_string (error->domain) : "(none)",
                  error != NULL ? error->code : 0, error != NULL ? error->message : "");
  g_assert_false (ok);
  g_assert_nonnull (error);
  g_assert_cmpstr (g_quark_to_string (error->domain), ==, g_quark_to_string (G_IO_ERROR));
  if (strstr (error->message, where) == NULL)
    g_error ("The error does not name ‘%s’: %s", where, error->message);
  g_clear_error (&error);

  /* Even with nothing to prune, it takes the lease, which it cannot. */
  pruned = ckpt_manager_prune (ro, CKPT_PRUNE_NONE, &n_pruned, NULL, &error);
  g_assert_nonnull (error);
  g_assert_cmpstr (g_quark_to_string (error->domain), ==, g_quark_to_string (G_IO_ERROR));
  g_assert_null (pruned);
  g_clear_error (&error);

  /* The writable root never saw any of it. */
  assert_remote_names (f, "ckpt_1");
  load_ok (mgr, f->backend->name, 1);
}

/* A lease left by a writer that died (its token never changes) is taken
 * over after the timeout, and leaves nothing behind. */
static void
test_stale_lease (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(GFile) lease_dir = NULL;
  g_autoptr(GFile) token = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (!have_root (f))
    return;
  g_file_make_directory (f->root, NULL, &error);
  g_assert_no_error (error);
  lease_dir = g_file_get_child (f->root, ".ckpt_lease");
  g_file_make_directory (lease_dir, NULL, &error);
  g_assert_no_error (error);
  token = g_file_get_child (lease_dir, "deadhost-4242-0badcafe.3");
  ok = g_file_replace_contents (token, "", 0, NULL, FALSE, G_FILE_CREATE_NONE, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);

  mgr = new_manager (f, 0, TRUE);
  save_ok (mgr, f->backend->name, 1);
  load_ok (mgr, f->backend->name, 1);
  assert_remote_names (f, "ckpt_1");
}

/* A live holder in another process (here, this one: the writer is the other
 * process) keeps renewing its lease for three timeouts: the writer waits all
 * that time and saves only once the lease is given up. */
static void
test_live_lease (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GFile) lease_dir = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *names = NULL;
  CkptLease *lease;
  Writer writer;
  gint64 until;

  if (!have_root (f))
    return;
  g_file_make_directory (f->root, NULL, &error);
  g_assert_no_error (error);
  lease_dir = g_file_get_child (f->root, ".ckpt_lease");
  lease = ckpt_lease_acquire (lease_dir, LEASE_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (lease);

  writer_start (&writer, f->uri, "writer", 0);
  writer_wait_ready (&writer);
  writer_send (&writer, 1);

  until = g_get_monotonic_time () + 3 * LEASE_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
  while (g_get_monotonic_time () < until)
    {
      g_usleep (100 * G_TIME_SPAN_MILLISECOND);
      g_assert_true (ckpt_lease_keep (lease, NULL, &error));
      g_assert_no_error (error);
    }
  /* The writer has not saved: only the lease is there. */
  names = remote_names (f->root);
  g_assert_cmpstr (names, ==, ".ckpt_lease");

  ckpt_lease_release (lease);
  reply = read_reply (&writer);
  g_assert_cmpstr (reply, ==, "1 OK");
  writer_finish (&writer);
  assert_remote_names (f, "ckpt_1");
}

/* The writer process. */
static int
writer_main (const char *uri,
             const char *name,
             int         keep_total)
{
  g_autoptr(GFile) root = g_file_new_for_uri (uri);
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *rounds = NULL;
  gsize n_rounds = 0;
  char line[64];

  /* A retention warning is reported on stderr; the parent judges. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK);
  watchdog_fd = STDERR_FILENO;
  g_snprintf (watchdog_message, sizeof watchdog_message,
              "%s: no answer in %d s: a GIO call blocked\n", name, 2 * WATCHDOG_SECONDS);
  signal (SIGALRM, on_watchdog);
  alarm (2 * WATCHDOG_SECONDS);
#ifdef __linux__
  /* Not outlive a parent that the watchdog stopped. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
#endif

  mgr = ckpt_manager_new (root, NULL, keep_total, TRUE, &error);
  if (mgr == NULL)
    {
      g_printerr ("%s: %s\n", name, error->message);
      return 1;
    }
  /* Connect to the mount before the race. */
  rounds = ckpt_manager_list_rounds (mgr, &n_rounds, &error);
  if (rounds == NULL)
    {
      g_printerr ("%s: %s\n", name, error->message);
      return 1;
    }
  printf ("READY\n");
  fflush (stdout);

  while (fgets (line, sizeof line, stdin) != NULL)
    {
      gint64 round_num = g_ascii_strtoll (line, NULL, 10);
      g_autoptr(GError) save_error = NULL;

      if (ckpt_manager_save (mgr, make_state (name, round_num, WRITER_STATE_SIZE), round_num,
                             NULL, &save_error))
        printf ("%" G_GINT64_FORMAT " OK\n", round_num);
      else if (g_error_matches (save_error, CKPT_ERROR, CKPT_ERROR_EXISTS))
        printf ("%" G_GINT64_FORMAT " EXISTS\n", round_num);
      else if (g_error_matches (save_error, CKPT_ERROR, CKPT_ERROR_SUPERSEDED))
        printf ("%" G_GINT64_FORMAT " SUPERSEDED\n", round_num);
      else
        {
          g_strdelimit (save_error->message, "\n", ' ');
          printf ("%" G_GINT64_FORMAT " ERROR %s %d %s\n", round_num,
                  g_quark_to_string (save_error->domain), save_error->code, save_error->message);
        }
      fflush (stdout);
    }

  return 0;
}

int
main (int   argc,
      char *argv[])
{
  static const char *const fatal_domains[] = { "Ckpt", "GLib", "GLib-GObject", "GLib-GIO" };
  gsize i;

  if (argc == 5 && g_str_equal (argv[1], "--writer"))
    return writer_main (argv[2], argv[3], atoi (argv[4]));

  self_exe = g_canonicalize_filename (argv[0], NULL);
  /* Before any thread exists; the writer processes inherit it. */
  {
    g_autofree char *timeout = g_strdup_printf ("%d", LEASE_TIMEOUT_MS);

    g_setenv ("CKPT_LEASE_TIMEOUT_MS", timeout, TRUE);
  }
  g_test_init (&argc, &argv, NULL);
  /* GVfs's own client code warns (domain "GVFS", structured logging,
   * which a fatal handler cannot excuse) when its back end comes back
   * after the server restarted, and recovers by itself: not ckpt-glib's to
   * judge. Warnings stay fatal for ckpt-glib and GLib. */
  g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
  for (i = 0; i < G_N_ELEMENTS (fatal_domains); i++)
    g_log_set_fatal_mask (fatal_domains[i], G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL);

  for (i = 0; i < G_N_ELEMENTS (backends); i++)
    {
      const Backend *b = &backends[i];

#define ADD(test_case, func) \
      G_STMT_START { \
        g_autofree char *path = g_strdup_printf ("/ckpt/remote/%s/%s", b->name, test_case); \
        g_test_add (path, Fixture, b, fixture_setup, func, fixture_teardown); \
      } G_STMT_END

      ADD ("save-load", test_save_load);
      ADD ("latest-fallback", test_latest_fallback);
      ADD ("latest-or-default", test_latest_or_default);
      ADD ("retention", test_retention);
      ADD ("exists", test_exists);
      ADD ("delete-damaged", test_delete_damaged);
      ADD ("async", test_async);
      ADD ("many-saves", test_many_saves);
      ADD ("writers", test_writers);
      ADD ("writers-retention", test_writers_retention);
      ADD ("read-only", test_read_only);
      ADD ("stale-lease", test_stale_lease);
      ADD ("live-lease", test_live_lease);
      ADD ("server-gone", test_server_gone);
#undef ADD
    }

  return g_test_run ();
}
