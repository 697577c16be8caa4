/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ckpt-error.h"

/**
 * ckpt_error_quark:
 *
 * The quark of the [error@Ckpt.Error] domain.
 *
 * Returns: the error domain quark
 *
 * Since: 1.0
 */
G_DEFINE_QUARK (ckpt-error-quark, ckpt_error)
