/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Storage: the only layer that touches the file system, and all that the
 * manager knows of it. A CkptStorage is a checkpoint directory (root +
 * prefix); writers take a CkptStorageTxn, which holds the directory's
 * writer lock until it is freed. ckpt-storage.c dispatches each call to a
 * back end (ckpt-storage-impl-private.h): ckpt-storage-local*.c for local
 * roots, ckpt-storage-gio.c for the others.
 *
 * Threads. Every call runs in the thread of its caller: the manager's
 * blocking methods call the storage in the application's thread, its
 * async ones in a worker thread of the manager's queue (ckpt-queue.c, one
 * operation of a manager at a time). So one CkptStorage is used from
 * several threads at once (a blocking list while a queued save runs):
 * that is safe, the back ends lock what they share. A CkptStorageTxn
 * belongs to the thread that began it until it is freed. Sealing may add
 * a short-lived thread of its own inside a commit (ckpt-seal-private.h).
 */
#pragma once

#include <gio/gio.h>

#include "ckpt-payload-private.h"

G_BEGIN_DECLS

typedef struct _CkptStorage    CkptStorage;
typedef struct _CkptStorageTxn CkptStorageTxn;

typedef enum
{
  CKPT_STORAGE_FLAGS_NONE          = 0,
  /* Use GIO's generic operations even for a local root (tests). */
  CKPT_STORAGE_FLAGS_FORCE_GENERIC = 1 << 0,
  /* Local roots: do not use O_TMPFILE, write a named hidden temp file
   * (tests of the fallback path). */
  CKPT_STORAGE_FLAGS_NO_TMPFILE    = 1 << 1,
  /* Local roots: do not watch the directory (as on a file system without
   * inotify): every listing reads the directory (tests). */
  CKPT_STORAGE_FLAGS_NO_NOTIFY     = 1 << 2,
} CkptStorageFlags;

/* Pure name helpers. */
char       *ckpt_storage_build_name     (const char        *prefix,
                                         gint64             round_num);
gboolean    ckpt_storage_parse_name     (const char        *prefix,
                                         const char        *name,
                                         gint64            *out_round_num);
gboolean    ckpt_storage_is_temp_name   (const char        *prefix,
                                         const char        *name);
char       *ckpt_storage_build_temp_name (const char       *prefix,
                                          gint64            round_num);

CkptStorage *ckpt_storage_new           (GFile             *root,
                                         const char        *prefix,
                                         CkptStorageFlags   flags);
void         ckpt_storage_free          (CkptStorage       *self);

/* Whether a save can be flushed to stable storage before it returns: the
 * local back end fsyncs, GIO has no such call. */
gboolean     ckpt_storage_is_durable    (CkptStorage       *self);

/* The rounds present, ascending. A missing root is empty, not an error.
 * Never NULL on success (an empty array has *n_rounds == 0). */
gint64      *ckpt_storage_list          (CkptStorage       *self,
                                         gsize             *n_rounds,
                                         GCancellable      *cancellable,
                                         GError           **error);

/* The whole file of @round_num (mapped where possible, prefaulted).
 * G_IO_ERROR_NOT_FOUND if it does not exist. */
GBytes      *ckpt_storage_read          (CkptStorage       *self,
                                         gint64             round_num,
                                         GCancellable      *cancellable,
                                         GError           **error);

typedef enum
{
  CKPT_STORAGE_READ_NONE     = 0,
  /* Fault the whole mapping in at once (it is about to be read). */
  CKPT_STORAGE_READ_PREFAULT = 1 << 0,
} CkptStorageReadFlags;

/* ckpt_storage_read() with @flags. @out_shared (optional) tells whether the
 * bytes are a mapping of the file, shared with the page cache, so that a
 * change of the file by anyone shows in them (a local file of MAP_MIN bytes
 * or more), or private memory that nobody else can change (smaller local
 * files, GIO reads). A mapping is followed by at least one page of zero
 * bytes (readable), so that a C string read from it ends inside readable
 * memory whatever the file holds; but truncating the file while it is
 * mapped makes reads of the lost pages raise SIGBUS. */
GBytes      *ckpt_storage_read_full     (CkptStorage         *self,
                                         gint64               round_num,
                                         CkptStorageReadFlags flags,
                                         gboolean            *out_shared,
                                         GCancellable        *cancellable,
                                         GError             **error);

