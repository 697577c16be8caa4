/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Local storage, what is known intact: the checkpoints written by this
 * storage or verified through it and not changed since, which retention
 * needs so that damaged checkpoints do not count as kept
 * (ckpt_storage_txn_known_intact()). With a watch of the root, the sets
 * known / unknown of the listing cache (kept up to date by the events in
 * ckpt-storage-local-listing.c); without, a file's device, inode, size and
 * change times, in the storage's memo. Reads files' attributes only.
 * Runs in the thread of the storage call, under the writer lock.
 */
#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "ckpt-storage-local-private.h"

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

gboolean
ckpt_local_known_intact (CkptStorageTxn *base,
                         gint64          round_num)
{
  LocalTxn *txn = LOCAL_TXN (base);
  LocalStorage *self = local_txn_storage (txn);
  g_autofree char *name = NULL;
  gboolean known;
  CkptFileId id;

  g_mutex_lock (&self->cache.lock);
  if (ckpt_local_txn_owns_cache (txn))
    {
      known = g_hash_table_contains (self->cache.known, &round_num);
      g_mutex_unlock (&self->cache.lock);
      return known;
    }
  g_mutex_unlock (&self->cache.lock);

  /* No watch: compare the file with what it was when it was verified. */
  name = ckpt_storage_build_name (self->parent.prefix, round_num);
  return file_id_at (txn->dir_fd, name, &id) &&
         ckpt_storage_memo_match (&self->parent, round_num, &id);
}

/* @name (of @round_num) is intact: written by @txn (@written) or verified
 * by it. With a watch, a change between then and now is an event not read
 * yet, which makes the round unknown again when it is read; without, the
 * file's identity now is remembered. */
static void
note_known (LocalTxn   *txn,
            gint64      round_num,
            const char *name,
            gboolean    written)
{
  LocalStorage *self = local_txn_storage (txn);
  gboolean owns;
  CkptFileId id;

  g_mutex_lock (&self->cache.lock);
  owns = ckpt_local_txn_owns_cache (txn);
  if (owns)
    {
      if (written)
        ckpt_local_set_add (self->cache.own_creates, round_num);
      ckpt_local_set_add (self->cache.known, round_num);
      g_hash_table_remove (self->cache.unknown, &round_num);
    }
  g_mutex_unlock (&self->cache.lock);

  if (!owns && file_id_at (txn->dir_fd, name, &id))
    ckpt_storage_memo_set (&self->parent, round_num, &id);
}

void
ckpt_local_note_intact (CkptStorageTxn *base,
                        gint64          round_num)
{
  g_autofree char *name = ckpt_storage_build_name (base->storage->prefix, round_num);

  note_known (LOCAL_TXN (base), round_num, name, FALSE);
}

gboolean
ckpt_local_all_known_intact (CkptStorageTxn *base)
{
  LocalTxn *txn = LOCAL_TXN (base);
  LocalCache *cache = &local_txn_storage (txn)->cache;
  gboolean all;

  if (txn->rounds == NULL)
    return FALSE;
  g_mutex_lock (&cache->lock);
  all = ckpt_local_txn_owns_cache (txn) && g_hash_table_size (cache->unknown) == 0;
  g_mutex_unlock (&cache->lock);
  return all;
}


void
ckpt_local_note_written (LocalTxn   *txn,
                         gint64      round_num,
                         const char *name)
{
  note_known (txn, round_num, name, TRUE);
}

void
ckpt_local_note_removed (LocalTxn *txn,
                         gint64    round_num)
{
  LocalStorage *self = local_txn_storage (txn);

  g_mutex_lock (&self->cache.lock);
  g_hash_table_remove (self->cache.known, &round_num);
  g_hash_table_remove (self->cache.unknown, &round_num);
  g_mutex_unlock (&self->cache.lock);
  ckpt_storage_memo_forget (&self->parent, round_num);
}
