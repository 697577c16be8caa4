/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Local storage, listings: reading the root's directory, and the listing
 * cache kept up to date by inotify (with the sets of rounds known intact
 * or not, which its events maintain; ckpt-storage-local-intact.c answers
 * from them). Touches the directory only to read it (and to remove dead
 * writers' temp files under the writer lock); never a checkpoint's
 * contents.
 *
 * The listing cache. Retention needs the listing after every save; reading a
 * directory of 10,000 checkpoints costs more than the save. So the storage
 * watches the root with inotify and keeps the listing between calls: every
 * call first reads the pending events, and for each name they mention that
 * is a checkpoint's, looks at what the name is now (fstatat()) and updates
 * the listing. The kernel queues an event before the call that changed the
 * directory returns, whoever made it, so a change by another writer or a
 * person is seen by the next call of this one. The directory is never
 * touched to make this work (its times are left alone). Where the events
 * may not cover every change (network and cluster file systems, FUSE,
 * overlayfs, no inotify, its limits reached) nothing is cached and every
 * listing reads the directory. An overflowed or lost watch forgets
 * everything; a new watch is set up before the directory is read again.
 *
 * The same events keep the set of checkpoints known intact (written by
 * this storage or verified through it, and neither changed, replaced nor
 * touched since), which retention needs so that damaged checkpoints do not
 * count as kept (ckpt_storage_txn_known_intact()). Our own link of a new
 * checkpoint is expected (own_creates); any other creation, rename onto,
 * write or attribute change of a name makes its checkpoint unknown. Without
 * a watch, a file's device, inode, size and change times stand in.
 *
 * A save costs the same with 10 or 10,000 checkpoints kept: the writer
 * takes the listing from the cache (no copy), retention reads it in place
 * (ckpt_storage_txn_borrow_rounds()), the new round is appended, pruned
 * ones leave by moving a head index, and the writer puts the listing back
 * at the end.
 *
 * Threads: readers (ckpt_storage_list() of any thread) and the one writer
 * share the cache under its lock; a writer's LocalTxn, and the listing it
 * has taken, are its own thread's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "ckpt-storage-local-private.h"

static gboolean
is_regular_file (int            dir_fd,
                 struct dirent *entry)
{
  struct stat st;

  if (entry->d_type == DT_REG)
    return TRUE;
  if (entry->d_type != DT_UNKNOWN)
    return FALSE;
  if (fstatat (dir_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return FALSE;
  return S_ISREG (st.st_mode);
}

/* Listings (GArray of gint64, ascending) are used from a head index on:
 * retention deletes the oldest rounds, and moving the head costs nothing
 * where moving 10,000 rounds down would cost a copy of the listing on every
 * save. */
static inline guint
listing_len (GArray *rounds,
             guint   head)
{
  return rounds->len - head;
}

static inline const gint64 *
listing_data (GArray *rounds,
              guint   head)
{
  static const gint64 empty[1] = { 0 };

  return rounds->len > head ? &g_array_index (rounds, gint64, head) : empty;
}

/* A compact copy of a listing (from index 0), for callers who keep it. */
static GArray *
listing_copy (GArray *rounds,
              guint   head)
{
  GArray *copy = g_array_sized_new (FALSE, FALSE, sizeof (gint64), listing_len (rounds, head));

  g_array_append_vals (copy, listing_data (rounds, head), listing_len (rounds, head));
  return copy;
}

/* Absolute index of @round_num in the listing, or of where it would go. */
static guint
rounds_search (GArray   *rounds,
               guint     head,
               gint64    round_num,
               gboolean *found)
{
  guint lo = head, hi = rounds->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (g_array_index (rounds, gint64, mid) < round_num)
        lo = mid + 1;
      else
        hi = mid;
    }
  *found = lo < rounds->len && g_array_index (rounds, gint64, lo) == round_num;
  return lo;
}

/* Removes the round at absolute @index, moving whichever side is shorter. */
static void
listing_remove (GArray *rounds,
                guint  *head,
                guint   index)
{
  gint64 *data = (gint64 *) (gpointer) rounds->data;

  if (index - *head < rounds->len - index)
    {
      memmove (data + *head + 1, data + *head, (index - *head) * sizeof (gint64));
      (*head)++;
      /* Give the space back now and then: amortised, O(1) a removal. */
      if (*head >= 1024 && *head > listing_len (rounds, *head))
        {
          g_array_remove_range (rounds, 0, *head);
          *head = 0;
        }
    }
  else
    g_array_remove_index (rounds, index);
}

/* The listing cache (see the top of this file). Everything here runs with
 * self->cache.lock held. */

#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
                    IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/* File systems whose inotify events cover every change of a directory, by
 * any process of this machine. Network and cluster file systems (NFS,
 * CIFS, Ceph, FUSE…) only report this machine's own changes, and
 * overlayfs not those made to its layers: there, listings are read
 * afresh every time. */
static gboolean
notifies_every_change (int dir_fd)
{
  struct statfs sfs;

  if (fstatfs (dir_fd, &sfs) != 0)
    return FALSE;

  switch ((guint32) sfs.f_type)
    {
    case 0xEF53u:       /* ext2, ext3, ext4 */
    case 0x58465342u:   /* xfs */
    case 0x9123683Eu:   /* btrfs */
    case 0x01021994u:   /* tmpfs */
    case 0x858458F6u:   /* ramfs */
    case 0xF2F52010u:   /* f2fs */
    case 0xCA451A4Eu:   /* bcachefs */
      return TRUE;
    default:
      return FALSE;
    }
}

void
ckpt_local_set_add (GHashTable *set,
         gint64      round_num)
{
  if (!g_hash_table_contains (set, &round_num))
    g_hash_table_add (set, g_memdup2 (&round_num, sizeof round_num));
}

/* Forgets the listing and what is known of the files. */
static void
cache_forget (LocalCache *cache)
{
  cache->valid = FALSE;
  cache->generation++;
  g_clear_pointer (&cache->rounds, g_array_unref);
  cache->rounds_head = 0;
  g_hash_table_remove_all (cache->known);
  g_hash_table_remove_all (cache->unknown);
  g_hash_table_remove_all (cache->own_creates);
  g_hash_table_remove_all (cache->temps);
}

static void
watch_close (LocalCache *cache)
{
  if (cache->notify_fd >= 0)
    close (cache->notify_fd);
  cache->notify_fd = -1;
  cache_forget (cache);
}

/* Whether the directory open as @dir_fd is watched (it is from now on, if
 * it can be). */
static gboolean
watch_ensure (LocalStorage *self,
              int          dir_fd)
{
  LocalCache *cache = &self->cache;
  char path[64];
  struct stat st;
  int fd;

  if (cache->notify_failed || fstat (dir_fd, &st) != 0)
    return FALSE;
  if (cache->notify_fd >= 0 && cache->dev == (guint64) st.st_dev && cache->ino == (guint64) st.st_ino)
    return TRUE;

  /* None yet, or another directory now stands at the root's path. */
  watch_close (cache);
  if ((self->parent.flags & CKPT_STORAGE_FLAGS_NO_NOTIFY) || !ckpt_local_have_proc_fd () ||
      !notifies_every_change (dir_fd))
    {
      cache->notify_failed = TRUE;
      return FALSE;
    }

  fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  /* The watch is on the directory we have open, not on whatever its path
   * names by now. */
  g_snprintf (path, sizeof path, "/proc/self/fd/%d", dir_fd);
  if (fd < 0 || inotify_add_watch (fd, path, WATCH_MASK) < 0)
    {
      g_debug ("Cannot watch ‘%s’ (%s): listings will read the directory",
               self->root_path, g_strerror (errno));
      if (fd >= 0)
        close (fd);
      cache->notify_failed = TRUE;
      return FALSE;
    }

  cache->notify_fd = fd;
  cache->dev = (guint64) st.st_dev;
  cache->ino = (guint64) st.st_ino;
  return TRUE;
}

static void
listing_set (GArray  *rounds,
             guint   *head,
             gint64   round_num,
             gboolean present)
{
  gboolean found;
  guint index = rounds_search (rounds, *head, round_num, &found);

  if (present && !found)
    g_array_insert_val (rounds, index, round_num);
  else if (!present && found)
    listing_remove (rounds, head, index);
}

/* Applies the pending events to @rounds (may be NULL) and to what is known
 * of the files. An event only says that a name changed: what the name is
 * now is read with fstatat(), so that however events and our own changes
 * interleave, the listing ends as the directory is. Returns FALSE when the
 * watch overflowed or is gone: then everything is forgotten, and @rounds
 * must be dropped. */
static gboolean
watch_drain (LocalStorage *self,
             int          dir_fd,
             GArray      *rounds,
             guint       *head)
{
  LocalCache *cache = &self->cache;
  gboolean consumed = FALSE;
  union {
    struct inotify_event event;
    char bytes[4096];
  } buf;

  if (cache->notify_fd < 0)
    return FALSE;

  for (;;)
    {
      ssize_t n = read (cache->notify_fd, buf.bytes, sizeof buf.bytes);
      ssize_t offset = 0;

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        {
          /* Events about names, read with no listing to apply them to, are
           * gone: a listing read before them (by a reader that looked the
           * cache up earlier) must not become the cache now. */
          if (consumed && rounds == NULL)
            cache->generation++;
          return TRUE;
        }
      if (n <= 0)
        {
          watch_close (cache);
          return FALSE;
        }

      while (offset < n)
        {
          const struct inotify_event *event = (const struct inotify_event *) (gpointer) (buf.bytes + offset);
          gboolean present, own = FALSE;
          gint64 round_num;
          struct stat st;

          offset += (ssize_t) (sizeof *event + event->len);

          if (event->mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT))
            {
              watch_close (cache);
              return FALSE;
            }
          if (event->len == 0)
            continue;
          if (!ckpt_storage_parse_name (self->parent.prefix, event->name, &round_num))
            {
              /* A writer that dies leaves its temp file: the next writer
               * reads the directory, which removes it. */
              if (!ckpt_storage_is_temp_name (self->parent.prefix, event->name))
                continue;
              consumed = TRUE;
              if (event->mask & (IN_CREATE | IN_MOVED_TO))
                g_hash_table_add (cache->temps, g_strdup (event->name));
              else if (event->mask & (IN_DELETE | IN_MOVED_FROM))
                g_hash_table_remove (cache->temps, event->name);
              continue;
            }

          consumed = TRUE;
          if (event->mask & (IN_CREATE | IN_MOVED_TO))
            own = g_hash_table_remove (cache->own_creates, &round_num);
          /* Whatever happened to it, it is no longer the file we flushed. */
          if (!own)
            ckpt_storage_memo_forget_flushed (&self->parent, round_num);

          present = fstatat (dir_fd, event->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode);
          if (rounds != NULL)
            listing_set (rounds, head, round_num, present);

          if (!present)
            {
              g_hash_table_remove (cache->known, &round_num);
              g_hash_table_remove (cache->unknown, &round_num);
            }
          else if (!own && (event->mask & (IN_CREATE | IN_MOVED_TO | IN_MODIFY | IN_ATTRIB)))
            {
              /* Somebody else's file, or ours changed by somebody else. */
              g_hash_table_remove (cache->known, &round_num);
              ckpt_local_set_add (cache->unknown, round_num);
            }
        }
    }
}

/* A listing just read from the directory (the watch older than the read):
 * every round not known intact is unknown, and what is known of rounds no
 * longer there is dropped. */
static void
cache_note_listing (LocalCache *cache,
                    GArray           *rounds,
                    guint             head)
{
  GHashTableIter iter;
  gpointer key;
  guint i;

  g_hash_table_remove_all (cache->unknown);
  for (i = head; i < rounds->len; i++)
    {
      gint64 round_num = g_array_index (rounds, gint64, i);

      if (!g_hash_table_contains (cache->known, &round_num))
        ckpt_local_set_add (cache->unknown, round_num);
    }

  g_hash_table_iter_init (&iter, cache->known);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      gboolean found;

      rounds_search (rounds, head, *(gint64 *) key, &found);
      if (!found)
        g_hash_table_iter_remove (&iter);
    }
}

