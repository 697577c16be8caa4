/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined (CKPT_INSIDE) && !defined (CKPT_COMPILATION)
# error "Only <ckpt-glib/ckpt-glib.h> can be included directly."
#endif

/* The version macros (CKPT_AVAILABLE_IN_*, CKPT_DEPRECATED_IN_*, the
 * CKPT_VERSION_MIN_REQUIRED and CKPT_VERSION_MAX_ALLOWED checks) need the
 * version numbers, so they live in the generated ckpt-version.h. */
#include "ckpt-version.h"
