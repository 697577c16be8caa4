/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the files of CkptManager share, and hooks for tests (reached
 * through the static core). The manager is split by concern:
 *
 *   ckpt-manager.c            the type, its signals, construction
 *   ckpt-manager-properties.c the properties, their accessors, the busy
 *                             count and the settings snapshot
 *   ckpt-manager-calls.c      the public blocking calls
 *   ckpt-manager-async*.c     the public _async/_finish pairs and the
 *                             operation record a worker runs
 *   ckpt-manager-ops.c        the operations themselves (*_internal)
 *   ckpt-manager-retention.c  applying retention under the writer lock
 *   ckpt-manager-events.c     recording signals to emit later
 *
 * The instance struct is private to the first two
 * (ckpt-manager-object-private.h); the others see only what is declared
 * here. An operation may run in any thread: it reads only what never
 * changes after construction (the storage, the root, the prefix), runs
 * with a CkptSettings taken when it was called, and never emits a signal:
 * it records what happened in a CkptEvents, which its caller emits in the
 * right thread with ckpt_events_emit().
 */
#pragma once

#include "ckpt-manager.h"
#include "ckpt-queue-private.h"
#include "ckpt-storage-private.h"

G_BEGIN_DECLS

/* The settings an operation runs with: the manager's properties as they
 * were when it was called (a property set later applies from the next
 * call), copied so that a worker thread never reads the properties. */
typedef struct
{
  int      keep_total;
  gboolean keep_first;
  gboolean durable;
  gboolean verify;
} CkptSettings;

/* Takes the snapshot; any thread (the properties are atomic). */
void          ckpt_manager_snapshot_settings (CkptManager   *self,
                                              CkptSettings  *out_settings);

/* Events: the signals an operation owes, in the order it recorded them.
 * Each kind is one signal of the manager (ckpt_manager_get_event_signal()
 * maps them); CORRUPT and PRUNE_FAILED carry an error. */
typedef enum
{
  CKPT_EVENT_SAVED,
  CKPT_EVENT_PRUNED,
  CKPT_EVENT_CORRUPT,
  CKPT_EVENT_PRUNE_FAILED,
  CKPT_EVENT_N_KINDS
} CkptEventKind;

typedef struct _CkptEvents CkptEvents;

CkptEvents   *ckpt_events_new             (void);
void          ckpt_events_free            (CkptEvents    *events);
/* Any thread; @events may be NULL (nothing is recorded). */
void          ckpt_events_record          (CkptEvents    *events,
                                           CkptEventKind  kind,
                                           gint64         round_num,
                                           const GError  *error);
/* In the thread (or main context) of the operation's caller: emits what
 * was recorded, in order, and empties @events. */
void          ckpt_events_emit            (CkptEvents    *events,
                                           CkptManager   *manager);
guint         ckpt_manager_get_event_signal (CkptEventKind kind);

/* What never changes after construction; any thread. */
CkptStorage  *ckpt_manager_get_storage    (CkptManager   *self);
/* Whether the manager could be set up at construction (a root, a valid
 * prefix); else a copy of that error. Every operation checks it first. */
gboolean      ckpt_manager_check_ready    (CkptManager   *self,
                                           GError       **error);
/* The parse names of a round's file and of the root, for messages. */
char         *ckpt_manager_describe_file  (CkptManager   *self,
                                           gint64         round_num);
char         *ckpt_manager_describe_root  (CkptManager   *self);

/* The operations (ckpt-manager-ops.c), shared by the blocking calls and
 * the async workers. */
gboolean    ckpt_manager_save_internal     (CkptManager          *self,
                                            GVariant             *state,
                                            gint64                round_num,
                                            GVariant             *metadata,
                                            const CkptSettings   *settings,
                                            CkptEvents           *events,
                                            GCancellable         *cancellable,
                                            GError              **error);
GVariant   *ckpt_manager_load_internal     (CkptManager          *self,
                                            const GVariantType   *type,
                                            gint64                round_num,
                                            const CkptSettings   *settings,
                                            CkptEvents           *events,
                                            GCancellable         *cancellable,
                                            GError              **error);
GVariant   *ckpt_manager_load_latest_internal (CkptManager          *self,
                                               const GVariantType   *type,
                                               const CkptSettings   *settings,
                                               gint64               *out_round_num,
                                               CkptEvents           *events,
                                               GCancellable         *cancellable,
                                               GError              **error);
GVariant   *ckpt_manager_load_latest_or_default_internal (CkptManager          *self,
                                                          GVariant             *default_state,
                                                          const CkptSettings   *settings,
                                                          gint64               *out_round_num,
                                                          CkptEvents           *events,
                                                          GCancellable         *cancellable,
                                                          GError              **error);
gint64     *ckpt_manager_list_rounds_internal (CkptManager       *self,
                                               gsize             *n_rounds,
                                               GCancellable      *cancellable,
                                               GError           **error);
gboolean    ckpt_manager_delete_internal   (CkptManager       *self,
                                            gint64             round_num,
                                            CkptEvents        *events,
                                            GCancellable      *cancellable,
                                            GError           **error);
CkptInfo   *ckpt_manager_query_info_internal (CkptManager       *self,
                                              gint64             round_num,
                                              CkptQueryFlags     flags,
                                              GCancellable      *cancellable,
                                              GError           **error);
gint64     *ckpt_manager_prune_internal    (CkptManager        *self,
                                            CkptPruneFlags      flags,
                                            const CkptSettings *settings,
                                            gsize              *n_pruned,
                                            CkptEvents         *events,
                                            GCancellable       *cancellable,
                                            GError            **error);

/* Retention applied under the writer lock of @txn
 * (ckpt-manager-retention.c); see there. */
gboolean    ckpt_manager_check_not_superseded (CkptManager        *self,
                                               CkptStorageTxn     *txn,
                                               gint64              round_num,
                                               const CkptSettings *settings,
                                               CkptEvents         *events,
                                               GCancellable       *cancellable,
                                               GError            **error);
gboolean    ckpt_manager_apply_retention   (CkptManager        *self,
                                            CkptStorageTxn     *txn,
                                            const CkptSettings *settings,
                                            gboolean            dry_run,
                                            CkptEvents         *events,
                                            GArray             *out_pruned,
                                            GCancellable       *cancellable,
                                            GError            **error);

/* The serial queue of the manager's async operations. */
CkptQueue  *ckpt_manager_get_queue         (CkptManager      *self);
/* Count async operations in flight, for CkptManager:busy; called in the
 * context of the caller of the operation. */
void        ckpt_manager_op_started        (CkptManager      *self);
void        ckpt_manager_op_finished       (CkptManager      *self);
/* An operation whose caller's context went away before it was delivered:
 * it stops counting, without a notification (any thread). */
void        ckpt_manager_op_dropped        (CkptManager      *self);

/* Replaces the manager's storage with one using @flags. Call before any
 * operation is in flight. */
void ckpt_manager_set_storage_flags (CkptManager      *self,
                                     CkptStorageFlags  flags);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CkptEvents, ckpt_events_free)

G_END_DECLS
