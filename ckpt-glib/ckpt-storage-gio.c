/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Generic storage on any GFile through GIO's own operations (GVfs back ends:
 * sftp, WebDAV, smb…). The commit writes a hidden temp file created
 * exclusively, then moves it into place without G_FILE_COPY_OVERWRITE, so an
 * existing checkpoint is never replaced. GIO has no fsync: a save is as
 * durable as the back end makes a closed file, and writers are not
 * serialized by a lock (see docs/overview.md). Without a lock a temp file
 * may belong to a live writer, so only temp files not modified for
 * STALE_TEMP_AGE are removed as stale.
 */
#include "config.h"

#include "ckpt-error.h"
#include "ckpt-storage-impl-private.h"

#define STALE_TEMP_AGE (60 * G_TIME_SPAN_MINUTE)

/* Writers of this process to one root (by URI) are serialized here; GIO has
 * no lock that other processes or hosts would see. */
static GMutex writers_lock;
static GCond writers_cond;
static GHashTable *writers_busy;   /* URI → URI, under writers_lock */

static gboolean
writers_acquire (const char    *uri,
                 GCancellable  *cancellable,
                 GError       **error)
{
  gboolean ok = TRUE;

  g_mutex_lock (&writers_lock);
  if (writers_busy == NULL)
    writers_busy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  while (g_hash_table_contains (writers_busy, uri))
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          ok = FALSE;
          break;
        }
      g_cond_wait_until (&writers_cond, &writers_lock,
                         g_get_monotonic_time () + 20 * G_TIME_SPAN_MILLISECOND);
    }
  if (ok)
    g_hash_table_add (writers_busy, g_strdup (uri));
  g_mutex_unlock (&writers_lock);

  return ok;
}

static void
writers_release (const char *uri)
{
  g_mutex_lock (&writers_lock);
  g_hash_table_remove (writers_busy, uri);
  g_cond_broadcast (&writers_cond);
  g_mutex_unlock (&writers_lock);
}

static gboolean
prefix_error (GError     **error,
              GError      *local_error,
              const char  *action,
              GFile       *file)
{
  g_autofree char *where = g_file_get_parse_name (file);

  g_propagate_prefixed_error (error, local_error, "%s ‘%s’: ", action, where);
  return FALSE;
}

static gint64 *
gio_list (CkptStorage     *self,
          CkptStorageTxn  *txn,
          gsize           *n_rounds,
          GCancellable    *cancellable,
          GError         **error)
{
  g_autoptr(GArray) rounds = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GFileEnumerator) enumerator = NULL;
  GError *local_error = NULL;

  enumerator = g_file_enumerate_children (self->root,
                                          G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                          G_FILE_ATTRIBUTE_STANDARD_TYPE ","
                                          G_FILE_ATTRIBUTE_TIME_MODIFIED,
                                          G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                          cancellable, &local_error);
  if (enumerator == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        {
          g_error_free (local_error);
          return ckpt_storage_sort_rounds (g_steal_pointer (&rounds), n_rounds);
        }
      prefix_error (error, local_error, "Cannot list checkpoint directory", self->root);
      return NULL;
    }

  for (;;)
    {
      GFileInfo *info;
      const char *name;
      gint64 round_num;

      if (!g_file_enumerator_iterate (enumerator, &info, NULL, cancellable, &local_error))
        {
          prefix_error (error, local_error, "Cannot list checkpoint directory", self->root);
          return NULL;
        }
      if (info == NULL)
        break;

      name = g_file_info_get_name (info);
      if (ckpt_storage_parse_name (self->prefix, name, &round_num))
        {
          if (g_file_info_get_file_type (info) == G_FILE_TYPE_REGULAR)
            g_array_append_val (rounds, round_num);
        }
      else if (txn != NULL && ckpt_storage_is_temp_name (self->prefix, name) &&
               g_file_info_has_attribute (info, G_FILE_ATTRIBUTE_TIME_MODIFIED))
        {
          gint64 mtime = (gint64) g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_TIME_MODIFIED);

          if (g_get_real_time () / G_USEC_PER_SEC - mtime > STALE_TEMP_AGE / G_USEC_PER_SEC)
            {
              g_autoptr(GFile) stale = g_file_get_child (self->root, name);

              g_file_delete (stale, NULL, NULL);
            }
        }
    }

  return ckpt_storage_sort_rounds (g_steal_pointer (&rounds), n_rounds);
}

static GBytes *
gio_read (CkptStorage          *self,
          gint64                round_num,
          CkptStorageReadFlags  flags,
          GCancellable  *cancellable,
          GError       **error)
{
  g_autofree char *name = ckpt_storage_build_name (self->prefix, round_num);
  g_autoptr(GFile) file = g_file_get_child (self->root, name);
  GError *local_error = NULL;
  char *contents = NULL;
  gsize length = 0;
  GFileType type;

  /* Reading a FIFO or a device would block or never end. */
  type = g_file_query_file_type (file, G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, cancellable);
  if (type != G_FILE_TYPE_REGULAR && type != G_FILE_TYPE_UNKNOWN)
    {
      g_autofree char *uri = g_file_get_uri (file);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   "Checkpoint ‘%s’ is not a regular file", uri);
      return NULL;
    }

  if (!g_file_load_contents (file, cancellable, &contents, &length, NULL, &local_error))
    {
      prefix_error (error, local_error, "Cannot read checkpoint", file);
      return NULL;
    }

  return g_bytes_new_take (contents, length);
}

