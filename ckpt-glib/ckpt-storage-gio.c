/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Generic storage on any GFile through GIO's own operations (GVfs back ends:
 * sftp, WebDAV, smb…). docs/remote.md says what each back end guarantees.
 *
 * Writers, in this process and on any host, are serialized by a writer
 * lease (ckpt-lease.c), a directory ".<prefix>lease" in the root. A save
 * writes a hidden temp file, then renames it into place with
 * g_file_set_display_name(): the back ends measured refuse to rename onto
 * an existing name (sftp: the server links; WebDAV: MOVE with Overwrite: F),
 * so even a writer that lost its lease never replaces a checkpoint. (Not
 * g_file_move(): GVfs 1.50's WebDAV back end leaks a connection per MOVE
 * it makes for a move, and hangs after 32.) GIO has no fsync: a save is as
 * durable as the back end makes a closed file, see
 * ckpt_storage_is_durable().
 *
 * A GVfs location whose connection dropped stays unmounted: operations
 * that find it so mount it again once (without a GMountOperation, so only
 * what needs no question) and retry.
 *
 * Temp files not modified for STALE_TEMP_AGE are removed as stale by a
 * listing under the lease (the age guards a writer that lost its lease
 * while writing).
 *
 * Listings are always read afresh; files are known intact by their
 * CkptFileId in the storage's memo (ckpt-storage-impl-private.h). Every
 * function runs in the thread of the storage call (ckpt-storage-private.h);
 * GIO's blocking calls are made there, and remount() iterates a main
 * context of that thread's own.
 */
#include "config.h"

#include "ckpt-error.h"
#include "ckpt-format-private.h"
#include "ckpt-lease-private.h"
#include "ckpt-seal-private.h"
#include "ckpt-storage-impl-private.h"

#define STALE_TEMP_AGE (60 * G_TIME_SPAN_MINUTE)
/* Payloads are written in pieces of this size, renewing the lease between
 * them. */
#define WRITE_CHUNK (4 * 1024 * 1024)

typedef struct
{
  CkptStorage  parent;
  char        *display;     /* the root's URI, for messages */
} GioStorage;

typedef struct
{
  CkptStorageTxn  parent;
  CkptLease      *lease;        /* the writer lease held */
  GHashTable     *listed_ids;   /* round → CkptFileId of the last listing */
  gint64         *borrowed;     /* ckpt_storage_txn_borrow_rounds() */
} GioTxn;

#define GIO_STORAGE(s) ((GioStorage *) (s))
#define GIO_TXN(t) ((GioTxn *) (t))

static CkptStorage *
gio_new (GFile            *root,
         const char       *prefix,
         CkptStorageFlags  flags)
{
  GioStorage *self = g_new0 (GioStorage, 1);

  ckpt_storage_init (&self->parent, &ckpt_storage_gio_vfuncs, root, prefix, flags);
  self->display = g_file_get_uri (root);
  return &self->parent;
}

static void
gio_free (CkptStorage *storage)
{
  GioStorage *self = GIO_STORAGE (storage);

  g_free (self->display);
  ckpt_storage_clear (storage);
  g_free (self);
}

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

/* Whether @error says the location is no longer mounted: GVfs says
 * NOT_MOUNTED while it unmounts, then its back end is gone from the bus. */
static gboolean
is_mount_lost (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_MOUNTED) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_DBUS_ERROR) ||
         error->domain == G_DBUS_ERROR;
}

static gboolean
prefix_error (GError     **error,
              GError      *local_error,
              const char  *action,
              GFile       *file)
{
  g_autofree char *where = g_file_get_parse_name (file);

  /* Errors of a vanished GVfs back end are D-Bus's: callers get GIO's. */
  if (local_error->domain == G_DBUS_ERROR)
    {
      GError *mapped = g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_MOUNTED,
                                    "The location is no longer mounted (%s)",
                                    local_error->message);

      g_error_free (local_error);
      local_error = mapped;
    }
  g_propagate_prefixed_error (error, local_error, "%s ‘%s’: ", action, where);
  return FALSE;
}

typedef struct
{
  gboolean  done;
  GError   *error;
} MountData;

static void
mount_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  MountData *data = user_data;

  g_file_mount_enclosing_volume_finish (G_FILE (source), result, &data->error);
  data->done = TRUE;
}

/* Mounts the root again, blocking, in a main context of this thread's own.
 * TRUE if it was mounted, or still is (or is still unmounting). */
