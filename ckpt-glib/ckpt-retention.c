/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Retention policy (see ckpt-retention-private.h): a pure function.
 */
#include "config.h"

#include "ckpt-retention-private.h"

GArray *
ckpt_retention_select (const gint64 *rounds,
                       gsize         n_rounds,
                       int           keep_total,
                       gboolean      keep_first)
{
  GArray *victims = g_array_new (FALSE, FALSE, sizeof (gint64));
  gsize keep_newest, first_victim, last_victim, i;

  g_return_val_if_fail (rounds != NULL || n_rounds == 0, victims);

  if (keep_total <= 0 || n_rounds <= (gsize) keep_total)
    return victims;

  /* How many of the newest are kept: all of keep_total, or one less when the
   * first takes a place; never fewer than one (the newest is never pruned). */
  keep_newest = keep_first ? MAX ((gsize) keep_total - 1, 1) : (gsize) keep_total;

  first_victim = keep_first ? 1 : 0;
  last_victim = n_rounds - keep_newest;   /* exclusive */

  for (i = first_victim; i < last_victim; i++)
    g_array_append_val (victims, rounds[i]);

  return victims;
}