static CkptStorageTxn *
gio_begin (CkptStorage   *self,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autofree char *uri = g_file_get_uri (self->root);
  CkptStorageTxn *txn;
  GError *local_error = NULL;

  if (!g_file_make_directory_with_parents (self->root, cancellable, &local_error))
    {
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
        return prefix_error (error, local_error, "Cannot create checkpoint directory", self->root), NULL;
      g_clear_error (&local_error);

      if (g_file_query_file_type (self->root, G_FILE_QUERY_INFO_NONE, cancellable) != G_FILE_TYPE_DIRECTORY)
        {
          g_autofree char *where = g_file_get_parse_name (self->root);

          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
                       "Checkpoint directory ‘%s’ is not a directory", where);
          return NULL;
        }
    }

  if (!writers_acquire (uri, cancellable, error))
    return NULL;

  txn = g_new0 (CkptStorageTxn, 1);
  txn->storage = self;
  txn->dir_fd = -1;
  return txn;
}

static gboolean
gio_commit (CkptStorageTxn  *txn,
            gint64           round_num,
            GBytes          *header,
            GBytes          *payload,
            gboolean         durable,
            GCancellable    *cancellable,
            GError         **error)
{
  CkptStorage *self = txn->storage;
  g_autofree char *name = ckpt_storage_build_name (self->prefix, round_num);
  g_autoptr(GFile) target = g_file_get_child (self->root, name);
  g_autoptr(GFile) temp = NULL;
  g_autoptr(GFileOutputStream) stream = NULL;
  GError *local_error = NULL;
  int attempt;

  if (g_file_query_exists (target, cancellable))
    {
      g_autofree char *where = g_file_get_parse_name (target);

      g_set_error (error, CKPT_ERROR, CKPT_ERROR_EXISTS,
                   "Checkpoint ‘%s’ already exists", where);
      return FALSE;
    }

  for (attempt = 0; stream == NULL && attempt < 100; attempt++)
    {
      g_autofree char *temp_name = ckpt_storage_build_temp_name (self->prefix, round_num);

      g_clear_object (&temp);
      g_clear_error (&local_error);
      temp = g_file_get_child (self->root, temp_name);
      stream = g_file_create (temp, G_FILE_CREATE_NONE, cancellable, &local_error);
      if (stream == NULL && !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
        break;
    }
  if (stream == NULL)
    return prefix_error (error, local_error, "Cannot create a temporary file", temp);

  if (!g_output_stream_write_all (G_OUTPUT_STREAM (stream),
                                  g_bytes_get_data (header, NULL), g_bytes_get_size (header),
                                  NULL, cancellable, &local_error) ||
      !g_output_stream_write_all (G_OUTPUT_STREAM (stream),
                                  g_bytes_get_data (payload, NULL), g_bytes_get_size (payload),
                                  NULL, cancellable, &local_error) ||
      !g_output_stream_close (G_OUTPUT_STREAM (stream), cancellable, &local_error) ||
      g_cancellable_set_error_if_cancelled (cancellable, &local_error))
    {
      g_output_stream_close (G_OUTPUT_STREAM (stream), NULL, NULL);
      g_file_delete (temp, NULL, NULL);
      return prefix_error (error, local_error, "Cannot write checkpoint", target);
    }

  /* The point of no return. Without G_FILE_COPY_OVERWRITE the move fails
   * with G_IO_ERROR_EXISTS rather than replace a checkpoint. */
  if (!g_file_move (temp, target, G_FILE_COPY_NOFOLLOW_SYMLINKS | G_FILE_COPY_NO_FALLBACK_FOR_MOVE,
                    NULL, NULL, NULL, &local_error))
    {
      g_file_delete (temp, NULL, NULL);
      /* Back ends report a lost race differently (GVfs sftp says
       * NOT_SUPPORTED when the server's link() finds the target): if the
       * target is there now, somebody else committed it. */
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS) ||
          g_file_query_exists (target, NULL))
        {
          g_autofree char *where = g_file_get_parse_name (target);

          g_error_free (local_error);
          g_set_error (error, CKPT_ERROR, CKPT_ERROR_EXISTS,
                       "Checkpoint ‘%s’ already exists", where);
          return FALSE;
        }
      return prefix_error (error, local_error, "Cannot commit checkpoint", target);
    }

  return TRUE;
}

static gboolean
gio_remove (CkptStorageTxn  *txn,
            gint64           round_num,
            GError         **error)
{
  g_autofree char *name = ckpt_storage_build_name (txn->storage->prefix, round_num);
  g_autoptr(GFile) file = g_file_get_child (txn->storage->root, name);
  GError *local_error = NULL;

  if (!g_file_delete (file, NULL, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        {
          g_error_free (local_error);
          return TRUE;
        }
      return prefix_error (error, local_error, "Cannot delete checkpoint", file);
    }

  return TRUE;
}

static void
gio_end (CkptStorageTxn *txn)
{
  g_autofree char *uri = g_file_get_uri (txn->storage->root);

  writers_release (uri);
  g_free (txn);
}

/* Listings are always read afresh here. */
static gboolean
gio_exists_all (CkptStorageTxn *txn,
                const gint64   *rounds,
                gsize           n_rounds)
{
  return TRUE;
}

static void
gio_invalidate (CkptStorageTxn *txn)
{
}

const CkptStorageVFuncs ckpt_storage_gio_vfuncs = {
  gio_list,
  gio_read,
  gio_begin,
  gio_commit,
  gio_remove,
  gio_end,
  gio_exists_all,
  gio_invalidate,
};