static gboolean
remount (CkptStorage  *self,
         gboolean     *out_already,
         GCancellable *cancellable)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  MountData data = { FALSE, NULL };

  g_main_context_push_thread_default (context);
  g_file_mount_enclosing_volume (self->root, G_MOUNT_MOUNT_NONE, NULL, cancellable,
                                 mount_done, &data);
  while (!data.done)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);

  *out_already = g_error_matches (data.error, G_IO_ERROR, G_IO_ERROR_ALREADY_MOUNTED);
  if (data.error != NULL && !*out_already)
    {
      g_debug ("Cannot mount ‘%s’ again: %s", GIO_STORAGE (self)->display, data.error->message);
      g_error_free (data.error);
      return FALSE;
    }
  g_clear_error (&data.error);
  return TRUE;
}

#define REMOUNT_PATIENCE (5 * G_TIME_SPAN_SECOND)

/* After a failed call: whether to make it again, because the location was
 * unmounted under it (its connection dropped) and is mounted again now.
 * While GVfs still unmounts the old mount, mounting says it is mounted:
 * then wait a little, for at most REMOUNT_PATIENCE in all (*@since is 0 on
 * the first call). Clears *@error when it says TRUE. */
static gboolean
retry_after_remount (CkptStorage   *self,
                     GError       **error,
                     gint64        *since,
                     GCancellable  *cancellable)
{
  gboolean already = FALSE;
  gint64 now = g_get_monotonic_time ();

  if (*error == NULL || !is_mount_lost (*error))
    return FALSE;
  if (*since == 0)
    *since = now;
  else if (now - *since > REMOUNT_PATIENCE)
    return FALSE;

  if (!remount (self, &already, cancellable))
    return FALSE;
  if (already)
    g_usleep (100 * G_TIME_SPAN_MILLISECOND);
  g_clear_error (error);
  return TRUE;
}

/* What stands for a file's identity: if any of these changed, the file may
 * have. */
#define FILE_ID_ATTRIBUTES \
  G_FILE_ATTRIBUTE_STANDARD_SIZE "," G_FILE_ATTRIBUTE_TIME_MODIFIED "," \
  G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC "," G_FILE_ATTRIBUTE_ETAG_VALUE

static void
file_id_from_info (GFileInfo  *info,
                   CkptFileId *out_id)
{
  const char *etag = g_file_info_get_etag (info);

  out_id->v[0] = (guint64) g_file_info_get_size (info);
  out_id->v[1] = g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_TIME_MODIFIED);
  out_id->v[2] = g_file_info_get_attribute_uint32 (info, G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC);
  out_id->v[3] = etag != NULL ? g_str_hash (etag) : 0;
}

static GFileEnumerator *
enumerate_root (CkptStorage   *self,
                GCancellable  *cancellable,
                GError       **error)
{
  return g_file_enumerate_children (self->root,
                                    G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                    G_FILE_ATTRIBUTE_STANDARD_TYPE ","
                                    FILE_ID_ATTRIBUTES,
                                    G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                    cancellable, error);
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
  g_autoptr(GHashTable) listed_ids = NULL;
  GError *local_error = NULL;
  gint64 since = 0;

  if (txn != NULL)
    listed_ids = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);

  do
    enumerator = enumerate_root (self, cancellable, &local_error);
  while (enumerator == NULL && retry_after_remount (self, &local_error, &since, cancellable));
  if (enumerator == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        {
          g_error_free (local_error);
          return ckpt_storage_array_sort_to_rounds (g_steal_pointer (&rounds), n_rounds);
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
            {
              g_array_append_val (rounds, round_num);
              if (txn != NULL)
                {
                  CkptFileId id;

                  file_id_from_info (info, &id);
                  g_hash_table_replace (listed_ids, g_memdup2 (&round_num, sizeof round_num),
                                        g_memdup2 (&id, sizeof id));
                }
            }
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

  if (txn != NULL)
    {
      g_clear_pointer (&GIO_TXN (txn)->listed_ids, g_hash_table_unref);
      GIO_TXN (txn)->listed_ids = g_steal_pointer (&listed_ids);
    }
  return ckpt_storage_array_sort_to_rounds (g_steal_pointer (&rounds), n_rounds);
}

static GBytes *
gio_read (CkptStorage          *self,
          gint64                round_num,
          CkptStorageReadFlags  flags,
          gboolean             *out_shared,
          GCancellable  *cancellable,
          GError       **error)
{
  g_autofree char *name = ckpt_storage_build_name (self->prefix, round_num);
  g_autoptr(GFile) file = g_file_get_child (self->root, name);
  GError *local_error = NULL;
  char *contents = NULL;
  gsize length = 0;
  GFileType type;
  gint64 since = 0;

  /* Reading a FIFO or a device would block or never end. */
  type = g_file_query_file_type (file, G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, cancellable);
  if (type != G_FILE_TYPE_REGULAR && type != G_FILE_TYPE_UNKNOWN)
    {
      g_autofree char *uri = g_file_get_uri (file);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   "Checkpoint ‘%s’ is not a regular file", uri);
      return NULL;
    }

  while (!g_file_load_contents (file, cancellable, &contents, &length, NULL, &local_error))
    if (!retry_after_remount (self, &local_error, &since, cancellable))
      {
        prefix_error (error, local_error, "Cannot read checkpoint", file);
        return NULL;
      }

  /* Read into memory of our own: nobody else can change it. */
  *out_shared = FALSE;
  return g_bytes_new_take (contents, length);
}

