/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#define CKPT_INSIDE
# include "ckpt-version.h"
# include "ckpt-version-macros.h"
# include "ckpt-enums.h"
# include "ckpt-error.h"
# include "ckpt-flags.h"
# include "ckpt-info.h"
# include "ckpt-manager.h"
#undef CKPT_INSIDE
