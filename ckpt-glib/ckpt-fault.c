/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fault injection (ckpt-fault-private.h): which call at which point fails,
 * with which errno. Test support only: built into the static core that the
 * tests link, never into the shipped library. Touches only its own state,
 * under its own lock, from any thread.
 */
#include "config.h"

#include "ckpt-fault-private.h"

int ckpt_fault_armed = 0;

static GMutex fault_lock;
static guint fault_points;
static guint fault_nth;
static guint fault_seen;
static int fault_errno;
static gboolean fault_fired;

void
ckpt_fault_arm (guint points,
                guint nth,
                int   err)
{
  g_mutex_lock (&fault_lock);
  fault_points = points;
  fault_nth = nth;
  fault_seen = 0;
  fault_errno = err;
  fault_fired = FALSE;
  g_mutex_unlock (&fault_lock);
  g_atomic_int_set (&ckpt_fault_armed, nth > 0 || points != 0);
}

void
ckpt_fault_disarm (void)
{
  ckpt_fault_arm (0, 0, 0);
}

guint
ckpt_fault_count (void)
{
  guint seen;

  g_mutex_lock (&fault_lock);
  seen = fault_seen;
  g_mutex_unlock (&fault_lock);
  return seen;
}

gboolean
ckpt_fault_fired (void)
{
  gboolean fired;

  g_mutex_lock (&fault_lock);
  fired = fault_fired;
  g_mutex_unlock (&fault_lock);
  return fired;
}

int
ckpt_fault_check_slow (CkptFaultPoint point)
{
  int err = 0;

  g_mutex_lock (&fault_lock);
  if (fault_points & point)
    {
      fault_seen++;
      if (fault_nth > 0 && fault_seen == fault_nth)
        {
          err = fault_errno;
          fault_fired = TRUE;
        }
    }
  g_mutex_unlock (&fault_lock);
  return err;
}
