/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined (CKPT_INSIDE) && !defined (CKPT_COMPILATION)
# error "Only <ckpt-glib/ckpt-glib.h> can be included directly."
#endif

#include <glib.h>

#ifndef _CKPT_EXTERN
# define _CKPT_EXTERN __attribute__((visibility ("default"))) extern
#endif

#define CKPT_AVAILABLE_IN_ALL _CKPT_EXTERN
#define CKPT_AVAILABLE_IN_1_0 _CKPT_EXTERN
