/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Storage: checkpoint names, the dispatch between the local back end
 * (ckpt-storage-local*.c: file descriptors, O_TMPFILE, fsync, flock) and
 * the generic GIO one (ckpt-storage-gio.c), and what every back end has
 * (the base structs and their memo). Touches no file itself.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "ckpt-format-private.h"
#include "ckpt-storage-impl-private.h"

char *
ckpt_storage_build_name (const char *prefix,
                         gint64      round_num)
{
  g_return_val_if_fail (prefix != NULL, NULL);
  g_return_val_if_fail (round_num >= 0, NULL);

  return g_strdup_printf ("%s%" G_GINT64_FORMAT, prefix, round_num);
}

/* Parses canonical decimal: digits only, no leading zero unless the number
 * is 0, no overflow. */
static gboolean
parse_round (const char *digits,
             gint64     *out_round_num)
{
  guint64 value = 0;
  const char *p;

  if (digits[0] == '\0')
    return FALSE;
  if (digits[0] == '0' && digits[1] != '\0')
    return FALSE;

  for (p = digits; *p != '\0'; p++)
    {
      guint d;

      if (*p < '0' || *p > '9')
        return FALSE;
      d = (guint) (*p - '0');
      if (value > ((guint64) G_MAXINT64 - d) / 10)
        return FALSE;
      value = value * 10 + d;
    }

  *out_round_num = (gint64) value;
  return TRUE;
}

