/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The record of one async operation of CkptManager (CkptOp), shared by
 * ckpt-manager-async.c (the public _async/_finish pairs, which fill and
 * read it) and ckpt-manager-async-op.c (which queues it, runs it in a
 * worker and delivers it).
 */
#pragma once

#include "ckpt-async-result-private.h"
#include "ckpt-manager-private.h"

G_BEGIN_DECLS

typedef enum
{
  CKPT_OP_SAVE,
  CKPT_OP_LOAD,
  CKPT_OP_LOAD_LATEST,
  CKPT_OP_LOAD_LATEST_OR_DEFAULT,
  CKPT_OP_LIST_ROUNDS,
  CKPT_OP_DELETE,
  CKPT_OP_QUERY_INFO,
  CKPT_OP_PRUNE,
} CkptOpKind;

/* The task data of an operation's CkptAsyncResult.
 *
 * Who owns what, across threads: the _async call, in the caller's thread,
 * fills in the arguments (ckpt_op_new() takes the settings snapshot), then
 * queues the operation; from then on only the worker thread that runs it
 * uses them, and it writes the results and the events. Completing the
 * result hands the record back: the deliver hook (which emits the events)
 * and the _finish function read the results in the caller's context. The
 * queue and the completion order these accesses, one thread at a time,
 * so the record has no lock. If the caller's context goes away first, the
 * record is freed in the worker. */
typedef struct
{
  CkptOpKind      kind;

  /* Arguments: written by the _async call, read by the worker */
  GVariant       *state;          /* save: the caller's value, referenced
                                   * until the worker is done with it */
  GVariant       *default_state;  /* load_latest_or_default */
  GVariant       *metadata;       /* save: a{sv} for the header, or NULL */
  GVariantType   *type;           /* load, load_latest: or NULL for any */
  gint64          round_num;      /* save, load, delete, query_info */
  CkptQueryFlags  query_flags;    /* query_info */
  CkptPruneFlags  prune_flags;    /* prune */
  CkptSettings    settings;       /* the manager's, at the _async call */

  /* Results: written by the worker, read in the caller's context */
  CkptEvents     *events;
  gint64          out_round_num;  /* load_latest*: the round loaded, or -1 */
  gsize           n_returned;     /* list_rounds, prune: the length of the
                                   * array returned */
} CkptOp;

/* In the caller's thread: a result for an operation of @kind, whose
 * record the caller then fills in (ckpt_op_get()) before queuing it. */
CkptAsyncResult *ckpt_op_new   (CkptManager         *self,
                                CkptOpKind           kind,
                                gpointer             source_tag,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data);
CkptOp          *ckpt_op_get   (CkptAsyncResult     *result);
/* Queues @result, taking over the reference; see ckpt-manager-async-op.c. */
void             ckpt_op_queue (CkptManager         *self,
                                CkptAsyncResult     *result);

G_END_DECLS
