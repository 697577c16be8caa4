/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined (CKPT_INSIDE) && !defined (CKPT_COMPILATION)
# error "Only <ckpt-glib/ckpt-glib.h> can be included directly."
#endif

#include <glib.h>

#include "ckpt-version-macros.h"

G_BEGIN_DECLS

/**
 * CkptQueryFlags:
 * @CKPT_QUERY_NONE: read and check the header only
 * @CKPT_QUERY_VERIFY: also verify the checksum over the whole file, which
 *   reads all of it
 *
 * Flags of [method@Ckpt.Manager.query_info].
 *
 * Since: 1.0
 */
typedef enum /*< flags >*/
{
  CKPT_QUERY_NONE   = 0,
  CKPT_QUERY_VERIFY = 1 << 0,
} CkptQueryFlags;

/**
 * CkptPruneFlags:
 * @CKPT_PRUNE_NONE: delete what retention does not keep
 * @CKPT_PRUNE_DRY_RUN: delete nothing, only say what would be deleted
 *
 * Flags of [method@Ckpt.Manager.prune].
 *
 * Since: 1.0
 */
typedef enum /*< flags >*/
{
  CKPT_PRUNE_NONE    = 0,
  CKPT_PRUNE_DRY_RUN = 1 << 0,
} CkptPruneFlags;

G_END_DECLS
