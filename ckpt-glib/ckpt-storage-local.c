/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Local storage: the durable commit protocol on a POSIX directory.
 *
 *  1. Create the root (with parents), open it, take flock (LOCK_EX) on it:
 *     one writer at a time, across threads and processes, and no lock file.
 *  2. Write the checkpoint into an unnamed O_TMPFILE inode in the root (or,
 *     where O_TMPFILE is missing, a hidden ".<name>.tmp-XXXXXX" file).
 *  3. fsync the file (durable saves).
 *  4. linkat() it under its name: this fails with EEXIST rather than replace
 *     anything. This is the point of no return.
 *  5. fsync the directory (durable saves).
 *
 * A crash before 4 leaves nothing visible (or a hidden temp file that the
 * next writer removes); a crash after 4 leaves a complete checkpoint.
 *
 * Listing cache. Retention needs the listing after every save; reading a
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
 * (ckpt_storage_txn_peek()), the new round is appended, pruned ones leave
 * by moving a head index, and the writer puts the listing back at the end.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "ckpt-error.h"
#include "ckpt-fault-private.h"
#include "ckpt-format-private.h"
#include "ckpt-storage-impl-private.h"

/* Fault injection (tests): fails the call with the injected errno. */
static inline gboolean
injected (CkptFaultPoint point)
{
  int err = ckpt_fault_check (point);

  if (err != 0)
    errno = err;
  return err != 0;
}

#define INJECT(point, call) (injected (point) ? -1 : (call))

/* Writes are split so that cancellation is noticed within one chunk; 8 MiB
 * as the plain write of the benchmark's limit row (one write() of 512 MiB
 * was measured slower than chunks of 1 to 64 MiB on this kernel). */
#define WRITE_CHUNK (8 * 1024 * 1024)

static gboolean
set_errno_error (GError     **error,
                 int          saved_errno,
                 const char  *action,
                 const char  *dir,
                 const char  *name)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
               "%s ‘%s%s%s’: %s", action, dir,
               name != NULL ? G_DIR_SEPARATOR_S : "", name != NULL ? name : "",
               g_strerror (saved_errno));
  return FALSE;
}

static gboolean
have_proc_fd (void)
{
  static gsize result = 0;

  if (g_once_init_enter (&result))
    g_once_init_leave (&result, access ("/proc/self/fd", X_OK) == 0 ? 1 : 2);
  return result == 1;
}

