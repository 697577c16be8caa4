/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * See ckpt-async-result-private.h for why this is not a GTask.
 *
 * References. The creator holds one (given to the worker, and consumed by
 * ckpt_async_result_complete()); the delivery source holds one as its
 * callback data, dropped when the source is destroyed: after it
 * dispatched, or when its context is freed. The result holds one to the
 * source, so that the worker's g_source_set_ready_time() is made on a live
 * source.
 *
 * One lock, shared by all results, orders the worker's "make it ready"
 * against the context's "the source is gone". The worker calls
 * g_source_set_ready_time() holding it, and only while the source's destroy
 * notify has not run: until then the context is alive (g_main_context_unref()
 * clears source->context and then destroys the source, calling the notify
 * without its own lock held), so the call never reaches a freed context.
 * The lock is a global, not a field of the result, so that releasing it
 * never touches a result that another thread has just freed.
 */
#include "config.h"

#include "ckpt-async-result-private.h"

struct _CkptAsyncResult
{
  GObject              parent_instance;

  GObject             *source_object;
  GCancellable        *cancellable;
  GAsyncReadyCallback  callback;
  gpointer             callback_data;
  gpointer             source_tag;

  gpointer             task_data;
  GDestroyNotify       task_data_destroy;
  CkptAsyncResultHook  deliver;
  CkptAsyncResultHook  dropped;

  GSource             *source;       /* referenced */
  gboolean             source_gone;  /* under delivery_lock */
  gboolean             delivered;    /* written in the caller's context */

  gboolean             returned;
  gboolean             propagated;
  gboolean             boolean;
  gpointer             pointer;
  GDestroyNotify       pointer_destroy;
  GError              *error;
};

static void ckpt_async_result_iface_init (GAsyncResultIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (CkptAsyncResult, ckpt_async_result, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_ASYNC_RESULT,
                                                      ckpt_async_result_iface_init))

G_LOCK_DEFINE_STATIC (delivery_lock);

static void
ckpt_async_result_finalize (GObject *object)
{
  CkptAsyncResult *self = CKPT_ASYNC_RESULT (object);

  if (!self->delivered && self->dropped != NULL)
    self->dropped (self, self->task_data);

  if (self->task_data_destroy != NULL)
    g_clear_pointer (&self->task_data, self->task_data_destroy);
  if (self->pointer_destroy != NULL)
    g_clear_pointer (&self->pointer, self->pointer_destroy);
  g_clear_error (&self->error);
  g_clear_pointer (&self->source, g_source_unref);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->source_object);

  G_OBJECT_CLASS (ckpt_async_result_parent_class)->finalize (object);
}

static void
ckpt_async_result_class_init (CkptAsyncResultClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ckpt_async_result_finalize;
}

static void
ckpt_async_result_init (CkptAsyncResult *self)
{
}

static gpointer
ckpt_async_result_get_user_data (GAsyncResult *result)
{
  return CKPT_ASYNC_RESULT (result)->callback_data;
}

static GObject *
ckpt_async_result_get_source_object (GAsyncResult *result)
{
  CkptAsyncResult *self = CKPT_ASYNC_RESULT (result);

  return self->source_object != NULL ? g_object_ref (self->source_object) : NULL;
}

static gboolean
ckpt_async_result_is_tagged (GAsyncResult *result,
                             gpointer      source_tag)
{
  return CKPT_ASYNC_RESULT (result)->source_tag == source_tag;
}

static void
ckpt_async_result_iface_init (GAsyncResultIface *iface)
{
  iface->get_user_data = ckpt_async_result_get_user_data;
  iface->get_source_object = ckpt_async_result_get_source_object;
  iface->is_tagged = ckpt_async_result_is_tagged;
}

/* The delivery source: dispatched once, when made ready. */

static gboolean
delivery_dispatch (GSource     *source,
                   GSourceFunc  callback,
                   gpointer     user_data)
{
  CkptAsyncResult *self = user_data;
  GMainContext *context = g_source_get_context (source);

  g_source_set_ready_time (source, -1);

  /* As GTask does: the context is thread-default while the callback runs,
   * so that async calls made from it (or from signal handlers) call back
   * here too. */
  g_main_context_push_thread_default (context);
  self->delivered = TRUE;
  if (self->deliver != NULL)
    self->deliver (self, self->task_data);
  if (self->callback != NULL)
    self->callback (self->source_object, G_ASYNC_RESULT (self), self->callback_data);
  g_main_context_pop_thread_default (context);

  return G_SOURCE_REMOVE;
}

static GSourceFuncs delivery_funcs = {
  NULL, NULL, delivery_dispatch, NULL, NULL, NULL,
};

/* The source's destroy notify: after the dispatch, or when the context is
 * freed. */
static void
delivery_gone (gpointer data)
{
  CkptAsyncResult *self = data;

  G_LOCK (delivery_lock);
  self->source_gone = TRUE;
  G_UNLOCK (delivery_lock);
  g_object_unref (self);
}

