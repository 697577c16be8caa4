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
 * when asked, verifies the checksum over the whole file).
 *
 * Since: 1.0
 */
struct _CkptInfo
{
  gint64        round_num;
  guint64       size;
  guint64       state_size;
  GVariantType *state_type;
  GDateTime    *creation_time;
  GVariant     *metadata;
  guint         format_version;
  gboolean      verified;
};

G_DEFINE_BOXED_TYPE (CkptInfo, ckpt_info, ckpt_info_ref, ckpt_info_unref)

CkptInfo *
ckpt_info_new_take (CkptFormatHeader *header,
                    guint64           file_size,
                    gboolean          verified)
{
  CkptInfo *info = g_atomic_rc_box_new0 (CkptInfo);

  info->round_num = header->round_num;
  info->size = file_size;
  info->state_size = header->payload_size;
  info->state_type = g_steal_pointer (&header->type);
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
 * ckpt_info_ref: (skip)
 * @info: a checkpoint info
 *
 * Acquires a reference on @info.
 *
 * Returns: (transfer full): @info
 *
 * Since: 1.0
 */
CkptInfo *
ckpt_info_ref (CkptInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);

  return g_atomic_rc_box_acquire (info);
}

static void
ckpt_info_clear (gpointer data)
{
  CkptInfo *info = data;

  g_clear_pointer (&info->state_type, g_variant_type_free);
  g_clear_pointer (&info->creation_time, g_date_time_unref);
  g_clear_pointer (&info->metadata, g_variant_unref);
}

/**
 * ckpt_info_unref: (skip)
 * @info: (transfer full): a checkpoint info
 *
 * Releases a reference on @info.
 *
 * Since: 1.0
 */
void
ckpt_info_unref (CkptInfo *info)
{
  g_return_if_fail (info != NULL);

  g_atomic_rc_box_release_full (info, ckpt_info_clear);
}

/**
 * ckpt_info_get_round:
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
  g_return_val_if_fail (info != NULL, -1);
  return info->round_num;
}

/**
 * ckpt_info_get_size:
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
  g_return_val_if_fail (info != NULL, 0);
  return info->size;
}

/**
 * ckpt_info_get_state_size:
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
  g_return_val_if_fail (info != NULL, 0);
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
  g_return_val_if_fail (info != NULL, NULL);
  return info->state_type;
}

/**
 * ckpt_info_get_creation_time:
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
  g_return_val_if_fail (info != NULL, NULL);
  return info->creation_time;
}

/**
 * ckpt_info_get_metadata:
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
  g_return_val_if_fail (info != NULL, NULL);
  return info->metadata;
}

/**
 * ckpt_info_get_format_version:
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
  g_return_val_if_fail (info != NULL, 0);
  return info->format_version;
}

/**
 * ckpt_info_get_verified:
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
  g_return_val_if_fail (info != NULL, FALSE);
  return info->verified;
}
