/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The asynchronous half of CkptManager: each _async call packs its
 * arguments into a CkptOp owned by a GTask, and queues the op on the
 * manager's serial queue. A worker thread runs the same code as the sync
 * call (the *_internal functions), then hands the op back to the
 * thread-default main context of the caller, where the op's signals are
 * emitted and the GTask returns. See docs/threading.md.
 */
#include "config.h"

#include "ckpt-error.h"
#include "ckpt-manager-private.h"

typedef enum
{
  OP_SAVE,
  OP_LOAD,
  OP_LOAD_LATEST,
  OP_LOAD_LATEST_OR_DEFAULT,
  OP_LIST_ROUNDS,
} OpKind;

typedef struct
{
  OpKind          kind;
  GTask          *task;         /* owned until the op completes */

  /* Arguments */
  GVariant       *state;        /* save: the caller's value, referenced */
  GVariantType   *type;
  gint64          round_num;
  CkptParams  params;

  /* Results, written by the worker, read in the caller's context */
  CkptEvents     *events;
  gboolean        ok;
  GVariant       *value;
  gint64          out_round_num;
  gint64         *rounds;
  gsize           n_rounds;
  GError         *error;
} CkptOp;

/* What _finish reads, once the task has returned. */
typedef struct
{
  gint64 out_round_num;
  gsize  n_rounds;
} OpOutputs;

