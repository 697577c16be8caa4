/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ckpt-version.h"

/**
 * ckpt_get_major_version:
 *
 * Gets the major version of the ckpt-glib library in use at run time,
 * which may be newer than [const@Ckpt.MAJOR_VERSION], the version the
 * code was compiled against.
 *
 * Returns: the major version, such as 1 for 1.0.0
 *
 * Since: 1.0
 */
guint
ckpt_get_major_version (void)
{
  return CKPT_MAJOR_VERSION;
}

/**
 * ckpt_get_minor_version:
 *
 * Gets the minor version of the ckpt-glib library in use at run time,
 * which may be newer than [const@Ckpt.MINOR_VERSION], the version the
 * code was compiled against.
 *
 * Returns: the minor version, such as 0 for 1.0.0
 *
 * Since: 1.0
 */
guint
ckpt_get_minor_version (void)
{
  return CKPT_MINOR_VERSION;
}

/**
 * ckpt_get_micro_version:
 *
 * Gets the micro version of the ckpt-glib library in use at run time,
 * which may be newer than [const@Ckpt.MICRO_VERSION], the version the
 * code was compiled against.
 *
 * Returns: the micro version, such as 0 for 1.0.0
 *
 * Since: 1.0
 */
guint
ckpt_get_micro_version (void)
{
  return CKPT_MICRO_VERSION;
}
