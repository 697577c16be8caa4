/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The operations of CkptManager, the same for its blocking calls and its
 * async workers: save, load, load_latest(_or_default), list_rounds,
 * query_info, delete, prune. Each runs entirely in the thread that calls
 * it (the application's for a blocking call, a worker of the manager's
 * queue for an async one), and so does every storage call it makes: the
 * storage locks what its callers share. They read only what never changes
 * after construction (storage, root, prefix: ckpt-manager-private.h), run
 * with the CkptSettings they are given, and record signals in a
 * CkptEvents instead of emitting them. What to delete after a save is
 * ckpt-manager-retention.c's; the bytes are ckpt-format.c's.
 */
#include "config.h"

#include "ckpt-error.h"
#include "ckpt-format-private.h"
#include "ckpt-info-private.h"
#include "ckpt-manager-private.h"

static gboolean
check_round (gint64   round_num,
             GError **error)
{
  if (round_num < 0)
    {
      g_set_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT,
                   "Invalid round %" G_GINT64_FORMAT ": rounds are zero or more", round_num);
      return FALSE;
    }
  return TRUE;
}

/* Always FALSE, for a `return`. */
static gboolean
set_not_found (CkptManager  *self,
               gint64        round_num,
               GError      **error)
{
  g_autofree char *where = ckpt_manager_describe_file (self, round_num);

  g_set_error (error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND,
               "No checkpoint of round %" G_GINT64_FORMAT " (‘%s’)", round_num, where);
  return FALSE;
}

/* A save of @round_num failed with CKPT_ERROR_EXISTS (in @error): say
 * whether the file in the way is the round, intact, or a damaged file that
 * only deleting it gets past. The code stays CKPT_ERROR_EXISTS. */
static void
explain_exists (CkptManager   *self,
                gint64         round_num,
                GCancellable  *cancellable,
                GError       **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) damage = NULL;
  g_autofree char *where = ckpt_manager_describe_file (self, round_num);

  gboolean shared = FALSE;

  bytes = ckpt_storage_read_full (ckpt_manager_get_storage (self), round_num,
                                  CKPT_STORAGE_READ_PREFAULT, &shared, cancellable, &damage);
  if (bytes != NULL)
    value = ckpt_format_decode (bytes, round_num, NULL,
                                shared ? CKPT_FORMAT_DECODE_SHARED : CKPT_FORMAT_DECODE_NONE,
                                NULL, &damage);

  if (value != NULL)
    {
      g_clear_error (error);
      g_set_error (error, CKPT_ERROR, CKPT_ERROR_EXISTS,
                   "Round %" G_GINT64_FORMAT " is already saved (‘%s’): "
                   "a checkpoint is never replaced", round_num, where);
    }
  else if (g_error_matches (damage, CKPT_ERROR, CKPT_ERROR_CORRUPT))
    {
      g_autofree char *dir = ckpt_manager_describe_root (self);
      g_autofree char *prefix_option = NULL;

      if (g_strcmp0 (ckpt_manager_get_prefix (self), CKPT_MANAGER_DEFAULT_PREFIX) != 0)
        prefix_option = g_strdup_printf ("--prefix=%s ", ckpt_manager_get_prefix (self));
      g_clear_error (error);
      g_set_error (error, CKPT_ERROR, CKPT_ERROR_EXISTS,
                   "Checkpoint ‘%s’ already exists and is damaged (%s): delete it with "
                   "ckpt_manager_delete() or `ckpt delete %s%s %" G_GINT64_FORMAT "`",
                   where, damage->message, prefix_option != NULL ? prefix_option : "",
                   dir, round_num);
    }
  /* Else (unreadable, not a regular file, cancelled): the storage's
   * message stands. */
}

