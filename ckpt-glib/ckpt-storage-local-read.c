/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Local storage, reading: a checkpoint's file read into memory (small
 * ones) or mapped, with at least one page of zero bytes after its end.
 * Reads take no lock and never touch the listing cache; they run in the
 * thread of the storage call (ckpt-storage-private.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt-error.h"
#include "ckpt-storage-local-private.h"

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
 * at 2 MiB aligned addresses; with 4 KiB pages instead, large verified
 * loads are markedly slower (docs/performance.md). */
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

  if (ckpt_fault_injected (CKPT_FAULT_MMAP))
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

  if (ckpt_fault_injected (CKPT_FAULT_MMAP))
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

GBytes *
ckpt_local_read (CkptStorage          *storage,
                 gint64                round_num,
                 CkptStorageReadFlags  flags,
                 gboolean             *out_shared,
                 GCancellable         *cancellable,
                 GError              **error)
{
  LocalStorage *self = LOCAL_STORAGE (storage);
  g_autofree char *name = ckpt_storage_build_name (storage->prefix, round_num);
  g_autofree char *path = g_build_filename (self->root_path, name, NULL);
  struct stat st;
  GBytes *bytes;
  int fd, saved_errno = 0;

  do
    fd = CKPT_INJECT (CKPT_FAULT_OPEN, open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  while (fd < 0 && errno == EINTR);

  if (fd < 0)
    {
      ckpt_local_errno_error (error, errno, "Cannot open checkpoint", path, NULL);
      return NULL;
    }

  if (fstat (fd, &st) != 0)
    {
      saved_errno = errno;
      close (fd);
      ckpt_local_errno_error (error, saved_errno, "Cannot read checkpoint", path, NULL);
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
    ckpt_local_errno_error (error, saved_errno,
                            st.st_size < MAP_MIN ? "Cannot read checkpoint" : "Cannot map checkpoint",
                            path, NULL);

  return bytes;
}
