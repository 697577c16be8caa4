/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The writer lease of a root that has no lock other hosts would see (GVfs
 * roots: sftp, WebDAV, smb). docs/remote.md explains it to users.
 *
 * The lease is a directory, created with g_file_make_directory(): mkdir on
 * sftp and MKCOL on WebDAV fail when the name exists, and the server
 * decides, so one writer at a time creates it. Inside, its holder keeps one
 * empty *token* file, "<key>-<pid>-<random>-<host>.<n>", where the key
 * names the kernel boot and pid namespace of the holder. The holder renews the
 * lease by renaming the token to n + 1, and gives it up by deleting the
 * token, then the directory.
 *
 * A waiter polls: it tries to create the directory and, while that fails
 * because it exists, lists it. Time is measured on the waiter's monotonic
 * clock, never by comparing the clocks of two hosts: when the listing has
 * not changed for the whole timeout, its holder is taken for dead. The
 * waiter then deletes that token (of several waiters, only one can delete
 * one name), then the directory once it is empty, and tries again. A
 * directory without a token (its holder died between the two steps) goes
 * the same way. Two kinds of tokens are known dead without waiting, and
 * go at once: one of this very process that none of its leases holds (it
 * failed to give it up: the network went away), and one of a process of
 * the same boot and pid namespace (same key) whose pid no longer exists.
 *
 * The holder counts its lease valid for the timeout from the moment it
 * sent the request that created or last renewed it: a waiter needs to see
 * the same token for the whole timeout, so none can take the lease over
 * earlier. ckpt_lease_keep() renews once a third of the timeout has passed,
 * so a holder that calls it between its steps never loses the lease while
 * it lives. One stopped for longer than the timeout (SIGSTOP, a frozen VM)
 * loses it and learns so at its next renewal, but cannot notice between a
 * check and the step after it. The lease therefore serializes writers; it
 * is not what keeps a checkpoint from being replaced, which is the commit's
 * rename without overwrite, decided by the server.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "ckpt-error.h"
#include "ckpt-lease-private.h"

#define DEFAULT_TIMEOUT (30 * G_TIME_SPAN_SECOND)
#define POLL_MIN        (5 * G_TIME_SPAN_MILLISECOND)
#define POLL_MAX        (200 * G_TIME_SPAN_MILLISECOND)
#define MAX_UNKNOWN_FAILURES 50

struct _CkptLease
{
  GFile   *dir;
  GFile   *token;
  guint64  seq;
  gint64   timeout;
  gint64   renewed;   /* monotonic time the creating or last renewing request was sent */
};

gint64
ckpt_lease_default_timeout (void)
{
  const char *env = g_getenv ("CKPT_LEASE_TIMEOUT_MS");
  guint64 ms;

  if (env != NULL && g_ascii_string_to_unsigned (env, 10, 1, G_MAXINT32, &ms, NULL))
    return (gint64) ms * G_TIME_SPAN_MILLISECOND;
  return DEFAULT_TIMEOUT;
}

/* Says which processes can see each other's pids: the same kernel boot and
 * the same pid namespace (so not two containers with the same host name). 16
 * hex digits, or NULL where Linux's /proc does not tell. */
static char *
make_liveness_key (void)
{
  g_autofree char *boot_id = NULL;
  g_autofree char *pid_ns = NULL;
  g_autofree char *both = NULL;
  g_autofree char *digest = NULL;

  if (!g_file_get_contents ("/proc/sys/kernel/random/boot_id", &boot_id, NULL, NULL))
    return NULL;
  pid_ns = g_file_read_link ("/proc/self/ns/pid", NULL);
  if (pid_ns == NULL)
    return NULL;
  both = g_strconcat (g_strstrip (boot_id), " ", pid_ns, NULL);
  digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, both, -1);
  return g_strndup (digest, 16);
}

#define NO_KEY "0000000000000000"

/* "<key>-<pid>-<random>-<host>": this process, among all hosts. Made anew
 * in a child forked after it was made, which is another holder. */
