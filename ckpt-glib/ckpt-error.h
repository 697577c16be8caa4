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
 * @CKPT_ERROR_NOT_FOUND: the requested checkpoint does not exist (a load,
 *   a query or a deletion of a round with no checkpoint file)
 * @CKPT_ERROR_EXISTS: a save of a round that already has a checkpoint;
 *   nothing was changed
 * @CKPT_ERROR_TYPE_MISMATCH: a load asked for a state of one
 *   [struct@GLib.VariantType] and the checkpoint holds another; the message
 *   names both
 * @CKPT_ERROR_CORRUPT: a load or a query found the checkpoint file damaged
 *   (truncated, altered, not a checkpoint, or holding another round than
 *   its name says)
 * @CKPT_ERROR_UNSUPPORTED: a load or a query of a checkpoint written in a
 *   newer version of the file format than this library reads
 * @CKPT_ERROR_INVALID_ARGUMENT: an argument has a value that is not allowed,
 *   such as a negative round, or a prefix containing `/` given to a
 *   constructor (then every call of the manager fails so)
 * @CKPT_ERROR_BUSY: another writer took over this writer's lease of a
 *   remote root, after it went unrenewed for the lease timeout (a process
 *   stopped that long); a save that fails so has written nothing
 * @CKPT_ERROR_SUPERSEDED: the round is older than the checkpoints that
 *   retention keeps: saved, it would be deleted at once, so the save was
 *   refused before anything was written (a program that went back to an
 *   older round; delete the newer checkpoints or raise
 *   [property@Ckpt.Manager:keep-total] first)
 * @CKPT_ERROR_FAILED: a failure that no other code, of this domain or of
 *   `G_IO_ERROR`, names; today a checkpoint file too large to map into
 *   the address space (on 32-bit systems). Match the other codes first:
 *   new ones may take over cases that are `CKPT_ERROR_FAILED` today
 *
 * Error codes of the `CKPT_ERROR` domain. Failures of the file system or
 * of the network keep their `G_IO_ERROR` code (%G_IO_ERROR_NO_SPACE,
 * %G_IO_ERROR_PERMISSION_DENIED, %G_IO_ERROR_CANCELLED, …); a code of this
 * domain says what is wrong with a checkpoint or a call.
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
  CKPT_ERROR_FAILED,
} CkptError;

CKPT_AVAILABLE_IN_1_0
GQuark ckpt_error_quark (void);

G_END_DECLS