static void
ckpt_op_free (CkptOp *op)
{
  g_clear_object (&op->task);
  g_clear_pointer (&op->state, g_variant_unref);
  g_clear_pointer (&op->type, g_variant_type_free);
  g_clear_pointer (&op->events, ckpt_events_free);
  g_clear_pointer (&op->value, g_variant_unref);
  g_clear_pointer (&op->rounds, g_free);
  g_clear_error (&op->error);
  g_free (op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CkptOp, ckpt_op_free)

/* Runs in the caller's context: emit the signals, then return. */
static gboolean
op_complete (gpointer data)
{
  g_autoptr(CkptOp) op = data;
  CkptManager *self = g_task_get_source_object (op->task);
  OpOutputs *outputs = g_task_get_task_data (op->task);

  ckpt_manager_emit_events (self, op->events);
  ckpt_manager_op_finished (self);

  outputs->out_round_num = op->out_round_num;
  outputs->n_rounds = op->n_rounds;

  if (op->error != NULL)
    g_task_return_error (op->task, g_steal_pointer (&op->error));
  else if (op->kind == OP_SAVE)
    g_task_return_boolean (op->task, op->ok);
  else if (op->kind == OP_LIST_ROUNDS)
    g_task_return_pointer (op->task, g_steal_pointer (&op->rounds), g_free);
  else
    g_task_return_pointer (op->task, g_steal_pointer (&op->value),
                           (GDestroyNotify) g_variant_unref);

  return G_SOURCE_REMOVE;
}

/* Runs in a worker thread, one op of a manager at a time. */
static void
op_run (gpointer data)
{
  CkptOp *op = data;
  CkptManager *self = g_task_get_source_object (op->task);
  GCancellable *cancellable = g_task_get_cancellable (op->task);
  GSource *source;

  switch (op->kind)
    {
    case OP_SAVE:
      op->ok = ckpt_manager_save_internal (self, op->state, op->round_num, &op->params,
                                           op->events, cancellable, &op->error);
      /* The state was the caller's; let it go here, not in another thread
       * later. */
      g_clear_pointer (&op->state, g_variant_unref);
      break;

    case OP_LOAD:
      op->value = ckpt_manager_load_internal (self, op->type, op->round_num, &op->params,
                                              op->events, cancellable, &op->error);
      break;

    case OP_LOAD_LATEST:
      op->value = ckpt_manager_load_latest_internal (self, op->type, &op->params, &op->out_round_num,
                                                     op->events, cancellable, &op->error);
      break;

    case OP_LOAD_LATEST_OR_DEFAULT:
      op->value = ckpt_manager_load_latest_or_default_internal (self, op->state, &op->params,
                                                                &op->out_round_num, op->events,
                                                                cancellable, &op->error);
      break;

    case OP_LIST_ROUNDS:
      op->rounds = ckpt_manager_list_rounds_internal (self, &op->n_rounds, cancellable, &op->error);
      break;

    default:
      g_assert_not_reached ();
    }

  /* Hand the op back to the caller's context. The source owns the op (and
   * through it the task, and through that the manager) until it runs. */
  source = g_idle_source_new ();
  g_source_set_priority (source, g_task_get_priority (op->task));
  g_source_set_static_name (source, "[ckpt-glib] complete operation");
  g_source_set_callback (source, op_complete, op, NULL);
  g_source_attach (source, g_task_get_context (op->task));
  g_source_unref (source);
}

static CkptOp *
op_new (CkptManager         *self,
        OpKind               kind,
        gpointer             source_tag,
        GCancellable        *cancellable,
        GAsyncReadyCallback  callback,
        gpointer             user_data)
{
  CkptOp *op = g_new0 (CkptOp, 1);

  op->kind = kind;
  op->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (op->task, source_tag);
  /* Once a save is committed it reports success, even if the cancellable
   * fires after that: the result is what happened on disk. */
  g_task_set_check_cancellable (op->task, FALSE);
  g_task_set_task_data (op->task, g_new0 (OpOutputs, 1), g_free);
  op->events = ckpt_events_new ();
  op->out_round_num = -1;
  ckpt_manager_get_params (self, &op->params);

  return op;
}

static void
op_queue (CkptManager *self,
          CkptOp      *op)
{
  ckpt_manager_op_started (self);
  ckpt_queue_push (ckpt_manager_get_queue (self), op_run, op);
}

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
 * reference to it does not cancel a save in flight.
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
  CkptOp *op;

  g_return_if_fail (CKPT_IS_MANAGER (self));
  g_return_if_fail (state != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  op = op_new (self, OP_SAVE, ckpt_manager_save_async, cancellable, callback, user_data);
  op->state = g_variant_ref_sink (state);
  op->round_num = round_num;
  op_queue (self, op);
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
  g_return_val_if_fail (CKPT_IS_MANAGER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ckpt_manager_save_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
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
  CkptOp *op;

  g_return_if_fail (CKPT_IS_MANAGER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  op = op_new (self, OP_LOAD, ckpt_manager_load_async, cancellable, callback, user_data);
  op->type = type != NULL ? g_variant_type_copy (type) : NULL;
  op->round_num = round_num;
  op_queue (self, op);
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
  g_return_val_if_fail (CKPT_IS_MANAGER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ckpt_manager_load_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
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
  CkptOp *op;

  g_return_if_fail (CKPT_IS_MANAGER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  op = op_new (self, OP_LOAD_LATEST, ckpt_manager_load_latest_async,
               cancellable, callback, user_data);
  op->type = type != NULL ? g_variant_type_copy (type) : NULL;
  op_queue (self, op);
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
  OpOutputs *outputs;

  g_return_val_if_fail (CKPT_IS_MANAGER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ckpt_manager_load_latest_async, NULL);

  outputs = g_task_get_task_data (G_TASK (result));
  if (out_round_num != NULL)
    *out_round_num = g_task_had_error (G_TASK (result)) ? -1 : outputs->out_round_num;

  return g_task_propagate_pointer (G_TASK (result), error);
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
  CkptOp *op;

  g_return_if_fail (CKPT_IS_MANAGER (self));
  g_return_if_fail (default_state != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  op = op_new (self, OP_LOAD_LATEST_OR_DEFAULT, ckpt_manager_load_latest_or_default_async,
               cancellable, callback, user_data);
  op->state = g_variant_ref_sink (default_state);
  op_queue (self, op);
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
  OpOutputs *outputs;

  g_return_val_if_fail (CKPT_IS_MANAGER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        ckpt_manager_load_latest_or_default_async, NULL);

  outputs = g_task_get_task_data (G_TASK (result));
  if (out_round_num != NULL)
    *out_round_num = g_task_had_error (G_TASK (result)) ? -1 : outputs->out_round_num;

  return g_task_propagate_pointer (G_TASK (result), error);
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
  OpOutputs *outputs;

  g_return_val_if_fail (CKPT_IS_MANAGER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ckpt_manager_list_rounds_async, NULL);
  g_return_val_if_fail (n_rounds != NULL, NULL);

  outputs = g_task_get_task_data (G_TASK (result));
  *n_rounds = g_task_had_error (G_TASK (result)) ? 0 : outputs->n_rounds;

  return g_task_propagate_pointer (G_TASK (result), error);
}
