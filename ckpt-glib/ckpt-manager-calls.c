/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The public blocking calls of CkptManager, with their documentation:
 * each checks its arguments and that the manager could be set up, takes
 * the settings snapshot, runs the operation (ckpt-manager-ops.c) in the
 * caller's thread, then emits the signals it recorded, in that thread. It
 * touches nothing of the manager but through ckpt-manager-private.h.
 */
#include "config.h"

#include "ckpt-manager-private.h"

/**
 * ckpt_manager_save:
 * @self: a manager
 * @state: the state to save; a floating reference is sunk
 * @round_num: the round, zero or more
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Saves @state as the checkpoint of @round_num, then applies retention.
 *
 * The checkpoint is written to a hidden file, flushed, and linked under its
 * name, which never replaces a file: if the round exists the save fails
 * with %CKPT_ERROR_EXISTS and changes nothing; the message then says
 * whether the existing file is that round, intact, or a damaged file (which
 * [method@Ckpt.Manager.delete] removes). With
 * [property@Ckpt.Manager:durable] set, the file and the directory are
 * flushed before this returns. Writers to one directory, in this process or
 * others, are serialized by a lock on the directory that leaves no file
 * behind.
 *
 * If retention would delete @round_num as soon as it is saved (a program
 * that went back to an older round while [property@Ckpt.Manager:keep-total]
 * newer checkpoints are kept), the save fails with %CKPT_ERROR_SUPERSEDED
 * before anything is written: a save that returns %TRUE is never pruned by
 * the same call.
 *
 * Large serialised parts of @state (a byte array over a buffer of the
 * caller's, from g_variant_new_from_data()) are written from where they
 * are, not copied: their memory must not change until the save returns (or,
 * for [method@Ckpt.Manager.save_async], until its callback). A durable local
 * save of 8 MiB or more checks what it wrote against that memory and fails
 * with %CKPT_ERROR_FAILED, saving nothing, if it changed.
 *
 * Cancellation is honoured until the checkpoint is linked under its name
 * (the point of no return); a cancelled save leaves the directory as it
 * was. A failure to delete old checkpoints does not fail the save: each
 * checkpoint that could not be deleted is reported with
 * [signal@Ckpt.Manager::prune-failed], and the next save retries.
 *
 * On success [signal@Ckpt.Manager::saved] is emitted, then
 * [signal@Ckpt.Manager::corrupt] for each damaged checkpoint that retention
 * found (and left alone) and [signal@Ckpt.Manager::pruned] (or
 * [signal@Ckpt.Manager::prune-failed]) once for each checkpoint it deleted
 * (or could not delete).
 *
 * Returns: %TRUE if the checkpoint was saved, %FALSE with @error set
 *   otherwise
 *
 * Since: 1.0
 */
