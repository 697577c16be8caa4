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
  /* ckpt_storage_txn_peek(); NULL: the listing is read with list(). */
  const gint64   *(*peek)   (CkptStorageTxn  *txn,
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
} CkptStorageVFuncs;

/* What a file was when its integrity was last checked: back end specific
 * (device, inode, size and change times of a local file; size, mtime and
 * etag of a GIO one). */
typedef struct
{
  guint64 v[4];
} CkptFileId;

/* What the local back end knows of a root between calls; see "Listing
 * cache" in ckpt-storage-local.c. Everything under @lock. */
typedef struct
{
  GMutex      lock;
  int         notify_fd;     /* inotify instance watching the root, or -1 */
  gboolean    notify_failed; /* no watch can be had here: nothing is cached */
  guint64     dev;           /* the watched directory */
  guint64     ino;
  guint       generation;    /* bumped whenever what is known is forgotten */
  gboolean    valid;         /* rounds is the listing, up to the events
                              * not read yet */
  gpointer    taken_by;      /* the CkptStorageTxn that holds the listing */
  GArray     *rounds;        /* of gint64, ascending from index rounds_head;
                              * NULL while a transaction has taken it */
  guint       rounds_head;
  GHashTable *known;         /* gint64 → NULL: rounds known intact (written or
                              * verified here, unchanged since) */
  GHashTable *unknown;       /* rounds of the listing not in known */
  GHashTable *own_creates;   /* rounds linked here whose event is unread */
  GHashTable *temps;         /* names of temp files seen created: a writer
                              * reads the directory, which removes them */
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
  gint64                   flushed;    /* ckpt_storage_txn_get_flushed();
                                        * under cache.lock */
  GHashTable              *ids;        /* gint64 → CkptFileId: files known
                                        * intact when no watch can be had
                                        * (and GIO roots); under cache.lock */
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
  guint        generation; /* local: of the cache when the txn began */
  GHashTable  *listed_ids; /* GIO: round → CkptFileId of the last listing */
  gboolean     uncertain;  /* something failed: do not trust our listing */
  gboolean     modified;   /* this txn added or removed a directory entry */
  CkptLease   *lease;      /* generic back end: the writer lease held */
};

extern const CkptStorageVFuncs ckpt_storage_local_vfuncs;
extern const CkptStorageVFuncs ckpt_storage_gio_vfuncs;

/* The memo of files known intact by their CkptFileId (self->ids), for back
 * ends that cannot watch the root. Take self->cache.lock around them. */
gboolean ckpt_storage_ids_match  (CkptStorage      *self,
                                  gint64            round_num,
                                  const CkptFileId *id);
void     ckpt_storage_ids_set    (CkptStorage      *self,
                                  gint64            round_num,
                                  const CkptFileId *id);
void     ckpt_storage_ids_forget (CkptStorage      *self,
                                  gint64            round_num);

/* Sorts and hands over @rounds as a plain array; never NULL. */
gint64 *ckpt_storage_sort_rounds (GArray *rounds,
                                  gsize  *n_rounds);
/* The same for @rounds already in ascending order. */
gint64 *ckpt_storage_take_rounds (GArray *rounds,
                                  gsize  *n_rounds);

G_END_DECLS
