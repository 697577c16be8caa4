/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The local back end's own structs and what its three files share:
 *  - ckpt-storage-local.c: the commit protocol (begin, commit, remove,
 *    sync, end) and the back end's table;
 *  - ckpt-storage-local-listing.c: listings and the inotify listing cache;
 *  - ckpt-storage-local-intact.c: what is known of the checkpoints'
 *    integrity;
 *  - ckpt-storage-local-read.c: reading and mapping checkpoints.
 * Nothing outside these files sees them.
 *
 * Threads: every function runs in the thread of the storage call
 * (ckpt-storage-private.h). A LocalTxn is used by the thread that began
 * it; the LocalCache is shared by every thread using the storage, under
 * its lock. Lock order: LocalCache.lock, then the memo's lock (the memo
 * functions of ckpt-storage-impl-private.h take it themselves).
 */
#pragma once

#include <glib.h>

#include "ckpt-fault-private.h"
#include "ckpt-storage-impl-private.h"

G_BEGIN_DECLS

/* What the local back end knows of a root between calls; see the top of
 * ckpt-storage-local-listing.c. Everything under @lock. */
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
  gpointer    taken_by;      /* the LocalTxn that holds the listing */
  GArray     *rounds;        /* of gint64, ascending from index rounds_head;
                              * NULL while a transaction has taken it */
  guint       rounds_head;
  GHashTable *known;         /* gint64 → NULL: rounds known intact (written or
                              * verified here, unchanged since) */
  GHashTable *unknown;       /* rounds of the listing not in known */
  GHashTable *own_creates;   /* rounds linked here whose event is unread */
  GHashTable *temps;         /* names of temp files seen created: a writer
                              * reads the directory, which removes them */
} LocalCache;

typedef struct
{
  CkptStorage  parent;
  char        *root_path;
  LocalCache   cache;
} LocalStorage;

typedef struct
{
  CkptStorageTxn  parent;
  int             dir_fd;        /* the locked root */
  GArray         *rounds;        /* the listing as this txn knows it, or
                                  * NULL; the rounds from index rounds_head
                                  * on (retention deletes the oldest: that
                                  * only moves the head) */
  guint           rounds_head;
  gboolean        from_cache;    /* rounds was taken from the cache */
  guint           generation;    /* of the cache when the txn began */
  gboolean        listing_stale; /* a call failed half-way: rounds may not
                                  * be the directory any more */
} LocalTxn;

#define LOCAL_STORAGE(s) ((LocalStorage *) (s))
#define LOCAL_TXN(t)     ((LocalTxn *) (t))

static inline LocalStorage *
local_txn_storage (LocalTxn *txn)
{
  return LOCAL_STORAGE (txn->parent.storage);
}

/* ckpt-storage-local.c: for messages. */
gboolean  ckpt_local_errno_error (GError      **error,
                                  int           saved_errno,
                                  const char   *action,
                                  const char   *dir,
                                  const char   *name);
gboolean  ckpt_local_have_proc_fd (void);
int       ckpt_local_open_root   (LocalStorage  *self,
                                  GError       **error);

/* ckpt-storage-local-listing.c */
void      ckpt_local_cache_init  (LocalCache    *cache);
void      ckpt_local_cache_clear (LocalCache    *cache);
/* A writer (lock held) takes the listing, up to date, if there is one;
 * gives it back at the end (its own changes in it). */
void      ckpt_local_cache_take      (LocalTxn *txn);
void      ckpt_local_cache_give_back (LocalTxn *txn);
/* Whether @txn holds the cache and the watch has been alive since it took
 * it (with the cache's lock held). */
gboolean  ckpt_local_txn_owns_cache  (LocalTxn *txn);
/* Adds @round_num to @set (of gint64) if it is not in it. */
void      ckpt_local_set_add         (GHashTable *set,
                                      gint64      round_num);
/* @txn linked, or deleted, round @round_num: its own listing follows. */
void      ckpt_local_txn_add_round   (LocalTxn   *txn,
                                      gint64      round_num);
void      ckpt_local_txn_drop_round  (LocalTxn   *txn,
                                      gint64      round_num);
gint64       *ckpt_local_list             (CkptStorage     *storage,
                                           CkptStorageTxn  *txn,
                                           gsize           *n_rounds,
                                           GCancellable    *cancellable,
                                           GError         **error);
const gint64 *ckpt_local_borrow_rounds    (CkptStorageTxn  *txn,
                                           gsize           *n_rounds,
                                           GError         **error);

/* ckpt-storage-local-intact.c */
gboolean      ckpt_local_known_intact     (CkptStorageTxn  *txn,
                                           gint64           round_num);
void          ckpt_local_note_intact      (CkptStorageTxn  *txn,
                                           gint64           round_num);
gboolean      ckpt_local_all_known_intact (CkptStorageTxn  *txn);
/* @txn wrote round @round_num (as @name), or deleted it. */
void          ckpt_local_note_written     (LocalTxn        *txn,
                                           gint64           round_num,
                                           const char      *name);
void          ckpt_local_note_removed     (LocalTxn        *txn,
                                           gint64           round_num);

/* ckpt-storage-local-read.c */
GBytes       *ckpt_local_read             (CkptStorage          *storage,
                                           gint64                round_num,
                                           CkptStorageReadFlags  flags,
                                           gboolean             *out_shared,
                                           GCancellable         *cancellable,
                                           GError              **error);

G_END_DECLS
