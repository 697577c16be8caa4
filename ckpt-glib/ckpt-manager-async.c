/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The public _async/_finish pairs of CkptManager, with their
 * documentation: each _async call checks its arguments, fills in a CkptOp
 * and queues it (ckpt-manager-async-op.c, which runs and delivers it);
 * each _finish function reads the result in the caller's context. It
 * touches the manager only through ckpt-manager-async-private.h.
 */
#include "config.h"

#include "ckpt-manager-async-private.h"

/* The checks of a _finish function. */
#define CHECK_RESULT(result, self, tag, val) \
  G_STMT_START { \
    g_return_val_if_fail (CKPT_IS_MANAGER (self), val); \
    g_return_val_if_fail (ckpt_async_result_is_valid (result, self, tag), val); \
  } G_STMT_END

/* The state and round of a finished load_latest or load_latest_or_default
 * (round -1 on error). */
static GVariant *
finish_state_and_round (CkptAsyncResult  *result,
                        gint64           *out_round_num,
                        GError          **error)
{
  if (out_round_num != NULL)
    *out_round_num = ckpt_async_result_had_error (result) ? -1 : ckpt_op_get (result)->out_round_num;
  return ckpt_async_result_propagate_pointer (result, error);
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

  result = ckpt_op_new (self, CKPT_OP_SAVE, ckpt_manager_save_async,
                        cancellable, callback, user_data);
  ckpt_op_get (result)->state = g_variant_ref_sink (state);
  ckpt_op_get (result)->round_num = round_num;
  ckpt_op_queue (self, result);
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
  result = ckpt_op_new (self, CKPT_OP_SAVE, ckpt_manager_save_async,
                        cancellable, callback, user_data);
  ckpt_op_get (result)->state = g_variant_ref_sink (state);
  if (metadata != NULL)
    ckpt_op_get (result)->metadata = g_variant_ref_sink (metadata);
  ckpt_op_get (result)->round_num = round_num;
  ckpt_op_queue (self, result);
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

  result = ckpt_op_new (self, CKPT_OP_LOAD, ckpt_manager_load_async,
                        cancellable, callback, user_data);
  ckpt_op_get (result)->type = type != NULL ? g_variant_type_copy (type) : NULL;
  ckpt_op_get (result)->round_num = round_num;
  ckpt_op_queue (self, result);
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

  result = ckpt_op_new (self, CKPT_OP_LOAD_LATEST, ckpt_manager_load_latest_async,
                        cancellable, callback, user_data);
  ckpt_op_get (result)->type = type != NULL ? g_variant_type_copy (type) : NULL;
  ckpt_op_queue (self, result);
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
  CHECK_RESULT (result, self, ckpt_manager_load_latest_async, NULL);

  return finish_state_and_round (CKPT_ASYNC_RESULT (result), out_round_num, error);
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

  result = ckpt_op_new (self, CKPT_OP_LOAD_LATEST_OR_DEFAULT, ckpt_manager_load_latest_or_default_async,
                        cancellable, callback, user_data);
  ckpt_op_get (result)->default_state = g_variant_ref_sink (default_state);
  ckpt_op_queue (self, result);
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
  CHECK_RESULT (result, self, ckpt_manager_load_latest_or_default_async, NULL);

  return finish_state_and_round (CKPT_ASYNC_RESULT (result), out_round_num, error);
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

  ckpt_op_queue (self, ckpt_op_new (self, CKPT_OP_LIST_ROUNDS, ckpt_manager_list_rounds_async,
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

  op = ckpt_op_get (CKPT_ASYNC_RESULT (result));
  *n_rounds = ckpt_async_result_had_error (CKPT_ASYNC_RESULT (result)) ? 0 : op->n_returned;

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

  result = ckpt_op_new (self, CKPT_OP_DELETE, ckpt_manager_delete_async,
                        cancellable, callback, user_data);
  ckpt_op_get (result)->round_num = round_num;
  ckpt_op_queue (self, result);
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

  result = ckpt_op_new (self, CKPT_OP_QUERY_INFO, ckpt_manager_query_info_async,
                        cancellable, callback, user_data);
  ckpt_op_get (result)->round_num = round_num;
  ckpt_op_get (result)->query_flags = flags;
  ckpt_op_queue (self, result);
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

  result = ckpt_op_new (self, CKPT_OP_PRUNE, ckpt_manager_prune_async,
                        cancellable, callback, user_data);
  ckpt_op_get (result)->prune_flags = flags;
  ckpt_op_queue (self, result);
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

  op = ckpt_op_get (CKPT_ASYNC_RESULT (result));
  *n_pruned = ckpt_async_result_had_error (CKPT_ASYNC_RESULT (result)) ? 0 : op->n_returned;

  return ckpt_async_result_propagate_pointer (CKPT_ASYNC_RESULT (result), error);
}