static const char *
holder_id (void)
{
  static GMutex lock;
  static char *id;
  static pid_t id_pid;
  const char *result;

  g_mutex_lock (&lock);
  if (id == NULL || id_pid != getpid ())
    {
      g_autofree char *key = make_liveness_key ();
      GString *s = g_string_new (NULL);
      const char *p;

      id_pid = getpid ();
      g_string_append_printf (s, "%s-%d-%08x-", key != NULL ? key : NO_KEY,
                              (int) id_pid, g_random_int ());
      for (p = g_get_host_name (); *p != '\0' && s->len < 128; p++)
        g_string_append_c (s, g_ascii_isalnum (*p) || *p == '-' ? *p : '_');
      /* The old one may still be in use by a thread of the parent copied
       * here; it is a few bytes, left alone. */
      id = g_string_free (s, FALSE);
    }
  result = id;
  g_mutex_unlock (&lock);
  return result;
}

/* Whether token @name is of a process that this one can see is gone: same
 * liveness key (same boot, same pid namespace), and no such pid. A pid used
 * again by another process makes a dead holder look alive, never the other
 * way round. */
static gboolean
is_dead_neighbour (const char *name)
{
  const char *own = holder_id ();
  const char *p;
  guint64 pid;
  char *end = NULL;

  if (strncmp (own, NO_KEY, 16) == 0 || strncmp (name, own, 17) != 0)
    return FALSE;
  p = name + 17;
  if (!g_ascii_isdigit (*p))
    return FALSE;
  pid = g_ascii_strtoull (p, &end, 10);
  if (end == NULL || *end != '-' || pid == 0 || pid > G_MAXINT || (int) pid == getpid ())
    return FALSE;
  return kill ((pid_t) pid, 0) != 0 && errno == ESRCH;
}

static guint64
next_seq (void)
{
  static gint seq;

  return (guint) g_atomic_int_add (&seq, 1);
}

static GFile *
token_file (GFile   *dir,
            guint64  seq)
{
  g_autofree char *name = g_strdup_printf ("%s.%" G_GUINT64_FORMAT, holder_id (), seq);

  return g_file_get_child (dir, name);
}

/* The tokens (URIs) of the leases this process holds. */
static GMutex live_lock;
static GHashTable *live_tokens;

static void
live_set (GFile    *token,
          gboolean  live)
{
  g_autofree char *uri = g_file_get_uri (token);

  g_mutex_lock (&live_lock);
  if (live_tokens == NULL)
    live_tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (live)
    g_hash_table_add (live_tokens, g_steal_pointer (&uri));
  else
    g_hash_table_remove (live_tokens, uri);
  g_mutex_unlock (&live_lock);
}

/* Whether @name in @dir is a token of this process that none of its leases
 * holds. */
static gboolean
is_own_leftover (GFile      *dir,
                 const char *name)
{
  const char *id = holder_id ();
  gsize len = strlen (id);
  g_autoptr(GFile) token = NULL;
  g_autofree char *uri = NULL;
  gboolean live;

  if (strncmp (name, id, len) != 0 || name[len] != '.')
    return FALSE;

  token = g_file_get_child (dir, name);
  uri = g_file_get_uri (token);
  g_mutex_lock (&live_lock);
  live = live_tokens != NULL && g_hash_table_contains (live_tokens, uri);
  g_mutex_unlock (&live_lock);
  return !live;
}

static gboolean
lease_error (GError     **error,
             GError      *local_error,
             const char  *action,
             GFile       *dir)
{
  g_autofree char *where = g_file_get_parse_name (dir);

  g_propagate_prefixed_error (error, local_error, "%s ‘%s’: ", action, where);
  return FALSE;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/* The names in @dir, sorted: what a waiter watches. NULL on error
 * (G_IO_ERROR_NOT_FOUND once the directory is gone). */
static GPtrArray *
list_tokens (GFile         *dir,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GFileEnumerator) children = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  children = g_file_enumerate_children (dir, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                        cancellable, error);
  if (children == NULL)
    return NULL;
  for (;;)
    {
      GFileInfo *info;

      if (!g_file_enumerator_iterate (children, &info, NULL, cancellable, error))
        return NULL;
      if (info == NULL)
        break;
      g_ptr_array_add (names, g_strdup (g_file_info_get_name (info)));
    }
  g_ptr_array_sort (names, compare_names);
  return g_steal_pointer (&names);
}

