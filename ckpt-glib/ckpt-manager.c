/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * CkptManager, the GObject: the type and its documentation, the signals
 * (and which event kind each one delivers), construction and GInitable,
 * the constructors, and the accessors the other files of the manager use
 * (storage, queue, get_file). It may touch the instance struct
 * (ckpt-manager-object-private.h); it does no I/O. The properties are in
 * ckpt-manager-properties.c, the calls in ckpt-manager-calls.c and
 * ckpt-manager-async.c.
 */
#include "config.h"

#include <string.h>

#include "ckpt-error.h"
#include "ckpt-manager-object-private.h"

/**
 * CkptManager:
 *
 * Keeps numbered checkpoints of a [struct@GLib.Variant] state in one
 * directory.
 *
 * A checkpoint of round `N` is the file `<root>/<prefix>N`. Saving writes it
 * atomically and, unless [property@Ckpt.Manager:durable] is unset, durably:
 * when [method@Ckpt.Manager.save] returns, the checkpoint survives a crash or
 * a power cut. An existing checkpoint is never replaced. After each save the
 * retention policy ([property@Ckpt.Manager:keep-total] and
 * [property@Ckpt.Manager:keep-first]) deletes old checkpoints; damaged
 * checkpoints do not count as kept, and a save that retention would delete
 * at once is refused (%CKPT_ERROR_SUPERSEDED).
 *
 * Every load verifies the whole file (a checksum over every byte, the round
 * it holds, the type of the state, the normal form of the data): a torn or
 * damaged checkpoint is reported through [signal@Ckpt.Manager::corrupt] and
 * an error, never returned as data. [method@Ckpt.Manager.load_latest] falls
 * back to the newest checkpoint that is intact.
 *
 * ```c
 * g_autoptr(GError) error = NULL;
 * g_autoptr(CkptManager) manager = NULL;
 * g_autoptr(GVariant) state = NULL;
 * gint64 round_num;
 *
 * manager = ckpt_manager_new_for_path ("checkpoints", NULL, 3, TRUE, &error);
 * state = ckpt_manager_load_latest_or_default (manager,
 *                                              g_variant_new ("(xd)", 0, 1.0),
 *                                              &round_num, NULL, &error);
 * while (state != NULL && round_num < 100)
 *   {
 *     GVariant *next = simulate_one_round (state);
 *
 *     g_variant_unref (state);
 *     state = next;
 *     if (!ckpt_manager_save (manager, state, ++round_num, NULL, &error))
 *       g_error ("%s", error->message);
 *   }
 * ```
 *
 * The methods may be called from any thread; signals are emitted in the
 * thread that called the method. See the [thread model](threading.html).
 *
 * A manager made with g_object_new() (GJS's `new Ckpt.Manager({root: ...})`,
 * Vala's `Object (root: ...)`) is set up at construction and works without
 * [method@Gio.Initable.init]. A missing [property@Ckpt.Manager:root] or an
 * invalid [property@Ckpt.Manager:prefix] is then reported by
 * [method@Gio.Initable.init] and by every operation, as a
 * %CKPT_ERROR_INVALID_ARGUMENT error.
 *
 * Since: 1.0
 */

static void ckpt_manager_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (CkptManager, ckpt_manager, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      ckpt_manager_initable_iface_init))

/* One signal for each kind of event, indexed by it. */
static guint signals[CKPT_EVENT_N_KINDS];

guint
ckpt_manager_get_event_signal (CkptEventKind kind)
{
  g_return_val_if_fail (kind < CKPT_EVENT_N_KINDS, 0);

  return signals[kind];
}

/* Construction */

static gboolean
validate_prefix (const char  *prefix,
                 GError     **error)
{
  if (prefix[0] == '\0')
    {
      g_set_error_literal (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT,
                           "The checkpoint prefix must not be empty");
      return FALSE;
    }
  if (prefix[0] == '.')
    {
      g_set_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT,
                   "Invalid checkpoint prefix ‘%s’: it must not start with ‘.’", prefix);
      return FALSE;
    }
  if (strchr (prefix, '/') != NULL)
    {
      g_set_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT,
                   "Invalid checkpoint prefix ‘%s’: it must not contain ‘/’", prefix);
      return FALSE;
    }
  /* Else the names of two prefixes overlap: round 2 of "run2" is "run22",
   * which the manager of "run" would take for its round 22 (and prune). */
  if (g_ascii_isdigit (prefix[strlen (prefix) - 1]))
    {
      g_set_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT,
                   "Invalid checkpoint prefix ‘%s’: it must not end with a digit, "
                   "or its file names would read as other rounds of a shorter "
                   "prefix (add a separator such as ‘_’)", prefix);
      return FALSE;
    }
  /* Room for the round (19 digits) and a temp file's decoration. */
  if (strlen (prefix) > 200)
    {
      g_set_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT,
                   "Invalid checkpoint prefix: longer than 200 bytes");
      return FALSE;
    }
  if (!g_utf8_validate (prefix, -1, NULL))
    {
      g_set_error_literal (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT,
                           "Invalid checkpoint prefix: not valid UTF-8");
      return FALSE;
    }
  return TRUE;
}