/* The root exists and is a directory (it is created if missing). */
static gboolean
ensure_root (CkptStorage   *self,
             GCancellable  *cancellable,
             GError       **error)
{
  GError *local_error = NULL;

  /* Usually there: one request (and no change refused by a read-only
   * server for a root that exists). */
  if (g_file_query_file_type (self->root, G_FILE_QUERY_INFO_NONE, cancellable) == G_FILE_TYPE_DIRECTORY)
    return TRUE;
  if (g_file_make_directory_with_parents (self->root, cancellable, &local_error))
    return TRUE;
  if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  g_clear_error (&local_error);

  if (g_file_query_file_type (self->root, G_FILE_QUERY_INFO_NONE, cancellable) != G_FILE_TYPE_DIRECTORY)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY, "Not a directory");
      return FALSE;
    }
  return TRUE;
}

static CkptStorageTxn *
gio_begin (CkptStorage   *self,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autofree char *uri = g_file_get_uri (self->root);
  g_autofree char *lease_name = g_strdup_printf (".%slease", self->prefix);
  g_autoptr(GFile) lease_dir = g_file_get_child (self->root, lease_name);
  GioTxn *txn;
  CkptLease *lease;
  GError *local_error = NULL;
  gint64 since = 0;

  while (!ensure_root (self, cancellable, &local_error) &&
         retry_after_remount (self, &local_error, &since, cancellable))
    ;
  if (local_error != NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY))
        {
          g_autofree char *where = g_file_get_parse_name (self->root);

          g_error_free (local_error);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
                       "Checkpoint directory ‘%s’ is not a directory", where);
          return NULL;
        }
      return prefix_error (error, local_error, "Cannot create checkpoint directory", self->root), NULL;
    }

  /* First among the writers of this process, which then never wait on
   * each other's lease. */
  if (!writers_acquire (uri, cancellable, error))
    return NULL;

  lease = ckpt_lease_acquire (lease_dir, ckpt_lease_default_timeout (), cancellable, &local_error);
  if (lease == NULL)
    {
      writers_release (uri);
      if (local_error->domain == G_DBUS_ERROR)
        return prefix_error (error, local_error, "Cannot take the writer lease of", self->root), NULL;
      g_propagate_error (error, local_error);
      return NULL;
    }

  txn = g_new0 (GioTxn, 1);
  ckpt_storage_txn_init (&txn->parent, self);
  txn->lease = lease;
  return &txn->parent;
}

static gboolean
write_all (CkptStorageTxn  *txn,
           GOutputStream   *stream,
           GBytes          *bytes,
           GCancellable    *cancellable,
           GError         **error)
{
  gsize size = 0, done = 0;
  const guint8 *data = g_bytes_get_data (bytes, &size);

  while (done < size)
    {
      gsize n = MIN (size - done, WRITE_CHUNK);

      if (!ckpt_lease_keep (GIO_TXN (txn)->lease, cancellable, error) ||
          !g_output_stream_write_all (stream, data + done, n, NULL, cancellable, error))
        return FALSE;
      done += n;
    }
  return TRUE;
}