#ifdef CKPT_ENABLE_TEST_HOOKS
void (*ckpt_local_test_before_offer) (void) = NULL;
#endif

/* A copy of the cached listing, up to date, if there is one (readers). */
static GArray *
cache_lookup (LocalStorage *self,
              int          dir_fd,
              guint       *out_generation)
{
  LocalCache *cache = &self->cache;
  GArray *rounds = NULL;

  g_mutex_lock (&cache->lock);
  *out_generation = G_MAXUINT;
  if (cache->taken_by == NULL && watch_ensure (self, dir_fd))
    {
      if (!watch_drain (self, dir_fd, cache->rounds, &cache->rounds_head))
        (void) watch_ensure (self, dir_fd);   /* a new one, older than the read */
      else if (cache->valid && cache->rounds != NULL)
        rounds = listing_copy (cache->rounds, cache->rounds_head);
      if (rounds == NULL)
        *out_generation = cache->generation;
    }
  g_mutex_unlock (&cache->lock);

  return rounds;
}

/* Stores @rounds (a copy) read from the directory by a reader since
 * cache_lookup() returned @generation, and the temp files it saw. */
static void
cache_offer (LocalStorage *self,
             GArray      *rounds,
             GPtrArray   *temps,
             guint        generation)
{
  LocalCache *cache = &self->cache;

  g_mutex_lock (&cache->lock);
  if (cache->taken_by == NULL && cache->notify_fd >= 0 && !cache->valid &&
      cache->generation == generation)
    {
      g_clear_pointer (&cache->rounds, g_array_unref);
      cache->rounds = listing_copy (rounds, 0);
      cache->rounds_head = 0;
      cache->valid = TRUE;
      cache_note_listing (cache, cache->rounds, 0);
      for (guint i = 0; temps != NULL && i < temps->len; i++)
        g_hash_table_add (cache->temps, g_strdup (g_ptr_array_index (temps, i)));
    }
  g_mutex_unlock (&cache->lock);
}