/* Setup happens here, not in GInitable.init(), so that a manager made with
 * g_object_new() (as GJS's `new Ckpt.Manager({...})` and Vala's
 * `Object (...)` do) works without init(). What is wrong is kept and
 * reported by init() and by every operation. */
static void
ckpt_manager_constructed (GObject *object)
{
  CkptManager *self = CKPT_MANAGER (object);

  G_OBJECT_CLASS (ckpt_manager_parent_class)->constructed (object);

  if (self->root == NULL)
    g_set_error_literal (&self->construct_error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT,
                         "A checkpoint manager needs a root directory");
  else if (validate_prefix (self->prefix, &self->construct_error))
    self->storage = ckpt_storage_new (self->root, self->prefix, CKPT_STORAGE_FLAGS_NONE);
}

gboolean
ckpt_manager_check_ready (CkptManager  *self,
                          GError      **error)
{
  if (self->construct_error == NULL)
    return TRUE;
  if (error != NULL)
    *error = g_error_copy (self->construct_error);
  return FALSE;
}

static gboolean
ckpt_manager_initable_init (GInitable     *initable,
                            GCancellable  *cancellable,
                            GError       **error)
{
  return ckpt_manager_check_ready (CKPT_MANAGER (initable), error);
}

static void
ckpt_manager_initable_iface_init (GInitableIface *iface)
{
  iface->init = ckpt_manager_initable_init;
}

static void
ckpt_manager_finalize (GObject *object)
{
  CkptManager *self = CKPT_MANAGER (object);

  g_clear_pointer (&self->storage, ckpt_storage_free);
  g_clear_error (&self->construct_error);
  g_clear_pointer (&self->queue, ckpt_queue_unref);
  g_clear_object (&self->root);
  g_clear_pointer (&self->prefix, g_free);

  G_OBJECT_CLASS (ckpt_manager_parent_class)->finalize (object);
}