static char *
join_names (GPtrArray *names)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < names->len; i++)
    g_string_append_printf (s, "%s/", (const char *) g_ptr_array_index (names, i));
  return g_string_free (s, FALSE);
}

/* Removes the lease of a dead holder: its tokens @names, then the directory
 * if it is empty then (WebDAV deletes a collection with its contents).
 * FALSE if another waiter got there first. */
static gboolean
take_over (GFile        *dir,
           GPtrArray    *names,
           GCancellable *cancellable)
{
  g_autoptr(GPtrArray) left = NULL;
  guint i;

  for (i = 0; i < names->len; i++)
    {
      g_autoptr(GFile) token = g_file_get_child (dir, g_ptr_array_index (names, i));

      if (!g_file_delete (token, cancellable, NULL))
        return FALSE;
    }

  left = list_tokens (dir, cancellable, NULL);
  if (left == NULL || left->len > 0)
    return FALSE;
  return g_file_delete (dir, cancellable, NULL);
}

/* Sleeps @usec, or less if @cancellable is cancelled. */
static gboolean
wait_for (gint64         usec,
          GCancellable  *cancellable,
          GError       **error)
{
  GPollFD pollfd;

  if (g_cancellable_make_pollfd (cancellable, &pollfd))
    {
      g_poll (&pollfd, 1, (int) (usec / 1000));
      g_cancellable_release_fd (cancellable);
    }
  else
    g_usleep ((gulong) usec);

  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

static void
lease_free (CkptLease *lease)
{
  g_clear_object (&lease->dir);
  g_clear_object (&lease->token);
  g_free (lease);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CkptLease, lease_free)

/* Creates @lease's directory and token; FALSE with G_IO_ERROR_EXISTS if the
 * directory is there. */
static gboolean
try_create (CkptLease     *lease,
            GCancellable  *cancellable,
            GError       **error)
{
  g_autoptr(GFileOutputStream) stream = NULL;
  GError *local_error = NULL;
  gint64 sent = g_get_monotonic_time ();

  if (!g_file_make_directory (lease->dir, cancellable, error))
    return FALSE;

  lease->seq = next_seq ();
  g_clear_object (&lease->token);
  lease->token = token_file (lease->dir, lease->seq);
  stream = g_file_create (lease->token, G_FILE_CREATE_NONE, cancellable, &local_error);
  if (stream == NULL ||
      !g_output_stream_close (G_OUTPUT_STREAM (stream), cancellable, &local_error))
    {
      g_file_delete (lease->token, NULL, NULL);
      g_file_delete (lease->dir, NULL, NULL);
      return lease_error (error, local_error, "Cannot create the writer lease", lease->dir);
    }

  lease->renewed = sent;
  live_set (lease->token, TRUE);
  /* Slow enough to have been taken for dead? Then renewing fails. */
  if (!ckpt_lease_keep (lease, cancellable, error))
    {
      live_set (lease->token, FALSE);
      return FALSE;
    }
  return TRUE;
}

CkptLease *
ckpt_lease_acquire (GFile         *dir,
                    gint64         timeout_us,
                    GCancellable  *cancellable,
                    GError       **error)
{
  g_autoptr(CkptLease) lease = g_new0 (CkptLease, 1);
  g_autofree char *seen = NULL;
  gint64 seen_since = 0;
  gint64 delay = POLL_MIN;
  guint unknown_failures = 0;

  g_return_val_if_fail (G_IS_FILE (dir), NULL);
  g_return_val_if_fail (timeout_us > 0, NULL);

  lease->dir = g_object_ref (dir);
  lease->timeout = timeout_us;

  for (;;)
    {
      g_autoptr(GPtrArray) names = NULL;
      g_autoptr(GPtrArray) leftovers = NULL;
      g_autofree char *listing = NULL;
      GError *local_error = NULL;
      gint64 now;
      guint i;

      if (try_create (lease, cancellable, &local_error))
        return g_steal_pointer (&lease);
      /* GVfs's sftp says why a mkdir failed from a stat after it: if the
       * holder gave the lease up in between, the reason is "unknown". */
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_FAILED) &&
          ++unknown_failures < MAX_UNKNOWN_FAILURES)
        {
          g_clear_error (&local_error);
          if (!wait_for (POLL_MIN, cancellable, error))
            return NULL;
          continue;
        }
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
        return lease_error (error, local_error, "Cannot take the writer lease", dir), NULL;
      g_clear_error (&local_error);

      names = list_tokens (dir, cancellable, &local_error);
      if (names == NULL)
        {
          if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
            return lease_error (error, local_error, "Cannot read the writer lease", dir), NULL;
          /* Given up just now: try again at once. */
          g_clear_error (&local_error);
          g_clear_pointer (&seen, g_free);
          continue;
        }

      /* Tokens of holders known to be gone go at once: this process's own
       * leftovers, and those of processes of this machine that no longer
       * exist. Never another's token beside them. */
      leftovers = g_ptr_array_new ();
      for (i = 0; i < names->len; i++)
        if (is_own_leftover (dir, g_ptr_array_index (names, i)) ||
            is_dead_neighbour (g_ptr_array_index (names, i)))
          g_ptr_array_add (leftovers, g_ptr_array_index (names, i));

      now = g_get_monotonic_time ();
      listing = join_names (names);
      if (leftovers->len > 0)
        {
          take_over (dir, leftovers, cancellable);
          g_clear_pointer (&seen, g_free);
          continue;
        }
      if (seen == NULL || strcmp (seen, listing) != 0)
        {
          g_free (seen);
          seen = g_steal_pointer (&listing);
          seen_since = now;
        }
      else if (now - seen_since >= lease->timeout)
        {
          take_over (dir, names, cancellable);
          g_clear_pointer (&seen, g_free);
          delay = POLL_MIN;
          continue;
        }

      if (!wait_for (delay, cancellable, error))
        return NULL;
      delay = MIN (delay * 2, POLL_MAX);
    }
}

