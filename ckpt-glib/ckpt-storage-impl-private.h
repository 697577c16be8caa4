/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the storage back ends share; not for the manager. A back end
 * subclasses CkptStorage and CkptStorageTxn by embedding them first in its
 * own structs (LocalStorage, LocalTxn in ckpt-storage-local-private.h;
 * GioStorage, GioTxn in ckpt-storage-gio.c), allocates and frees them
 * itself, and fills in a CkptStorageVFuncs table; ckpt-storage.c checks the
 * arguments and dispatches. Each back end's state is its own: the base
 * structs hold only what every back end has, and the memo below.
 *
 * Locks. The memo has a lock of its own (CkptStorageMemo.lock), taken only
 * inside the ckpt_storage_memo_*() functions, which call nothing else. A
 * back end may hold its own lock (the local listing cache's) while it
 * calls them; never the other way round.
 */
#pragma once

#include "ckpt-storage-private.h"

G_BEGIN_DECLS

typedef struct
{
  /* A new storage of @root (the back end's subclass, base initialized with
   * ckpt_storage_init()). */
  CkptStorage    *(*new)    (GFile           *root,
                             const char      *prefix,
                             CkptStorageFlags flags);
  /* Frees what new() made (base cleared with ckpt_storage_clear()). */
  void            (*free)   (CkptStorage     *self);
  /* With @txn (lock held) the listing also removes stale temp files. */
  gint64         *(*list)   (CkptStorage     *self,
                             CkptStorageTxn  *txn,
                             gsize           *n_rounds,
                             GCancellable    *cancellable,
                             GError         **error);
  /* Sets *out_shared (never NULL) when the bytes are a shared mapping. */
  GBytes         *(*read)   (CkptStorage     *self,
                             gint64           round_num,
                             CkptStorageReadFlags flags,
                             gboolean        *out_shared,
                             GCancellable    *cancellable,
                             GError         **error);
  /* A new transaction (the back end's subclass, base set with
   * ckpt_storage_txn_init()), the writer lock held. */
  CkptStorageTxn *(*begin)  (CkptStorage     *self,
                             GCancellable    *cancellable,
                             GError         **error);
  /* With CKPT_STORAGE_COMMIT_UNSEALED, the back end fills in the checksum
   * (ckpt-seal-private.h). */
  gboolean        (*commit) (CkptStorageTxn         *txn,
                             gint64                  round_num,
                             GBytes                 *header,
                             CkptPayload            *payload,
                             CkptStorageCommitFlags  flags,
                             gboolean                durable,
                             GCancellable           *cancellable,
                             GError                **error);
  gboolean        (*remove) (CkptStorageTxn  *txn,
                             gint64           round_num,
                             GError         **error);
  /* Releases the lock and frees what begin() made. */
  void            (*end)    (CkptStorageTxn  *txn);
  /* ckpt_storage_txn_borrow_rounds(). */
  const gint64   *(*borrow_rounds) (CkptStorageTxn  *txn,
                                    gsize           *n_rounds,
                                    GError         **error);
  /* What the back end knows of the checkpoints' integrity; see
   * ckpt_storage_txn_known_intact(). */
  gboolean        (*known_intact)     (CkptStorageTxn *txn,
                                       gint64          round_num);
  void            (*note_intact)      (CkptStorageTxn *txn,
                                       gint64          round_num);
  gboolean        (*all_known_intact) (CkptStorageTxn *txn);
  /* ckpt_storage_txn_sync(). */
  gboolean        (*sync)   (CkptStorageTxn  *txn,
                             gint64           round_num,
                             GError         **error);
  /* ckpt_storage_is_durable(). */
  gboolean        durable;
} CkptStorageVFuncs;

/* What a file was when its integrity was last checked: back end specific
 * (device, inode, size and change times of a local file; size, mtime and
 * etag of a GIO one). */
typedef struct
{
  guint64 v[4];
} CkptFileId;

/* What a storage remembers of its files between transactions, whatever
 * the back end: which file was last flushed, and the identities of files
 * known intact where the back end cannot watch the root. Everything under
 * @lock, through the functions below only. */
typedef struct
{
  GMutex      lock;
  gint64      flushed;   /* ckpt_storage_txn_get_flushed(), or -1 */
  GHashTable *ids;       /* gint64 → CkptFileId */
} CkptStorageMemo;

struct _CkptStorage
{
  const CkptStorageVFuncs *vfuncs;
  GFile                   *root;
  char                    *prefix;
  CkptStorageFlags         flags;
  CkptStorageMemo          memo;
};

struct _CkptStorageTxn
{
  CkptStorage *storage;
};

extern const CkptStorageVFuncs ckpt_storage_local_vfuncs;
extern const CkptStorageVFuncs ckpt_storage_gio_vfuncs;

/* For back ends' new() and free(). */
void     ckpt_storage_init     (CkptStorage             *self,
                                const CkptStorageVFuncs *vfuncs,
                                GFile                   *root,
                                const char              *prefix,
                                CkptStorageFlags         flags);
void     ckpt_storage_clear    (CkptStorage             *self);
/* For back ends' begin(). */
void     ckpt_storage_txn_init (CkptStorageTxn          *txn,
                                CkptStorage             *storage);

/* The memo of files known intact by their CkptFileId. */
gboolean ckpt_storage_memo_match  (CkptStorage      *self,
                                   gint64            round_num,
                                   const CkptFileId *id);
void     ckpt_storage_memo_set    (CkptStorage      *self,
                                   gint64            round_num,
                                   const CkptFileId *id);
/* Forgets @round_num's identity (it was deleted). */
void     ckpt_storage_memo_forget (CkptStorage      *self,
                                   gint64            round_num);
/* Forgets only that @round_num was flushed (it is no longer that file). */
void     ckpt_storage_memo_forget_flushed (CkptStorage *self,
                                           gint64       round_num);

/* Hands over @rounds (sorted here) as a plain array, freeing the GArray;
 * never NULL, *n_rounds set. */
gint64 *ckpt_storage_array_sort_to_rounds (GArray *rounds,
                                           gsize  *n_rounds);
/* The same for @rounds already in ascending order. */
gint64 *ckpt_storage_array_to_rounds      (GArray *rounds,
                                           gsize  *n_rounds);

G_END_DECLS
