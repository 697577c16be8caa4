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
 * The checksum of a save whose header comes unsealed is computed by
 * ckpt-seal.c, before, during or after the write (see there); this file
 * gives it the one piece of I/O it needs (starting the writeback of a
 * range) and stores the checksum in the file before step 3.
 *
 * The listing cache is in ckpt-storage-local-listing.c, what is known
 * intact in ckpt-storage-local-intact.c, reading in
 * ckpt-storage-local-read.c; the structs they share in
 * ckpt-storage-local-private.h. Every function runs in the thread of the
 * storage call (ckpt-storage-private.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "ckpt-error.h"
#include "ckpt-format-private.h"
#include "ckpt-seal-private.h"
#include "ckpt-storage-local-private.h"

/* Writes are split so that cancellation is noticed within one chunk; 8 MiB
 * as the plain write of the benchmark's limit row (one write() of a whole
 * large file is slower than chunks of it: docs/performance.md). */
#define WRITE_CHUNK (8 * 1024 * 1024)

gboolean
ckpt_local_errno_error (GError     **error,
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

gboolean
ckpt_local_have_proc_fd (void)
{
  static gsize result = 0;

  if (g_once_init_enter (&result))
    g_once_init_leave (&result, access ("/proc/self/fd", X_OK) == 0 ? 1 : 2);
  return result == 1;
}

int
ckpt_local_open_root (LocalStorage  *self,
                      GError       **error)
{
  int fd;

  do
    fd = CKPT_INJECT (CKPT_FAULT_OPEN, open (self->root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  while (fd < 0 && errno == EINTR);

  if (fd < 0)
    ckpt_local_errno_error (error, errno, "Cannot open checkpoint directory", self->root_path, NULL);

  return fd;
}

static CkptStorage *
local_new (GFile            *root,
           const char       *prefix,
           CkptStorageFlags  flags)
{
  LocalStorage *self = g_new0 (LocalStorage, 1);

  ckpt_storage_init (&self->parent, &ckpt_storage_local_vfuncs, root, prefix, flags);
  self->root_path = g_file_get_path (root);
  ckpt_local_cache_init (&self->cache);
  return &self->parent;
}

static void
local_free (CkptStorage *storage)
{
  LocalStorage *self = LOCAL_STORAGE (storage);

  ckpt_local_cache_clear (&self->cache);
  g_free (self->root_path);
  ckpt_storage_clear (storage);
  g_free (self);
}

static CkptStorageTxn *
local_begin (CkptStorage   *storage,
             GCancellable  *cancellable,
             GError       **error)
{
  LocalStorage *self = LOCAL_STORAGE (storage);
  LocalTxn *txn;
  gulong delay_us = 200;
  int fd;

  if (CKPT_INJECT (CKPT_FAULT_MKDIR, g_mkdir_with_parents (self->root_path, 0777)) != 0)
    {
      ckpt_local_errno_error (error, errno, "Cannot create checkpoint directory", self->root_path, NULL);
      return NULL;
    }

  fd = ckpt_local_open_root (self, error);
  if (fd < 0)
    return NULL;

  /* Wait for other writers, without blocking in the kernel so that the
   * wait can be cancelled. A dead writer's lock is released by the kernel. */
  while (CKPT_INJECT (CKPT_FAULT_LOCK, flock (fd, LOCK_EX | LOCK_NB)) != 0)
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
          ckpt_local_errno_error (error, saved_errno, "Cannot lock checkpoint directory", self->root_path, NULL);
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

  txn = g_new0 (LocalTxn, 1);
  ckpt_storage_txn_init (&txn->parent, storage);
  txn->dir_fd = fd;
  ckpt_local_cache_take (txn);
  return &txn->parent;
}

/* Writes all of @header and the pieces of @payload to @fd, checking
 * @cancellable between chunks. Returns 0 or an errno value (ECANCELED when
 * cancelled). */
static int
write_all (int            fd,
           GBytes        *header,
           CkptPayload   *payload,
           GCancellable  *cancellable)
{
  guint n_pieces = ckpt_payload_get_n_pieces (payload);
  g_autofree struct iovec *iov = g_new (struct iovec, n_pieces + 1);
  guint iovcnt = 0, first = 0, i;

  iov[iovcnt].iov_base = (gpointer) g_bytes_get_data (header, &iov[iovcnt].iov_len);
  iovcnt++;
  for (i = 0; i < n_pieces; i++, iovcnt++)
    iov[iovcnt].iov_base = (gpointer) ckpt_payload_get_piece (payload, i, &iov[iovcnt].iov_len);

  while (first < iovcnt)
    {
      struct iovec chunk[64];
      gsize budget = WRITE_CHUNK;
      int n = 0;
      ssize_t written;

      if (g_cancellable_is_cancelled (cancellable))
        return ECANCELED;

      /* Up to WRITE_CHUNK bytes, in at most 64 pieces. */
      for (i = first; i < iovcnt && budget > 0 && n < (int) G_N_ELEMENTS (chunk); i++)
        {
          chunk[n].iov_base = iov[i].iov_base;
          chunk[n].iov_len = MIN (iov[i].iov_len, budget);
          budget -= chunk[n].iov_len;
          n++;
        }

      written = CKPT_INJECT (CKPT_FAULT_WRITE, writev (fd, chunk, n));
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
exists_error (LocalStorage  *self,
              const char    *name,
              GError       **error)
{
  g_set_error (error, CKPT_ERROR, CKPT_ERROR_EXISTS,
               "Checkpoint ‘%s%s%s’ already exists", self->root_path,
               G_DIR_SEPARATOR_S, name);
  return FALSE;
}

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

#if CAN_START_WRITEBACK
/* CkptSealWritebackFunc: sync_file_range() returns once the requests are
 * queued (it blocks while the device's queue is full), so the seal hashes
 * the range while the disk writes it. @data is the file descriptor. */
static int
start_writeback (goffset  offset,
                 gsize    length,
                 guint8  *buffer,
                 gpointer data)
{
  int fd = GPOINTER_TO_INT (data);
  off_t start = MAX ((off_t) offset, (off_t) FIRST_PAGE);
  off_t end = (off_t) offset + (off_t) length;
  gsize done = 0;

  /* A hint: the fsync after it is what makes the file durable. */
  if (end > start)
    (void) sync_file_range (fd, start, end - start, SYNC_FILE_RANGE_WRITE);

  /* The chunk as it is in the file (from the page cache). */
  while (done < length)
    {
      ssize_t n = pread (fd, buffer + done, length - done, (off_t) offset + (off_t) done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return errno;
      if (n == 0)
        return EIO;
      done += (gsize) n;
    }
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
    n = CKPT_INJECT (CKPT_FAULT_WRITE, pwrite (fd, &le, sizeof le, CKPT_FORMAT_OFFSET_CHECKSUM));
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return errno;
  return n == (ssize_t) sizeof le ? 0 : EIO;
}

static gboolean
local_commit (CkptStorageTxn         *base,
              gint64                  round_num,
              GBytes                 *header,
              CkptPayload            *payload,
              CkptStorageCommitFlags  flags,
              gboolean                durable,
              GCancellable           *cancellable,
              GError                **error)
{
  LocalTxn *txn = LOCAL_TXN (base);
  LocalStorage *self = local_txn_storage (txn);
  g_autofree char *name = ckpt_storage_build_name (self->parent.prefix, round_num);
  g_autofree char *temp_name = NULL;
  g_autoptr(CkptSeal) seal = NULL;
  struct stat st;
  int fd = -1, err;

  if (fstatat (txn->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return exists_error (self, name, error);

  if (!(self->parent.flags & CKPT_STORAGE_FLAGS_NO_TMPFILE) && ckpt_local_have_proc_fd ())
    {
      do
        fd = CKPT_INJECT (CKPT_FAULT_OPEN, openat (txn->dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0666));
      while (fd < 0 && errno == EINTR);

      /* File systems without O_TMPFILE take the named path below; any other
       * failure (EACCES, ENOSPC, EIO…) is the save's failure. */
      if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return ckpt_local_errno_error (error, errno, "Cannot create a checkpoint in", self->root_path, NULL);
    }

  if (fd < 0)
    {
      int attempt;

      for (attempt = 0; fd < 0 && attempt < 100; attempt++)
        {
          g_free (temp_name);
          temp_name = ckpt_storage_build_temp_name (self->parent.prefix, round_num);
          fd = CKPT_INJECT (CKPT_FAULT_OPEN,
                            openat (txn->dir_fd, temp_name,
                                    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666));
          if (fd < 0 && errno != EEXIST && errno != EINTR)
            break;
        }
      if (fd < 0)
        return ckpt_local_errno_error (error, errno, "Cannot create a temporary file in", self->root_path, NULL);
    }

  /* Unsealed: the checksum is computed during or after the write for
   * large payloads (a durable save hashes during the writeback, which it
   * waits for anyway), before it for small ones: then the header goes out
   * complete. */
  if (flags & CKPT_STORAGE_COMMIT_UNSEALED)
    {
      seal = ckpt_seal_start (header, payload,
                              ckpt_seal_choose (ckpt_payload_get_size (payload),
                                                durable && CAN_START_WRITEBACK));
      header = ckpt_seal_get_header (seal);
    }

  /* Reserve the space first: the file system allocates it in one go
   * (faster for large files: docs/performance.md), and a full disk fails
   * before any data is written. Not every file system can. */
  if (fallocate (fd, FALLOC_FL_KEEP_SIZE, 0,
                 (off_t) (g_bytes_get_size (header) + ckpt_payload_get_size (payload))) != 0 &&
      errno == ENOSPC)
    err = ENOSPC;
  else
    err = write_all (fd, header, payload, cancellable);
  if (err != 0)
    g_clear_pointer (&seal, ckpt_seal_free);   /* stops a hash thread */
  if (err == 0 && seal != NULL && ckpt_seal_pending (seal))
    {
      guint64 digest;

#if CAN_START_WRITEBACK
      err = ckpt_seal_finish (seal, start_writeback, GINT_TO_POINTER (fd), cancellable, &digest);
#else
      err = ckpt_seal_finish (seal, NULL, NULL, cancellable, &digest);
#endif
      if (err == 0)
        err = write_checksum (fd, digest);
    }
  if (err == 0 && durable && CKPT_INJECT (CKPT_FAULT_FSYNC_FILE, fsync (fd)) != 0)
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
          if (CKPT_INJECT (CKPT_FAULT_LINK, linkat (AT_FDCWD, proc_path, txn->dir_fd, name, AT_SYMLINK_FOLLOW)) != 0)
            err = errno;
        }
      else
        {
          if (CKPT_INJECT (CKPT_FAULT_LINK, linkat (txn->dir_fd, temp_name, txn->dir_fd, name, 0)) != 0)
            {
              err = errno;
              /* No hard links here (some FUSE or FAT file systems): rename,
               * still refusing to replace. */
              if (err == EPERM || err == EOPNOTSUPP || err == EMLINK)
                {
                  if (CKPT_INJECT (CKPT_FAULT_LINK,
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
      CKPT_INJECT (CKPT_FAULT_UNLINK, unlinkat (txn->dir_fd, temp_name, 0)) != 0 && errno != ENOENT)
    txn->listing_stale = TRUE;

  if (err != 0)
    txn->listing_stale = TRUE;
  if (err == EEXIST)
    return exists_error (self, name, error);
  if (err == ECANCELED)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                   "Saving checkpoint ‘%s%s%s’ was cancelled", self->root_path,
                   G_DIR_SEPARATOR_S, name);
      return FALSE;
    }
  if (err == CKPT_SEAL_CHANGED)
    {
      g_set_error (error, CKPT_ERROR, CKPT_ERROR_FAILED,
                   "Cannot save checkpoint ‘%s%s%s’: the state changed while it was being "
                   "written (its memory was modified during the save); nothing was saved",
                   self->root_path, G_DIR_SEPARATOR_S, name);
      return FALSE;
    }
  if (err != 0)
    return ckpt_local_errno_error (error, err, "Cannot write checkpoint", self->root_path, name);

  ckpt_local_txn_add_round (txn, round_num);

  if (durable && CKPT_INJECT (CKPT_FAULT_FSYNC_DIR, fsync (txn->dir_fd)) != 0)
    {
      int saved_errno = errno;

      /* Not durable: take it back rather than report a false success. */
      (void) CKPT_INJECT (CKPT_FAULT_UNLINK, unlinkat (txn->dir_fd, name, 0));
      txn->listing_stale = TRUE;
      return ckpt_local_errno_error (error, saved_errno, "Cannot flush checkpoint directory",
                                     self->root_path, NULL);
    }

  ckpt_local_note_written (txn, round_num, name);
  return TRUE;
}

static gboolean
local_remove (CkptStorageTxn  *base,
              gint64           round_num,
              GError         **error)
{
  LocalTxn *txn = LOCAL_TXN (base);
  g_autofree char *name = ckpt_storage_build_name (base->storage->prefix, round_num);

  if (CKPT_INJECT (CKPT_FAULT_UNLINK, unlinkat (txn->dir_fd, name, 0)) != 0 && errno != ENOENT)
    {
      txn->listing_stale = TRUE;
      return ckpt_local_errno_error (error, errno, "Cannot delete checkpoint",
                                     local_txn_storage (txn)->root_path, name);
    }

  ckpt_local_txn_drop_round (txn, round_num);
  ckpt_local_note_removed (txn, round_num);
  return TRUE;
}
/* Flushes a checkpoint written earlier: the file, then the directory that
 * holds its name. */
static gboolean
local_sync (CkptStorageTxn  *base,
            gint64           round_num,
            GError         **error)
{
  LocalTxn *txn = LOCAL_TXN (base);
  const char *root_path = local_txn_storage (txn)->root_path;
  g_autofree char *name = ckpt_storage_build_name (base->storage->prefix, round_num);
  int fd, saved_errno;

  do
    fd = CKPT_INJECT (CKPT_FAULT_OPEN, openat (txn->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return ckpt_local_errno_error (error, errno, "Cannot open checkpoint", root_path, name);

  if (CKPT_INJECT (CKPT_FAULT_FSYNC_FILE, fsync (fd)) != 0)
    {
      saved_errno = errno;
      close (fd);
      return ckpt_local_errno_error (error, saved_errno, "Cannot flush checkpoint", root_path, name);
    }
  close (fd);

  /* And its name: a journalling file system commits the link with the
   * file's fsync, but ext2, ext4 without a journal and others do not. The
   * caller flushes once for keep-total saves, so this costs little. */
  if (CKPT_INJECT (CKPT_FAULT_FSYNC_DIR, fsync (txn->dir_fd)) != 0)
    return ckpt_local_errno_error (error, errno, "Cannot flush checkpoint directory", root_path, NULL);
  return TRUE;
}

static void
local_end (CkptStorageTxn *base)
{
  LocalTxn *txn = LOCAL_TXN (base);

  /* Give the listing back for the next call (readers' too); the events of
   * our own changes are read then. The directory's times are left alone. */
  ckpt_local_cache_give_back (txn);

  if (txn->dir_fd >= 0)
    close (txn->dir_fd);   /* releases the flock */
  g_clear_pointer (&txn->rounds, g_array_unref);
  g_free (txn);
}

const CkptStorageVFuncs ckpt_storage_local_vfuncs = {
  .new = local_new,
  .free = local_free,
  .list = ckpt_local_list,
  .read = ckpt_local_read,
  .begin = local_begin,
  .commit = local_commit,
  .remove = local_remove,
  .end = local_end,
  .borrow_rounds = ckpt_local_borrow_rounds,
  .known_intact = ckpt_local_known_intact,
  .note_intact = ckpt_local_note_intact,
  .all_known_intact = ckpt_local_all_known_intact,
  .sync = local_sync,
  /* fsync, of the file and of the directory. */
  .durable = TRUE,
};