gboolean
ckpt_lease_keep (CkptLease     *lease,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_autofree char *name = NULL;
  g_autoptr(GFile) renamed = NULL;
  GError *local_error = NULL;
  gint64 sent = g_get_monotonic_time ();
  guint64 seq;

  g_return_val_if_fail (lease != NULL, FALSE);

  if (sent - lease->renewed < lease->timeout / 3)
    return TRUE;

  seq = next_seq ();
  name = g_strdup_printf ("%s.%" G_GUINT64_FORMAT, holder_id (), seq);
  renamed = g_file_set_display_name (lease->token, name, cancellable, &local_error);
  if (renamed == NULL)
    {
      if (!g_file_query_exists (lease->token, cancellable))
        {
          g_autofree char *where = g_file_get_parse_name (lease->dir);

          g_set_error (error, CKPT_ERROR, CKPT_ERROR_BUSY,
                       "Lost the writer lease ‘%s’: another writer took it over after "
                       "%" G_GINT64_FORMAT " ms without renewal",
                       where, (sent - lease->renewed) / G_TIME_SPAN_MILLISECOND);
          g_error_free (local_error);
          return FALSE;
        }
      return lease_error (error, local_error, "Cannot renew the writer lease", lease->dir);
    }

  live_set (renamed, TRUE);
  live_set (lease->token, FALSE);
  g_set_object (&lease->token, renamed);
  lease->seq = seq;
  lease->renewed = sent;
  return TRUE;
}

void
ckpt_lease_release (CkptLease *lease)
{
  if (lease == NULL)
    return;

  /* If the token is gone, the lease is another writer's now. A lease this
   * process cannot give up (the network went away) is taken over by its
   * next writer, or by others after the timeout. */
  live_set (lease->token, FALSE);
  if (g_file_delete (lease->token, NULL, NULL))
    g_file_delete (lease->dir, NULL, NULL);
  lease_free (lease);
}
