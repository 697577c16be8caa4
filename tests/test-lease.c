/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The writer lease of roots without a shared lock (ckpt-lease.c), on local
 * files through GIO: taking and giving it up, waiting for a live holder,
 * taking over a dead one, renewal, and losing it. The remote suite runs the
 * same lease on sftp and WebDAV.
 */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <ckpt-glib/ckpt-glib.h>

#include "ckpt-lease-private.h"

/* Timeouts in these tests: short, so that dead holders are found quickly. */
#define TIMEOUT (1000 * G_TIME_SPAN_MILLISECOND)

typedef struct
{
  char  *tmpdir;
  GFile *dir;     /* the lease directory, inside tmpdir */
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  f->tmpdir = g_dir_make_tmp ("ckpt-lease-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (f->tmpdir, ".ckpt_lease", NULL);
  f->dir = g_file_new_for_path (path);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;
  g_autofree char *lease_path = g_file_get_path (f->dir);

  /* Whatever a test left in the lease directory, then the directory. */
  dir = g_dir_open (lease_path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (lease_path, name, NULL);

      g_unlink (path);
    }
  g_rmdir (lease_path);
  g_assert_cmpint (g_rmdir (f->tmpdir), ==, 0);
  g_clear_object (&f->dir);
  g_free (f->tmpdir);
}

/* g_ptr_array_sort() passes pointers to the elements. */
static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The names in the lease directory, sorted, space-separated; NULL if there
 * is no such directory. */
static char *
lease_names (Fixture *f)
{
  g_autofree char *path = g_file_get_path (f->dir);
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  const char *name;

  if (dir == NULL)
    return NULL;
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, (gpointer) name);
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static CkptLease *
acquire_ok (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  CkptLease *lease = ckpt_lease_acquire (f->dir, TIMEOUT, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (lease);
  return lease;
}

/* Releasing the lease removes its directory. */
static void
release_gone (Fixture   *f,
              CkptLease *lease)
{
  ckpt_lease_release (lease);
  g_assert_null (lease_names (f));
}

/* A lease as another host's process would leave it. */
static void
plant_foreign_lease (Fixture    *f,
                     const char *token)
{
  g_autofree char *path = g_file_get_path (f->dir);
  g_autofree char *token_path = g_build_filename (path, token, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir (path, 0700), ==, 0);
  if (token != NULL)
    {
      g_file_set_contents (token_path, "", 0, &error);
      g_assert_no_error (error);
    }
}

static void
test_acquire_release (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *names = NULL;
  g_autofree char *after = NULL;
  g_autofree char *prefix = NULL;
  CkptLease *lease;

  lease = acquire_ok (f);

  /* One token: "<key>-<pid>-<random>-<host>.<n>". */
  names = lease_names (f);
  g_assert_nonnull (names);
  g_assert_null (strchr (names, ' '));
  prefix = g_strdup_printf ("-%d-", (int) getpid ());
  g_assert_nonnull (strstr (names, prefix));

  /* Nothing to renew yet. */
  g_assert_true (ckpt_lease_keep (lease, NULL, &error));
  g_assert_no_error (error);
  after = lease_names (f);
  g_assert_cmpstr (after, ==, names);

  release_gone (f, lease);
}

static void
test_renew (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  CkptLease *lease;

  lease = acquire_ok (f);
  before = lease_names (f);

  /* A third of the timeout later, keeping it renames the token. */
  g_usleep (TIMEOUT / 3 + 20 * G_TIME_SPAN_MILLISECOND);
  g_assert_true (ckpt_lease_keep (lease, NULL, &error));
  g_assert_no_error (error);
  after = lease_names (f);
  g_assert_nonnull (after);
  g_assert_cmpstr (after, !=, before);
  g_assert_null (strchr (after, ' '));

  release_gone (f, lease);
}

typedef struct
{
  Fixture  *f;
  gint64    timeout;
  gint      acquired;   /* atomic */
  gint64    acquired_at;
  GError   *error;
} Waiter;

static gpointer
waiter_thread (gpointer user_data)
{
  Waiter *w = user_data;
  CkptLease *lease;

  lease = ckpt_lease_acquire (w->f->dir, w->timeout, NULL, &w->error);
  w->acquired_at = g_get_monotonic_time ();
  g_atomic_int_set (&w->acquired, 1);
  ckpt_lease_release (lease);
  return NULL;
}

/* A live holder that renews keeps another writer waiting past the timeout;
 * once it gives the lease up, the waiter gets it. */
static void
test_wait_for_live_holder (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  Waiter w = { f, TIMEOUT, 0, 0, NULL };
  CkptLease *lease;
  GThread *thread;
  gint64 released_at;
  int i;

  lease = acquire_ok (f);

  thread = g_thread_new ("waiter", waiter_thread, &w);
  /* Hold it for three timeouts, renewing as a writer does between steps. */
  for (i = 0; i < 30; i++)
    {
      g_usleep (TIMEOUT / 10);
      g_assert_true (ckpt_lease_keep (lease, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpint (g_atomic_int_get (&w.acquired), ==, 0);
    }

  released_at = g_get_monotonic_time ();
  ckpt_lease_release (lease);
  g_thread_join (thread);
  g_assert_no_error (w.error);
  g_assert_cmpint (w.acquired, ==, 1);
  g_assert_cmpint (w.acquired_at, >=, released_at);
  g_assert_null (lease_names (f));
}

/* A lease whose token does not change for the timeout is a dead holder's:
 * it is taken over, and afterwards only the new holder's token is there. */
static void
test_take_over_dead_holder (Fixture       *f,
                            gconstpointer  data)
{
  g_autofree char *names = NULL;
  CkptLease *lease;
  gint64 start;

  plant_foreign_lease (f, "otherhost-4242-0badcafe.7");
  start = g_get_monotonic_time ();
  lease = acquire_ok (f);
  /* Not before the holder was seen unchanged for the whole timeout. */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, TIMEOUT);

  names = lease_names (f);
  g_assert_nonnull (names);
  g_assert_null (strstr (names, "otherhost"));
  g_assert_null (strchr (names, ' '));

  release_gone (f, lease);
}

/* A holder that died between creating the directory and its token. */
static void
test_take_over_empty (Fixture       *f,
                      gconstpointer  data)
{
  CkptLease *lease;

  plant_foreign_lease (f, NULL);
  lease = acquire_ok (f);
  release_gone (f, lease);
}

/* A token of this very process that nobody holds (this process could not
 * give it up): taken over at once, without waiting for the timeout. */
static void
test_own_leftover (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *token = NULL;
  g_autofree char *renamed = NULL;
  CkptLease *lease;
  gint64 start;

  /* Learn this process's token name, then leave it as if unreleased. */
  lease = acquire_ok (f);
  token = lease_names (f);
  ckpt_lease_release (lease);
  plant_foreign_lease (f, token);

  start = g_get_monotonic_time ();
  lease = ckpt_lease_acquire (f->dir, 60 * G_TIME_SPAN_SECOND, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (lease);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 30 * G_TIME_SPAN_SECOND);
  renamed = lease_names (f);
  g_assert_cmpstr (renamed, !=, token);
  release_gone (f, lease);
}

/* The first 16 characters of this process's tokens: its boot and pid
 * namespace. */
static char *
own_key (Fixture *f)
{
  g_autofree char *token = NULL;
  CkptLease *lease;

  lease = acquire_ok (f);
  token = lease_names (f);
  ckpt_lease_release (lease);
  g_assert_cmpuint (strlen (token), >, 17);
  g_assert_cmpint (token[16], ==, '-');
  return g_strndup (token, 16);
}

/* A holder of this machine (same boot, same pid namespace) whose process is
 * gone is known dead: its lease is taken over at once. */
static void
test_dead_neighbour (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *key = own_key (f);
  g_autofree char *token = NULL;
  g_autofree char *names = NULL;
  CkptLease *lease;
  gint64 start;
  pid_t pid;
  int status;

  if (g_str_equal (key, "0000000000000000"))
    {
      g_test_skip ("no /proc to tell which processes can see each other");
      return;
    }

  /* A pid that existed and is gone. */
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    _exit (0);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);

  token = g_strdup_printf ("%s-%d-0badcafe-somehost.4", key, (int) pid);
  plant_foreign_lease (f, token);
  start = g_get_monotonic_time ();
  lease = ckpt_lease_acquire (f->dir, 60 * G_TIME_SPAN_SECOND, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (lease);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 30 * G_TIME_SPAN_SECOND);
  names = lease_names (f);
  g_assert_null (strstr (names, "0badcafe"));
  release_gone (f, lease);
}

/* The same for a process that is alive: it is waited for (the timeout). */
static void
test_live_neighbour (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *key = own_key (f);
  g_autofree char *token = NULL;
  CkptLease *lease;
  gint64 start;

  /* The parent of this test program is alive while it runs. */
  token = g_strdup_printf ("%s-%d-0badcafe-somehost.4", key, (int) getppid ());
  plant_foreign_lease (f, token);
  start = g_get_monotonic_time ();
  lease = acquire_ok (f);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, TIMEOUT);
  release_gone (f, lease);
}

/* A holder stopped for longer than the timeout loses the lease to a waiter,
 * and says so at its next renewal, with CKPT_ERROR_BUSY; giving it up then
 * leaves the new holder's lease alone. */
static void
test_lost (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_file_get_path (f->dir);
  g_autofree char *own = NULL;
  g_autofree char *own_path = NULL;
  g_autofree char *foreign_path = NULL;
  g_autofree char *names = NULL;
  CkptLease *lease;

  lease = acquire_ok (f);

  /* What a waiter of another host does to a dead holder: deletes its token
   * and puts its own. */
  own = lease_names (f);
  own_path = g_build_filename (path, own, NULL);
  foreign_path = g_build_filename (path, "otherhost-1-00000000.0", NULL);
  g_assert_cmpint (g_rename (own_path, foreign_path), ==, 0);

  g_usleep (TIMEOUT / 3 + 20 * G_TIME_SPAN_MILLISECOND);
  g_assert_false (ckpt_lease_keep (lease, NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_BUSY);
  g_assert_nonnull (strstr (error->message, ".ckpt_lease"));

  ckpt_lease_release (lease);
  names = lease_names (f);
  g_assert_cmpstr (names, ==, "otherhost-1-00000000.0");
}

static gpointer
cancel_later (gpointer cancellable)
{
  g_usleep (100 * G_TIME_SPAN_MILLISECOND);
  g_cancellable_cancel (cancellable);
  return NULL;
}

/* Waiting for a holder can be cancelled. */
static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  CkptLease *lease;
  GThread *thread;

  plant_foreign_lease (f, "otherhost-4242-0badcafe.7");
  thread = g_thread_new ("cancel", cancel_later, cancellable);
  lease = ckpt_lease_acquire (f->dir, 60 * G_TIME_SPAN_SECOND, cancellable, &error);
  g_thread_join (thread);
  g_assert_null (lease);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/ckpt/lease/acquire-release", test_acquire_release);
  ADD ("/ckpt/lease/renew", test_renew);
  ADD ("/ckpt/lease/wait-for-live-holder", test_wait_for_live_holder);
  ADD ("/ckpt/lease/take-over-dead-holder", test_take_over_dead_holder);
  ADD ("/ckpt/lease/take-over-empty", test_take_over_empty);
  ADD ("/ckpt/lease/own-leftover", test_own_leftover);
  ADD ("/ckpt/lease/dead-neighbour", test_dead_neighbour);
  ADD ("/ckpt/lease/live-neighbour", test_live_neighbour);
  ADD ("/ckpt/lease/lost", test_lost);
  ADD ("/ckpt/lease/cancel", test_cancel);
#undef ADD

  return g_test_run ();
}
