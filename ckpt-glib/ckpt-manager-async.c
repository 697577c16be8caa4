/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The asynchronous half of CkptManager: each _async call packs its
 * arguments into a CkptOp, the task data of a CkptAsyncResult (whose
 * delivery source is attached to the caller's thread-default main context
 * at once), and queues it on the manager's serial queue. A worker thread
 * runs the same code as the sync call (the *_internal functions), then
 * completes the result: in the caller's context, the op's signals are
 * emitted and the callback runs. If that context is freed first, nothing
 * is delivered and the references of the op (the manager's among them)
 * are dropped when the worker is done. See docs/threading.md, and
 * ckpt-async-result-private.h for why this is not a GTask.
 */
#include "config.h"

#include "ckpt-async-result-private.h"
#include "ckpt-error.h"
#include "ckpt-manager-private.h"

typedef enum
{
  OP_SAVE,
  OP_LOAD,
  OP_LOAD_LATEST,
  OP_LOAD_LATEST_OR_DEFAULT,
  OP_LIST_ROUNDS,
  OP_DELETE,
  OP_QUERY_INFO,
  OP_PRUNE,
} OpKind;

/* The task data of an operation's CkptAsyncResult. */
typedef struct
{
  OpKind          kind;

  /* Arguments */
  GVariant       *state;        /* save: the caller's value, referenced */
  GVariant       *metadata;     /* save: a{sv} for the header, or NULL */
  GVariantType   *type;
  gint64          round_num;
  guint           flags;        /* query_info, prune: their flags */
  CkptParams      params;

  /* Results, written by the worker, read in the caller's context */
  CkptEvents     *events;
  gint64          out_round_num;
  gsize           n_rounds;     /* list_rounds, prune */
} CkptOp;

static void
ckpt_op_free (gpointer data)
{
  CkptOp *op = data;

  g_clear_pointer (&op->state, g_variant_unref);
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

  ckpt_manager_emit_events (self, op->events);
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
    case OP_SAVE:
      ok = ckpt_manager_save_full_internal (self, op->state, op->round_num, op->metadata,
                                            &op->params, op->events, cancellable, &error);
      /* The state was the caller's; let it go here, not in another thread
       * later. */
      g_clear_pointer (&op->state, g_variant_unref);
      break;

    case OP_LOAD:
      value = ckpt_manager_load_internal (self, op->type, op->round_num, &op->params,
                                          op->events, cancellable, &error);
      break;

    case OP_LOAD_LATEST:
      value = ckpt_manager_load_latest_internal (self, op->type, &op->params, &op->out_round_num,
                                                 op->events, cancellable, &error);
      break;

    case OP_LOAD_LATEST_OR_DEFAULT:
      value = ckpt_manager_load_latest_or_default_internal (self, op->state, &op->params,
                                                            &op->out_round_num, op->events,
                                                            cancellable, &error);
      break;

    case OP_LIST_ROUNDS:
      value = ckpt_manager_list_rounds_internal (self, &op->n_rounds, cancellable, &error);
      value_free = g_free;
      break;

    case OP_DELETE:
      ok = ckpt_manager_delete_internal (self, op->round_num, op->events, cancellable, &error);
      break;

    case OP_QUERY_INFO:
      value = ckpt_manager_query_info_internal (self, op->round_num, op->flags, cancellable, &error);
      value_free = g_object_unref;
      break;

    case OP_PRUNE:
      value = ckpt_manager_prune_internal (self, op->flags, &op->params, &op->n_rounds,
                                           op->events, cancellable, &error);
      value_free = g_free;
      break;

    default:
      g_assert_not_reached ();
    }

  if (error != NULL)
    ckpt_async_result_return_error (result, error);
  else if (op->kind == OP_SAVE || op->kind == OP_DELETE)
    ckpt_async_result_return_boolean (result, ok);
  else
    ckpt_async_result_return_pointer (result, value, value_free);

  /* Hand the result back to the caller's context, if it is still there.
   * This drops the worker's reference: once the context has gone, the op,
   * and the manager's reference it holds, may be freed here. */
  ckpt_async_result_complete (result);
}

