/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "ckpt-error.h"
#include "ckpt-format-private.h"
#include "ckpt-info-private.h"
#include "ckpt-manager-private.h"
#include "ckpt-retention-private.h"

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

struct _CkptManager
{
  GObject      parent_instance;

  GFile       *root;
  char        *prefix;
  int          keep_total;   /* atomic */
  int          keep_first;   /* atomic */
  int          durable;      /* atomic */
  int          verify;       /* atomic */

  CkptStorage *storage;      /* NULL when construction failed */
  GError      *construct_error;
  CkptQueue   *queue;        /* async operations, in call order */
  int          n_in_flight;  /* atomic: async operations not yet finished */
};

static void ckpt_manager_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (CkptManager, ckpt_manager, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      ckpt_manager_initable_iface_init))

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

enum {
  SIGNAL_SAVED,
  SIGNAL_PRUNED,
  SIGNAL_CORRUPT,
  SIGNAL_PRUNE_FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Events: what an operation did, emitted afterwards in the right thread. */

typedef struct
{
  guint   signal_id;
  gint64  round_num;
  GError *error;
} CkptEvent;

struct _CkptEvents
{
  GArray *items;
};

static void
ckpt_event_clear (gpointer data)
{
  CkptEvent *event = data;

  g_clear_error (&event->error);
}

CkptEvents *
ckpt_events_new (void)
{
  CkptEvents *events = g_new0 (CkptEvents, 1);

  events->items = g_array_new (FALSE, FALSE, sizeof (CkptEvent));
  g_array_set_clear_func (events->items, ckpt_event_clear);
  return events;
}

void
ckpt_events_free (CkptEvents *events)
{
  if (events == NULL)
    return;
  g_array_unref (events->items);
  g_free (events);
}

static void
ckpt_events_add (CkptEvents   *events,
                 guint         signal_id,
                 gint64        round_num,
                 const GError *error)
{
  CkptEvent event = { signal_id, round_num, error != NULL ? g_error_copy (error) : NULL };

  if (events != NULL)
    g_array_append_val (events->items, event);
  else
    g_clear_error (&event.error);
}

void
ckpt_manager_emit_events (CkptManager *self,
                          CkptEvents  *events)
{
  guint i;

  g_return_if_fail (CKPT_IS_MANAGER (self));
  g_return_if_fail (events != NULL);

  for (i = 0; i < events->items->len; i++)
    {
      CkptEvent *event = &g_array_index (events->items, CkptEvent, i);
      g_autoptr(GFile) file = ckpt_manager_get_file (self, event->round_num);

      if (event->error != NULL)
        g_signal_emit (self, event->signal_id, 0, event->round_num, file, event->error);
      else
        g_signal_emit (self, event->signal_id, 0, event->round_num, file);
    }
  g_array_set_size (events->items, 0);
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

static void
ckpt_manager_class_init (CkptManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = ckpt_manager_constructed;
  object_class->finalize = ckpt_manager_finalize;
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
   * flushes a file (none of the directory). Saves that delete nothing flush
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
  signals[SIGNAL_SAVED] =
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
  signals[SIGNAL_PRUNED] =
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
  signals[SIGNAL_CORRUPT] =
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
  signals[SIGNAL_PRUNE_FAILED] =
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

/* Properties */

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

CkptQueue *
ckpt_manager_get_queue (CkptManager *self)
{
  return self->queue;
}

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

void
ckpt_manager_get_params (CkptManager    *self,
                              CkptParams *out_params)
{
  out_params->keep_total = ckpt_manager_get_keep_total (self);
  out_params->keep_first = ckpt_manager_get_keep_first (self);
  out_params->durable = ckpt_manager_get_durable (self);
  out_params->verify = ckpt_manager_get_verify (self);
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

/* Operations */

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

static char *
describe_file (CkptManager *self,
               gint64       round_num)
{
  g_autoptr(GFile) file = ckpt_manager_get_file (self, round_num);

  return g_file_get_parse_name (file);
}

static char *
describe_root (CkptManager *self)
{
  return g_file_get_parse_name (self->root);
}

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

  bytes = ckpt_storage_read_full (check->self->storage, round_num, CKPT_STORAGE_READ_PREFAULT, NULL,
                                  check->cancellable, &local_error);
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
      g_autofree char *where = describe_file (check->self, round_num);

      g_prefix_error (&local_error, "Checkpoint ‘%s’ is damaged: ", where);
      ckpt_events_add (check->events, signals[SIGNAL_CORRUPT], round_num, local_error);
    }
  return FALSE;
}

/* The checkpoints retention deletes now, from the listing of @txn: the
 * policy of @params, where damaged checkpoints do not take the place of
 * intact ones. @out_anchor: the oldest intact one kept, see
 * ckpt_retention_select_checked(). */
static GArray *
select_victims (CkptManager       *self,
                CkptStorageTxn    *txn,
                const gint64      *rounds,
                gsize              n_rounds,
                const CkptParams  *params,
                CkptEvents        *events,
                GCancellable      *cancellable,
                gint64            *out_anchor)
{
  IntactCheck check = { self, txn, events, cancellable };
  gboolean all_known = ckpt_storage_txn_all_known_intact (txn);

  /* The usual case, a writer that wrote what it keeps, costs no check a
   * round (10,000 kept cost as little as 10). */
  return ckpt_retention_select_checked (rounds, n_rounds, params->keep_total, params->keep_first,
                                        all_known ? NULL : check_intact, &check, out_anchor);
}

/* Retention, under the writer lock of @txn: deletes (or with @dry_run,
 * only lists into @out_pruned) what the policy of @params does not keep,
 * recording a `pruned` event for each deletion and a `prune-failed` event
 * for each checkpoint that could not be deleted. A save that is not
 * durable first flushes the oldest intact checkpoint that is kept, so that
 * a power cut never leaves fewer checkpoints than before the save. Returns
 * FALSE with @error for a failure to list, or the first failure to delete
 * (after trying the others). */
static gboolean
apply_retention (CkptManager       *self,
                 CkptStorageTxn    *txn,
                 const CkptParams  *params,
                 gboolean           dry_run,
                 CkptEvents        *events,
                 GArray            *out_pruned,
                 GCancellable      *cancellable,
                 GError           **error)
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
  victims = select_victims (self, txn, rounds, n_rounds, params, events, cancellable, &anchor);
  /* The checkpoint to flush before deleting, if the save is not durable:
   * the newest one known intact (normally the one just saved), so that it
   * also covers the victims of the next saves; else the oldest one kept. */
  if (victims->len > 0 && !params->durable)
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
  if (victims->len > 0 && !params->durable && anchor >= 0)
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
                ckpt_events_add (events, signals[SIGNAL_PRUNE_FAILED],
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
          ckpt_events_add (events, signals[SIGNAL_PRUNED], victim, NULL);
          if (out_pruned != NULL)
            g_array_append_val (out_pruned, victim);
        }
      else
        {
          ckpt_events_add (events, signals[SIGNAL_PRUNE_FAILED], victim, local_error);
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
static gboolean
check_not_superseded (CkptManager       *self,
                      CkptStorageTxn    *txn,
                      gint64             round_num,
                      const CkptParams  *params,
                      CkptEvents        *events,
                      GCancellable      *cancellable,
                      GError           **error)
{
  IntactCheck check = { self, txn, events, cancellable };
  gsize keep_newest = ckpt_retention_keep_newest (params->keep_total, params->keep_first);
  gsize n_rounds = 0, lo, hi, n_newer, n_intact = 0, i;
  const gint64 *rounds;
  g_autofree char *where = NULL;
  gint64 oldest_newer = -1;

  if (keep_newest == 0)
    return TRUE;
  rounds = ckpt_storage_txn_borrow_rounds (txn, &n_rounds, error);
  if (rounds == NULL)
    return FALSE;

  /* The first round is kept forever: a round older than every other
   * becomes the first. */
  if (n_rounds == 0 || (params->keep_first && round_num < rounds[0]))
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
  for (i = n_rounds; i > lo && n_intact < keep_newest; i--)
    if (ckpt_storage_txn_all_known_intact (txn) || check_intact (rounds[i - 1], &check))
      {
        n_intact++;
        oldest_newer = rounds[i - 1];
      }
  if (n_intact < keep_newest)
    return TRUE;

  where = describe_root (self);
  g_set_error (error, CKPT_ERROR, CKPT_ERROR_SUPERSEDED,
               "Cannot save round %" G_GINT64_FORMAT " in ‘%s’: %" G_GSIZE_FORMAT
               " newer checkpoints (rounds %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
               ") fill the %" G_GSIZE_FORMAT " places that keep-total %d%s keeps for the newest, "
               "so retention would delete it as soon as it is saved. Nothing was written. "
               "Delete the newer checkpoints first, or raise keep-total",
               round_num, where, n_newer, oldest_newer, rounds[n_rounds - 1], keep_newest,
               params->keep_total, params->keep_first ? " (with keep-first)" : "");
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
  g_autofree char *where = describe_file (self, round_num);

  gboolean shared = FALSE;

  bytes = ckpt_storage_read_full (self->storage, round_num, CKPT_STORAGE_READ_PREFAULT,
                                  &shared, cancellable, &damage);
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
      g_autofree char *dir = describe_root (self);
      g_autofree char *prefix_option = NULL;

      if (g_strcmp0 (self->prefix, CKPT_MANAGER_DEFAULT_PREFIX) != 0)
        prefix_option = g_strdup_printf ("--prefix=%s ", self->prefix);
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

gboolean
ckpt_manager_save_internal (CkptManager          *self,
                            GVariant             *state,
                            gint64                round_num,
                            const CkptParams *params,
                            CkptEvents           *events,
                            GCancellable         *cancellable,
                            GError              **error)
{
  return ckpt_manager_save_full_internal (self, state, round_num, NULL, params, events,
                                          cancellable, error);
}

/* @metadata: (nullable): an a{sv} merged into the header's metadata */
gboolean
ckpt_manager_save_full_internal (CkptManager          *self,
                                 GVariant             *state,
                                 gint64                round_num,
                                 GVariant             *metadata,
                                 const CkptParams     *params,
                                 CkptEvents           *events,
                                 GCancellable         *cancellable,
                                 GError              **error)
{
  g_autoptr(GBytes) header = NULL;
  g_autoptr(CkptPayload) payload = NULL;
  g_autoptr(CkptStorageTxn) txn = NULL;

  if (!check_round (round_num, error))
    return FALSE;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  /* Serialise before taking the writer lock. The storage computes the
   * checksum: a large payload is hashed while the disk writes it (durable
   * saves) or on a second thread during the write, rather than in a pass of
   * its own before (see ckpt-seal.c). */
  ckpt_format_encode_payload (state, round_num, g_get_real_time (), metadata,
                              CKPT_FORMAT_ENCODE_UNSEALED, &header, &payload);

  txn = ckpt_storage_begin (self->storage, cancellable, error);
  if (txn == NULL)
    return FALSE;

  if (!check_not_superseded (self, txn, round_num, params, events, cancellable, error))
    return FALSE;

  if (!ckpt_storage_txn_commit_full (txn, round_num, header, payload,
                                     CKPT_STORAGE_COMMIT_UNSEALED, params->durable,
                                     cancellable, error))
    {
      if (error != NULL && g_error_matches (*error, CKPT_ERROR, CKPT_ERROR_EXISTS))
        explain_exists (self, round_num, cancellable, error);
      return FALSE;
    }

  ckpt_events_add (events, signals[SIGNAL_SAVED], round_num, NULL);
  if (params->durable && ckpt_storage_is_durable (self->storage) &&
      round_num > ckpt_storage_txn_get_flushed (txn))
    ckpt_storage_txn_set_flushed (txn, round_num);

  /* The checkpoint is saved: from here on, failures to prune are reported
   * (`prune-failed`) but do not fail the save (nothing is lost, a later
   * save prunes again). Deletions are not flushed: a crash may bring an
   * old checkpoint back, which the next save prunes. */
  apply_retention (self, txn, params, FALSE, events, NULL, cancellable, NULL);

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

  bytes = ckpt_storage_read_full (self->storage, round_num,
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
      g_autofree char *where = describe_file (self, round_num);

      g_set_error (error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND,
                   "No checkpoint of round %" G_GINT64_FORMAT " (‘%s’)", round_num, where);
      return NULL;
    }
  g_propagate_error (error, g_steal_pointer (&local_error));
  return NULL;
}

GVariant *
ckpt_manager_load_internal (CkptManager         *self,
                            const GVariantType  *type,
                            gint64               round_num,
                            const CkptParams    *params,
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

  bytes = read_checkpoint (self, round_num, params->verify, &shared, cancellable, error);
  if (bytes == NULL)
    return NULL;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  /* A mapping is never trusted, verified or not: the file may change
   * while the value is alive. */
  if (!params->verify)
    flags |= CKPT_FORMAT_DECODE_NO_VERIFY;
  if (shared)
    flags |= CKPT_FORMAT_DECODE_SHARED;
  value = ckpt_format_decode (bytes, round_num, type, flags, NULL, &local_error);
  if (value == NULL)
    {
      g_autofree char *where = describe_file (self, round_num);

      if (g_error_matches (local_error, CKPT_ERROR, CKPT_ERROR_CORRUPT))
        {
          g_prefix_error (&local_error, "Checkpoint ‘%s’ is damaged: ", where);
          ckpt_events_add (events, signals[SIGNAL_CORRUPT], round_num, local_error);
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
                                   const CkptParams    *params,
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

  rounds = ckpt_storage_list (self->storage, &n_rounds, cancellable, error);
  if (rounds == NULL)
    return NULL;

  for (i = n_rounds; i-- > 0;)
    {
      g_autoptr(GError) local_error = NULL;
      GVariant *value;

      value = ckpt_manager_load_internal (self, type, rounds[i], params, events, cancellable, &local_error);
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
      g_autofree char *where = describe_root (self);

      g_set_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT,
                   "All %" G_GSIZE_FORMAT " checkpoints in ‘%s’ are damaged; the newest: %s",
                   n_corrupt, where, first_corrupt->message);
    }

  return NULL;
}

GVariant *
ckpt_manager_load_latest_or_default_internal (CkptManager          *self,
                                              GVariant             *default_state,
                                              const CkptParams *params,
                                              gint64               *out_round_num,
                                              CkptEvents           *events,
                                              GCancellable         *cancellable,
                                              GError              **error)
{
  g_autoptr(GError) local_error = NULL;
  GVariant *value;

  value = ckpt_manager_load_latest_internal (self, g_variant_get_type (default_state), params,
                                             out_round_num, events, cancellable, &local_error);
  if (value != NULL)
    return value;
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  if (!ckpt_manager_save_internal (self, default_state, 0, params, events,
                                   cancellable, &local_error))
    {
      /* Another writer saved round 0 first, or is so far ahead that round 0
       * would not be kept: load what it saved. */
      if (g_error_matches (local_error, CKPT_ERROR, CKPT_ERROR_EXISTS) ||
          g_error_matches (local_error, CKPT_ERROR, CKPT_ERROR_SUPERSEDED))
        return ckpt_manager_load_latest_internal (self, g_variant_get_type (default_state), params,
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
  return ckpt_storage_list (self->storage, n_rounds, cancellable, error);
}

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
  CkptParams params;
  gboolean ret;

  g_return_val_if_fail (CKPT_IS_MANAGER (self), FALSE);
  g_return_val_if_fail (state != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!ckpt_manager_check_ready (self, error))
    return FALSE;

  sunk = g_variant_ref_sink (state);
  events = ckpt_events_new ();
  ckpt_manager_get_params (self, &params);

  ret = ckpt_manager_save_internal (self, sunk, round_num, &params, events, cancellable, error);
  ckpt_manager_emit_events (self, events);
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
  CkptParams params;
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
  ckpt_manager_get_params (self, &params);

  ret = ckpt_manager_save_full_internal (self, sunk, round_num, sunk_metadata, &params, events,
                                         cancellable, error);
  ckpt_manager_emit_events (self, events);
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
  CkptParams params;
  GVariant *value;

  g_return_val_if_fail (CKPT_IS_MANAGER (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!ckpt_manager_check_ready (self, error))
    return NULL;

  events = ckpt_events_new ();
  ckpt_manager_get_params (self, &params);
  value = ckpt_manager_load_internal (self, type, round_num, &params, events, cancellable, error);
  ckpt_manager_emit_events (self, events);
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
  CkptParams params;
  GVariant *value;

  g_return_val_if_fail (CKPT_IS_MANAGER (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!ckpt_manager_check_ready (self, error))
    return NULL;

  events = ckpt_events_new ();
  ckpt_manager_get_params (self, &params);
  value = ckpt_manager_load_latest_internal (self, type, &params, out_round_num, events, cancellable, error);
  ckpt_manager_emit_events (self, events);
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
  CkptParams params;
  GVariant *value;

  g_return_val_if_fail (CKPT_IS_MANAGER (self), NULL);
  g_return_val_if_fail (default_state != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!ckpt_manager_check_ready (self, error))
    return NULL;

  sunk = g_variant_ref_sink (default_state);
  events = ckpt_events_new ();
  ckpt_manager_get_params (self, &params);

  value = ckpt_manager_load_latest_or_default_internal (self, sunk, &params, out_round_num,
                                                        events, cancellable, error);
  ckpt_manager_emit_events (self, events);
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
      g_autofree char *where = describe_file (self, round_num);

      if (g_error_matches (local_error, CKPT_ERROR, CKPT_ERROR_CORRUPT))
        g_prefix_error (&local_error, "Checkpoint ‘%s’ is damaged: ", where);
      else
        g_prefix_error (&local_error, "Checkpoint ‘%s’: ", where);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return ckpt_info_new_take (&header, g_bytes_get_size (bytes), verify);
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

static gboolean
set_not_found (CkptManager  *self,
               gint64        round_num,
               GError      **error)
{
  g_autofree char *where = describe_file (self, round_num);

  g_set_error (error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND,
               "No checkpoint of round %" G_GINT64_FORMAT " (‘%s’)", round_num, where);
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

    present = ckpt_storage_list (self->storage, &n_present, cancellable, error);
    if (present == NULL)
      return FALSE;
    if (!rounds_contain (present, n_present, round_num))
      return set_not_found (self, round_num, error);
  }

  txn = ckpt_storage_begin (self->storage, cancellable, error);
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

  ckpt_events_add (events, signals[SIGNAL_PRUNED], round_num, NULL);
  return TRUE;
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
  ckpt_manager_emit_events (self, events);
  return ret;
}

gint64 *
ckpt_manager_prune_internal (CkptManager       *self,
                             CkptPruneFlags     flags,
                             const CkptParams  *params,
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

    present = ckpt_storage_list (self->storage, &n_present, cancellable, error);
    if (present == NULL)
      return NULL;
    if (n_present == 0)
      return g_new0 (gint64, 1);
  }

  txn = ckpt_storage_begin (self->storage, cancellable, error);
  if (txn == NULL)
    return NULL;
  ok = apply_retention (self, txn, params, (flags & CKPT_PRUNE_DRY_RUN) != 0,
                        events, pruned, cancellable, error);
  g_clear_pointer (&txn, ckpt_storage_txn_free);

  if (!ok)
    return NULL;

  *n_pruned = pruned->len;
  if (pruned->len == 0)
    return g_new0 (gint64, 1);
  return (gint64 *) (gpointer) g_array_free (g_steal_pointer (&pruned), FALSE);
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
  CkptParams params;
  gint64 *pruned;

  g_return_val_if_fail (CKPT_IS_MANAGER (self), NULL);
  g_return_val_if_fail (n_pruned != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!ckpt_manager_check_ready (self, error))
    return NULL;

  ckpt_manager_get_params (self, &params);
  events = ckpt_events_new ();
  pruned = ckpt_manager_prune_internal (self, flags, &params, n_pruned, events, cancellable, error);
  ckpt_manager_emit_events (self, events);
  return pruned;
}
