/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * CkptEvents: the signals an operation owes, recorded while it runs (in
 * whatever thread) and emitted afterwards by its caller, in the caller's
 * thread or main context, in the order they were recorded. It touches
 * nothing of the manager but its signals (ckpt_manager_get_event_signal())
 * and the file of a round, when it emits.
 */
#include "config.h"

#include "ckpt-manager-private.h"

typedef struct
{
  CkptEventKind  kind;
  gint64         round_num;
  GError        *error;      /* CORRUPT, PRUNE_FAILED: what went wrong */
} CkptEvent;

/* Owned by one operation: written by the thread that runs it, then read
 * by its caller's thread once the operation is done. */
struct _CkptEvents
{
  GArray *items;
};

static void
ckpt_event_clear (gpointer data)
{
  CkptEvent *event = data;

  g_clear_error (&event->error);
}

CkptEvents *
ckpt_events_new (void)
{
  CkptEvents *events = g_new0 (CkptEvents, 1);

  events->items = g_array_new (FALSE, FALSE, sizeof (CkptEvent));
  g_array_set_clear_func (events->items, ckpt_event_clear);
  return events;
}

void
ckpt_events_free (CkptEvents *events)
{
  if (events == NULL)
    return;
  g_array_unref (events->items);
  g_free (events);
}

void
ckpt_events_record (CkptEvents    *events,
                    CkptEventKind  kind,
                    gint64         round_num,
                    const GError  *error)
{
  CkptEvent event = { kind, round_num, NULL };

  if (events == NULL)
    return;
  if (error != NULL)
    event.error = g_error_copy (error);
  g_array_append_val (events->items, event);
}

void
ckpt_events_emit (CkptEvents  *events,
                  CkptManager *manager)
{
  guint i;

  g_return_if_fail (events != NULL);
  g_return_if_fail (CKPT_IS_MANAGER (manager));

  for (i = 0; i < events->items->len; i++)
    {
      CkptEvent *event = &g_array_index (events->items, CkptEvent, i);
      g_autoptr(GFile) file = ckpt_manager_get_file (manager, event->round_num);
      guint signal_id = ckpt_manager_get_event_signal (event->kind);

      if (event->error != NULL)
        g_signal_emit (manager, signal_id, 0, event->round_num, file, event->error);
      else
        g_signal_emit (manager, signal_id, 0, event->round_num, file);
    }
  g_array_set_size (events->items, 0);
}
