/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Retention applied: under the writer lock of a storage transaction,
 * which checkpoints are intact (known to the storage, else read and
 * verified), whether a save would be pruned at once, and the deletions
 * (with the flush that must come first when saves are not durable). The
 * choice of rounds is the pure ckpt-retention.c; this file asks it, and
 * makes the storage calls, in the thread of the operation (see
 * ckpt-manager-ops.c), recording `corrupt`, `pruned` and `prune-failed`
 * events.
 */
#include "config.h"

#include "ckpt-error.h"
#include "ckpt-format-private.h"
#include "ckpt-manager-private.h"
#include "ckpt-retention-private.h"

/* Retention's question to the storage: is this checkpoint intact? Known
 * ones (written or verified here, unchanged since) are; others are read and
 * verified once, and a damaged one is reported with a `corrupt` event. */
typedef struct
{
  CkptManager    *self;
  CkptStorageTxn *txn;
  CkptEvents     *events;
  GCancellable   *cancellable;
} IntactCheck;

static gboolean
check_intact (gint64   round_num,
              gpointer user_data)
{
  IntactCheck *check = user_data;
  g_auto(CkptFormatHeader) header = { 0, };
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local_error = NULL;

  if (ckpt_storage_txn_known_intact (check->txn, round_num))
    return TRUE;

  bytes = ckpt_storage_read_full (ckpt_manager_get_storage (check->self), round_num,
                                  CKPT_STORAGE_READ_PREFAULT, NULL, check->cancellable,
                                  &local_error);
  if (bytes != NULL &&
      ckpt_format_read_header (bytes, CKPT_FORMAT_DECODE_NONE, &header, &local_error))
    {
      if (header.round_num == round_num)
        {
          ckpt_storage_txn_note_intact (check->txn, round_num);
          return TRUE;
        }
      g_set_error (&local_error, CKPT_ERROR, CKPT_ERROR_CORRUPT,
                   "The file holds round %" G_GINT64_FORMAT ", not round %" G_GINT64_FORMAT,
                   header.round_num, round_num);
    }

  /* Not counted as kept (and not deleted while it is among the newest);
   * a damaged one is reported. */
  if (g_error_matches (local_error, CKPT_ERROR, CKPT_ERROR_CORRUPT))
    {
      g_autofree char *where = ckpt_manager_describe_file (check->self, round_num);

      g_prefix_error (&local_error, "Checkpoint ‘%s’ is damaged: ", where);
      ckpt_events_record (check->events, CKPT_EVENT_CORRUPT, round_num, local_error);
    }
  return FALSE;
}

/* The checkpoints retention deletes now, from the listing of @txn: the
 * policy of @settings, where damaged checkpoints do not take the place of
 * intact ones. @out_anchor: the oldest intact one kept, see
 * ckpt_retention_select_checked(). */
static GArray *
select_victims (CkptManager         *self,
                CkptStorageTxn      *txn,
                const gint64        *rounds,
                gsize                n_rounds,
                const CkptSettings  *settings,
                CkptEvents          *events,
                GCancellable        *cancellable,
                gint64              *out_anchor)
{
  IntactCheck check = { self, txn, events, cancellable };
  gboolean all_known = ckpt_storage_txn_all_known_intact (txn);

  /* The usual case, a writer that wrote what it keeps, costs no check a
   * round: the cost does not grow with the number kept. */
  return ckpt_retention_select_checked (rounds, n_rounds, settings->keep_total, settings->keep_first,
                                        all_known ? NULL : check_intact, &check, out_anchor);
}

/* Retention, under the writer lock of @txn: deletes (or with @dry_run,
 * only lists into @out_pruned) what the policy of @settings does not keep,
 * recording a `pruned` event for each deletion and a `prune-failed` event
 * for each checkpoint that could not be deleted. A save that is not
 * durable first flushes the oldest intact checkpoint that is kept, so that
 * a power cut never leaves fewer checkpoints than before the save. Returns
 * FALSE with @error for a failure to list, or the first failure to delete
 * (after trying the others). */
