/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Retention policy: which checkpoints to delete. Pure functions.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whether the checkpoint of @round_num is intact (it may read and verify
 * it to know). */
typedef gboolean (*CkptRetentionIntactFunc) (gint64   round_num,
                                             gpointer user_data);

/* How many of the newest checkpoints @keep_total and @keep_first keep,
 * besides the first one when @keep_first is set; 0 when every checkpoint
 * is kept (@keep_total <= 0). Never 0 otherwise: the newest is always
 * kept, so keep_total 1 with keep_first keeps the first and the newest. */
gsize   ckpt_retention_keep_newest (int keep_total,
                                    gboolean keep_first);

/* @rounds: the rounds present, ascending, without duplicates.
 * Returns the rounds to delete, ascending (a newly allocated array of
 * gint64, possibly empty): keep_total <= 0 keeps everything; otherwise the
 * first (smallest) round is kept when @keep_first is set, and so are the
 * newest rounds down to and including the ckpt_retention_keep_newest()-th
 * newest *intact* one; the rounds older than that are deleted. Damaged
 * rounds among the newest thus do not take a kept place: they are kept
 * (and the caller reports them), and so is every round when fewer intact
 * ones exist than the policy keeps, so that the newest intact checkpoint
 * is never deleted. @is_intact is asked about the candidates only, newest
 * first, and only as far as needed; %NULL takes every round as intact.
 * With @out_anchor, the oldest round kept for being intact is stored there
 * when something is deleted (-1 otherwise). */
GArray *ckpt_retention_select_checked (const gint64            *rounds,
                                       gsize                    n_rounds,
                                       int                      keep_total,
                                       gboolean                 keep_first,
                                       CkptRetentionIntactFunc  is_intact,
                                       gpointer                 user_data,
                                       gint64                  *out_anchor);

/* ckpt_retention_select_checked() with every round taken as intact. */
GArray *ckpt_retention_select (const gint64 *rounds,
                               gsize         n_rounds,
                               int           keep_total,
                               gboolean      keep_first);

G_END_DECLS