void
ckpt_local_cache_take (LocalTxn *txn)
{
  LocalStorage *self = local_txn_storage (txn);
  LocalCache *cache = &self->cache;

  g_mutex_lock (&cache->lock);
  if (cache->taken_by == NULL && watch_ensure (self, txn->dir_fd))
    {
      if (!watch_drain (self, txn->dir_fd, cache->rounds, &cache->rounds_head))
        (void) watch_ensure (self, txn->dir_fd);   /* a new one, older than the read */
      else if (cache->valid && cache->rounds != NULL && g_hash_table_size (cache->temps) == 0)
        {
          txn->rounds = g_steal_pointer (&cache->rounds);
          txn->rounds_head = cache->rounds_head;
          txn->from_cache = TRUE;
        }
      cache->taken_by = txn;
      txn->generation = cache->generation;
      cache->valid = FALSE;
    }
  g_mutex_unlock (&cache->lock);
}

/* Whether @txn holds the cache and the watch has been alive since it took
 * it (with the lock held). */
gboolean
ckpt_local_txn_owns_cache (LocalTxn *txn)
{
  LocalCache *cache = &local_txn_storage (txn)->cache;

  return cache->taken_by == txn && cache->notify_fd >= 0 && cache->generation == txn->generation;
}

/* Brings the writer's listing up to date with the events (others' changes
 * during the transaction). FALSE: it must be read again. */