gboolean
ckpt_manager_apply_retention (CkptManager         *self,
                              CkptStorageTxn      *txn,
                              const CkptSettings  *settings,
                              gboolean             dry_run,
                              CkptEvents          *events,
                              GArray              *out_pruned,
                              GCancellable        *cancellable,
                              GError             **error)
{
  const gint64 *rounds;
  g_autoptr(GArray) victims = NULL;
  g_autoptr(GError) remove_error = NULL;
  gsize n_rounds = 0, i;
  gint64 anchor = -1;

  /* Borrowed from the transaction: no copy of a listing of thousands. */
  rounds = ckpt_storage_txn_borrow_rounds (txn, &n_rounds, error);
  if (rounds == NULL)
    return FALSE;
  victims = select_victims (self, txn, rounds, n_rounds, settings, events, cancellable, &anchor);
  /* The checkpoint to flush before deleting, if the save is not durable:
   * the newest one known intact (normally the one just saved), so that it
   * also covers the victims of the next saves; else the oldest one kept. */
  if (victims->len > 0 && !settings->durable)
    {
      for (i = n_rounds; i > 0; i--)
        if (rounds[i - 1] > anchor && ckpt_storage_txn_known_intact (txn, rounds[i - 1]))
          {
            anchor = rounds[i - 1];
            break;
          }
    }
  /* rounds is not valid any more once something is removed. */
  rounds = NULL;

  if (dry_run)
    {
      if (out_pruned != NULL)
        g_array_append_vals (out_pruned, victims->data, victims->len);
      return TRUE;
    }

  /* Not durable: the checkpoints kept may still be in the page cache only.
   * Older ones go only once a newer one is on disk: one flushed by an
   * earlier save and unchanged since, or the one flushed now. */
  if (victims->len > 0 && !settings->durable && anchor >= 0)
    {
      gint64 newest_victim = g_array_index (victims, gint64, victims->len - 1);
      gint64 flushed = ckpt_storage_txn_get_flushed (txn);

      if (flushed <= newest_victim || !ckpt_storage_txn_known_intact (txn, flushed))
        {
          if (!ckpt_storage_txn_sync (txn, anchor, &remove_error))
            {
              g_prefix_error (&remove_error,
                              "Old checkpoints were not deleted, as no newer one could be flushed first: ");
              for (i = 0; i < victims->len; i++)
                ckpt_events_record (events, CKPT_EVENT_PRUNE_FAILED,
                                 g_array_index (victims, gint64, i), remove_error);
              g_propagate_error (error, g_steal_pointer (&remove_error));
              return FALSE;
            }
          ckpt_storage_txn_set_flushed (txn, anchor);
        }
    }

  for (i = 0; i < victims->len; i++)
    {
      g_autoptr(GError) local_error = NULL;
      gint64 victim = g_array_index (victims, gint64, i);

      if (ckpt_storage_txn_remove (txn, victim, &local_error))
        {
          ckpt_events_record (events, CKPT_EVENT_PRUNED, victim, NULL);
          if (out_pruned != NULL)
            g_array_append_val (out_pruned, victim);
        }
      else
        {
          ckpt_events_record (events, CKPT_EVENT_PRUNE_FAILED, victim, local_error);
          if (remove_error == NULL)
            remove_error = g_steal_pointer (&local_error);
        }
    }

  if (remove_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&remove_error));
      return FALSE;
    }
  return TRUE;
}

/* Fails with CKPT_ERROR_SUPERSEDED if retention would delete @round_num as
 * soon as it is saved: enough newer intact checkpoints are kept already
 * (a program that went back to an older round, or that starts afresh while
 * another writer is ahead). Checked before anything is written. */
gboolean
ckpt_manager_check_not_superseded (CkptManager         *self,
                                   CkptStorageTxn      *txn,
                                   gint64               round_num,
                                   const CkptSettings  *settings,
                                   CkptEvents          *events,
                                   GCancellable        *cancellable,
                                   GError             **error)
{
  IntactCheck check = { self, txn, events, cancellable };
  gsize keep_newest = ckpt_retention_keep_newest (settings->keep_total, settings->keep_first);
  gsize n_rounds = 0, lo, hi, n_newer, n_intact = 0, i;
  const gint64 *rounds;
  g_autofree char *where = NULL;
  gint64 oldest_newer = -1;
  gboolean all_known;

  if (keep_newest == 0)
    return TRUE;
  rounds = ckpt_storage_txn_borrow_rounds (txn, &n_rounds, error);
  if (rounds == NULL)
    return FALSE;

  /* The first round is kept forever: a round older than every other
   * becomes the first. */
  if (n_rounds == 0 || (settings->keep_first && round_num < rounds[0]))
    return TRUE;

  /* How many rounds are newer (the listing is ascending)? */
  for (lo = 0, hi = n_rounds; lo < hi;)
    {
      gsize mid = lo + (hi - lo) / 2;

      if (rounds[mid] <= round_num)
        lo = mid + 1;
      else
        hi = mid;
    }
  n_newer = n_rounds - lo;
  /* An existing round: the commit says EXISTS. */
  if (lo > 0 && rounds[lo - 1] == round_num)
    return TRUE;
  if (n_newer < keep_newest)
    return TRUE;

  /* It would be deleted if keep_newest of the newer ones are intact. */
  all_known = ckpt_storage_txn_all_known_intact (txn);
  for (i = n_rounds; i > lo && n_intact < keep_newest; i--)
    if (all_known || check_intact (rounds[i - 1], &check))
      {
        n_intact++;
        oldest_newer = rounds[i - 1];
      }
  if (n_intact < keep_newest)
    return TRUE;

  where = ckpt_manager_describe_root (self);
  g_set_error (error, CKPT_ERROR, CKPT_ERROR_SUPERSEDED,
               "Cannot save round %" G_GINT64_FORMAT " in ‘%s’: %" G_GSIZE_FORMAT
               " newer checkpoints (rounds %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
               ") fill the %" G_GSIZE_FORMAT " places that keep-total %d%s keeps for the newest, "
               "so retention would delete it as soon as it is saved. Nothing was written. "
               "Delete the newer checkpoints first, or raise keep-total",
               round_num, where, n_newer, oldest_newer, rounds[n_rounds - 1], keep_newest,
               settings->keep_total, settings->keep_first ? " (with keep-first)" : "");
  return FALSE;
}