/* write_all() of each piece of @payload. */
static gboolean
write_payload (CkptStorageTxn  *txn,
               GOutputStream   *stream,
               CkptPayload     *payload,
               GCancellable    *cancellable,
               GError         **error)
{
  guint i;

  for (i = 0; i < ckpt_payload_get_n_pieces (payload); i++)
    {
      gsize size;
      const guint8 *data = ckpt_payload_get_piece (payload, i, &size);
      g_autoptr(GBytes) piece = g_bytes_new_static (data, size);

      if (!write_all (txn, stream, piece, cancellable, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
gio_commit (CkptStorageTxn         *txn,
            gint64                  round_num,
            GBytes                 *header,
            CkptPayload            *payload,
            CkptStorageCommitFlags  flags,
            gboolean                durable,
            GCancellable           *cancellable,
            GError                **error)
{
  CkptStorage *self = txn->storage;
  g_autoptr(GBytes) sealed = NULL;
  g_autofree char *name = ckpt_storage_build_name (self->prefix, round_num);
  g_autoptr(GFile) target = g_file_get_child (self->root, name);
  g_autoptr(GFile) temp = NULL;
  g_autoptr(GFile) committed = NULL;
  g_autoptr(GFileOutputStream) stream = NULL;
  GError *local_error = NULL;
  int attempt;

  /* Checksum first, then write as usual: a stream cannot go back to the
   * checksum field. */
  if (flags & CKPT_STORAGE_COMMIT_UNSEALED)
    {
      sealed = ckpt_seal_header (header, payload);
      header = sealed;
    }

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

  if (!write_all (txn, G_OUTPUT_STREAM (stream), header, cancellable, &local_error) ||
      !write_payload (txn, G_OUTPUT_STREAM (stream), payload, cancellable, &local_error) ||
      !g_output_stream_close (G_OUTPUT_STREAM (stream), cancellable, &local_error) ||
      !ckpt_lease_keep (GIO_TXN (txn)->lease, cancellable, &local_error) ||
      g_cancellable_set_error_if_cancelled (cancellable, &local_error))
    {
      g_output_stream_close (G_OUTPUT_STREAM (stream), NULL, NULL);
      g_file_delete (temp, NULL, NULL);
      if (local_error->domain == CKPT_ERROR)
        {
          g_propagate_error (error, local_error);
          return FALSE;
        }
      return prefix_error (error, local_error, "Cannot write checkpoint", target);
    }

  /* The point of no return. The back ends measured refuse to rename onto an
   * existing name (see the top of this file). */
  committed = g_file_set_display_name (temp, name, NULL, &local_error);
  if (committed == NULL)
    {
      g_file_delete (temp, NULL, NULL);
      /* Back ends report a lost race differently (GVfs sftp says FAILED or
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

  /* We wrote it: it is intact while it stays as it is now. */
  {
    g_autoptr(GFileInfo) info = g_file_query_info (committed, FILE_ID_ATTRIBUTES,
                                                   G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                                   NULL, NULL);

    if (info != NULL)
      {
        CkptFileId id;

        file_id_from_info (info, &id);
        ckpt_storage_memo_set (self, round_num, &id);
      }
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

  if (!ckpt_lease_keep (GIO_TXN (txn)->lease, NULL, error))
    return FALSE;

  if (!g_file_delete (file, NULL, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        {
          g_error_free (local_error);
          return TRUE;
        }
      return prefix_error (error, local_error, "Cannot delete checkpoint", file);
    }

  ckpt_storage_memo_forget (txn->storage, round_num);
  return TRUE;
}

static void
gio_end (CkptStorageTxn *txn)
{
  GioTxn *self = GIO_TXN (txn);
  g_autofree char *uri = g_file_get_uri (txn->storage->root);

  ckpt_lease_release (g_steal_pointer (&self->lease));
  writers_release (uri);
  g_clear_pointer (&self->listed_ids, g_hash_table_unref);
  g_clear_pointer (&self->borrowed, g_free);
  g_free (self);
}

/* Nothing is kept between calls here: the listing is read again. */
static const gint64 *
gio_borrow_rounds (CkptStorageTxn  *txn,
                   gsize           *n_rounds,
                   GError         **error)
{
  GioTxn *self = GIO_TXN (txn);

  g_clear_pointer (&self->borrowed, g_free);
  self->borrowed = gio_list (txn->storage, txn, n_rounds, NULL, error);
  return self->borrowed;
}

/* Listings are always read afresh here; a file is known intact if it has
 * the size, mtime and etag it had when it was written or verified. */
static gboolean
gio_known_intact (CkptStorageTxn *txn,
                  gint64          round_num)
{
  GHashTable *listed_ids = GIO_TXN (txn)->listed_ids;
  const CkptFileId *id = listed_ids != NULL ? g_hash_table_lookup (listed_ids, &round_num) : NULL;

  return id != NULL && ckpt_storage_memo_match (txn->storage, round_num, id);
}

static void
gio_note_intact (CkptStorageTxn *txn,
                 gint64          round_num)
{
  GHashTable *listed_ids = GIO_TXN (txn)->listed_ids;
  const CkptFileId *id = listed_ids != NULL ? g_hash_table_lookup (listed_ids, &round_num) : NULL;

  if (id != NULL)
    ckpt_storage_memo_set (txn->storage, round_num, id);
}

static gboolean
gio_all_known_intact (CkptStorageTxn *txn)
{
  return FALSE;
}

/* GIO has no call to flush a file. */
static gboolean
gio_sync (CkptStorageTxn  *txn,
          gint64           round_num,
          GError         **error)
{
  return TRUE;
}

const CkptStorageVFuncs ckpt_storage_gio_vfuncs = {
  .new = gio_new,
  .free = gio_free,
  .list = gio_list,
  .read = gio_read,
  .begin = gio_begin,
  .commit = gio_commit,
  .remove = gio_remove,
  .end = gio_end,
  .borrow_rounds = gio_borrow_rounds,
  .known_intact = gio_known_intact,
  .note_intact = gio_note_intact,
  .all_known_intact = gio_all_known_intact,
  .sync = gio_sync,
  /* GIO has no fsync. */
  .durable = FALSE,
};
