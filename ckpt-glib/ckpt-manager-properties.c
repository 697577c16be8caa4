/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The properties of CkptManager: their specs (with their documentation),
 * GObject's get/set_property, the public getters and setters, the count
 * of async operations behind CkptManager:busy, and the snapshot of the
 * settings an operation runs with. It may touch the instance struct
 * (ckpt-manager-object-private.h): the settings are atomic, so that any
 * thread may set or snapshot them; it does no I/O.
 */
#include "config.h"

#include "ckpt-manager-object-private.h"

enum {
  PROP_0,
  PROP_ROOT,
  PROP_PREFIX,
  PROP_KEEP_TOTAL,
  PROP_KEEP_FIRST,
  PROP_DURABLE,
  PROP_VERIFY,
  PROP_BUSY,
  PROP_DURABLE_STORAGE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
ckpt_manager_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  CkptManager *self = CKPT_MANAGER (object);

  switch (prop_id)
    {
    case PROP_ROOT:
      g_value_set_object (value, self->root);
      break;
    case PROP_PREFIX:
      g_value_set_string (value, self->prefix);
      break;
    case PROP_KEEP_TOTAL:
      g_value_set_int (value, ckpt_manager_get_keep_total (self));
      break;
    case PROP_KEEP_FIRST:
      g_value_set_boolean (value, ckpt_manager_get_keep_first (self));
      break;
    case PROP_DURABLE:
      g_value_set_boolean (value, ckpt_manager_get_durable (self));
      break;
    case PROP_VERIFY:
      g_value_set_boolean (value, ckpt_manager_get_verify (self));
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, ckpt_manager_get_busy (self));
      break;
    case PROP_DURABLE_STORAGE:
      g_value_set_boolean (value, ckpt_manager_get_durable_storage (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ckpt_manager_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  CkptManager *self = CKPT_MANAGER (object);

  switch (prop_id)
    {
    case PROP_ROOT:
      g_set_object (&self->root, g_value_get_object (value));
      break;
    case PROP_PREFIX:
      if (g_value_get_string (value) != NULL)
        {
          g_free (self->prefix);
          self->prefix = g_value_dup_string (value);
        }
      break;
    case PROP_KEEP_TOTAL:
      ckpt_manager_set_keep_total (self, g_value_get_int (value));
      break;
    case PROP_KEEP_FIRST:
      ckpt_manager_set_keep_first (self, g_value_get_boolean (value));
      break;
    case PROP_DURABLE:
      ckpt_manager_set_durable (self, g_value_get_boolean (value));
      break;
    case PROP_VERIFY:
      ckpt_manager_set_verify (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

void
ckpt_manager_class_install_properties (GObjectClass *object_class)
{
  object_class->get_property = ckpt_manager_get_property;
  object_class->set_property = ckpt_manager_set_property;

  /**
   * CkptManager:root: (getter get_root)
   *
   * The directory that holds the checkpoints. It need not exist: it is
   * created, with its parents, by the first save.
   *
   * A local directory gets the durable commit protocol (fsync of the file
   * and of the directory, a no-replace link, a writer lock); any other
   * [iface@Gio.File] is written with GIO's own operations and is as durable
   * as its back end makes it.
   *
   * Since: 1.0
   */
  properties[PROP_ROOT] =
    g_param_spec_object ("root", NULL, NULL,
                         G_TYPE_FILE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * CkptManager:prefix: (getter get_prefix)
   *
   * The file name prefix of checkpoints: round `N` is the file
   * `<prefix>N`. It must not be empty, contain `/`, start with `.` or end
   * with an ASCII digit (the files of `run2` would read as rounds of `run`:
   * its round 2, `run22`, as round 22).
   *
   * Since: 1.0
   */
  properties[PROP_PREFIX] =
    g_param_spec_string ("prefix", NULL, NULL,
                         CKPT_MANAGER_DEFAULT_PREFIX,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * CkptManager:keep-total: (getter get_keep_total) (setter set_keep_total)
   *
   * How many checkpoints to keep: after each save, all but the newest
   * `keep-total` are deleted (the first one counting among them when
   * [property@Ckpt.Manager:keep-first] is set). Zero or less keeps every
   * checkpoint.
   *
   * Only checkpoints that verify fill these places: a damaged checkpoint
   * among the newest is left alone (and reported with
   * [signal@Ckpt.Manager::corrupt]), and one more older intact checkpoint is
   * kept instead, so the newest checkpoint that verifies is never deleted.
   * Checkpoints this manager wrote, or verified, and that nobody changed
   * since, are known intact; others are read and verified once when
   * retention needs to know.
   *
   * Since: 1.0
   */
  properties[PROP_KEEP_TOTAL] =
    g_param_spec_int ("keep-total", NULL, NULL,
                      G_MININT, G_MAXINT, CKPT_MANAGER_DEFAULT_KEEP_TOTAL,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * CkptManager:keep-first: (getter get_keep_first) (setter set_keep_first)
   *
   * Whether the first (lowest-numbered) checkpoint is kept forever. It
   * counts towards [property@Ckpt.Manager:keep-total], but the newest
   * checkpoint is never deleted: with a `keep-total` of 1 the first and the
   * newest are kept.
   *
   * Since: 1.0
   */
  properties[PROP_KEEP_FIRST] =
    g_param_spec_boolean ("keep-first", NULL, NULL,
                          TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * CkptManager:durable: (getter get_durable) (setter set_durable)
   *
   * Whether a save flushes the checkpoint and its directory to stable
   * storage (fsync) before it returns. Without it a save is still atomic
   * (a crash of the program leaves the old or the new checkpoint, never a
   * torn one), but after a power cut the checkpoints saved since the last
   * flush may be missing or damaged (and are then skipped by
   * [method@Ckpt.Manager.load_latest]). Never all of them: an older
   * checkpoint is deleted only once a newer one is on disk. Before
   * retention deletes anything, it flushes the newest checkpoint, unless one
   * newer than what it deletes was flushed by an earlier save and is
   * unchanged since; so with keep-total N (less the first), one save in N
   * flushes a file and its directory. Saves that delete nothing flush
   * nothing.
   *
   * Only a root on a local file system (including kernel mounts such as
   * NFS) can be flushed: see [property@Ckpt.Manager:durable-storage]. On
   * other roots this property has no effect.
   *
   * Since: 1.0
   */
  properties[PROP_DURABLE] =
    g_param_spec_boolean ("durable", NULL, NULL,
                          TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * CkptManager:verify: (getter get_verify) (setter set_verify)
   *
   * Whether loads verify checkpoints: the checksum over every byte of the
   * file and the normal form of the state. Unset it only for files you
   * trust (written by this machine, on storage you trust): a load then
   * costs about as much as opening and mapping the file, whatever its size,
   * and a damaged file may return wrong values instead of an error (it
   * never makes the program crash). The header is checked either way.
   *
   * Since: 1.0
   */
  properties[PROP_VERIFY] =
    g_param_spec_boolean ("verify", NULL, NULL,
                          TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * CkptManager:busy: (getter get_busy)
   *
   * Whether an asynchronous operation of this manager is in flight (started
   * and its callback not yet run), so that a user interface can show it.
   * It is notified in the context of the caller whose operation made it
   * change. Synchronous calls do not count.
   *
   * Since: 1.0
   */
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * CkptManager:durable-storage: (getter get_durable_storage)
   *
   * Whether the storage of [property@Ckpt.Manager:root] can flush a save
   * to stable storage before the save returns. Saves are durable when both
   * this and [property@Ckpt.Manager:durable] are set.
   *
   * It is set for roots with a local path (local file systems and kernel
   * mounts such as NFS or CIFS, whose durability is then what the server
   * gives to `fsync`). It is unset for roots that GVfs serves (`sftp://`,
   * `dav://`, `smb://`…): GIO has no call to flush a file, and a save
   * there is on the server when it returns, but possibly only in the
   * server's memory. See the [remote storage page](remote.html).
   *
   * Since: 1.0
   */
  properties[PROP_DURABLE_STORAGE] =
    g_param_spec_boolean ("durable-storage", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

/* The public accessors */

/**
 * ckpt_manager_get_root: (get-property root)
 * @self: a manager
 *
 * Gets the directory of the checkpoints.
 *
 * Returns: (transfer none) (nullable): the root directory, or %NULL for a
 *   manager made with g_object_new() without one
 *
 * Since: 1.0
 */
GFile *
ckpt_manager_get_root (CkptManager *self)
{
  g_return_val_if_fail (CKPT_IS_MANAGER (self), NULL);

  return self->root;
}

/**
 * ckpt_manager_get_prefix: (get-property prefix)
 * @self: a manager
 *
 * Gets the file name prefix of the checkpoints.
 *
 * Returns: (transfer none): the prefix
 *
 * Since: 1.0
 */
const char *
ckpt_manager_get_prefix (CkptManager *self)
{
  g_return_val_if_fail (CKPT_IS_MANAGER (self), NULL);

  return self->prefix;
}

/**
 * ckpt_manager_get_keep_total: (get-property keep-total)
 * @self: a manager
 *
 * Gets how many checkpoints retention keeps.
 *
 * Returns: the number kept; zero or less means all
 *
 * Since: 1.0
 */
int
ckpt_manager_get_keep_total (CkptManager *self)
{
  g_return_val_if_fail (CKPT_IS_MANAGER (self), 0);

  return g_atomic_int_get (&self->keep_total);
}

/**
 * ckpt_manager_set_keep_total: (set-property keep-total)
 * @self: a manager
 * @keep_total: how many checkpoints to keep; zero or less keeps all
 *
 * Sets how many checkpoints retention keeps. It applies from the next save.
 *
 * Since: 1.0
 */
void
ckpt_manager_set_keep_total (CkptManager *self,
                             int          keep_total)
{
  g_return_if_fail (CKPT_IS_MANAGER (self));

  if (g_atomic_int_get (&self->keep_total) == keep_total)
    return;
  g_atomic_int_set (&self->keep_total, keep_total);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KEEP_TOTAL]);
}

/**
 * ckpt_manager_get_keep_first: (get-property keep-first)
 * @self: a manager
 *
 * Gets whether the first checkpoint is kept forever.
 *
 * Returns: whether the first checkpoint is kept
 *
 * Since: 1.0
 */
gboolean
ckpt_manager_get_keep_first (CkptManager *self)
{
  g_return_val_if_fail (CKPT_IS_MANAGER (self), FALSE);

  return g_atomic_int_get (&self->keep_first);
}

/**
 * ckpt_manager_set_keep_first: (set-property keep-first)
 * @self: a manager
 * @keep_first: whether to keep the first checkpoint forever
 *
 * Sets whether the first checkpoint is kept forever. It applies from the
 * next save.
 *
 * Since: 1.0
 */
void
ckpt_manager_set_keep_first (CkptManager *self,
                             gboolean     keep_first)
{
  g_return_if_fail (CKPT_IS_MANAGER (self));

  keep_first = !!keep_first;
  if (g_atomic_int_get (&self->keep_first) == keep_first)
    return;
  g_atomic_int_set (&self->keep_first, keep_first);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KEEP_FIRST]);
}

/**
 * ckpt_manager_get_durable: (get-property durable)
 * @self: a manager
 *
 * Gets whether saves are flushed to stable storage before they return.
 *
 * Returns: whether saves are durable
 *
 * Since: 1.0
 */
gboolean
ckpt_manager_get_durable (CkptManager *self)
{
  g_return_val_if_fail (CKPT_IS_MANAGER (self), FALSE);

  return g_atomic_int_get (&self->durable);
}

/**
 * ckpt_manager_set_durable: (set-property durable)
 * @self: a manager
 * @durable: whether saves are flushed to stable storage
 *
 * Sets whether saves are flushed to stable storage (fsync of the file and
 * of the directory) before they return. It applies from the next save.
 *
 * Since: 1.0
 */
void
ckpt_manager_set_durable (CkptManager *self,
                          gboolean     durable)
{
  g_return_if_fail (CKPT_IS_MANAGER (self));

  durable = !!durable;
  if (g_atomic_int_get (&self->durable) == durable)
    return;
  g_atomic_int_set (&self->durable, durable);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DURABLE]);
}

/**
 * ckpt_manager_get_durable_storage: (get-property durable-storage)
 * @self: a manager
 *
 * Gets whether the storage of the manager's root can flush saves to
 * stable storage. Saves are durable when this returns %TRUE and
 * [property@Ckpt.Manager:durable] is set; see
 * [property@Ckpt.Manager:durable-storage].
 *
 * Returns: whether saves to this root can be durable
 *
 * Since: 1.0
 */
gboolean
ckpt_manager_get_durable_storage (CkptManager *self)
{
  g_return_val_if_fail (CKPT_IS_MANAGER (self), FALSE);

  return self->storage != NULL && ckpt_storage_is_durable (self->storage);
}

/**
 * ckpt_manager_get_verify: (get-property verify)
 * @self: a manager
 *
 * Gets whether loads verify the checksum and the normal form of
 * checkpoints.
 *
 * Returns: whether loads are verified
 *
 * Since: 1.0
 */
gboolean
ckpt_manager_get_verify (CkptManager *self)
{
  g_return_val_if_fail (CKPT_IS_MANAGER (self), TRUE);

  return g_atomic_int_get (&self->verify);
}

/**
 * ckpt_manager_set_verify: (set-property verify)
 * @self: a manager
 * @verify: whether loads verify checkpoints
 *
 * Sets whether loads verify the checksum and the normal form of
 * checkpoints; see [property@Ckpt.Manager:verify]. It applies from the next
 * load.
 *
 * Since: 1.0
 */
void
ckpt_manager_set_verify (CkptManager *self,
                         gboolean     verify)
{
  g_return_if_fail (CKPT_IS_MANAGER (self));

  verify = !!verify;
  if (g_atomic_int_get (&self->verify) == verify)
    return;
  g_atomic_int_set (&self->verify, verify);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VERIFY]);
}

/**
 * ckpt_manager_get_busy: (get-property busy)
 * @self: a manager
 *
 * Gets whether an asynchronous operation of @self is in flight.
 *
 * Returns: whether the manager is busy
 *
 * Since: 1.0
 */
gboolean
ckpt_manager_get_busy (CkptManager *self)
{
  g_return_val_if_fail (CKPT_IS_MANAGER (self), FALSE);

  return g_atomic_int_get (&self->n_in_flight) > 0;
}

/* The busy count: op_started and op_finished in the caller's context (so
 * that the notification is emitted there), op_dropped in any thread. */

void
ckpt_manager_op_started (CkptManager *self)
{
  if (g_atomic_int_add (&self->n_in_flight, 1) == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

void
ckpt_manager_op_finished (CkptManager *self)
{
  if (g_atomic_int_dec_and_test (&self->n_in_flight))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

void
ckpt_manager_op_dropped (CkptManager *self)
{
  g_atomic_int_add (&self->n_in_flight, -1);
}

/* The settings snapshot */

void
ckpt_manager_snapshot_settings (CkptManager  *self,
                                CkptSettings *out_settings)
{
  out_settings->keep_total = ckpt_manager_get_keep_total (self);
  out_settings->keep_first = ckpt_manager_get_keep_first (self);
  out_settings->durable = ckpt_manager_get_durable (self);
  out_settings->verify = ckpt_manager_get_verify (self);
}