/* @metadata: (nullable): an a{sv} merged into the header's metadata */
gboolean
ckpt_manager_save_internal (CkptManager         *self,
                            GVariant            *state,
                            gint64               round_num,
                            GVariant            *metadata,
                            const CkptSettings  *settings,
                            CkptEvents          *events,
                            GCancellable        *cancellable,
                            GError             **error)
{
  g_autoptr(GBytes) header = NULL;
  g_autoptr(CkptPayload) payload = NULL;
  g_autoptr(CkptStorageTxn) txn = NULL;

  if (!check_round (round_num, error))
    return FALSE;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  /* Serialise before taking the writer lock: a large state in tree form
   * becomes pieces that reference its large serialised leaves (a tensor
   * over the caller's buffer), so nothing the size of the state is copied
   * (ckpt-format-pieces.c). The storage computes the checksum: a large
   * payload is hashed while the disk writes it (durable saves) or on a
   * second thread during the write, rather than in a pass of its own
   * before (see ckpt-seal.c). */
  ckpt_format_encode_payload (state, round_num, g_get_real_time (), metadata,
                              CKPT_FORMAT_ENCODE_UNSEALED, &header, &payload);

  txn = ckpt_storage_begin (ckpt_manager_get_storage (self), cancellable, error);
  if (txn == NULL)
    return FALSE;

  if (!ckpt_manager_check_not_superseded (self, txn, round_num, settings, events, cancellable,
                                          error))
    return FALSE;

  if (!ckpt_storage_txn_commit_full (txn, round_num, header, payload,
                                     CKPT_STORAGE_COMMIT_UNSEALED, settings->durable,
                                     cancellable, error))
    {
      if (error != NULL && g_error_matches (*error, CKPT_ERROR, CKPT_ERROR_EXISTS))
        explain_exists (self, round_num, cancellable, error);
      return FALSE;
    }

  ckpt_events_record (events, CKPT_EVENT_SAVED, round_num, NULL);
  if (settings->durable && ckpt_storage_is_durable (ckpt_manager_get_storage (self)) &&
      round_num > ckpt_storage_txn_get_flushed (txn))
    ckpt_storage_txn_set_flushed (txn, round_num);

  /* The checkpoint is saved: from here on, failures to prune are reported
   * (`prune-failed`) but do not fail the save (nothing is lost, a later
   * save prunes again). Deletions are not flushed: a crash may bring an
   * old checkpoint back, which the next save prunes. */
  ckpt_manager_apply_retention (self, txn, settings, FALSE, events, NULL, cancellable, NULL);

  return TRUE;
}

/* The file of @round_num; CKPT_ERROR_NOT_FOUND when there is none.
 * *@out_shared (optional) says whether it is a mapping of the file, which
 * others may change while it is alive (ckpt_storage_read_full()). */
static GBytes *
read_checkpoint (CkptManager   *self,
                 gint64         round_num,
                 gboolean       prefault,
                 gboolean      *out_shared,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  GBytes *bytes;

  bytes = ckpt_storage_read_full (ckpt_manager_get_storage (self), round_num,
                                  prefault ? CKPT_STORAGE_READ_PREFAULT : CKPT_STORAGE_READ_NONE,
                                  out_shared, cancellable, &local_error);
  if (bytes != NULL)
    return bytes;

  /* Whatever is not a regular file is not a checkpoint, as listings say
   * too. */
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
      g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE) ||
      g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY))
    {
      set_not_found (self, round_num, error);
      return NULL;
    }
  g_propagate_error (error, g_steal_pointer (&local_error));
  return NULL;
}