CkptAsyncResult *
ckpt_async_result_new (gpointer             source_object,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             callback_data,
                       gpointer             source_tag)
{
  CkptAsyncResult *self = g_object_new (CKPT_TYPE_ASYNC_RESULT, NULL);
  GMainContext *context;

  self->source_object = source_object != NULL ? g_object_ref (source_object) : NULL;
  self->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  self->callback = callback;
  self->callback_data = callback_data;
  self->source_tag = source_tag;

  self->source = g_source_new (&delivery_funcs, sizeof (GSource));
  g_source_set_static_name (self->source, "[ckpt-glib] complete operation");
  g_source_set_priority (self->source, G_PRIORITY_DEFAULT);
  g_source_set_callback (self->source, NULL, g_object_ref (self), delivery_gone);

  /* Attached for the whole operation, in call order, so that operations
   * started from one context are delivered in call order. The context is
   * not referenced: it may go away, and take the source with it. */
  context = g_main_context_ref_thread_default ();
  g_source_attach (self->source, context);
  g_main_context_unref (context);

  return self;
}

void
ckpt_async_result_set_task_data (CkptAsyncResult     *self,
                                 gpointer             task_data,
                                 GDestroyNotify       task_data_destroy,
                                 CkptAsyncResultHook  deliver,
                                 CkptAsyncResultHook  dropped)
{
  g_return_if_fail (CKPT_IS_ASYNC_RESULT (self));

  self->task_data = task_data;
  self->task_data_destroy = task_data_destroy;
  self->deliver = deliver;
  self->dropped = dropped;
}

gpointer
ckpt_async_result_get_task_data (CkptAsyncResult *self)
{
  g_return_val_if_fail (CKPT_IS_ASYNC_RESULT (self), NULL);

  return self->task_data;
}

gpointer
ckpt_async_result_get_source (CkptAsyncResult *self)
{
  g_return_val_if_fail (CKPT_IS_ASYNC_RESULT (self), NULL);

  return self->source_object;
}

GCancellable *
ckpt_async_result_get_cancellable (CkptAsyncResult *self)
{
  g_return_val_if_fail (CKPT_IS_ASYNC_RESULT (self), NULL);

  return self->cancellable;
}

void
ckpt_async_result_return_boolean (CkptAsyncResult *self,
                                  gboolean         value)
{
  g_return_if_fail (CKPT_IS_ASYNC_RESULT (self));
  g_return_if_fail (!self->returned);

  self->returned = TRUE;
  self->boolean = value;
}

void
ckpt_async_result_return_pointer (CkptAsyncResult *self,
                                  gpointer         value,
                                  GDestroyNotify   value_destroy)
{
  g_return_if_fail (CKPT_IS_ASYNC_RESULT (self));
  g_return_if_fail (!self->returned);

  self->returned = TRUE;
  self->pointer = value;
  self->pointer_destroy = value_destroy;
}

void
ckpt_async_result_return_error (CkptAsyncResult *self,
                                GError          *error)
{
  g_return_if_fail (CKPT_IS_ASYNC_RESULT (self));
  g_return_if_fail (!self->returned);
  g_return_if_fail (error != NULL);

  self->returned = TRUE;
  self->error = error;
}

void
ckpt_async_result_complete (CkptAsyncResult *self)
{
  g_return_if_fail (CKPT_IS_ASYNC_RESULT (self));
  g_return_if_fail (self->returned);

  G_LOCK (delivery_lock);
  if (!self->source_gone)
    {
      /* The source still holds a reference, which it cannot drop before the
       * lock is released: this unref is never the last one. */
      g_source_set_ready_time (self->source, 0);
      g_object_unref (self);
      G_UNLOCK (delivery_lock);
      return;
    }
  G_UNLOCK (delivery_lock);

  /* Nobody to deliver to: this is the last reference. */
  g_object_unref (self);
}

gboolean
ckpt_async_result_is_valid (gpointer result,
                            gpointer source_object,
                            gpointer source_tag)
{
  CkptAsyncResult *self;

  if (!CKPT_IS_ASYNC_RESULT (result))
    return FALSE;
  self = result;
  return (gpointer) self->source_object == source_object &&
         self->source_tag == source_tag &&
         self->delivered && !self->propagated;
}

gboolean
ckpt_async_result_had_error (CkptAsyncResult *self)
{
  g_return_val_if_fail (CKPT_IS_ASYNC_RESULT (self), FALSE);

  return self->error != NULL;
}

gboolean
ckpt_async_result_propagate_boolean (CkptAsyncResult  *self,
                                     GError          **error)
{
  g_return_val_if_fail (CKPT_IS_ASYNC_RESULT (self), FALSE);

  self->propagated = TRUE;
  if (self->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&self->error));
      return FALSE;
    }
  return self->boolean;
}

gpointer
ckpt_async_result_propagate_pointer (CkptAsyncResult  *self,
                                     GError          **error)
{
  g_return_val_if_fail (CKPT_IS_ASYNC_RESULT (self), NULL);

  self->propagated = TRUE;
  if (self->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&self->error));
      return NULL;
    }
  self->pointer_destroy = NULL;
  return g_steal_pointer (&self->pointer);
}