static gboolean
txn_refresh (LocalTxn *txn)
{
  LocalCache *cache = &local_txn_storage (txn)->cache;
  gboolean ok;

  g_mutex_lock (&cache->lock);
  ok = ckpt_local_txn_owns_cache (txn) &&
       watch_drain (local_txn_storage (txn), txn->dir_fd, txn->rounds, &txn->rounds_head);
  g_mutex_unlock (&cache->lock);
  return ok;
}

void
ckpt_local_cache_give_back (LocalTxn *txn)
{
  LocalCache *cache = &local_txn_storage (txn)->cache;

  g_mutex_lock (&cache->lock);
  if (cache->taken_by == txn)
    {
      if (ckpt_local_txn_owns_cache (txn) && txn->rounds != NULL && !txn->listing_stale)
        {
          g_clear_pointer (&cache->rounds, g_array_unref);
          cache->rounds = g_steal_pointer (&txn->rounds);
          cache->rounds_head = txn->rounds_head;
          cache->valid = TRUE;
        }
      else
        {
          /* Our own listing may be off (a failed call): read the directory
           * next time. What is known of the files stays true, through the
           * events. The events this txn read went into the listing dropped
           * here: a reader's listing from before the txn is stale too. */
          g_clear_pointer (&cache->rounds, g_array_unref);
          cache->valid = FALSE;
          cache->generation++;
        }
      cache->taken_by = NULL;
    }
  g_mutex_unlock (&cache->lock);
}


