/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Internals of CkptManager shared by its sync and async halves, and hooks
 * for tests (reached through the static core).
 *
 * The *_internal() functions do the disk work and touch only the manager's
 * immutable state (root, prefix, storage), so they may run in any thread.
 * They never emit signals: what happened is recorded in a CkptEvents, which
 * the caller emits on the right thread with ckpt_manager_emit_events().
 */
#pragma once

#include "ckpt-manager.h"
#include "ckpt-queue-private.h"
#include "ckpt-storage-private.h"

G_BEGIN_DECLS

typedef struct
{
  int      keep_total;
  gboolean keep_first;
  gboolean durable;
  gboolean verify;
} CkptParams;

typedef struct _CkptEvents CkptEvents;

CkptEvents *ckpt_events_new                (void);
void        ckpt_events_free               (CkptEvents       *events);

void        ckpt_manager_get_params   (CkptManager      *self,
                                            CkptParams   *out_params);
void        ckpt_manager_emit_events       (CkptManager      *self,
                                            CkptEvents       *events);

gboolean    ckpt_manager_save_internal     (CkptManager          *self,
                                            GVariant             *state,
                                            gint64                round_num,
                                            const CkptParams *params,
                                            CkptEvents           *events,
                                            GCancellable         *cancellable,
                                            GError              **error);
gboolean    ckpt_manager_save_full_internal (CkptManager         *self,
                                             GVariant            *state,
                                             gint64               round_num,
                                             GVariant            *metadata,
                                             const CkptParams    *params,
                                             CkptEvents          *events,
                                             GCancellable        *cancellable,
                                             GError             **error);
GVariant   *ckpt_manager_load_internal     (CkptManager          *self,
                                            const GVariantType   *type,
                                            gint64                round_num,
                                            const CkptParams     *params,
                                            CkptEvents           *events,
                                            GCancellable         *cancellable,
                                            GError              **error);
GVariant   *ckpt_manager_load_latest_internal (CkptManager          *self,
                                               const GVariantType   *type,
                                               const CkptParams     *params,
                                               gint64               *out_round_num,
                                               CkptEvents           *events,
                                               GCancellable         *cancellable,
                                               GError              **error);
GVariant   *ckpt_manager_load_latest_or_default_internal (CkptManager          *self,
                                                          GVariant             *default_state,
                                                          const CkptParams *params,
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
gint64     *ckpt_manager_prune_internal    (CkptManager       *self,
                                            CkptPruneFlags     flags,
                                            const CkptParams  *params,
                                            gsize             *n_pruned,
                                            CkptEvents        *events,
                                            GCancellable      *cancellable,
                                            GError           **error);

/* Whether the manager could be set up at construction (a root, a valid
 * prefix); else a copy of that error. Every operation checks it first. */
gboolean    ckpt_manager_check_ready       (CkptManager       *self,
                                            GError           **error);

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