static CkptAsyncResult *
op_new (CkptManager         *self,
        OpKind               kind,
        gpointer             source_tag,
        GCancellable        *cancellable,
        GAsyncReadyCallback  callback,
        gpointer             user_data)
{
  CkptAsyncResult *result;
  CkptOp *op = g_new0 (CkptOp, 1);

  op->kind = kind;
  op->events = ckpt_events_new ();
  op->out_round_num = -1;
  ckpt_manager_get_params (self, &op->params);

  /* Once a save is committed it reports success, even if the cancellable
   * fires after that: the result is what happened on disk. */
  result = ckpt_async_result_new (self, cancellable, callback, user_data, source_tag);
  ckpt_async_result_set_task_data (result, op, ckpt_op_free, op_deliver, op_dropped);
  return result;
}

static CkptOp *
op_get (CkptAsyncResult *result)
{
  return ckpt_async_result_get_task_data (result);
}

/* Queues @result (taking over the reference) on the manager's queue; a
 * manager that could not be set up fails it at once, through the same
 * delivery (never from within the _async call). */
static void
op_queue (CkptManager     *self,
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

/* The checks of a _finish function. */
#define CHECK_RESULT(result, self, tag, val) \
  G_STMT_START { \
    g_return_val_if_fail (CKPT_IS_MANAGER (self), val); \
    g_return_val_if_fail (ckpt_async_result_is_valid (result, self, tag), val); \
  } G_STMT_END

/**
 * ckpt_manager_save_async:
 * @self: a manager
 * @state: the state to save; a floating reference is sunk
 * @round_num: the round, zero or more
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): the function to call when the save is done
 * @user_data: data for @callback
 *
 * Saves @state as the checkpoint of @round_num, like
 * [method@Ckpt.Manager.save], in a worker thread.
 *
 * The manager keeps a reference to @state, not a copy: do not change a
 * value built on memory you own (g_variant_new_from_data()) until the save
 * is done.
 *
 * The async operations of one manager run one at a time, in call order:
 * overlapping saves become visible, prune and call back in the order they
 * were started. The [signal@Ckpt.Manager::saved] and
 * [signal@Ckpt.Manager::pruned] signals of the save, and then @callback,
 * are emitted in the thread-default main context of the caller.
 *
 * Cancelling @cancellable before the checkpoint is linked under its name
 * fails the save with %G_IO_ERROR_CANCELLED and leaves the directory as it
 * was; after that point the save completes and reports success.
 *
 * The manager is kept alive until the operation is done: dropping the last
 * reference to it does not cancel a save in flight. If the caller's main
 * context is freed before the save is delivered to it, the save still runs
 * to its end, but no signal is emitted and @callback is not called; the
 * references the operation held (to the manager, @state and @cancellable)
 * are released once it is done.
 *
 * Since: 1.0
 */
void
ckpt_manager_save_async (CkptManager         *self,
                         GVariant            *state,
                         gint64               round_num,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  CkptAsyncResult *result;

  g_return_if_fail (CKPT_IS_MANAGER (self));
  g_return_if_fail (state != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  result = op_new (self, OP_SAVE, ckpt_manager_save_async, cancellable, callback, user_data);
  op_get (result)->state = g_variant_ref_sink (state);
  op_get (result)->round_num = round_num;
  op_queue (self, result);
}

/**
 * ckpt_manager_save_finish:
 * @self: a manager
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Ckpt.Manager.save_async].
 *
 * Returns: %TRUE if the checkpoint was saved, %FALSE with @error set
 *   otherwise
 *
 * Since: 1.0
 */
gboolean
ckpt_manager_save_finish (CkptManager   *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  CHECK_RESULT (result, self, ckpt_manager_save_async, FALSE);

  return ckpt_async_result_propagate_boolean (CKPT_ASYNC_RESULT (result), error);
}

/**
 * ckpt_manager_save_full_async:
 * @self: a manager
 * @state: the state to save; a floating reference is sunk
 * @round_num: the round, zero or more
 * @metadata: (nullable): an `a{sv}` dictionary to store in the checkpoint's
 *   header, or %NULL; a floating reference is sunk
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): the function to call when the save is done
 * @user_data: data for @callback
 *
 * Saves @state with @metadata, like [method@Ckpt.Manager.save_full], in a
 * worker thread, as [method@Ckpt.Manager.save_async] does (same queue, same
 * order, same signals).
 *
 * Since: 1.0
 */
void
ckpt_manager_save_full_async (CkptManager         *self,
                              GVariant            *state,
                              gint64               round_num,
                              GVariant            *metadata,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  CkptAsyncResult *result;

  g_return_if_fail (CKPT_IS_MANAGER (self));
  g_return_if_fail (state != NULL);
  g_return_if_fail (metadata == NULL || g_variant_is_of_type (metadata, G_VARIANT_TYPE_VARDICT));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  /* The tag of save_async: either _finish function finishes it. */
  result = op_new (self, OP_SAVE, ckpt_manager_save_async, cancellable, callback, user_data);
  op_get (result)->state = g_variant_ref_sink (state);
  if (metadata != NULL)
    op_get (result)->metadata = g_variant_ref_sink (metadata);
  op_get (result)->round_num = round_num;
  op_queue (self, result);
}

/**
 * ckpt_manager_save_full_finish:
 * @self: a manager
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Ckpt.Manager.save_full_async] (the same as
 * [method@Ckpt.Manager.save_finish]).
 *
 * Returns: %TRUE if the checkpoint was saved, %FALSE with @error set
 *   otherwise
 *
 * Since: 1.0
 */
gboolean
ckpt_manager_save_full_finish (CkptManager   *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return ckpt_manager_save_finish (self, result, error);
}

/**
 * ckpt_manager_load_async:
 * @self: a manager
 * @type: (nullable): the type the state must have, or %NULL for any type
 * @round_num: the round, zero or more
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): the function to call when the load is done
 * @user_data: data for @callback
 *
 * Loads and verifies the checkpoint of @round_num, like
 * [method@Ckpt.Manager.load], in a worker thread. A
 * [signal@Ckpt.Manager::corrupt] signal, and then @callback, are emitted
 * in the thread-default main context of the caller.
 *
 * Since: 1.0
 */
void
ckpt_manager_load_async (CkptManager         *self,
                         const GVariantType  *type,
                         gint64               round_num,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  CkptAsyncResult *result;

  g_return_if_fail (CKPT_IS_MANAGER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  result = op_new (self, OP_LOAD, ckpt_manager_load_async, cancellable, callback, user_data);
  op_get (result)->type = type != NULL ? g_variant_type_copy (type) : NULL;
  op_get (result)->round_num = round_num;
  op_queue (self, result);
}

/**
 * ckpt_manager_load_finish:
 * @self: a manager
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Ckpt.Manager.load_async].
 *
 * Returns: (transfer full): the state, or %NULL with @error set
 *
 * Since: 1.0
 */
GVariant *
ckpt_manager_load_finish (CkptManager   *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  CHECK_RESULT (result, self, ckpt_manager_load_async, NULL);

  return ckpt_async_result_propagate_pointer (CKPT_ASYNC_RESULT (result), error);
}

/**
 * ckpt_manager_load_latest_async:
 * @self: a manager
 * @type: (nullable): the type the state must have, or %NULL for any type
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): the function to call when the load is done
 * @user_data: data for @callback
 *
 * Loads the newest intact checkpoint, like
 * [method@Ckpt.Manager.load_latest], in a worker thread. The
 * [signal@Ckpt.Manager::corrupt] signals of damaged checkpoints passed
 * over, and then @callback, are emitted in the thread-default main context
 * of the caller.
 *
 * Since: 1.0
 */
void
ckpt_manager_load_latest_async (CkptManager         *self,
                                const GVariantType  *type,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  CkptAsyncResult *result;

  g_return_if_fail (CKPT_IS_MANAGER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  result = op_new (self, OP_LOAD_LATEST, ckpt_manager_load_latest_async,
               cancellable, callback, user_data);
  op_get (result)->type = type != NULL ? g_variant_type_copy (type) : NULL;
  op_queue (self, result);
}

/**
 * ckpt_manager_load_latest_finish:
 * @self: a manager
 * @result: the result given to the callback
 * @out_round_num: (out) (optional): return location for the round loaded,
 *   or -1 when there is no checkpoint
 * @error: return location for a #GError
 *
 * Finishes [method@Ckpt.Manager.load_latest_async].
 *
 * Returns: (transfer full) (nullable): the state, or %NULL if there is no
 *   checkpoint or on error
 *
 * Since: 1.0
 */
GVariant *
ckpt_manager_load_latest_finish (CkptManager   *self,
                                 GAsyncResult  *result,
                                 gint64        *out_round_num,
                                 GError       **error)
{
  CkptOp *op;

  CHECK_RESULT (result, self, ckpt_manager_load_latest_async, NULL);

  op = op_get (CKPT_ASYNC_RESULT (result));
  if (out_round_num != NULL)
    *out_round_num = ckpt_async_result_had_error (CKPT_ASYNC_RESULT (result)) ? -1 : op->out_round_num;

  return ckpt_async_result_propagate_pointer (CKPT_ASYNC_RESULT (result), error);
}

/**
 * ckpt_manager_load_latest_or_default_async:
 * @self: a manager
 * @default_state: the state to start from when there is no checkpoint; a
 *   floating reference is sunk
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): the function to call when the load is done
 * @user_data: data for @callback
 *
 * Resumes or starts fresh, like
 * [method@Ckpt.Manager.load_latest_or_default], in a worker thread. Its
 * signals, and then @callback, are emitted in the thread-default main
 * context of the caller.
 *
 * Since: 1.0
 */
void
ckpt_manager_load_latest_or_default_async (CkptManager         *self,
                                           GVariant            *default_state,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data)
{
  CkptAsyncResult *result;

  g_return_if_fail (CKPT_IS_MANAGER (self));
  g_return_if_fail (default_state != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  result = op_new (self, OP_LOAD_LATEST_OR_DEFAULT, ckpt_manager_load_latest_or_default_async,
               cancellable, callback, user_data);
  op_get (result)->state = g_variant_ref_sink (default_state);
  op_queue (self, result);
}

/**
 * ckpt_manager_load_latest_or_default_finish:
 * @self: a manager
 * @result: the result given to the callback
 * @out_round_num: (out) (optional): return location for the round loaded,
 *   0 when the default was saved
 * @error: return location for a #GError
 *
 * Finishes [method@Ckpt.Manager.load_latest_or_default_async].
 *
 * Returns: (transfer full): the state, or %NULL with @error set
 *
 * Since: 1.0
 */
GVariant *
ckpt_manager_load_latest_or_default_finish (CkptManager   *self,
                                            GAsyncResult  *result,
                                            gint64        *out_round_num,
                                            GError       **error)
{
  CkptOp *op;

  CHECK_RESULT (result, self, ckpt_manager_load_latest_or_default_async, NULL);

  op = op_get (CKPT_ASYNC_RESULT (result));
  if (out_round_num != NULL)
    *out_round_num = ckpt_async_result_had_error (CKPT_ASYNC_RESULT (result)) ? -1 : op->out_round_num;

  return ckpt_async_result_propagate_pointer (CKPT_ASYNC_RESULT (result), error);
}

/**
 * ckpt_manager_list_rounds_async:
 * @self: a manager
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): the function to call when the listing is done
 * @user_data: data for @callback
 *
 * Lists the rounds of the checkpoints, like
 * [method@Ckpt.Manager.list_rounds], in a worker thread.
 *
 * Since: 1.0
 */
void
ckpt_manager_list_rounds_async (CkptManager         *self,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_return_if_fail (CKPT_IS_MANAGER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  op_queue (self, op_new (self, OP_LIST_ROUNDS, ckpt_manager_list_rounds_async,
                          cancellable, callback, user_data));
}

/**
 * ckpt_manager_list_rounds_finish:
 * @self: a manager
 * @result: the result given to the callback
 * @n_rounds: (out): return location for the number of rounds
 * @error: return location for a #GError
 *
 * Finishes [method@Ckpt.Manager.list_rounds_async].
 *
 * Returns: (transfer full) (array length=n_rounds): the rounds, ascending
 *   (an empty, non-%NULL array when there are none), or %NULL with @error
 *   set
 *
 * Since: 1.0
 */
gint64 *
ckpt_manager_list_rounds_finish (CkptManager   *self,
                                 GAsyncResult  *result,
                                 gsize         *n_rounds,
                                 GError       **error)
{
  CkptOp *op;

  CHECK_RESULT (result, self, ckpt_manager_list_rounds_async, NULL);
  g_return_val_if_fail (n_rounds != NULL, NULL);

  op = op_get (CKPT_ASYNC_RESULT (result));
  *n_rounds = ckpt_async_result_had_error (CKPT_ASYNC_RESULT (result)) ? 0 : op->n_rounds;

  return ckpt_async_result_propagate_pointer (CKPT_ASYNC_RESULT (result), error);
}

/**
 * ckpt_manager_delete_async:
 * @self: a manager
 * @round_num: the round, zero or more
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): the function to call when the deletion is done
 * @user_data: data for @callback
 *
 * Deletes the checkpoint of @round_num, like [method@Ckpt.Manager.delete],
 * in a worker thread, in call order with the other async operations of
 * @self. Its [signal@Ckpt.Manager::pruned] signal, and then @callback, are
 * emitted in the thread-default main context of the caller.
 *
 * Since: 1.0
 */
void
ckpt_manager_delete_async (CkptManager         *self,
                           gint64               round_num,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  CkptAsyncResult *result;

  g_return_if_fail (CKPT_IS_MANAGER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  result = op_new (self, OP_DELETE, ckpt_manager_delete_async, cancellable, callback, user_data);
  op_get (result)->round_num = round_num;
  op_queue (self, result);
}

/**
 * ckpt_manager_delete_finish:
 * @self: a manager
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Ckpt.Manager.delete_async].
 *
 * Returns: %TRUE if the checkpoint was deleted, %FALSE with @error set
 *   otherwise
 *
 * Since: 1.0
 */
gboolean
ckpt_manager_delete_finish (CkptManager   *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  CHECK_RESULT (result, self, ckpt_manager_delete_async, FALSE);

  return ckpt_async_result_propagate_boolean (CKPT_ASYNC_RESULT (result), error);
}

/**
 * ckpt_manager_query_info_async:
 * @self: a manager
 * @round_num: the round, zero or more
 * @flags: flags, as for [method@Ckpt.Manager.query_info]
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): the function to call when the query is done
 * @user_data: data for @callback
 *
 * Reads what the header of the checkpoint of @round_num says, like
 * [method@Ckpt.Manager.query_info], in a worker thread, in call order with
 * the other async operations of @self. @callback is called in the
 * thread-default main context of the caller.
 *
 * Since: 1.0
 */
void
ckpt_manager_query_info_async (CkptManager         *self,
                               gint64               round_num,
                               CkptQueryFlags       flags,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  CkptAsyncResult *result;

  g_return_if_fail (CKPT_IS_MANAGER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  result = op_new (self, OP_QUERY_INFO, ckpt_manager_query_info_async,
                   cancellable, callback, user_data);
  op_get (result)->round_num = round_num;
  op_get (result)->flags = flags;
  op_queue (self, result);
}

/**
 * ckpt_manager_query_info_finish:
 * @self: a manager
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Ckpt.Manager.query_info_async].
 *
 * Returns: (transfer full): the checkpoint's info, or %NULL with @error set
 *
 * Since: 1.0
 */
CkptInfo *
ckpt_manager_query_info_finish (CkptManager   *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  CHECK_RESULT (result, self, ckpt_manager_query_info_async, NULL);

  return ckpt_async_result_propagate_pointer (CKPT_ASYNC_RESULT (result), error);
}

/**
 * ckpt_manager_prune_async:
 * @self: a manager
 * @flags: flags, as for [method@Ckpt.Manager.prune]
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): the function to call when the pruning is done
 * @user_data: data for @callback
 *
 * Applies retention now, like [method@Ckpt.Manager.prune], in a worker
 * thread, in call order with the other async operations of @self, with
 * the retention properties as they are at this call. Its
 * [signal@Ckpt.Manager::pruned], [signal@Ckpt.Manager::prune-failed] and
 * [signal@Ckpt.Manager::corrupt] signals, and then @callback, are emitted
 * in the thread-default main context of the caller.
 *
 * Since: 1.0
 */
void
ckpt_manager_prune_async (CkptManager         *self,
                          CkptPruneFlags       flags,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  CkptAsyncResult *result;

  g_return_if_fail (CKPT_IS_MANAGER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  result = op_new (self, OP_PRUNE, ckpt_manager_prune_async, cancellable, callback, user_data);
  op_get (result)->flags = flags;
  op_queue (self, result);
}

/**
 * ckpt_manager_prune_finish:
 * @self: a manager
 * @result: the result given to the callback
 * @n_pruned: (out): return location for the number of rounds returned
 * @error: return location for a #GError
 *
 * Finishes [method@Ckpt.Manager.prune_async].
 *
 * Returns: (transfer full) (array length=n_pruned): the rounds deleted (or
 *   that would be deleted), ascending; an empty, non-%NULL array when
 *   there are none; %NULL with @error set on failure (some rounds may have
 *   been deleted then; the signals say which)
 *
 * Since: 1.0
 */
gint64 *
ckpt_manager_prune_finish (CkptManager   *self,
                           GAsyncResult  *result,
                           gsize         *n_pruned,
                           GError       **error)
{
  CkptOp *op;

  CHECK_RESULT (result, self, ckpt_manager_prune_async, NULL);
  g_return_val_if_fail (n_pruned != NULL, NULL);

  op = op_get (CKPT_ASYNC_RESULT (result));
  *n_pruned = ckpt_async_result_had_error (CKPT_ASYNC_RESULT (result)) ? 0 : op->n_rounds;

  return ckpt_async_result_propagate_pointer (CKPT_ASYNC_RESULT (result), error);
}
