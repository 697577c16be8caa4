/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Retention policy: which checkpoints to delete. A pure function.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @rounds: the rounds present, ascending, without duplicates.
 * Returns the rounds to delete, ascending (a newly allocated array of
 * gint64, possibly empty). keep_total <= 0 keeps everything; otherwise the
 * newest keep_total are kept, counting the first (smallest) round among them
 * when keep_first is set; the newest round is never deleted, so keep_total 1
 * with keep_first keeps the first and the newest. */
GArray *ckpt_retention_select (const gint64 *rounds,
                               gsize         n_rounds,
                               int           keep_total,
                               gboolean      keep_first);

G_END_DECLS
