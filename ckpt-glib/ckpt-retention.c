/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Retention policy (see ckpt-retention-private.h): pure functions.
 */
#include "config.h"

#include "ckpt-retention-private.h"

gsize
ckpt_retention_keep_newest (int      keep_total,
                            gboolean keep_first)
{
  if (keep_total <= 0)
    return 0;
  /* The first takes one of the places, but the newest is never pruned. */
  return keep_first ? MAX ((gsize) keep_total - 1, 1) : (gsize) keep_total;
}

GArray *
ckpt_retention_select_checked (const gint64            *rounds,
                               gsize                    n_rounds,
                               int                      keep_total,
                               gboolean                 keep_first,
                               CkptRetentionIntactFunc  is_intact,
                               gpointer                 user_data,
                               gint64                  *out_anchor)
{
  GArray *victims = g_array_new (FALSE, FALSE, sizeof (gint64));
  gsize keep_newest, lowest, counted = 0, i;

  if (out_anchor != NULL)
    *out_anchor = -1;
  g_return_val_if_fail (rounds != NULL || n_rounds == 0, victims);

  if (keep_total <= 0 || n_rounds <= (gsize) keep_total)
    return victims;

  keep_newest = ckpt_retention_keep_newest (keep_total, keep_first);
  lowest = keep_first ? 1 : 0;

  /* Walk down from the newest until keep_newest intact ones are kept. */
  for (i = n_rounds; i > lowest && counted < keep_newest; i--)
    if (is_intact == NULL || is_intact (rounds[i - 1], user_data))
      counted++;

  /* Fewer intact than the policy keeps: keep everything. */
  if (counted < keep_newest)
    return victims;

  /* rounds[i] is the oldest kept for being intact; the older ones go. */
  if (i > lowest && out_anchor != NULL)
    *out_anchor = rounds[i];
  g_array_append_vals (victims, rounds + lowest, i - lowest);
  return victims;
}

GArray *
ckpt_retention_select (const gint64 *rounds,
                       gsize         n_rounds,
                       int           keep_total,
                       gboolean      keep_first)
{
  return ckpt_retention_select_checked (rounds, n_rounds, keep_total, keep_first,
                                        NULL, NULL, NULL);
}
