/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * CkptAsyncResult: the GAsyncResult of the manager's async operations, a
 * small GTask that holds no reference on the caller's main context.
 *
 * Why not GTask: a GTask references the thread-default context of its
 * creation until its callback has run, while what delivers it (an idle
 * source attached to that context) references the task. If the caller
 * drops its context without iterating it again, the context, the task, the
 * operation and the manager keep each other alive forever. Creating the
 * GTask only at delivery does not help: a GTask never calls back in the
 * main loop iteration it was created in, so it would need one more
 * iteration, with the same cycle meanwhile, and the signals of later
 * operations would then run before the callbacks of earlier ones.
 *
 * So a CkptAsyncResult attaches, when it is created, a source of its own
 * to the caller's thread-default context, without referencing the context.
 * The source owns a reference to the result; the result owns one to the
 * source. ckpt_async_result_complete(), from any thread, makes the source
 * ready; when it dispatches, in the caller's context, the deliver hook runs
 * and then the callback. If the context is freed first, it destroys the
 * source, which drops the result: the operation still runs to its end, but
 * nothing is delivered, and the result (with its source object) is freed
 * by whichever of the worker and the context lets it go last, after the
 * dropped hook has run.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CKPT_TYPE_ASYNC_RESULT (ckpt_async_result_get_type ())
G_DECLARE_FINAL_TYPE (CkptAsyncResult, ckpt_async_result, CKPT, ASYNC_RESULT, GObject)

typedef void (*CkptAsyncResultHook) (CkptAsyncResult *result,
                                     gpointer         task_data);

/* In the caller's thread: attaches the delivery source to the
 * thread-default main context. */
CkptAsyncResult *ckpt_async_result_new            (gpointer             source_object,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             callback_data,
                                                   gpointer             source_tag);
/* @deliver runs in the caller's context just before the callback;
 * @dropped, in any thread, when the result is freed undelivered. */
void             ckpt_async_result_set_task_data  (CkptAsyncResult     *self,
                                                   gpointer             task_data,
                                                   GDestroyNotify       task_data_destroy,
                                                   CkptAsyncResultHook  deliver,
                                                   CkptAsyncResultHook  dropped);
gpointer         ckpt_async_result_get_task_data  (CkptAsyncResult     *self);
gpointer         ckpt_async_result_get_source     (CkptAsyncResult     *self);
GCancellable    *ckpt_async_result_get_cancellable (CkptAsyncResult    *self);

/* Any thread, before ckpt_async_result_complete(). */
void             ckpt_async_result_return_boolean (CkptAsyncResult     *self,
                                                   gboolean             value);
void             ckpt_async_result_return_pointer (CkptAsyncResult     *self,
                                                   gpointer             value,
                                                   GDestroyNotify       value_destroy);
void             ckpt_async_result_return_error   (CkptAsyncResult     *self,
                                                   GError              *error);
/* Any thread: takes over one reference to @self and schedules the
 * delivery, unless the caller's context is already gone. */
void             ckpt_async_result_complete       (CkptAsyncResult     *self);

/* For _finish functions. */
gboolean         ckpt_async_result_is_valid       (gpointer             result,
                                                   gpointer             source_object,
                                                   gpointer             source_tag);
gboolean         ckpt_async_result_had_error      (CkptAsyncResult     *self);
gboolean         ckpt_async_result_propagate_boolean (CkptAsyncResult  *self,
                                                      GError          **error);
gpointer         ckpt_async_result_propagate_pointer (CkptAsyncResult  *self,
                                                      GError          **error);

G_END_DECLS