GVariant *
ckpt_manager_load_internal (CkptManager         *self,
                            const GVariantType  *type,
                            gint64               round_num,
                            const CkptSettings    *settings,
                            CkptEvents          *events,
                            GCancellable        *cancellable,
                            GError             **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local_error = NULL;
  CkptFormatDecodeFlags flags = CKPT_FORMAT_DECODE_NONE;
  gboolean shared = FALSE;
  GVariant *value;

  if (!check_round (round_num, error))
    return NULL;

  bytes = read_checkpoint (self, round_num, settings->verify, &shared, cancellable, error);
  if (bytes == NULL)
    return NULL;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  /* A mapping is never trusted, verified or not: the file may change
   * while the value is alive. */
  if (!settings->verify)
    flags |= CKPT_FORMAT_DECODE_NO_VERIFY;
  if (shared)
    flags |= CKPT_FORMAT_DECODE_SHARED;
  value = ckpt_format_decode (bytes, round_num, type, flags, NULL, &local_error);
  if (value == NULL)
    {
      g_autofree char *where = ckpt_manager_describe_file (self, round_num);

      if (g_error_matches (local_error, CKPT_ERROR, CKPT_ERROR_CORRUPT))
        {
          g_prefix_error (&local_error, "Checkpoint ‘%s’ is damaged: ", where);
          ckpt_events_record (events, CKPT_EVENT_CORRUPT, round_num, local_error);
        }
      else
        g_prefix_error (&local_error, "Checkpoint ‘%s’: ", where);

      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return value;
}

GVariant *
ckpt_manager_load_latest_internal (CkptManager         *self,
                                   const GVariantType  *type,
                                   const CkptSettings    *settings,
                                   gint64              *out_round_num,
                                   CkptEvents          *events,
                                   GCancellable        *cancellable,
                                   GError             **error)
{
  g_autofree gint64 *rounds = NULL;
  g_autoptr(GError) first_corrupt = NULL;
  gsize n_rounds = 0, n_corrupt = 0, i;

  if (out_round_num != NULL)
    *out_round_num = -1;

  rounds = ckpt_storage_list (ckpt_manager_get_storage (self), &n_rounds, cancellable, error);
  if (rounds == NULL)
    return NULL;

  for (i = n_rounds; i-- > 0;)
    {
      g_autoptr(GError) local_error = NULL;
      GVariant *value;

      value = ckpt_manager_load_internal (self, type, rounds[i], settings, events, cancellable, &local_error);
      if (value != NULL)
        {
          if (out_round_num != NULL)
            *out_round_num = rounds[i];
          return value;
        }

      if (g_error_matches (local_error, CKPT_ERROR, CKPT_ERROR_CORRUPT))
        {
          n_corrupt++;
          if (first_corrupt == NULL)
            first_corrupt = g_steal_pointer (&local_error);
          continue;
        }
      /* Deleted by another writer's retention since the listing. */
      if (g_error_matches (local_error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND))
        continue;

      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  if (n_corrupt > 0)
    {
      g_autofree char *where = ckpt_manager_describe_root (self);

      g_set_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT,
                   "All %" G_GSIZE_FORMAT " checkpoints in ‘%s’ are damaged; the newest: %s",
                   n_corrupt, where, first_corrupt->message);
    }

  return NULL;
}

GVariant *
ckpt_manager_load_latest_or_default_internal (CkptManager          *self,
                                              GVariant             *default_state,
                                              const CkptSettings *settings,
                                              gint64               *out_round_num,
                                              CkptEvents           *events,
                                              GCancellable         *cancellable,
                                              GError              **error)
{
  g_autoptr(GError) local_error = NULL;
  GVariant *value;

  value = ckpt_manager_load_latest_internal (self, g_variant_get_type (default_state), settings,
                                             out_round_num, events, cancellable, &local_error);
  if (value != NULL)
    return value;
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  if (!ckpt_manager_save_internal (self, default_state, 0, NULL, settings, events,
                                   cancellable, &local_error))
    {
      /* Another writer saved round 0 first, or is so far ahead that round 0
       * would not be kept: load what it saved. */
      if (g_error_matches (local_error, CKPT_ERROR, CKPT_ERROR_EXISTS) ||
          g_error_matches (local_error, CKPT_ERROR, CKPT_ERROR_SUPERSEDED))
        return ckpt_manager_load_latest_internal (self, g_variant_get_type (default_state), settings,
                                                  out_round_num, events, cancellable, error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  if (out_round_num != NULL)
    *out_round_num = 0;
  return g_variant_ref (default_state);
}

gint64 *
ckpt_manager_list_rounds_internal (CkptManager   *self,
                                   gsize         *n_rounds,
                                   GCancellable  *cancellable,
                                   GError       **error)
{
  return ckpt_storage_list (ckpt_manager_get_storage (self), n_rounds, cancellable, error);
}

CkptInfo *
ckpt_manager_query_info_internal (CkptManager     *self,
                                  gint64           round_num,
                                  CkptQueryFlags   flags,
                                  GCancellable    *cancellable,
                                  GError         **error)
{
  g_auto(CkptFormatHeader) header = { 0, };
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local_error = NULL;
  gboolean verify = (flags & CKPT_QUERY_VERIFY) != 0;

  if (!check_round (round_num, error))
    return NULL;

  bytes = read_checkpoint (self, round_num, verify, NULL, cancellable, error);
  if (bytes == NULL)
    return NULL;

  if (ckpt_format_read_header (bytes, verify ? CKPT_FORMAT_DECODE_NONE : CKPT_FORMAT_DECODE_NO_VERIFY,
                               &header, &local_error) &&
      header.round_num != round_num)
    g_set_error (&local_error, CKPT_ERROR, CKPT_ERROR_CORRUPT,
                 "The file holds round %" G_GINT64_FORMAT ", not round %" G_GINT64_FORMAT,
                 header.round_num, round_num);

  if (local_error != NULL)
    {
      g_autofree char *where = ckpt_manager_describe_file (self, round_num);

      if (g_error_matches (local_error, CKPT_ERROR, CKPT_ERROR_CORRUPT))
        g_prefix_error (&local_error, "Checkpoint ‘%s’ is damaged: ", where);
      else
        g_prefix_error (&local_error, "Checkpoint ‘%s’: ", where);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return ckpt_info_new_take (&header, g_bytes_get_size (bytes), verify);
}

static gboolean
rounds_contain (const gint64 *rounds,
                gsize         n_rounds,
                gint64        round_num)
{
  gsize lo = 0, hi = n_rounds;

  while (lo < hi)
    {
      gsize mid = lo + (hi - lo) / 2;

      if (rounds[mid] == round_num)
        return TRUE;
      if (rounds[mid] < round_num)
        lo = mid + 1;
      else
        hi = mid;
    }
  return FALSE;
}

gboolean
ckpt_manager_delete_internal (CkptManager   *self,
                              gint64         round_num,
                              CkptEvents    *events,
                              GCancellable  *cancellable,
                              GError       **error)
{
  g_autoptr(CkptStorageTxn) txn = NULL;
  const gint64 *rounds;
  gsize n_rounds = 0;

  if (!check_round (round_num, error))
    return FALSE;

  /* Not even in a listing without the lock: nothing to delete, and a
   * missing root is not created. */
  {
    g_autofree gint64 *present = NULL;
    gsize n_present = 0;

    present = ckpt_storage_list (ckpt_manager_get_storage (self), &n_present, cancellable, error);
    if (present == NULL)
      return FALSE;
    if (!rounds_contain (present, n_present, round_num))
      return set_not_found (self, round_num, error);
  }

  txn = ckpt_storage_begin (ckpt_manager_get_storage (self), cancellable, error);
  if (txn == NULL)
    return FALSE;

  /* Under the lock, from the listing (up to date with everybody's changes,
   * see ckpt-storage-local.c). */
  rounds = ckpt_storage_txn_borrow_rounds (txn, &n_rounds, error);
  if (rounds == NULL)
    return FALSE;
  if (!rounds_contain (rounds, n_rounds, round_num))
    return set_not_found (self, round_num, error);
  rounds = NULL;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (!ckpt_storage_txn_remove (txn, round_num, error))
    return FALSE;

  ckpt_events_record (events, CKPT_EVENT_PRUNED, round_num, NULL);
  return TRUE;
}

gint64 *
ckpt_manager_prune_internal (CkptManager       *self,
                             CkptPruneFlags     flags,
                             const CkptSettings *settings,
                             gsize             *n_pruned,
                             CkptEvents        *events,
                             GCancellable      *cancellable,
                             GError           **error)
{
  g_autoptr(CkptStorageTxn) txn = NULL;
  g_autoptr(GArray) pruned = NULL;
  gboolean ok;

  *n_pruned = 0;
  pruned = g_array_new (FALSE, FALSE, sizeof (gint64));

  /* Nothing to prune in a root that does not exist: do not create it. */
  {
    g_autofree gint64 *present = NULL;
    gsize n_present = 0;

    present = ckpt_storage_list (ckpt_manager_get_storage (self), &n_present, cancellable, error);
    if (present == NULL)
      return NULL;
    if (n_present == 0)
      return g_new0 (gint64, 1);
  }

  txn = ckpt_storage_begin (ckpt_manager_get_storage (self), cancellable, error);
  if (txn == NULL)
    return NULL;
  ok = ckpt_manager_apply_retention (self, txn, settings, (flags & CKPT_PRUNE_DRY_RUN) != 0,
                        events, pruned, cancellable, error);
  g_clear_pointer (&txn, ckpt_storage_txn_free);

  if (!ok)
    return NULL;

  *n_pruned = pruned->len;
  if (pruned->len == 0)
    return g_new0 (gint64, 1);
  return (gint64 *) (gpointer) g_array_free (g_steal_pointer (&pruned), FALSE);
}

