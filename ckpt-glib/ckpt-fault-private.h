/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fault injection for the reliability tests: the local storage wraps each
 * system call that can fail in CKPT_INJECT(), which fails the call with the
 * errno that ckpt_fault_check() returns. Only the static core that the
 * tests link is built with CKPT_ENABLE_TEST_HOOKS (ckpt-glib/meson.build);
 * in the shipped library CKPT_INJECT (point, call) is just (call), and
 * ckpt-fault.c is not part of it. Armed or not, the check touches nothing
 * but this unit's own state.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  CKPT_FAULT_MKDIR       = 1 << 0,
  CKPT_FAULT_OPEN        = 1 << 1,   /* the root, a new file, a checkpoint */
  CKPT_FAULT_LOCK        = 1 << 2,
  CKPT_FAULT_WRITE       = 1 << 3,
  CKPT_FAULT_FSYNC_FILE  = 1 << 4,
  CKPT_FAULT_LINK        = 1 << 5,   /* linkat / renameat2: the commit */
  CKPT_FAULT_FSYNC_DIR   = 1 << 6,
  CKPT_FAULT_UNLINK      = 1 << 7,   /* temp files and pruning */
  CKPT_FAULT_READDIR     = 1 << 8,
  CKPT_FAULT_MMAP        = 1 << 9,   /* mapping (or reading, if small) a checkpoint */
  CKPT_FAULT_ALL         = (1 << 10) - 1,
} CkptFaultPoint;

/* Fails the @nth (1-based) call at any of @points with @err; 0 disarms. */
void   ckpt_fault_arm     (guint           points,
                           guint           nth,
                           int             err);
void   ckpt_fault_disarm  (void);
/* Calls at the armed points seen since ckpt_fault_arm(). */
guint  ckpt_fault_count   (void);
/* Whether the armed fault has fired. */
gboolean ckpt_fault_fired (void);

/* 0, or the errno the call at @point must fail with. */
int    ckpt_fault_check_slow (CkptFaultPoint point);

extern int ckpt_fault_armed;

static inline int
ckpt_fault_check (CkptFaultPoint point)
{
  if (G_LIKELY (!g_atomic_int_get (&ckpt_fault_armed)))
    return 0;
  return ckpt_fault_check_slow (point);
}

#ifdef CKPT_ENABLE_TEST_HOOKS
#include <errno.h>

/* Whether the call at @point must fail; if so, errno is set for it. */
static inline gboolean
ckpt_fault_injected (CkptFaultPoint point)
{
  int err = ckpt_fault_check (point);

  if (err != 0)
    errno = err;
  return err != 0;
}
#else
#define ckpt_fault_injected(point) FALSE
#endif

/* (call), unless a fault is armed at @point: then -1 with errno set. */
#define CKPT_INJECT(point, call) (ckpt_fault_injected (point) ? -1 : (call))

G_END_DECLS