static int
open_root (CkptStorage  *self,
           GError      **error)
{
  int fd;

  do
    fd = INJECT (CKPT_FAULT_OPEN, open (self->root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  while (fd < 0 && errno == EINTR);

  if (fd < 0)
    set_errno_error (error, errno, "Cannot open checkpoint directory", self->root_path, NULL);

  return fd;
}

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

/* Listing cache (see the top of this file). Everything here runs with
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

static void
set_add (GHashTable *set,
         gint64      round_num)
{
  if (!g_hash_table_contains (set, &round_num))
    g_hash_table_add (set, g_memdup2 (&round_num, sizeof round_num));
}

/* Forgets the listing and what is known of the files. */
static void
cache_forget (CkptListingCache *cache)
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
watch_close (CkptListingCache *cache)
{
  if (cache->notify_fd >= 0)
    close (cache->notify_fd);
  cache->notify_fd = -1;
  cache_forget (cache);
}

/* Whether the directory open as @dir_fd is watched (it is from now on, if
 * it can be). */
static gboolean
watch_ensure (CkptStorage *self,
              int          dir_fd)
{
  CkptListingCache *cache = &self->cache;
  char path[64];
  struct stat st;
  int fd;

  if (cache->notify_failed || fstat (dir_fd, &st) != 0)
    return FALSE;
  if (cache->notify_fd >= 0 && cache->dev == (guint64) st.st_dev && cache->ino == (guint64) st.st_ino)
    return TRUE;

  /* None yet, or another directory now stands at the root's path. */
  watch_close (cache);
  if ((self->flags & CKPT_STORAGE_FLAGS_NO_NOTIFY) || !have_proc_fd () ||
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
watch_drain (CkptStorage *self,
             int          dir_fd,
             GArray      *rounds,
             guint       *head)
{
  CkptListingCache *cache = &self->cache;
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
        return TRUE;
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
          if (!ckpt_storage_parse_name (self->prefix, event->name, &round_num))
            {
              /* A writer that dies leaves its temp file: the next writer
               * reads the directory, which removes it. */
              if (!ckpt_storage_is_temp_name (self->prefix, event->name))
                continue;
              if (event->mask & (IN_CREATE | IN_MOVED_TO))
                g_hash_table_add (cache->temps, g_strdup (event->name));
              else if (event->mask & (IN_DELETE | IN_MOVED_FROM))
                g_hash_table_remove (cache->temps, event->name);
              continue;
            }

          if (event->mask & (IN_CREATE | IN_MOVED_TO))
            own = g_hash_table_remove (cache->own_creates, &round_num);
          /* Whatever happened to it, it is no longer the file we flushed. */
          if (!own && round_num == self->flushed)
            self->flushed = -1;

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
              set_add (cache->unknown, round_num);
            }
        }
    }
}

/* A listing just read from the directory (the watch older than the read):
 * every round not known intact is unknown, and what is known of rounds no
 * longer there is dropped. */
static void
cache_note_listing (CkptListingCache *cache,
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
        set_add (cache->unknown, round_num);
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

/* A copy of the cached listing, up to date, if there is one (readers). */
static GArray *
cache_lookup (CkptStorage *self,
              int          dir_fd,
              guint       *out_generation)
{
  CkptListingCache *cache = &self->cache;
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
cache_offer (CkptStorage *self,
             GArray      *rounds,
             GPtrArray   *temps,
             guint        generation)
{
  CkptListingCache *cache = &self->cache;

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

/* A writer (lock held) takes the listing, up to date, if there is one. */
static void
cache_take (CkptStorageTxn *txn)
{
  CkptStorage *self = txn->storage;
  CkptListingCache *cache = &self->cache;

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
static gboolean
txn_owns_cache (CkptStorageTxn *txn)
{
  CkptListingCache *cache = &txn->storage->cache;

  return cache->taken_by == txn && cache->notify_fd >= 0 && cache->generation == txn->generation;
}

/* Brings the writer's listing up to date with the events (others' changes
 * during the transaction). FALSE: it must be read again. */
static gboolean
txn_refresh (CkptStorageTxn *txn)
{
  CkptListingCache *cache = &txn->storage->cache;
  gboolean ok;

  g_mutex_lock (&cache->lock);
  ok = txn_owns_cache (txn) &&
       watch_drain (txn->storage, txn->dir_fd, txn->rounds, &txn->rounds_head);
  g_mutex_unlock (&cache->lock);
  return ok;
}

/* The writer gives the listing back at the end (its own changes in it). */
static void
cache_give_back (CkptStorageTxn *txn)
{
  CkptListingCache *cache = &txn->storage->cache;

  g_mutex_lock (&cache->lock);
  if (cache->taken_by == txn)
    {
      if (txn_owns_cache (txn) && txn->rounds != NULL && !txn->uncertain)
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
           * events. */
          g_clear_pointer (&cache->rounds, g_array_unref);
          cache->valid = FALSE;
        }
      cache->taken_by = NULL;
    }
  g_mutex_unlock (&cache->lock);
}

/* What a file is now, to compare with what it was when it was verified
 * (where there is no watch). */
static gboolean
file_id_at (int          dir_fd,
            const char  *name,
            CkptFileId  *out_id)
{
  struct stat st;

  if (fstatat (dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG (st.st_mode))
    return FALSE;
  out_id->v[0] = (guint64) st.st_ino ^ ((guint64) st.st_dev << 40);
  out_id->v[1] = (guint64) st.st_size;
  out_id->v[2] = (guint64) st.st_mtim.tv_sec * G_GUINT64_CONSTANT (1000000000) + (guint64) st.st_mtim.tv_nsec;
  out_id->v[3] = (guint64) st.st_ctim.tv_sec * G_GUINT64_CONSTANT (1000000000) + (guint64) st.st_ctim.tv_nsec;
  return TRUE;
}

static int
compare_rounds (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

static gint64 *
local_list (CkptStorage     *self,
            CkptStorageTxn  *txn,
            gsize           *n_rounds,
            GCancellable    *cancellable,
            GError         **error)
{
  g_autoptr(GArray) rounds = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GPtrArray) temps = NULL;
  guint generation = G_MAXUINT;
  struct dirent *entry;
  DIR *dir;
  int fd;

  /* Remembered listings are kept in ascending order. */
  if (txn != NULL && txn->rounds != NULL)
    return ckpt_storage_take_rounds (listing_copy (txn->rounds, txn->rounds_head), n_rounds);

  if (txn != NULL)
    fd = dup (txn->dir_fd);
  else
    {
      g_autoptr(GError) local_error = NULL;

      fd = open_root (self, &local_error);
      if (fd < 0 && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return ckpt_storage_sort_rounds (g_steal_pointer (&rounds), n_rounds);
      if (fd < 0)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }

  if (fd >= 0 && injected (CKPT_FAULT_READDIR))
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
          return ckpt_storage_take_rounds (cached, n_rounds);
        }
    }

  if (fd < 0 || (dir = fdopendir (fd)) == NULL)
    {
      int saved_errno = errno;

      if (fd >= 0)
        close (fd);
      set_errno_error (error, saved_errno, "Cannot list checkpoint directory", self->root_path, NULL);
      return NULL;
    }
  /* A dup'ed descriptor shares its offset with the transaction's. */
  rewinddir (dir);

  errno = 0;
  while ((entry = readdir (dir)) != NULL)
    {
      gint64 round_num;

      if (ckpt_storage_parse_name (self->prefix, entry->d_name, &round_num))
        {
          if (is_regular_file (dirfd (dir), entry))
            g_array_append_val (rounds, round_num);
        }
      else if (txn == NULL && ckpt_storage_is_temp_name (self->prefix, entry->d_name))
        {
          /* For the next writer, which removes them. */
          if (generation != G_MAXUINT)
            {
              if (temps == NULL)
                temps = g_ptr_array_new_with_free_func (g_free);
              g_ptr_array_add (temps, g_strdup (entry->d_name));
            }
        }
      else if (txn != NULL && ckpt_storage_is_temp_name (self->prefix, entry->d_name))
        {
          /* We hold the writer lock, so no live writer owns this file. */
          if (INJECT (CKPT_FAULT_UNLINK, unlinkat (dirfd (dir), entry->d_name, 0)) == 0)
            txn->modified = TRUE;
          else if (errno != ENOENT)
            g_debug ("Cannot remove stale temp file ‘%s/%s’: %s",
                     self->root_path, entry->d_name, g_strerror (errno));
        }
      errno = 0;
    }

  if (errno != 0)
    {
      int saved_errno = errno;

      closedir (dir);
      set_errno_error (error, saved_errno, "Cannot list checkpoint directory", self->root_path, NULL);
      return NULL;
    }

  closedir (dir);

  g_array_sort (rounds, compare_rounds);
  if (txn != NULL)
    {
      CkptListingCache *cache = &self->cache;

      txn->rounds = g_array_copy (rounds);
      txn->rounds_head = 0;
      txn->from_cache = FALSE;
      g_mutex_lock (&cache->lock);
      if (txn_owns_cache (txn))
        cache_note_listing (cache, txn->rounds, 0);
      g_mutex_unlock (&cache->lock);
    }
  else if (generation != G_MAXUINT)
    cache_offer (self, rounds, temps, generation);
  return ckpt_storage_take_rounds (g_steal_pointer (&rounds), n_rounds);
}

typedef struct
{
  gpointer addr;
  gsize    size;   /* of the whole reservation */
} Mapping;

static void
mapping_free (gpointer data)
{
  Mapping *mapping = data;

  munmap (mapping->addr, mapping->size);
  g_free (mapping);
}

/* Maps @fd (@size bytes) for reading. The mapping is shared with the page
 * cache: whoever writes to the file changes what it holds (the decoder is
 * told so and never trusts it, see ckpt_format_decode()). So that a C
 * string read from it always ends inside readable memory, whatever the file
 * holds now, the file is mapped over the start of an anonymous read-only
 * reservation one page longer than the file's pages: after the file's last
 * byte come at least one page of zero bytes, never an unmapped page. (The
 * kernel fills the rest of the file's last page with zeros as well.)
 *
 * A truncation of the file by anyone while it is mapped makes reads of the
 * pages beyond the new end raise SIGBUS, as for every mmap user: the file
 * must not be truncated while a value loaded from it is alive (ckpt-glib
 * never modifies a checkpoint in place; see docs/threading.md). */
/* Mappings of at least this size start on a multiple of it, as the kernel
 * places a plain mmap() of a file: the page cache holds files written with
 * large writes in large folios, which the kernel maps in 2 MiB pieces only
 * at 2 MiB aligned addresses (with 4 KiB pages instead, a verified load of
 * 512 MiB measured 36% slower). */
#define MAP_ALIGN (2 * 1024 * 1024)

static GBytes *
map_file (int       fd,
          gsize     size,
          gboolean  prefault,
          int      *out_errno)
{
  Mapping *mapping;
  guint8 *reservation, *addr;
  gsize page = (gsize) sysconf (_SC_PAGESIZE);
  gsize span, align, slack;

  /* The file's pages, then one more. */
  if (size > G_MAXSIZE - 2 * page - MAP_ALIGN)
    {
      *out_errno = EOVERFLOW;
      return NULL;
    }
  span = ((size + page - 1) & ~(page - 1)) + page;
  align = size >= MAP_ALIGN ? MAP_ALIGN : page;

  if (injected (CKPT_FAULT_MMAP))
    {
      *out_errno = errno;
      return NULL;
    }

  /* Reserve room to align the start, then give the slack back. */
  slack = align - page;
  reservation = mmap (NULL, span + slack, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (reservation == MAP_FAILED)
    {
      *out_errno = errno;
      return NULL;
    }
  if (slack > 0)
    {
      guint8 *start = (guint8 *) (((guintptr) reservation + align - 1) & ~(guintptr) (align - 1));

      if (start > reservation)
        munmap (reservation, (gsize) (start - reservation));
      if (start + span < reservation + span + slack)
        munmap (start + span, (gsize) (reservation + span + slack - (start + span)));
      reservation = start;
    }

  /* MAP_POPULATE: a verified load reads every byte anyway; faulting the
   * pages in at once is much cheaper than one fault per page. An unverified
   * load touches only what the program reads. MAP_FIXED replaces the start
   * of the reservation (and nothing else: it is ours). */
  addr = mmap (reservation, size, PROT_READ,
               MAP_PRIVATE | MAP_FIXED | (prefault ? MAP_POPULATE : 0), fd, 0);
  if (addr == MAP_FAILED)
    {
      *out_errno = errno;
      munmap (reservation, span);
      return NULL;
    }
  g_assert (addr == reservation);

  mapping = g_new (Mapping, 1);
  mapping->addr = reservation;
  mapping->size = span;
  return g_bytes_new_with_free_func (addr, size, mapping_free, mapping);
}

/* Checkpoints smaller than this are read into memory instead: for them,
 * setting a mapping up and tearing it down (page faults, and at munmap()
 * a TLB shootdown on the other CPUs) costs more than the copy. */
#define MAP_MIN (64 * 1024)

static GBytes *
read_small (int       fd,
            gsize     size,
            int      *out_errno)
{
  guint8 *data;
  gsize done = 0;

  if (injected (CKPT_FAULT_MMAP))
    {
      *out_errno = errno;
      return NULL;
    }

  data = g_malloc (size);
  while (done < size)
    {
      ssize_t n = pread (fd, data + done, size - done, (off_t) done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          *out_errno = errno;
          g_free (data);
          return NULL;
        }
      /* Shorter than fstat() said: the decoder reports the truncation. */
      if (n == 0)
        break;
      done += (gsize) n;
    }
  return g_bytes_new_take (data, done);
}

static GBytes *
local_read (CkptStorage          *self,
            gint64                round_num,
            CkptStorageReadFlags  flags,
            gboolean             *out_shared,
            GCancellable  *cancellable,
            GError       **error)
{
  g_autofree char *name = ckpt_storage_build_name (self->prefix, round_num);
  g_autofree char *path = g_build_filename (self->root_path, name, NULL);
  struct stat st;
  GBytes *bytes;
  int fd, saved_errno = 0;

  do
    fd = INJECT (CKPT_FAULT_OPEN, open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  while (fd < 0 && errno == EINTR);

  if (fd < 0)
    {
      set_errno_error (error, errno, "Cannot open checkpoint", path, NULL);
      return NULL;
    }

  if (fstat (fd, &st) != 0)
    {
      saved_errno = errno;
      close (fd);
      set_errno_error (error, saved_errno, "Cannot read checkpoint", path, NULL);
      return NULL;
    }

  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   "Checkpoint ‘%s’ is not a regular file", path);
      return NULL;
    }

  if (st.st_size == 0)
    bytes = g_bytes_new (NULL, 0);
  else if ((guint64) st.st_size > G_MAXSIZE)
    {
      close (fd);
      g_set_error (error, CKPT_ERROR, CKPT_ERROR_FAILED,
                   "Checkpoint ‘%s’ is too large to map", path);
      return NULL;
    }
  else if (st.st_size < MAP_MIN)
    bytes = read_small (fd, (gsize) st.st_size, &saved_errno);
  else
    {
      bytes = map_file (fd, (gsize) st.st_size, (flags & CKPT_STORAGE_READ_PREFAULT) != 0, &saved_errno);
      *out_shared = TRUE;
    }

  close (fd);

  if (bytes == NULL)
    set_errno_error (error, saved_errno,
                     st.st_size < MAP_MIN ? "Cannot read checkpoint" : "Cannot map checkpoint",
                     path, NULL);

  return bytes;
}

static CkptStorageTxn *
local_begin (CkptStorage   *self,
             GCancellable  *cancellable,
             GError       **error)
{
  CkptStorageTxn *txn;
  gulong delay_us = 200;
  int fd;

  if (INJECT (CKPT_FAULT_MKDIR, g_mkdir_with_parents (self->root_path, 0777)) != 0)
    {
      set_errno_error (error, errno, "Cannot create checkpoint directory", self->root_path, NULL);
      return NULL;
    }

  fd = open_root (self, error);
  if (fd < 0)
    return NULL;

  /* Wait for other writers, without blocking in the kernel so that the
   * wait can be cancelled. A dead writer's lock is released by the kernel. */
  while (INJECT (CKPT_FAULT_LOCK, flock (fd, LOCK_EX | LOCK_NB)) != 0)
    {
      int saved_errno = errno;

      if (saved_errno == EINTR)
        continue;
      if (saved_errno == ENOLCK || saved_errno == EOPNOTSUPP || saved_errno == ENOSYS)
        {
          g_debug ("Cannot lock ‘%s’ (%s); writers are not serialized",
                   self->root_path, g_strerror (saved_errno));
          break;
        }
      if (saved_errno != EWOULDBLOCK)
        {
          close (fd);
          set_errno_error (error, saved_errno, "Cannot lock checkpoint directory", self->root_path, NULL);
          return NULL;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          close (fd);
          return NULL;
        }
      g_usleep (delay_us);
      delay_us = MIN (delay_us * 2, 20000);
    }

  txn = g_new0 (CkptStorageTxn, 1);
  txn->storage = self;
  txn->dir_fd = fd;
  cache_take (txn);
  return txn;
}

/* Writes all of @header and @payload to @fd, checking @cancellable between
 * chunks. Returns 0 or an errno value (ECANCELED when cancelled). */
static int
write_all (int            fd,
           GBytes        *header,
           GBytes        *payload,
           GCancellable  *cancellable)
{
  struct iovec iov[2];
  int iovcnt = 2, first = 0;

  iov[0].iov_base = (gpointer) g_bytes_get_data (header, &iov[0].iov_len);
  iov[1].iov_base = (gpointer) g_bytes_get_data (payload, &iov[1].iov_len);
  if (iov[1].iov_len == 0)
    iovcnt = 1;

  while (first < iovcnt)
    {
      struct iovec chunk[2];
      gsize budget = WRITE_CHUNK;
      int n = 0, i;
      ssize_t written;

      if (g_cancellable_is_cancelled (cancellable))
        return ECANCELED;

      for (i = first; i < iovcnt && budget > 0; i++)
        {
          chunk[n].iov_base = iov[i].iov_base;
          chunk[n].iov_len = MIN (iov[i].iov_len, budget);
          budget -= chunk[n].iov_len;
          n++;
        }

      written = INJECT (CKPT_FAULT_WRITE, writev (fd, chunk, n));
      if (written < 0)
        {
          if (errno == EINTR)
            continue;
          return errno;
        }
      if (written == 0)
        return EIO;

      while (written > 0)
        {
          gsize step = MIN ((gsize) written, iov[first].iov_len);

          iov[first].iov_base = (guint8 *) iov[first].iov_base + step;
          iov[first].iov_len -= step;
          written -= (ssize_t) step;
          if (iov[first].iov_len == 0)
            first++;
        }
      while (first < iovcnt && iov[first].iov_len == 0)
        first++;
    }

  return 0;
}

static gboolean
exists_error (CkptStorage  *self,
              const char   *name,
              GError      **error)
{
  g_set_error (error, CKPT_ERROR, CKPT_ERROR_EXISTS,
               "Checkpoint ‘%s%s%s’ already exists", self->root_path,
               G_DIR_SEPARATOR_S, name);
  return FALSE;
}


/* Sealing a large payload: the checksum is not computed before the write,
 * and its field is written last, before the fsync. The file gets its name
 * only after that (linkat(), or the rename of a hidden temp file), so
 * nobody can take it for a checkpoint before it is complete and flushed.
 *
 *  - A durable save writes everything, then, chunk by chunk, starts the
 *    writeback (sync_file_range(), only a hint) and hashes on this thread
 *    while the disk writes (hash_during_writeback()); then it writes the
 *    checksum into the first page and fsyncs. The hash costs little time of its own: the
 *    fsync waits for the disk anyway (on a disk faster than the hash, the
 *    two simply run one after the other).
 *  - A save that is not durable has no such wait: a second thread hashes
 *    while this one writes (both only read the payload).
 *
 * A hash thread running during the write cost 1.3-2.8 ms of a 64 MiB
 * durable save here (the two share memory bandwidth or a core), hashing
 * during the writeback 0.7-0.8 ms. */
#define HASH_CHUNK (4 * 1024 * 1024)

#ifdef SYNC_FILE_RANGE_WRITE
#define CAN_START_WRITEBACK 1
#else
#define CAN_START_WRITEBACK 0
#endif

/* Where the writeback started before the checksum is written begins: past
 * the first page, which the checksum's pwrite() dirties again. Where the
 * page cache holds the start of the file in a larger page or folio, that
 * is written twice, which is only slower. */
#define FIRST_PAGE 4096

typedef struct
{
  GBytes  *header;
  GBytes  *payload;
  int      abort;     /* atomic: the write failed, stop hashing */
  gboolean done;
  guint64  digest;
} HashJob;

static gpointer
hash_thread (gpointer data)
{
  HashJob *job = data;
  gsize header_size, payload_size, offset;
  const guint8 *header = g_bytes_get_data (job->header, &header_size);
  const guint8 *payload = g_bytes_get_data (job->payload, &payload_size);
  CkptFormatChecksum *checksum = ckpt_format_checksum_begin (header, header_size);

  for (offset = 0; offset < payload_size; offset += HASH_CHUNK)
    {
      if (g_atomic_int_get (&job->abort))
        {
          ckpt_format_checksum_free (checksum);
          return NULL;
        }
      ckpt_format_checksum_update (checksum, payload + offset,
                                   MIN ((gsize) HASH_CHUNK, payload_size - offset));
    }
  job->digest = ckpt_format_checksum_finish (checksum);
  job->done = TRUE;
  return NULL;
}

#if CAN_START_WRITEBACK
/* The checksum of a durable save, computed while the disk writes: for each
 * chunk, start its writeback (sync_file_range() returns once the requests
 * are queued; it blocks while the device's queue is full), then hash it
 * while the queued requests are written. Chunk by chunk, so that the hash
 * always has queued I/O to hide behind: one call for the whole file
 * returns only when the last request is queued, and the hash of a file of
 * gigabytes would then run mostly after the disk is done. The first page
 * is left out: the checksum's pwrite() dirties it again. Returns 0 or
 * ECANCELED. */
static int
hash_during_writeback (int            fd,
                       GBytes        *header,
                       GBytes        *payload,
                       GCancellable  *cancellable,
                       guint64       *out_digest)
{
  gsize header_size, payload_size, offset;
  const guint8 *head = g_bytes_get_data (header, &header_size);
  const guint8 *data = g_bytes_get_data (payload, &payload_size);
  CkptFormatChecksum *checksum = ckpt_format_checksum_begin (head, header_size);

  for (offset = 0; offset < payload_size; offset += WRITE_CHUNK)
    {
      gsize length = MIN ((gsize) WRITE_CHUNK, payload_size - offset);
      off_t start = MAX ((off_t) (header_size + offset), (off_t) FIRST_PAGE);
      off_t end = (off_t) (header_size + offset + length);

      if (g_cancellable_is_cancelled (cancellable))
        {
          ckpt_format_checksum_free (checksum);
          return ECANCELED;
        }
      /* A hint: the fsync after it is what makes the file durable. */
      if (end > start)
        (void) sync_file_range (fd, start, end - start, SYNC_FILE_RANGE_WRITE);
      ckpt_format_checksum_update (checksum, data + offset, length);
    }
  *out_digest = ckpt_format_checksum_finish (checksum);
  return 0;
}
#endif

/* Stores @digest in the checksum field of the file. Returns 0 or an errno
 * value. */
static int
write_checksum (int     fd,
                guint64 digest)
{
  guint64 le = GUINT64_TO_LE (digest);
  ssize_t n;

  do
    n = INJECT (CKPT_FAULT_WRITE, pwrite (fd, &le, sizeof le, CKPT_FORMAT_OFFSET_CHECKSUM));
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return errno;
  return n == (ssize_t) sizeof le ? 0 : EIO;
}

static gboolean
local_commit (CkptStorageTxn         *txn,
              gint64                  round_num,
              GBytes                 *header,
              GBytes                 *payload,
              CkptStorageCommitFlags  flags,
              gboolean                durable,
              GCancellable           *cancellable,
              GError                **error)
{
  CkptStorage *self = txn->storage;
  gboolean seal = (flags & CKPT_STORAGE_COMMIT_SEAL) != 0;
  g_autofree char *name = ckpt_storage_build_name (self->prefix, round_num);
  g_autofree char *temp_name = NULL;
  g_autoptr(GBytes) sealed = NULL;
  HashJob job = { NULL, };
  GThread *hasher = NULL;
  gboolean large, hash_after;
  struct stat st;
  int fd = -1, err;

  if (fstatat (txn->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return exists_error (self, name, error);

  if (!(self->flags & CKPT_STORAGE_FLAGS_NO_TMPFILE) && have_proc_fd ())
    {
      do
        fd = INJECT (CKPT_FAULT_OPEN, openat (txn->dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666));
      while (fd < 0 && errno == EINTR);

      /* File systems without O_TMPFILE take the named path below; any other
       * failure (EACCES, ENOSPC, EIO…) is the save's failure. */
      if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return set_errno_error (error, errno, "Cannot create a checkpoint in", self->root_path, NULL);
    }

  if (fd < 0)
    {
      int attempt;

      for (attempt = 0; fd < 0 && attempt < 100; attempt++)
        {
          g_free (temp_name);
          temp_name = ckpt_storage_build_temp_name (self->prefix, round_num);
          fd = INJECT (CKPT_FAULT_OPEN,
                       openat (txn->dir_fd, temp_name,
                               O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666));
          if (fd < 0 && errno != EEXIST && errno != EINTR)
            break;
        }
      if (fd < 0)
        return set_errno_error (error, errno, "Cannot create a temporary file in", self->root_path, NULL);
    }

  /* Large payloads: hashed during the writeback (durable) or on a second
   * thread during the write (see HASH_CHUNK); small ones (or when no
   * thread can be had) here, before the write, and the header goes out
   * complete. */
  large = seal && g_bytes_get_size (payload) >= ckpt_storage_get_parallel_min ();
  hash_after = large && durable && CAN_START_WRITEBACK;
  job.header = header;
  job.payload = payload;
  if (large && !hash_after)
    hasher = g_thread_try_new ("ckpt-checksum", hash_thread, &job, NULL);
  if (seal && !hash_after && hasher == NULL)
    {
      sealed = ckpt_format_seal_header (header, payload);
      header = sealed;
    }

  /* Reserve the space first: the file system allocates it in one go
   * (about 10% faster for large files here), and a full disk fails before
   * any data is written. Not every file system can. */
  if (fallocate (fd, FALLOC_FL_KEEP_SIZE, 0,
                 (off_t) (g_bytes_get_size (header) + g_bytes_get_size (payload))) != 0 &&
      errno == ENOSPC)
    err = ENOSPC;
  else
    err = write_all (fd, header, payload, cancellable);
  if (hasher != NULL)
    {
      if (err != 0)
        g_atomic_int_set (&job.abort, TRUE);
      g_thread_join (hasher);
      if (err == 0)
        err = job.done ? write_checksum (fd, job.digest) : EIO;
    }
#if CAN_START_WRITEBACK
  if (hash_after && err == 0)
    {
      guint64 digest;

      err = hash_during_writeback (fd, header, payload, cancellable, &digest);
      if (err == 0)
        err = write_checksum (fd, digest);
    }
#endif
  if (err == 0 && durable && INJECT (CKPT_FAULT_FSYNC_FILE, fsync (fd)) != 0)
    err = errno;
  if (err == 0 && g_cancellable_is_cancelled (cancellable))
    err = ECANCELED;

  /* The point of no return: after the link, the checkpoint exists. */
  if (err == 0)
    {
      if (temp_name == NULL)
        {
          char proc_path[64];

          g_snprintf (proc_path, sizeof proc_path, "/proc/self/fd/%d", fd);
          if (INJECT (CKPT_FAULT_LINK, linkat (AT_FDCWD, proc_path, txn->dir_fd, name, AT_SYMLINK_FOLLOW)) != 0)
            err = errno;
        }
      else
        {
          if (INJECT (CKPT_FAULT_LINK, linkat (txn->dir_fd, temp_name, txn->dir_fd, name, 0)) != 0)
            {
              err = errno;
              /* No hard links here (some FUSE or FAT file systems): rename,
               * still refusing to replace. */
              if (err == EPERM || err == EOPNOTSUPP || err == EMLINK)
                {
                  if (INJECT (CKPT_FAULT_LINK,
                              syscall (SYS_renameat2, txn->dir_fd, temp_name, txn->dir_fd, name,
                                       1 /* RENAME_NOREPLACE */)) == 0)
                    {
                      err = 0;
                      g_clear_pointer (&temp_name, g_free);
                    }
                  else if (errno != EINVAL && errno != ENOSYS)
                    err = errno;
                }
            }
        }
    }

  close (fd);
  /* A temp file left behind is removed by the next listing that reads the
   * directory: make sure the next save reads it. */
  if (temp_name != NULL &&
      INJECT (CKPT_FAULT_UNLINK, unlinkat (txn->dir_fd, temp_name, 0)) != 0 && errno != ENOENT)
    txn->uncertain = TRUE;

  if (err != 0)
    txn->uncertain = TRUE;
  if (err == EEXIST)
    return exists_error (self, name, error);
  if (err == ECANCELED)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                   "Saving checkpoint ‘%s%s%s’ was cancelled", self->root_path,
                   G_DIR_SEPARATOR_S, name);
      return FALSE;
    }
  if (err != 0)
    return set_errno_error (error, err, "Cannot write checkpoint", self->root_path, name);

  txn->modified = TRUE;
  if (txn->rounds != NULL)
    {
      gboolean found;
      guint index = rounds_search (txn->rounds, txn->rounds_head, round_num, &found);

      if (!found)
        g_array_insert_val (txn->rounds, index, round_num);
    }

  if (durable && INJECT (CKPT_FAULT_FSYNC_DIR, fsync (txn->dir_fd)) != 0)
    {
      int saved_errno = errno;

      /* Not durable: take it back rather than report a false success. */
      (void) INJECT (CKPT_FAULT_UNLINK, unlinkat (txn->dir_fd, name, 0));
      txn->uncertain = TRUE;
      return set_errno_error (error, saved_errno, "Cannot flush checkpoint directory",
                              self->root_path, NULL);
    }

  /* We wrote it: it is intact until somebody changes it. */
  g_mutex_lock (&self->cache.lock);
  if (txn_owns_cache (txn))
    {
      set_add (self->cache.own_creates, round_num);
      set_add (self->cache.known, round_num);
      g_hash_table_remove (self->cache.unknown, &round_num);
    }
  else
    {
      CkptFileId id;

      if (file_id_at (txn->dir_fd, name, &id))
        ckpt_storage_ids_set (self, round_num, &id);
    }
  g_mutex_unlock (&self->cache.lock);

  return TRUE;
}

static gboolean
local_remove (CkptStorageTxn  *txn,
              gint64           round_num,
              GError         **error)
{
  g_autofree char *name = ckpt_storage_build_name (txn->storage->prefix, round_num);

  if (INJECT (CKPT_FAULT_UNLINK, unlinkat (txn->dir_fd, name, 0)) != 0 && errno != ENOENT)
    {
      txn->uncertain = TRUE;
      return set_errno_error (error, errno, "Cannot delete checkpoint", txn->storage->root_path, name);
    }

  txn->modified = TRUE;
  if (txn->rounds != NULL)
    {
      gboolean found;
      guint index = rounds_search (txn->rounds, txn->rounds_head, round_num, &found);

      if (found)
        listing_remove (txn->rounds, &txn->rounds_head, index);
    }
  g_mutex_lock (&txn->storage->cache.lock);
  g_hash_table_remove (txn->storage->cache.known, &round_num);
  g_hash_table_remove (txn->storage->cache.unknown, &round_num);
  ckpt_storage_ids_forget (txn->storage, round_num);
  g_mutex_unlock (&txn->storage->cache.lock);

  return TRUE;
}

static gboolean
local_known_intact (CkptStorageTxn *txn,
                    gint64          round_num)
{
  CkptStorage *self = txn->storage;
  g_autofree char *name = NULL;
  gboolean known;
  CkptFileId id;

  g_mutex_lock (&self->cache.lock);
  if (txn_owns_cache (txn))
    {
      known = g_hash_table_contains (self->cache.known, &round_num);
      g_mutex_unlock (&self->cache.lock);
      return known;
    }
  g_mutex_unlock (&self->cache.lock);

  /* No watch: compare the file with what it was when it was verified. */
  name = ckpt_storage_build_name (self->prefix, round_num);
  if (!file_id_at (txn->dir_fd, name, &id))
    return FALSE;
  g_mutex_lock (&self->cache.lock);
  known = ckpt_storage_ids_match (self, round_num, &id);
  g_mutex_unlock (&self->cache.lock);
  return known;
}

static void
local_note_intact (CkptStorageTxn *txn,
                   gint64          round_num)
{
  CkptStorage *self = txn->storage;
  g_autofree char *name = ckpt_storage_build_name (self->prefix, round_num);
  CkptFileId id;

  /* With a watch, a change between the verification and now is an event
   * not read yet, which makes the round unknown again when it is read. */
  g_mutex_lock (&self->cache.lock);
  if (txn_owns_cache (txn))
    {
      set_add (self->cache.known, round_num);
      g_hash_table_remove (self->cache.unknown, &round_num);
    }
  else if (file_id_at (txn->dir_fd, name, &id))
    ckpt_storage_ids_set (self, round_num, &id);
  g_mutex_unlock (&self->cache.lock);
}

static gboolean
local_all_known_intact (CkptStorageTxn *txn)
{
  CkptListingCache *cache = &txn->storage->cache;
  gboolean all;

  if (txn->rounds == NULL)
    return FALSE;
  g_mutex_lock (&cache->lock);
  all = txn_owns_cache (txn) && g_hash_table_size (cache->unknown) == 0;
  g_mutex_unlock (&cache->lock);
  return all;
}

static const gint64 *
local_peek (CkptStorageTxn  *txn,
            gsize           *n_rounds,
            GError         **error)
{
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
      g_autofree gint64 *listed = local_list (txn->storage, txn, n_rounds, NULL, error);

      if (listed == NULL)
        return NULL;
      g_assert (txn->rounds != NULL);
    }

  *n_rounds = listing_len (txn->rounds, txn->rounds_head);
  return listing_data (txn->rounds, txn->rounds_head);
}

/* Flushes a checkpoint written earlier. fsync() of the file also makes its
 * name durable on the journalling file systems (ext4, xfs, btrfs: the link
 * is in the transaction that the fsync commits), so the directory is not
 * flushed: that would cost a journal commit on every save. */
static gboolean
local_sync (CkptStorageTxn  *txn,
            gint64           round_num,
            GError         **error)
{
  g_autofree char *name = ckpt_storage_build_name (txn->storage->prefix, round_num);
  int fd, saved_errno;

  do
    fd = INJECT (CKPT_FAULT_OPEN, openat (txn->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return set_errno_error (error, errno, "Cannot open checkpoint", txn->storage->root_path, name);

  if (INJECT (CKPT_FAULT_FSYNC_FILE, fsync (fd)) == 0)
    {
      close (fd);
      return TRUE;
    }
  saved_errno = errno;
  close (fd);
  return set_errno_error (error, saved_errno, "Cannot flush checkpoint", txn->storage->root_path, name);
}

static void
local_end (CkptStorageTxn *txn)
{
  /* Give the listing back for the next call (readers' too); the events of
   * our own changes are read then. The directory's times are left alone. */
  cache_give_back (txn);

  if (txn->dir_fd >= 0)
    close (txn->dir_fd);   /* releases the flock */
  g_clear_pointer (&txn->rounds, g_array_unref);
  g_free (txn);
}

const CkptStorageVFuncs ckpt_storage_local_vfuncs = {
  local_list,
  local_read,
  local_begin,
  local_commit,
  local_remove,
  local_end,
  local_peek,
  local_known_intact,
  local_note_intact,
  local_all_known_intact,
  local_sync,
};
