/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A serial executor: jobs pushed to one queue run one at a time, in push
 * order, in a worker thread (threads are shared between queues). This is
 * what makes a manager's async operations complete in call order.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _CkptQueue CkptQueue;

/* Runs in a worker thread. */
typedef void (*CkptQueueFunc) (gpointer data);

CkptQueue *ckpt_queue_new   (void);
CkptQueue *ckpt_queue_ref   (CkptQueue     *queue);
void       ckpt_queue_unref (CkptQueue     *queue);
void       ckpt_queue_push  (CkptQueue     *queue,
                             CkptQueueFunc  func,
                             gpointer       data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CkptQueue, ckpt_queue_unref)

G_END_DECLS