gboolean
ckpt_storage_parse_name (const char *prefix,
                         const char *name,
                         gint64     *out_round_num)
{
  gsize prefix_len;
  gint64 round_num;

  g_return_val_if_fail (prefix != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  prefix_len = strlen (prefix);
  if (strncmp (name, prefix, prefix_len) != 0)
    return FALSE;
  if (!parse_round (name + prefix_len, &round_num))
    return FALSE;

  if (out_round_num != NULL)
    *out_round_num = round_num;
  return TRUE;
}

#define TEMP_MARK ".tmp-"
#define TEMP_RANDOM_LEN 6

gboolean
ckpt_storage_is_temp_name (const char *prefix,
                           const char *name)
{
  g_autofree char *base = NULL;
  gsize len, suffix_len = strlen (TEMP_MARK) + TEMP_RANDOM_LEN, i;
  const char *mark;

  g_return_val_if_fail (prefix != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  /* ".<prefix><round>.tmp-XXXXXX" */
  len = strlen (name);
  if (name[0] != '.' || len < 1 + suffix_len + 1)
    return FALSE;
  mark = name + len - suffix_len;
  if (strncmp (mark, TEMP_MARK, strlen (TEMP_MARK)) != 0)
    return FALSE;
  for (i = strlen (TEMP_MARK); i < suffix_len; i++)
    if (!g_ascii_isalnum (mark[i]))
      return FALSE;

  base = g_strndup (name + 1, (gsize) (mark - (name + 1)));
  return ckpt_storage_parse_name (prefix, base, NULL);
}

char *
ckpt_storage_build_temp_name (const char *prefix,
                              gint64      round_num)
{
  static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  char random_part[TEMP_RANDOM_LEN + 1];
  gsize i;

  for (i = 0; i < TEMP_RANDOM_LEN; i++)
    random_part[i] = alphabet[g_random_int_range (0, sizeof alphabet - 1)];
  random_part[TEMP_RANDOM_LEN] = '\0';

  return g_strdup_printf (".%s%" G_GINT64_FORMAT TEMP_MARK "%s",
                          prefix, round_num, random_part);
}

static int
compare_rounds (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

void
ckpt_storage_init (CkptStorage             *self,
                   const CkptStorageVFuncs *vfuncs,
                   GFile                   *root,
                   const char              *prefix,
                   CkptStorageFlags         flags)
{
  self->vfuncs = vfuncs;
  self->root = g_object_ref (root);
  self->prefix = g_strdup (prefix);
  self->flags = flags;
  g_mutex_init (&self->memo.lock);
  self->memo.flushed = -1;
  self->memo.ids = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
}

void
ckpt_storage_clear (CkptStorage *self)
{
  g_clear_object (&self->root);
  g_clear_pointer (&self->prefix, g_free);
  g_clear_pointer (&self->memo.ids, g_hash_table_unref);
  g_mutex_clear (&self->memo.lock);
}

void
ckpt_storage_txn_init (CkptStorageTxn *txn,
                       CkptStorage    *storage)
{
  txn->storage = storage;
}

gboolean
ckpt_storage_memo_match (CkptStorage      *self,
                         gint64            round_num,
                         const CkptFileId *id)
{
  const CkptFileId *known;
  gboolean match;

  g_mutex_lock (&self->memo.lock);
  known = g_hash_table_lookup (self->memo.ids, &round_num);
  match = known != NULL && memcmp (known, id, sizeof *id) == 0;
  g_mutex_unlock (&self->memo.lock);
  return match;
}

void
ckpt_storage_memo_set (CkptStorage      *self,
                       gint64            round_num,
                       const CkptFileId *id)
{
  g_mutex_lock (&self->memo.lock);
  g_hash_table_replace (self->memo.ids, g_memdup2 (&round_num, sizeof round_num),
                        g_memdup2 (id, sizeof *id));
  g_mutex_unlock (&self->memo.lock);
}

void
ckpt_storage_memo_forget (CkptStorage *self,
                          gint64       round_num)
{
  g_mutex_lock (&self->memo.lock);
  g_hash_table_remove (self->memo.ids, &round_num);
  g_mutex_unlock (&self->memo.lock);
}

void
ckpt_storage_memo_forget_flushed (CkptStorage *self,
                                  gint64       round_num)
{
  g_mutex_lock (&self->memo.lock);
  if (self->memo.flushed == round_num)
    self->memo.flushed = -1;
  g_mutex_unlock (&self->memo.lock);
}

gint64 *
ckpt_storage_array_sort_to_rounds (GArray *rounds,
                                   gsize  *n_rounds)
{
  g_array_sort (rounds, compare_rounds);
  return ckpt_storage_array_to_rounds (rounds, n_rounds);
}

gint64 *
ckpt_storage_array_to_rounds (GArray *rounds,
                              gsize  *n_rounds)
{
  *n_rounds = rounds->len;
  /* Never NULL: an empty listing is a valid, allocated array. */
  if (rounds->len == 0)
    {
      g_array_free (rounds, TRUE);
      return g_new0 (gint64, 1);
    }
  return (gint64 *) (gpointer) g_array_free (rounds, FALSE);
}

CkptStorage *
ckpt_storage_new (GFile            *root,
                  const char       *prefix,
                  CkptStorageFlags  flags)
{
  const CkptStorageVFuncs *vfuncs = &ckpt_storage_gio_vfuncs;

  g_return_val_if_fail (G_IS_FILE (root), NULL);
  g_return_val_if_fail (prefix != NULL, NULL);

  /* GVfs gives sftp:// and dav:// files a FUSE path when gvfsd-fuse runs:
   * only native files take the local (fsync, flock) path. */
  if (g_file_is_native (root) && !(flags & CKPT_STORAGE_FLAGS_FORCE_GENERIC))
    {
      g_autofree char *path = g_file_get_path (root);

      if (path != NULL)
        vfuncs = &ckpt_storage_local_vfuncs;
    }
  return vfuncs->new (root, prefix, flags);
}

void
ckpt_storage_free (CkptStorage *self)
{
  if (self == NULL)
    return;
  self->vfuncs->free (self);
}

gboolean
ckpt_storage_is_durable (CkptStorage *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->vfuncs->durable;
}

gint64 *
ckpt_storage_list (CkptStorage   *self,
                   gsize         *n_rounds,
                   GCancellable  *cancellable,
                   GError       **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (n_rounds != NULL, NULL);

  *n_rounds = 0;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  return self->vfuncs->list (self, NULL, n_rounds, cancellable, error);
}

GBytes *
ckpt_storage_read (CkptStorage   *self,
                   gint64         round_num,
                   GCancellable  *cancellable,
                   GError       **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (round_num >= 0, NULL);

  return ckpt_storage_read_full (self, round_num, CKPT_STORAGE_READ_PREFAULT, NULL,
                                 cancellable, error);
}

GBytes *
ckpt_storage_read_full (CkptStorage          *self,
                        gint64                round_num,
                        CkptStorageReadFlags  flags,
                        gboolean             *out_shared,
                        GCancellable         *cancellable,
                        GError              **error)
{
  gboolean shared = FALSE;
  GBytes *bytes;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (round_num >= 0, NULL);

  if (out_shared != NULL)
    *out_shared = FALSE;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  bytes = self->vfuncs->read (self, round_num, flags, &shared, cancellable, error);
  if (bytes != NULL && out_shared != NULL)
    *out_shared = shared;
  return bytes;
}

CkptStorageTxn *
ckpt_storage_begin (CkptStorage   *self,
                    GCancellable  *cancellable,
                    GError       **error)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  return self->vfuncs->begin (self, cancellable, error);
}

gboolean
ckpt_storage_txn_commit (CkptStorageTxn  *txn,
                         gint64           round_num,
                         GBytes          *header,
                         GBytes          *payload,
                         gboolean         durable,
                         GCancellable    *cancellable,
                         GError         **error)
{
  g_autoptr(CkptPayload) pieces = NULL;

  g_return_val_if_fail (payload != NULL, FALSE);

  pieces = ckpt_payload_new (payload);
  return ckpt_storage_txn_commit_full (txn, round_num, header, pieces,
                                       CKPT_STORAGE_COMMIT_NONE, durable,
                                       cancellable, error);
}

gboolean
ckpt_storage_txn_commit_full (CkptStorageTxn         *txn,
                              gint64                  round_num,
                              GBytes                 *header,
                              CkptPayload            *payload,
                              CkptStorageCommitFlags  flags,
                              gboolean                durable,
                              GCancellable           *cancellable,
                              GError                **error)
{
  g_return_val_if_fail (txn != NULL, FALSE);
  g_return_val_if_fail (round_num >= 0, FALSE);
  g_return_val_if_fail (header != NULL && payload != NULL, FALSE);
  g_return_val_if_fail (g_bytes_get_size (header) >= CKPT_FORMAT_FIXED_HEADER_SIZE, FALSE);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  return txn->storage->vfuncs->commit (txn, round_num, header, payload, flags, durable,
                                       cancellable, error);
}

gint64 *
ckpt_storage_txn_list (CkptStorageTxn  *txn,
                       gsize           *n_rounds,
                       GError         **error)
{
  g_return_val_if_fail (txn != NULL, NULL);
  g_return_val_if_fail (n_rounds != NULL, NULL);

  *n_rounds = 0;
  return txn->storage->vfuncs->list (txn->storage, txn, n_rounds, NULL, error);
}

const gint64 *
ckpt_storage_txn_borrow_rounds (CkptStorageTxn  *txn,
                                gsize           *n_rounds,
                                GError         **error)
{
  g_return_val_if_fail (txn != NULL, NULL);
  g_return_val_if_fail (n_rounds != NULL, NULL);

  *n_rounds = 0;
  return txn->storage->vfuncs->borrow_rounds (txn, n_rounds, error);
}

gboolean
ckpt_storage_txn_remove (CkptStorageTxn  *txn,
                         gint64           round_num,
                         GError         **error)
{
  g_return_val_if_fail (txn != NULL, FALSE);
  g_return_val_if_fail (round_num >= 0, FALSE);

  return txn->storage->vfuncs->remove (txn, round_num, error);
}

gboolean
ckpt_storage_txn_known_intact (CkptStorageTxn *txn,
                               gint64          round_num)
{
  g_return_val_if_fail (txn != NULL, FALSE);

  return txn->storage->vfuncs->known_intact (txn, round_num);
}

void
ckpt_storage_txn_note_intact (CkptStorageTxn *txn,
                              gint64          round_num)
{
  g_return_if_fail (txn != NULL);

  txn->storage->vfuncs->note_intact (txn, round_num);
}

gboolean
ckpt_storage_txn_all_known_intact (CkptStorageTxn *txn)
{
  g_return_val_if_fail (txn != NULL, FALSE);

  return txn->storage->vfuncs->all_known_intact (txn);
}

gint64
ckpt_storage_txn_get_flushed (CkptStorageTxn *txn)
{
  gint64 flushed;

  g_return_val_if_fail (txn != NULL, -1);

  g_mutex_lock (&txn->storage->memo.lock);
  flushed = txn->storage->memo.flushed;
  g_mutex_unlock (&txn->storage->memo.lock);
  return flushed;
}

void
ckpt_storage_txn_set_flushed (CkptStorageTxn *txn,
                              gint64          round_num)
{
  g_return_if_fail (txn != NULL);

  g_mutex_lock (&txn->storage->memo.lock);
  txn->storage->memo.flushed = round_num;
  g_mutex_unlock (&txn->storage->memo.lock);
}

gboolean
ckpt_storage_txn_sync (CkptStorageTxn  *txn,
                       gint64           round_num,
                       GError         **error)
{
  g_return_val_if_fail (txn != NULL, FALSE);

  return txn->storage->vfuncs->sync (txn, round_num, error);
}

void
ckpt_storage_txn_free (CkptStorageTxn *txn)
{
  if (txn == NULL)
    return;
  txn->storage->vfuncs->end (txn);
}