gboolean
ckpt_manager_save (CkptManager   *self,
                   GVariant      *state,
                   gint64         round_num,
                   GCancellable  *cancellable,
                   GError       **error)
{
  g_autoptr(GVariant) sunk = NULL;
  g_autoptr(CkptEvents) events = NULL;
  CkptSettings settings;
  gboolean ret;

  g_return_val_if_fail (CKPT_IS_MANAGER (self), FALSE);
  g_return_val_if_fail (state != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Sunk first: a floating state is the call's to free, whatever happens. */
  sunk = g_variant_ref_sink (state);
  if (!ckpt_manager_check_ready (self, error))
    return FALSE;

  events = ckpt_events_new ();
  ckpt_manager_snapshot_settings (self, &settings);

  ret = ckpt_manager_save_internal (self, sunk, round_num, NULL, &settings, events, cancellable,
                                    error);
  ckpt_events_emit (events, self);
  return ret;
}

/**
 * ckpt_manager_save_full:
 * @self: a manager
 * @state: the state to save; a floating reference is sunk
 * @round_num: the round, zero or more
 * @metadata: (nullable): an `a{sv}` dictionary to store in the checkpoint's
 *   header, or %NULL; a floating reference is sunk
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Saves @state as the checkpoint of @round_num, like
 * [method@Ckpt.Manager.save], with @metadata in the header of the file.
 *
 * The entries of @metadata are stored next to those the library writes
 * itself (`ckpt-glib-version`, which @metadata cannot replace) and are
 * read back, without loading the state, with
 * [method@Ckpt.Manager.query_info] and [method@Ckpt.Info.get_metadata].
 * The header is read whole by every load: keep the metadata small (a few
 * KiB; it must stay under 4 GiB). Names starting with `ckpt-` are reserved
 * for the library, and `python-types` is written by the Python override
 * (see the Python page of the documentation).
 *
 * Returns: %TRUE if the checkpoint was saved, %FALSE with @error set
 *   otherwise
 *
 * Since: 1.0
 */
gboolean
ckpt_manager_save_full (CkptManager   *self,
                        GVariant      *state,
                        gint64         round_num,
                        GVariant      *metadata,
                        GCancellable  *cancellable,
                        GError       **error)
{
  g_autoptr(GVariant) sunk = NULL;
  g_autoptr(GVariant) sunk_metadata = NULL;
  g_autoptr(CkptEvents) events = NULL;
  CkptSettings settings;
  gboolean ret;

  g_return_val_if_fail (CKPT_IS_MANAGER (self), FALSE);
  g_return_val_if_fail (state != NULL, FALSE);
  g_return_val_if_fail (metadata == NULL ||
                        g_variant_is_of_type (metadata, G_VARIANT_TYPE_VARDICT), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  sunk = g_variant_ref_sink (state);
  if (metadata != NULL)
    sunk_metadata = g_variant_ref_sink (metadata);

  if (!ckpt_manager_check_ready (self, error))
    return FALSE;

  events = ckpt_events_new ();
  ckpt_manager_snapshot_settings (self, &settings);

  ret = ckpt_manager_save_internal (self, sunk, round_num, sunk_metadata, &settings, events,
                                    cancellable, error);
  ckpt_events_emit (events, self);
  return ret;
}

/**
 * ckpt_manager_load:
 * @self: a manager
 * @type: (nullable): the type the state must have (a definite type, or an
 *   indefinite one such as `a{sv}` or `*`), or %NULL for any type
 * @round_num: the round, zero or more
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Loads and verifies the checkpoint of @round_num.
 *
 * Fails with %CKPT_ERROR_NOT_FOUND if there is none, with
 * %CKPT_ERROR_TYPE_MISMATCH if its state is not of @type, and with
 * %CKPT_ERROR_CORRUPT (emitting [signal@Ckpt.Manager::corrupt]) if the file
 * is damaged.
 *
 * The returned value is in normal form. For a local checkpoint of 64 KiB or
 * more written on a machine of the same byte order, it is backed by a
 * read-only mapping of the file, not a copy. Such a value is untrusted
 * GVariant data (GLib checks what it reads as it reads it), so that another
 * process writing into the file after the load changes what the value
 * reads but never makes it read outside memory. Another process
 * truncating the file while the value is alive makes reads of the lost
 * pages raise `SIGBUS`; to be safe from that, copy the value at once (e.g.
 * g_bytes_new() of g_variant_get_data(), then g_variant_new_from_bytes())
 * and drop it. See [Files changed after a
 * load](overview.html#files-changed-after-a-load).
 *
 * Returns: (transfer full): the state, or %NULL with @error set
 *
 * Since: 1.0
 */
GVariant *
ckpt_manager_load (CkptManager         *self,
                   const GVariantType  *type,
                   gint64               round_num,
                   GCancellable        *cancellable,
                   GError             **error)
{
  g_autoptr(CkptEvents) events = NULL;
  CkptSettings settings;
  GVariant *value;

  g_return_val_if_fail (CKPT_IS_MANAGER (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!ckpt_manager_check_ready (self, error))
    return NULL;

  events = ckpt_events_new ();
  ckpt_manager_snapshot_settings (self, &settings);
  value = ckpt_manager_load_internal (self, type, round_num, &settings, events, cancellable, error);
  ckpt_events_emit (events, self);
  return value;
}

/**
 * ckpt_manager_load_latest:
 * @self: a manager
 * @type: (nullable): the type the state must have, or %NULL for any type
 * @out_round_num: (out) (optional): return location for the round loaded,
 *   or -1 when there is no checkpoint
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Loads the newest checkpoint that is intact.
 *
 * Each damaged checkpoint passed over on the way is reported with
 * [signal@Ckpt.Manager::corrupt] and skipped. When there is no checkpoint
 * (an empty or missing root), this returns %NULL without an error and sets
 * @out_round_num to -1; when there are checkpoints but all are damaged, it
 * fails with %CKPT_ERROR_CORRUPT. A newest intact checkpoint of another
 * type fails with %CKPT_ERROR_TYPE_MISMATCH, and one written in a later
 * version of the file format with %CKPT_ERROR_UNSUPPORTED (older ones are
 * not tried in either case).
 *
 * Returns: (transfer full) (nullable): the state, or %NULL if there is no
 *   checkpoint or on error
 *
 * Since: 1.0
 */
GVariant *
ckpt_manager_load_latest (CkptManager         *self,
                          const GVariantType  *type,
                          gint64              *out_round_num,
                          GCancellable        *cancellable,
                          GError             **error)
{
  g_autoptr(CkptEvents) events = NULL;
  CkptSettings settings;
  GVariant *value;

  g_return_val_if_fail (CKPT_IS_MANAGER (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!ckpt_manager_check_ready (self, error))
    return NULL;

  events = ckpt_events_new ();
  ckpt_manager_snapshot_settings (self, &settings);
  value = ckpt_manager_load_latest_internal (self, type, &settings, out_round_num, events, cancellable, error);
  ckpt_events_emit (events, self);
  return value;
}

/**
 * ckpt_manager_load_latest_or_default:
 * @self: a manager
 * @default_state: the state to start from when there is no checkpoint; its
 *   type is the type the loaded state must have. A floating reference is
 *   sunk.
 * @out_round_num: (out) (optional): return location for the round loaded,
 *   0 when @default_state was saved
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Resumes or starts fresh: loads the newest intact checkpoint, as
 * [method@Ckpt.Manager.load_latest] does with the type of @default_state;
 * when there is no checkpoint, saves @default_state as round 0 and returns
 * it.
 *
 * When checkpoints exist but all are damaged, this fails with
 * %CKPT_ERROR_CORRUPT rather than start over silently; when the newest is
 * of a later version of the file format, it fails with
 * %CKPT_ERROR_UNSUPPORTED and saves nothing. When another writer saved
 * round 0 meanwhile, or got so far ahead that round 0 would not be kept
 * (%CKPT_ERROR_SUPERSEDED), its newest checkpoint is loaded instead.
 *
 * Returns: (transfer full): the state, or %NULL with @error set
 *
 * Since: 1.0
 */
GVariant *
ckpt_manager_load_latest_or_default (CkptManager   *self,
                                     GVariant      *default_state,
                                     gint64        *out_round_num,
                                     GCancellable  *cancellable,
                                     GError       **error)
{
  g_autoptr(GVariant) sunk = NULL;
  g_autoptr(CkptEvents) events = NULL;
  CkptSettings settings;
  GVariant *value;

  g_return_val_if_fail (CKPT_IS_MANAGER (self), NULL);
  g_return_val_if_fail (default_state != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  sunk = g_variant_ref_sink (default_state);
  if (!ckpt_manager_check_ready (self, error))
    return NULL;

  events = ckpt_events_new ();
  ckpt_manager_snapshot_settings (self, &settings);

  value = ckpt_manager_load_latest_or_default_internal (self, sunk, &settings, out_round_num,
                                                        events, cancellable, error);
  ckpt_events_emit (events, self);
  return value;
}

/**
 * ckpt_manager_list_rounds:
 * @self: a manager
 * @n_rounds: (out): return location for the number of rounds
 * @error: return location for a #GError
 *
 * Lists the rounds of the checkpoints in the root, in ascending order.
 * Files whose names are not `<prefix><digits>` are not counted. A missing
 * root has no checkpoints.
 *
 * Returns: (transfer full) (array length=n_rounds): the rounds (an empty,
 *   non-%NULL array when there are none), or %NULL with @error set
 *
 * Since: 1.0
 */
gint64 *
ckpt_manager_list_rounds (CkptManager  *self,
                          gsize        *n_rounds,
                          GError      **error)
{
  g_return_val_if_fail (CKPT_IS_MANAGER (self), NULL);
  g_return_val_if_fail (n_rounds != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!ckpt_manager_check_ready (self, error))
    return NULL;

  return ckpt_manager_list_rounds_internal (self, n_rounds, NULL, error);
}

/**
 * ckpt_manager_query_info:
 * @self: a manager
 * @round_num: the round, zero or more
 * @flags: flags; with %CKPT_QUERY_VERIFY the checksum over the whole file
 *   is verified (which reads all of it); the header is checked either way
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Reads what the header of the checkpoint of @round_num says, without
 * loading its state. Fails as [method@Ckpt.Manager.load] does:
 * %CKPT_ERROR_NOT_FOUND, %CKPT_ERROR_CORRUPT (a damaged header, a file
 * holding another round, or with %CKPT_QUERY_VERIFY a checksum mismatch;
 * no signal is emitted), %CKPT_ERROR_UNSUPPORTED.
 *
 * Returns: (transfer full): the checkpoint's info, or %NULL with @error set
 *
 * Since: 1.0
 */
CkptInfo *
ckpt_manager_query_info (CkptManager     *self,
                         gint64           round_num,
                         CkptQueryFlags   flags,
                         GCancellable    *cancellable,
                         GError         **error)
{
  g_return_val_if_fail (CKPT_IS_MANAGER (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!ckpt_manager_check_ready (self, error))
    return NULL;

  return ckpt_manager_query_info_internal (self, round_num, flags, cancellable, error);
}

/**
 * ckpt_manager_delete:
 * @self: a manager
 * @round_num: the round, zero or more
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Deletes the checkpoint of @round_num, whatever its contents: this is the
 * way out when a damaged checkpoint is in the way of a save of its round
 * (see “Recovering from a damaged checkpoint” in the
 * [overview](overview.html)).
 * The file is not read.
 *
 * It runs under the writer lock that saves and retention take, and fails
 * with %CKPT_ERROR_NOT_FOUND if there is no checkpoint of @round_num (a
 * missing root is not created). On success [signal@Ckpt.Manager::pruned]
 * is emitted for @round_num. The deletion is not flushed to stable storage
 * on its own (the next durable save flushes the directory); after a crash
 * the file may be back, and can be deleted again.
 *
 * Returns: %TRUE if the checkpoint was deleted, %FALSE with @error set
 *   otherwise
 *
 * Since: 1.0
 */
gboolean
ckpt_manager_delete (CkptManager   *self,
                     gint64         round_num,
                     GCancellable  *cancellable,
                     GError       **error)
{
  g_autoptr(CkptEvents) events = NULL;
  gboolean ret;

  g_return_val_if_fail (CKPT_IS_MANAGER (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!ckpt_manager_check_ready (self, error))
    return FALSE;

  events = ckpt_events_new ();
  ret = ckpt_manager_delete_internal (self, round_num, events, cancellable, error);
  ckpt_events_emit (events, self);
  return ret;
}

/**
 * ckpt_manager_prune:
 * @self: a manager
 * @flags: flags; with %CKPT_PRUNE_DRY_RUN nothing is deleted, the call
 *   only says what would be
 * @n_pruned: (out): return location for the number of rounds returned
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Applies retention ([property@Ckpt.Manager:keep-total] and
 * [property@Ckpt.Manager:keep-first]) now, as a save does after writing,
 * under the same writer lock: damaged checkpoints do not count as kept (see
 * [property@Ckpt.Manager:keep-total]), and checkpoints not known intact are
 * read and verified to know. [signal@Ckpt.Manager::pruned] is emitted for
 * each deleted checkpoint, [signal@Ckpt.Manager::prune-failed] for each that
 * could not be deleted (not in a dry run), and
 * [signal@Ckpt.Manager::corrupt] for each damaged one left alone. A dry run
 * changes nothing on disk, and a missing root is not created: it has
 * nothing to prune.
 *
 * Returns: (transfer full) (array length=n_pruned): the rounds deleted (or
 *   that would be deleted), ascending; an empty, non-%NULL array when
 *   there are none; %NULL with @error set on failure (some rounds may have
 *   been deleted then; the signals say which)
 *
 * Since: 1.0
 */
gint64 *
ckpt_manager_prune (CkptManager     *self,
                    CkptPruneFlags   flags,
                    gsize           *n_pruned,
                    GCancellable    *cancellable,
                    GError         **error)
{
  g_autoptr(CkptEvents) events = NULL;
  CkptSettings settings;
  gint64 *pruned;

  g_return_val_if_fail (CKPT_IS_MANAGER (self), NULL);
  g_return_val_if_fail (n_pruned != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!ckpt_manager_check_ready (self, error))
    return NULL;

  ckpt_manager_snapshot_settings (self, &settings);
  events = ckpt_events_new ();
  pruned = ckpt_manager_prune_internal (self, flags, &settings, n_pruned, events, cancellable, error);
  ckpt_events_emit (events, self);
  return pruned;
}
