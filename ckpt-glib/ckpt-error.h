/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined (CKPT_INSIDE) && !defined (CKPT_COMPILATION)
# error "Only <ckpt-glib/ckpt-glib.h> can be included directly."
#endif

#include <glib.h>

#include "ckpt-version-macros.h"

G_BEGIN_DECLS

/**
 * CKPT_ERROR:
 *
 * The error domain of ckpt-glib. Errors in this domain are from the
 * [error@Ckpt.Error] enumeration. Plain I/O failures keep their
 * `G_IO_ERROR` domain and code.
 *
 * Since: 1.0
 */
#define CKPT_ERROR (ckpt_error_quark ())

/**
 * CkptError:
 * @CKPT_ERROR_NOT_FOUND: the requested checkpoint does not exist
 * @CKPT_ERROR_EXISTS: a checkpoint of that round already exists; nothing
 *   was changed
 * @CKPT_ERROR_TYPE_MISMATCH: the checkpoint holds a state of another
 *   [struct@GLib.VariantType] than the one asked for; the message names both
 * @CKPT_ERROR_CORRUPT: the checkpoint file is damaged (truncated, altered,
 *   not a checkpoint, or holding another round than its name says)
 * @CKPT_ERROR_UNSUPPORTED: the checkpoint was written in a newer version of
 *   the file format than this library reads
 * @CKPT_ERROR_INVALID_ARGUMENT: an argument has a value that is not allowed,
 *   such as a negative round or a prefix containing `/`
 * @CKPT_ERROR_BUSY: another writer took over this writer's lease of a
 *   remote root, after it went unrenewed for the lease timeout (a process
 *   stopped that long); a save that fails so has written nothing
 * @CKPT_ERROR_SUPERSEDED: the round is older than the checkpoints that
 *   retention keeps: saved, it would be deleted at once, so the save was
 *   refused before anything was written (a program that went back to an
 *   older round; delete the newer checkpoints or raise
 *   [property@Ckpt.Manager:keep-total] first)
 *
 * Error codes of the `CKPT_ERROR` domain.
 *
 * Since: 1.0
 */
typedef enum
{
  CKPT_ERROR_NOT_FOUND,
  CKPT_ERROR_EXISTS,
  CKPT_ERROR_TYPE_MISMATCH,
  CKPT_ERROR_CORRUPT,
  CKPT_ERROR_UNSUPPORTED,
  CKPT_ERROR_INVALID_ARGUMENT,
  CKPT_ERROR_BUSY,
  CKPT_ERROR_SUPERSEDED,
} CkptError;

CKPT_AVAILABLE_IN_1_0
GQuark ckpt_error_quark (void);

G_END_DECLS
