/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ckpt-queue-private.h"

struct _CkptQueue
{
  GMutex   lock;
  GQueue   jobs;      /* of Job, under lock */
  gboolean draining;  /* a worker owns the queue, under lock */
};

typedef struct
{
  CkptQueueFunc func;
  gpointer      data;
} Job;

static void
queue_clear (gpointer data)
{
  CkptQueue *queue = data;

  g_assert (g_queue_is_empty (&queue->jobs));
  g_mutex_clear (&queue->lock);
}

CkptQueue *
ckpt_queue_new (void)
{
  CkptQueue *queue = g_atomic_rc_box_new0 (CkptQueue);

  g_mutex_init (&queue->lock);
  g_queue_init (&queue->jobs);
  return queue;
}

CkptQueue *
ckpt_queue_ref (CkptQueue *queue)
{
  return g_atomic_rc_box_acquire (queue);
}

void
ckpt_queue_unref (CkptQueue *queue)
{
  g_atomic_rc_box_release_full (queue, queue_clear);
}

/* One worker drains one queue: it holds a reference, so the queue outlives
 * the last job even if that job's completion drops everything else. */
static void
drain (gpointer data,
       gpointer user_data)
{
  CkptQueue *queue = data;

  for (;;)
    {
      Job *job;

      g_mutex_lock (&queue->lock);
      job = g_queue_pop_head (&queue->jobs);
      if (job == NULL)
        queue->draining = FALSE;
      g_mutex_unlock (&queue->lock);

      if (job == NULL)
        break;

      job->func (job->data);
      g_free (job);
    }

  ckpt_queue_unref (queue);
}

static GThreadPool *
get_pool (void)
{
  static gsize pool = 0;

  if (g_once_init_enter (&pool))
    {
      /* Unbounded: a thread per busy queue, at most; idle threads are
       * shared and reaped by GLib. */
      GThreadPool *p = g_thread_pool_new (drain, NULL, -1, FALSE, NULL);
      g_once_init_leave (&pool, (gsize) p);
    }
  return (GThreadPool *) pool;
}

void
ckpt_queue_push (CkptQueue     *queue,
                 CkptQueueFunc  func,
                 gpointer       data)
{
  Job *job;
  gboolean start;

  g_return_if_fail (queue != NULL);
  g_return_if_fail (func != NULL);

  job = g_new (Job, 1);
  job->func = func;
  job->data = data;

  g_mutex_lock (&queue->lock);
  g_queue_push_tail (&queue->jobs, job);
  start = !queue->draining;
  queue->draining = TRUE;
  g_mutex_unlock (&queue->lock);

  if (start)
    g_thread_pool_push (get_pool (), ckpt_queue_ref (queue), NULL);
}
