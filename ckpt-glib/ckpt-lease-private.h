/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The writer lease of a root that has no lock other hosts see (GVfs roots).
 * See ckpt-lease.c and docs/remote.md.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _CkptLease CkptLease;

/* The timeout after which a lease nobody renews is taken over: 30 s, or
 * CKPT_LEASE_TIMEOUT_MS from the environment. */
gint64     ckpt_lease_default_timeout (void);

/* Waits until the lease directory @dir is free (or stale) and takes it. */
CkptLease *ckpt_lease_acquire (GFile         *dir,
                               gint64         timeout_us,
                               GCancellable  *cancellable,
                               GError       **error);

/* Renews the lease if a third of its timeout has passed since it was last
 * renewed. Call it before every change to the root and during long writes;
 * FALSE (CKPT_ERROR_BUSY) if another writer took the lease over. */
gboolean   ckpt_lease_keep    (CkptLease     *lease,
                               GCancellable  *cancellable,
                               GError       **error);

/* Gives the lease up (removes its token and its directory) and frees it. */
void       ckpt_lease_release (CkptLease     *lease);

G_END_DECLS
