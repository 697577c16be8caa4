/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "ckpt-info-private.h"

/**
 * CkptInfo:
 *
 * What the header of a checkpoint says: its round, sizes, the type of its
 * state, when it was written, its metadata. Returned by
 * [method@Ckpt.Manager.query_info], which reads only the header (and,
 * with %CKPT_QUERY_VERIFY, verifies the checksum over the whole file).
 *
 * A `CkptInfo` does not change once made: its properties are read-only
 * and never notify, so that it can be bound to, sorted and shown (in a
 * `GtkColumnView` with `GtkPropertyExpression`s, say) like any object.
 *
 * Since: 1.0
 */
struct _CkptInfo
{
  GObject       parent_instance;

  gint64        round_num;
  guint64       size;
  guint64       state_size;
  GVariantType *state_type;
  char         *state_type_string;
  GDateTime    *creation_time;
  GVariant     *metadata;
  guint         format_version;
  gboolean      verified;
};

G_DEFINE_FINAL_TYPE (CkptInfo, ckpt_info, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_ROUND,
  PROP_SIZE,
  PROP_STATE_SIZE,
  PROP_STATE_TYPE,
  PROP_CREATION_TIME,
  PROP_METADATA,
  PROP_FORMAT_VERSION,
  PROP_VERIFIED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
ckpt_info_finalize (GObject *object)
{
  CkptInfo *info = CKPT_INFO (object);

  g_clear_pointer (&info->state_type, g_variant_type_free);
  g_clear_pointer (&info->state_type_string, g_free);
  g_clear_pointer (&info->creation_time, g_date_time_unref);
  g_clear_pointer (&info->metadata, g_variant_unref);

  G_OBJECT_CLASS (ckpt_info_parent_class)->finalize (object);
}

static void
ckpt_info_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  CkptInfo *info = CKPT_INFO (object);

  switch (prop_id)
    {
    case PROP_ROUND:
      g_value_set_int64 (value, info->round_num);
      break;
    case PROP_SIZE:
      g_value_set_uint64 (value, info->size);
      break;
    case PROP_STATE_SIZE:
      g_value_set_uint64 (value, info->state_size);
      break;
    case PROP_STATE_TYPE:
      g_value_set_string (value, info->state_type_string);
      break;
    case PROP_CREATION_TIME:
      g_value_set_boxed (value, info->creation_time);
      break;
    case PROP_METADATA:
      g_value_set_variant (value, info->metadata);
      break;
    case PROP_FORMAT_VERSION:
      g_value_set_uint (value, info->format_version);
      break;
    case PROP_VERIFIED:
      g_value_set_boolean (value, info->verified);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ckpt_info_class_init (CkptInfoClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ckpt_info_finalize;
  object_class->get_property = ckpt_info_get_property;

  /**
   * CkptInfo:round: (getter get_round)
   *
   * The round the checkpoint holds, as written in its header.
   *
   * Since: 1.0
   */
  properties[PROP_ROUND] =
    g_param_spec_int64 ("round", NULL, NULL,
                        0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * CkptInfo:size: (getter get_size)
   *
   * The size of the checkpoint file in bytes, header included.
   *
   * Since: 1.0
   */
  properties[PROP_SIZE] =
    g_param_spec_uint64 ("size", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * CkptInfo:state-size: (getter get_state_size)
   *
   * The size of the serialised state in bytes (the file without its
   * header).
   *
   * Since: 1.0
   */
  properties[PROP_STATE_SIZE] =
    g_param_spec_uint64 ("state-size", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * CkptInfo:state-type: (getter get_state_type_string)
   *
   * The type of the state, as a [struct@GLib.VariantType] string such as
   * `"(xad)"`. [method@Ckpt.Info.get_state_type] gives it as a
   * `GVariantType`.
   *
   * Since: 1.0
   */
  properties[PROP_STATE_TYPE] =
    g_param_spec_string ("state-type", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * CkptInfo:creation-time: (getter get_creation_time)
   *
   * When the checkpoint was written, as recorded in its header, in UTC.
   *
   * Since: 1.0
   */
  properties[PROP_CREATION_TIME] =
    g_param_spec_boxed ("creation-time", NULL, NULL,
                        G_TYPE_DATE_TIME,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * CkptInfo:metadata: (getter get_metadata)
   *
   * The metadata of the checkpoint: an `a{sv}` dictionary holding at
   * least `ckpt-glib-version`, the version of the library that wrote it.
   *
   * Since: 1.0
   */
  properties[PROP_METADATA] =
    g_param_spec_variant ("metadata", NULL, NULL,
                          G_VARIANT_TYPE_VARDICT, NULL,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * CkptInfo:format-version: (getter get_format_version)
   *
   * The version of the file format of the checkpoint.
   *
   * Since: 1.0
   */
  properties[PROP_FORMAT_VERSION] =
    g_param_spec_uint ("format-version", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * CkptInfo:verified: (getter get_verified)
   *
   * Whether the checksum over the whole file was verified when the info
   * was made (with %CKPT_QUERY_VERIFY). A verified checkpoint's state may
   * still fail to load if it is not in normal form (a hostile writer).
   *
   * Since: 1.0
   */
  properties[PROP_VERIFIED] =
    g_param_spec_boolean ("verified", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ckpt_info_init (CkptInfo *info)
{
}

CkptInfo *
ckpt_info_new_take (CkptFormatHeader *header,
                    guint64           file_size,
                    gboolean          verified)
{
  CkptInfo *info = g_object_new (CKPT_TYPE_INFO, NULL);

  info->round_num = header->round_num;
  info->size = file_size;
  info->state_size = header->payload_size;
  info->state_type = g_steal_pointer (&header->type);
  info->state_type_string = g_variant_type_dup_string (info->state_type);
  info->metadata = g_steal_pointer (&header->metadata);
  info->format_version = header->version;
  info->verified = verified;
  info->creation_time = g_date_time_new_from_unix_utc (header->ctime_usec / G_USEC_PER_SEC);
  if (info->creation_time != NULL)
    {
      GDateTime *precise = g_date_time_add (info->creation_time,
                                            header->ctime_usec % G_USEC_PER_SEC);
      g_date_time_unref (info->creation_time);
      info->creation_time = precise;
    }
  if (info->creation_time == NULL)
    info->creation_time = g_date_time_new_from_unix_utc (0);
  ckpt_format_header_clear (header);

  return info;
}

/**
 * ckpt_info_get_round: (get-property round)
 * @info: a checkpoint info
 *
 * Gets the round the checkpoint holds, as written in its header.
 *
 * Returns: the round
 *
 * Since: 1.0
 */
gint64
ckpt_info_get_round (CkptInfo *info)
{
  g_return_val_if_fail (CKPT_IS_INFO (info), -1);
  return info->round_num;
}

/**
 * ckpt_info_get_size: (get-property size)
 * @info: a checkpoint info
 *
 * Gets the size of the checkpoint file, header included.
 *
 * Returns: the size in bytes
 *
 * Since: 1.0
 */
guint64
ckpt_info_get_size (CkptInfo *info)
{
  g_return_val_if_fail (CKPT_IS_INFO (info), 0);
  return info->size;
}

/**
 * ckpt_info_get_state_size: (get-property state-size)
 * @info: a checkpoint info
 *
 * Gets the size of the serialised state (the file without its header).
 *
 * Returns: the size in bytes
 *
 * Since: 1.0
 */
guint64
ckpt_info_get_state_size (CkptInfo *info)
{
  g_return_val_if_fail (CKPT_IS_INFO (info), 0);
  return info->state_size;
}

/**
 * ckpt_info_get_state_type:
 * @info: a checkpoint info
 *
 * Gets the type of the state.
 *
 * Returns: (transfer none): the type
 *
 * Since: 1.0
 */
const GVariantType *
ckpt_info_get_state_type (CkptInfo *info)
{
  g_return_val_if_fail (CKPT_IS_INFO (info), NULL);
  return info->state_type;
}

/**
 * ckpt_info_get_state_type_string: (get-property state-type)
 * @info: a checkpoint info
 *
 * Gets the type of the state as a type string, such as `"(xad)"`.
 *
 * Returns: (transfer none): the type string
 *
 * Since: 1.0
 */
const char *
ckpt_info_get_state_type_string (CkptInfo *info)
{
  g_return_val_if_fail (CKPT_IS_INFO (info), NULL);
  return info->state_type_string;
}

/**
 * ckpt_info_get_creation_time: (get-property creation-time)
 * @info: a checkpoint info
 *
 * Gets when the checkpoint was written, as recorded in its header.
 *
 * Returns: (transfer none): the creation time, in UTC
 *
 * Since: 1.0
 */
GDateTime *
ckpt_info_get_creation_time (CkptInfo *info)
{
  g_return_val_if_fail (CKPT_IS_INFO (info), NULL);
  return info->creation_time;
}

/**
 * ckpt_info_get_metadata: (get-property metadata)
 * @info: a checkpoint info
 *
 * Gets the metadata of the checkpoint: an `a{sv}` dictionary holding at
 * least `ckpt-glib-version`, the version of the library that wrote it.
 *
 * Returns: (transfer none): the metadata
 *
 * Since: 1.0
 */
GVariant *
ckpt_info_get_metadata (CkptInfo *info)
{
  g_return_val_if_fail (CKPT_IS_INFO (info), NULL);
  return info->metadata;
}

/**
 * ckpt_info_get_format_version: (get-property format-version)
 * @info: a checkpoint info
 *
 * Gets the version of the file format of the checkpoint.
 *
 * Returns: the format version
 *
 * Since: 1.0
 */
guint
ckpt_info_get_format_version (CkptInfo *info)
{
  g_return_val_if_fail (CKPT_IS_INFO (info), 0);
  return info->format_version;
}

/**
 * ckpt_info_get_verified: (get-property verified)
 * @info: a checkpoint info
 *
 * Gets whether the checksum over the whole file was verified when @info
 * was made. A verified checkpoint's state may still fail to load if it is
 * not in normal form (a hostile writer).
 *
 * Returns: whether the checksum was verified
 *
 * Since: 1.0
 */
gboolean
ckpt_info_get_verified (CkptInfo *info)
{
  g_return_val_if_fail (CKPT_IS_INFO (info), FALSE);
  return info->verified;
}
