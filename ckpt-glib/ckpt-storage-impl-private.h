/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the storage back ends share; not for the manager.
 */
#pragma once

#include "ckpt-lease-private.h"
#include "ckpt-storage-private.h"

G_BEGIN_DECLS

typedef struct
{
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
  CkptStorageTxn *(*begin)  (CkptStorage     *self,
                             GCancellable    *cancellable,
                             GError         **error);
  /* With CKPT_STORAGE_COMMIT_SEAL, the back end fills in the checksum. */
  gboolean        (*commit) (CkptStorageTxn         *txn,
                             gint64                  round_num,
                             GBytes                 *header,
                             GBytes                 *payload,
                             CkptStorageCommitFlags  flags,
                             gboolean                durable,
                             GCancellable           *cancellable,
                             GError                **error);
  gboolean        (*remove) (CkptStorageTxn  *txn,
                             gint64           round_num,
                             GError         **error);
  void            (*end)    (CkptStorageTxn  *txn);
  gboolean        (*exists_all) (CkptStorageTxn *txn,
                                 const gint64   *rounds,
                                 gsize           n_rounds);
  void            (*invalidate) (CkptStorageTxn *txn);
  /* ckpt_storage_txn_peek(); NULL: the listing is read with list(). */
  const gint64   *(*peek)   (CkptStorageTxn  *txn,
                             gsize           *n_rounds,
                             GError         **error);
} CkptStorageVFuncs;

/* What the local back end knows of a root's listing between writes; see
 * ckpt-storage-local.c. */
typedef struct
{
  GMutex   lock;
  gboolean valid;
  guint64  dev;
  guint64  ino;
  gint64   stamp_sec;    /* the directory mtime the last writer set */
  gint64   stamp_nsec;
  GArray  *rounds;       /* of gint64, ascending from index rounds_head;
                          * NULL while a transaction has taken it */
  guint    rounds_head;
} CkptListingCache;

struct _CkptStorage
{
  GFile                   *root;
  char                    *prefix;
  char                    *root_path;  /* NULL for non-local roots */
  char                    *display;    /* path or URI, for messages */
  CkptStorageFlags         flags;
  const CkptStorageVFuncs *vfuncs;
  CkptListingCache         cache;      /* local back end */
};

struct _CkptStorageTxn
{
  CkptStorage *storage;
  int          dir_fd;   /* local back end: the locked root; else -1 */
  GArray      *rounds;   /* local: the listing as this txn knows it, or NULL;
                          * the rounds from index rounds_head on (retention
                          * deletes the oldest: that only moves the head) */
  guint        rounds_head;
  gint64      *peeked;   /* ckpt_storage_txn_peek() of other back ends */
  gboolean     from_cache;
  gboolean     uncertain;  /* something failed: do not trust our listing */
  gboolean     modified;   /* this txn added or removed a directory entry */
  CkptLease   *lease;      /* generic back end: the writer lease held */
};

extern const CkptStorageVFuncs ckpt_storage_local_vfuncs;
extern const CkptStorageVFuncs ckpt_storage_gio_vfuncs;

/* Sorts and hands over @rounds as a plain array; never NULL. */
gint64 *ckpt_storage_sort_rounds (GArray *rounds,
                                  gsize  *n_rounds);
/* The same for @rounds already in ascending order. */
gint64 *ckpt_storage_take_rounds (GArray *rounds,
                                  gsize  *n_rounds);

G_END_DECLS