/* Creates the root (with parents) if needed and takes the writer lock. */
CkptStorageTxn *ckpt_storage_begin      (CkptStorage       *self,
                                         GCancellable      *cancellable,
                                         GError           **error);
/* Writes @header then @payload as round @round_num, atomically, never
 * replacing an existing checkpoint (CKPT_ERROR_EXISTS). With @durable, the
 * file and then the directory are fsync'd before it returns TRUE. On failure
 * nothing is left behind. Cancellation is honoured until the file is linked
 * under its name (the point of no return). */
gboolean     ckpt_storage_txn_commit    (CkptStorageTxn    *txn,
                                         gint64             round_num,
                                         GBytes            *header,
                                         GBytes            *payload,
                                         gboolean           durable,
                                         GCancellable      *cancellable,
                                         GError           **error);
typedef enum
{
  CKPT_STORAGE_COMMIT_NONE = 0,
  /* The header is unsealed, its checksum field not filled in
   * (ckpt_format_encode() with CKPT_FORMAT_ENCODE_UNSEALED): the storage
   * computes the checksum and stores it before the file is flushed and
   * linked. A local root hashes large payloads while the disk writes them
   * (durable saves) or on a second thread while it writes them (see
   * ckpt-seal-private.h). */
  CKPT_STORAGE_COMMIT_UNSEALED = 1 << 0,
} CkptStorageCommitFlags;

/* ckpt_storage_txn_commit() with @flags, and the payload as pieces
 * (written one after another). */
gboolean     ckpt_storage_txn_commit_full (CkptStorageTxn        *txn,
                                           gint64                 round_num,
                                           GBytes                *header,
                                           CkptPayload           *payload,
                                           CkptStorageCommitFlags flags,
                                           gboolean               durable,
                                           GCancellable          *cancellable,
                                           GError               **error);

/* Like ckpt_storage_list(), under the lock; also removes stale temp files of
 * dead writers. */
gint64      *ckpt_storage_txn_list      (CkptStorageTxn    *txn,
                                         gsize             *n_rounds,
                                         GError           **error);
/* The same listing, borrowed from @txn (no copy; local roots keep it
 * between saves): valid until the next call on @txn. NULL on error. */
const gint64 *ckpt_storage_txn_borrow_rounds (CkptStorageTxn *txn,
                                              gsize          *n_rounds,
                                              GError        **error);
gboolean     ckpt_storage_txn_remove    (CkptStorageTxn    *txn,
                                         gint64             round_num,
                                         GError           **error);
/* Whether the checkpoint of @round_num is known to be intact: this storage
 * wrote it, or was told with ckpt_storage_txn_note_intact() that it
 * verified it, and nobody changed it since (as far as the back end can
 * tell: a local root on a local file system sees every change through
 * inotify; elsewhere the file's size and change times are compared). FALSE
 * means "not known", not "damaged": verify the file to know. */
gboolean     ckpt_storage_txn_known_intact     (CkptStorageTxn *txn,
                                                gint64          round_num);
/* Records that the checkpoint of @round_num was verified intact. */
void         ckpt_storage_txn_note_intact      (CkptStorageTxn *txn,
                                                gint64          round_num);
/* Whether every round of the listing is known intact (a shortcut for
 * retention; FALSE when the back end cannot tell at once). */
gboolean     ckpt_storage_txn_all_known_intact (CkptStorageTxn *txn);
/* Flushes the checkpoint of @round_num (its data and its name) to stable
 * storage, where the back end can; TRUE where it cannot. */
gboolean     ckpt_storage_txn_sync             (CkptStorageTxn *txn,
                                                gint64          round_num,
                                                GError        **error);
/* The newest checkpoint known to be flushed to stable storage (saved
 * durably, or flushed with ckpt_storage_txn_sync()) by this storage, or -1;
 * whether it is still that file is for ckpt_storage_txn_known_intact() to
 * say. */
gint64       ckpt_storage_txn_get_flushed      (CkptStorageTxn *txn);
void         ckpt_storage_txn_set_flushed      (CkptStorageTxn *txn,
                                                gint64          round_num);
#ifdef CKPT_ENABLE_TEST_HOOKS
/* Tests: called by a reader of a local root after it read the directory
 * and before it offers the listing to the cache (to order two readers).
 * Not in the shipped library. */
extern void (*ckpt_local_test_before_offer) (void);
#endif

/* Releases the lock. */
void         ckpt_storage_txn_free      (CkptStorageTxn    *txn);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CkptStorageTxn, ckpt_storage_txn_free)

G_END_DECLS