static int
compare_rounds (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

gint64 *
ckpt_local_list (CkptStorage     *storage,
                 CkptStorageTxn  *base,
                 gsize           *n_rounds,
                 GCancellable    *cancellable,
                 GError         **error)
{
  LocalStorage *self = LOCAL_STORAGE (storage);
  LocalTxn *txn = LOCAL_TXN (base);
  g_autoptr(GArray) rounds = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GPtrArray) temps = NULL;
  guint generation = G_MAXUINT;
  struct dirent *entry;
  DIR *dir;
  int fd;

  /* Remembered listings are kept in ascending order. */
  if (txn != NULL && txn->rounds != NULL)
    return ckpt_storage_array_to_rounds (listing_copy (txn->rounds, txn->rounds_head), n_rounds);

  if (txn != NULL)
    fd = dup (txn->dir_fd);
  else
    {
      g_autoptr(GError) local_error = NULL;

      fd = ckpt_local_open_root (self, &local_error);
      if (fd < 0 && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return ckpt_storage_array_sort_to_rounds (g_steal_pointer (&rounds), n_rounds);
      if (fd < 0)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }

  if (fd >= 0 && ckpt_fault_injected (CKPT_FAULT_READDIR))
    {
      int saved_errno = errno;

      close (fd);
      fd = -1;
      errno = saved_errno;
    }
  if (txn == NULL && fd >= 0)
    {
      GArray *cached = cache_lookup (self, fd, &generation);

      if (cached != NULL)
        {
          close (fd);
          return ckpt_storage_array_to_rounds (cached, n_rounds);
        }
    }

  if (fd < 0 || (dir = fdopendir (fd)) == NULL)
    {
      int saved_errno = errno;

      if (fd >= 0)
        close (fd);
      ckpt_local_errno_error (error, saved_errno, "Cannot list checkpoint directory", self->root_path, NULL);
      return NULL;
    }
  /* A dup'ed descriptor shares its offset with the transaction's. */
  rewinddir (dir);

  errno = 0;
  while ((entry = readdir (dir)) != NULL)
    {
      gint64 round_num;

      if (ckpt_storage_parse_name (self->parent.prefix, entry->d_name, &round_num))
        {
          if (is_regular_file (dirfd (dir), entry))
            g_array_append_val (rounds, round_num);
        }
      else if (txn == NULL && ckpt_storage_is_temp_name (self->parent.prefix, entry->d_name))
        {
          /* For the next writer, which removes them. */
          if (generation != G_MAXUINT)
            {
              if (temps == NULL)
                temps = g_ptr_array_new_with_free_func (g_free);
              g_ptr_array_add (temps, g_strdup (entry->d_name));
            }
        }
      else if (txn != NULL && ckpt_storage_is_temp_name (self->parent.prefix, entry->d_name))
        {
          /* We hold the writer lock, so no live writer owns this file. */
          if (CKPT_INJECT (CKPT_FAULT_UNLINK, unlinkat (dirfd (dir), entry->d_name, 0)) != 0 &&
              errno != ENOENT)
            g_debug ("Cannot remove stale temp file ‘%s/%s’: %s",
                     self->root_path, entry->d_name, g_strerror (errno));
        }
      errno = 0;
    }

  if (errno != 0)
    {
      int saved_errno = errno;

      closedir (dir);
      ckpt_local_errno_error (error, saved_errno, "Cannot list checkpoint directory", self->root_path, NULL);
      return NULL;
    }

  closedir (dir);

  g_array_sort (rounds, compare_rounds);
  if (txn != NULL)
    {
      LocalCache *cache = &self->cache;

      txn->rounds = g_array_copy (rounds);
      txn->rounds_head = 0;
      txn->from_cache = FALSE;
      g_mutex_lock (&cache->lock);
      if (ckpt_local_txn_owns_cache (txn))
        cache_note_listing (cache, txn->rounds, 0);
      g_mutex_unlock (&cache->lock);
    }
  else if (generation != G_MAXUINT)
    {
#ifdef CKPT_ENABLE_TEST_HOOKS
      if (ckpt_local_test_before_offer != NULL)
        ckpt_local_test_before_offer ();
#endif
      cache_offer (self, rounds, temps, generation);
    }
  return ckpt_storage_array_to_rounds (g_steal_pointer (&rounds), n_rounds);
}

const gint64 *
ckpt_local_borrow_rounds (CkptStorageTxn  *base,
                          gsize           *n_rounds,
                          GError         **error)
{
  LocalTxn *txn = LOCAL_TXN (base);

  /* Others may have changed the directory since the txn began. */
  if (txn->rounds != NULL && !txn_refresh (txn))
    {
      g_clear_pointer (&txn->rounds, g_array_unref);
      txn->rounds_head = 0;
      txn->from_cache = FALSE;
    }

  if (txn->rounds == NULL)
    {
      /* Reads the directory, and keeps the listing in txn->rounds. */
      g_autofree gint64 *listed = ckpt_local_list (base->storage, base, n_rounds, NULL, error);

      if (listed == NULL)
        return NULL;
      g_assert (txn->rounds != NULL);
    }

  *n_rounds = listing_len (txn->rounds, txn->rounds_head);
  return listing_data (txn->rounds, txn->rounds_head);
}

void
ckpt_local_cache_init (LocalCache *cache)
{
  g_mutex_init (&cache->lock);
  cache->notify_fd = -1;
  cache->known = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  cache->unknown = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  cache->own_creates = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  cache->temps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

void
ckpt_local_cache_clear (LocalCache *cache)
{
  if (cache->notify_fd >= 0)
    close (cache->notify_fd);
  g_clear_pointer (&cache->rounds, g_array_unref);
  g_clear_pointer (&cache->known, g_hash_table_unref);
  g_clear_pointer (&cache->unknown, g_hash_table_unref);
  g_clear_pointer (&cache->own_creates, g_hash_table_unref);
  g_clear_pointer (&cache->temps, g_hash_table_unref);
  g_mutex_clear (&cache->lock);
}

void
ckpt_local_txn_add_round (LocalTxn *txn,
                          gint64    round_num)
{
  if (txn->rounds != NULL)
    listing_set (txn->rounds, &txn->rounds_head, round_num, TRUE);
}

void
ckpt_local_txn_drop_round (LocalTxn *txn,
                           gint64    round_num)
{
  if (txn->rounds != NULL)
    listing_set (txn->rounds, &txn->rounds_head, round_num, FALSE);
}
