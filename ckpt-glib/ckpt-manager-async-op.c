/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * How an async operation of CkptManager runs: ckpt_op_new() makes its
 * CkptAsyncResult (whose delivery source is attached to the caller's
 * thread-default main context at once) with a CkptOp as task data;
 * ckpt_op_queue() puts it on the manager's serial queue; a worker thread
 * runs the same operation as the blocking call (the *_internal functions,
 * with every storage call in that worker) and completes the result; in
 * the caller's context the op's signals are emitted and the callback runs.
 * If that context is freed first, nothing is delivered and the references
 * of the op (the manager's among them) are dropped when the worker is
 * done. See docs/threading.md, and ckpt-async-result-private.h for why
 * this is not a GTask.
 */
#include "config.h"

#include "ckpt-manager-async-private.h"

static void
ckpt_op_free (gpointer data)
{
  CkptOp *op = data;

  g_clear_pointer (&op->state, g_variant_unref);
  g_clear_pointer (&op->default_state, g_variant_unref);
  g_clear_pointer (&op->metadata, g_variant_unref);
  g_clear_pointer (&op->type, g_variant_type_free);
  g_clear_pointer (&op->events, ckpt_events_free);
  g_free (op);
}

/* Runs in the caller's context, just before the callback: emit the
 * signals. */
static void
op_deliver (CkptAsyncResult *result,
            gpointer         data)
{
  CkptOp *op = data;
  CkptManager *self = ckpt_async_result_get_source (result);

  ckpt_events_emit (op->events, self);
  ckpt_manager_op_finished (self);
}

/* The caller's context went away before the result reached it: no signal,
 * no callback; the operation stops counting as in flight. */
static void
op_dropped (CkptAsyncResult *result,
            gpointer         data)
{
  ckpt_manager_op_dropped (ckpt_async_result_get_source (result));
}

/* Runs in a worker thread, one op of a manager at a time. */
static void
op_run (gpointer data)
{
  CkptAsyncResult *result = data;
  CkptOp *op = ckpt_async_result_get_task_data (result);
  CkptManager *self = ckpt_async_result_get_source (result);
  GCancellable *cancellable = ckpt_async_result_get_cancellable (result);
  GError *error = NULL;
  gboolean ok = FALSE;
  gpointer value = NULL;
  GDestroyNotify value_free = (GDestroyNotify) g_variant_unref;

  switch (op->kind)
    {
    case CKPT_OP_SAVE:
      ok = ckpt_manager_save_internal (self, op->state, op->round_num, op->metadata,
                                       &op->settings, op->events, cancellable, &error);
      /* The state was the caller's; let it go here, not in another thread
       * later. */
      g_clear_pointer (&op->state, g_variant_unref);
      break;

    case CKPT_OP_LOAD:
      value = ckpt_manager_load_internal (self, op->type, op->round_num, &op->settings,
                                          op->events, cancellable, &error);
      break;

    case CKPT_OP_LOAD_LATEST:
      value = ckpt_manager_load_latest_internal (self, op->type, &op->settings, &op->out_round_num,
                                                 op->events, cancellable, &error);
      break;

    case CKPT_OP_LOAD_LATEST_OR_DEFAULT:
      value = ckpt_manager_load_latest_or_default_internal (self, op->default_state, &op->settings,
                                                            &op->out_round_num, op->events,
                                                            cancellable, &error);
      break;

    case CKPT_OP_LIST_ROUNDS:
      value = ckpt_manager_list_rounds_internal (self, &op->n_returned, cancellable, &error);
      value_free = g_free;
      break;

    case CKPT_OP_DELETE:
      ok = ckpt_manager_delete_internal (self, op->round_num, op->events, cancellable, &error);
      break;

    case CKPT_OP_QUERY_INFO:
      value = ckpt_manager_query_info_internal (self, op->round_num, op->query_flags,
                                                cancellable, &error);
      value_free = g_object_unref;
      break;

    case CKPT_OP_PRUNE:
      value = ckpt_manager_prune_internal (self, op->prune_flags, &op->settings, &op->n_returned,
                                           op->events, cancellable, &error);
      value_free = g_free;
      break;

    default:
      g_assert_not_reached ();
    }

  if (error != NULL)
    ckpt_async_result_return_error (result, error);
  else if (op->kind == CKPT_OP_SAVE || op->kind == CKPT_OP_DELETE)
    ckpt_async_result_return_boolean (result, ok);
  else
    ckpt_async_result_return_pointer (result, value, value_free);

  /* Hand the result back to the caller's context, if it is still there.
   * This drops the worker's reference: once the context has gone, the op,
   * and the manager's reference it holds, may be freed here. */
  ckpt_async_result_complete (result);
}

CkptAsyncResult *
ckpt_op_new (CkptManager          *self,
             CkptOpKind            kind,
             gpointer              source_tag,
             GCancellable         *cancellable,
             GAsyncReadyCallback   callback,
             gpointer              user_data)
{
  CkptAsyncResult *result;
  CkptOp *op = g_new0 (CkptOp, 1);

  op->kind = kind;
  op->events = ckpt_events_new ();
  op->out_round_num = -1;
  ckpt_manager_snapshot_settings (self, &op->settings);

  /* Once a save is committed it reports success, even if the cancellable
   * fires after that: the result is what happened on disk. */
  result = ckpt_async_result_new (self, cancellable, callback, user_data, source_tag);
  ckpt_async_result_set_task_data (result, op, ckpt_op_free, op_deliver, op_dropped);
  return result;
}

CkptOp *
ckpt_op_get (CkptAsyncResult *result)
{
  return ckpt_async_result_get_task_data (result);
}

/* Queues @result (taking over the reference) on the manager's queue; a
 * manager that could not be set up fails it at once, through the same
 * delivery (never from within the _async call). */
void
ckpt_op_queue (CkptManager     *self,
               CkptAsyncResult *result)
{
  GError *error = NULL;

  ckpt_manager_op_started (self);
  if (!ckpt_manager_check_ready (self, &error))
    {
      ckpt_async_result_return_error (result, error);
      ckpt_async_result_complete (result);
      return;
    }
  ckpt_queue_push (ckpt_manager_get_queue (self), op_run, result);
}