static void
ckpt_manager_class_init (CkptManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = ckpt_manager_constructed;
  object_class->finalize = ckpt_manager_finalize;

  ckpt_manager_class_install_properties (object_class);

  /**
   * CkptManager::saved:
   * @self: the manager
   * @round_num: the round that was saved
   * @file: the checkpoint's file
   *
   * Emitted after a checkpoint was saved: it is in place (and durable, if
   * [property@Ckpt.Manager:durable] is set) and retention has run. It is
   * emitted before the [signal@Ckpt.Manager::pruned],
   * [signal@Ckpt.Manager::prune-failed] and [signal@Ckpt.Manager::corrupt]
   * signals of that save's retention.
   *
   * Since: 1.0
   */
  signals[CKPT_EVENT_SAVED] =
    g_signal_new ("saved",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_FILE);

  /**
   * CkptManager::pruned:
   * @self: the manager
   * @round_num: the round that was deleted
   * @file: the file that was deleted
   *
   * Emitted for each checkpoint deleted by retention (after a save, or by
   * [method@Ckpt.Manager.prune]), in ascending order of rounds, or by
   * [method@Ckpt.Manager.delete].
   *
   * Since: 1.0
   */
  signals[CKPT_EVENT_PRUNED] =
    g_signal_new ("pruned",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_FILE);

  /**
   * CkptManager::corrupt:
   * @self: the manager
   * @round_num: the round of the damaged checkpoint
   * @file: the damaged file
   * @error: what is wrong with it, in the `CKPT_ERROR` domain
   *
   * Emitted when a load, or retention checking what it keeps, finds a
   * damaged checkpoint (truncated, altered, not a checkpoint, or holding
   * another round). The file is left as it is, for inspection; it is never
   * returned as data, and it does not count as one of the checkpoints
   * retention keeps.
   *
   * Since: 1.0
   */
  signals[CKPT_EVENT_CORRUPT] =
    g_signal_new ("corrupt",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_INT64, G_TYPE_FILE, G_TYPE_ERROR);

  /**
   * CkptManager::prune-failed:
   * @self: the manager
   * @round_num: the round that retention could not delete
   * @file: the checkpoint's file, still there
   * @error: why it could not be deleted
   *
   * Emitted, like [signal@Ckpt.Manager::pruned], once for each checkpoint
   * that retention meant to delete but could not (a permission, an I/O
   * error, a file system gone read-only; or, with
   * [property@Ckpt.Manager:durable] unset, because no newer checkpoint
   * could be flushed to disk first). The save that ran retention still
   * succeeds: the checkpoint is left in place, and the next save or
   * [method@Ckpt.Manager.prune] tries again.
   *
   * Since: 1.0
   */
  signals[CKPT_EVENT_PRUNE_FAILED] =
    g_signal_new ("prune-failed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_INT64, G_TYPE_FILE, G_TYPE_ERROR);
}

static void
ckpt_manager_init (CkptManager *self)
{
  self->prefix = g_strdup (CKPT_MANAGER_DEFAULT_PREFIX);
  self->keep_total = CKPT_MANAGER_DEFAULT_KEEP_TOTAL;
  self->keep_first = TRUE;
  self->durable = TRUE;
  self->verify = TRUE;
  self->queue = ckpt_queue_new ();
}

/**
 * ckpt_manager_new:
 * @root: the directory of the checkpoints; it need not exist yet
 * @prefix: (nullable): the file name prefix, or %NULL for `"ckpt_"`
 * @keep_total: how many checkpoints to keep; zero or less keeps all
 * @keep_first: whether to keep the first checkpoint forever
 * @error: return location for a #GError
 *
 * Creates a manager of the checkpoints `<root>/<prefix>N`. Construction does
 * no I/O; an invalid @prefix (see [property@Ckpt.Manager:prefix]: empty,
 * containing `/`, starting with `.` or ending with a digit) fails with
 * %CKPT_ERROR_INVALID_ARGUMENT.
 *
 * Returns: (transfer full): a new manager, or %NULL on error
 *
 * Since: 1.0
 */
CkptManager *
ckpt_manager_new (GFile       *root,
                  const char  *prefix,
                  int          keep_total,
                  gboolean     keep_first,
                  GError     **error)
{
  g_return_val_if_fail (G_IS_FILE (root), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (CKPT_TYPE_MANAGER, NULL, error,
                         "root", root,
                         "prefix", prefix,
                         "keep-total", keep_total,
                         "keep-first", keep_first,
                         NULL);
}

/**
 * ckpt_manager_new_for_path:
 * @path: (type filename): the directory of the checkpoints; it need not
 *   exist yet
 * @prefix: (nullable): the file name prefix, or %NULL for `"ckpt_"`
 * @keep_total: how many checkpoints to keep; zero or less keeps all
 * @keep_first: whether to keep the first checkpoint forever
 * @error: return location for a #GError
 *
 * Like [ctor@Ckpt.Manager.new], for a local path.
 *
 * Returns: (transfer full): a new manager, or %NULL on error
 *
 * Since: 1.0
 */
CkptManager *
ckpt_manager_new_for_path (const char  *path,
                           const char  *prefix,
                           int          keep_total,
                           gboolean     keep_first,
                           GError     **error)
{
  g_autoptr(GFile) root = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  root = g_file_new_for_path (path);
  return ckpt_manager_new (root, prefix, keep_total, keep_first, error);
}

/* Accessors for the other files of the manager */

CkptStorage *
ckpt_manager_get_storage (CkptManager *self)
{
  return self->storage;
}

CkptQueue *
ckpt_manager_get_queue (CkptManager *self)
{
  return self->queue;
}

char *
ckpt_manager_describe_file (CkptManager *self,
                            gint64       round_num)
{
  g_autoptr(GFile) file = ckpt_manager_get_file (self, round_num);

  return g_file_get_parse_name (file);
}

char *
ckpt_manager_describe_root (CkptManager *self)
{
  return g_file_get_parse_name (self->root);
}

void
ckpt_manager_set_storage_flags (CkptManager      *self,
                                CkptStorageFlags  flags)
{
  g_return_if_fail (CKPT_IS_MANAGER (self));
  g_return_if_fail (self->storage != NULL);

  ckpt_storage_free (self->storage);
  self->storage = ckpt_storage_new (self->root, self->prefix, flags);
}

/**
 * ckpt_manager_get_file:
 * @self: a manager
 * @round_num: a round, zero or more
 *
 * Gets the file that holds, or would hold, the checkpoint of @round_num.
 *
 * A manager made with g_object_new() without a root, or with an invalid
 * prefix, has no checkpoint files: this returns %NULL then (see
 * [method@Gio.Initable.init] for why).
 *
 * Returns: (transfer full) (nullable): the file `<root>/<prefix><round_num>`,
 *   or %NULL if the manager could not be set up
 *
 * Since: 1.0
 */
GFile *
ckpt_manager_get_file (CkptManager *self,
                       gint64       round_num)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (CKPT_IS_MANAGER (self), NULL);
  g_return_val_if_fail (round_num >= 0, NULL);

  if (self->storage == NULL)
    return NULL;

  name = ckpt_storage_build_name (self->prefix, round_num);
  return g_file_get_child (self->root, name);
}

