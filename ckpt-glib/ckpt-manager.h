/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined (CKPT_INSIDE) && !defined (CKPT_COMPILATION)
# error "Only <ckpt-glib/ckpt-glib.h> can be included directly."
#endif

#include <gio/gio.h>

#include "ckpt-flags.h"
#include "ckpt-info.h"
#include "ckpt-version-macros.h"

G_BEGIN_DECLS

#define CKPT_TYPE_MANAGER (ckpt_manager_get_type ())

CKPT_AVAILABLE_IN_1_0
G_DECLARE_FINAL_TYPE (CkptManager, ckpt_manager, CKPT, MANAGER, GObject)

/**
 * CKPT_MANAGER_DEFAULT_PREFIX:
 *
 * The file name prefix of checkpoints when none is given: `"ckpt_"`.
 *
 * Since: 1.0
 */
#define CKPT_MANAGER_DEFAULT_PREFIX "ckpt_"

/**
 * CKPT_MANAGER_DEFAULT_KEEP_TOTAL:
 *
 * The default of [property@Ckpt.Manager:keep-total]: 5.
 *
 * Since: 1.0
 */
#define CKPT_MANAGER_DEFAULT_KEEP_TOTAL 5

CKPT_AVAILABLE_IN_1_0
CkptManager *ckpt_manager_new                     (GFile              *root,
                                                   const char         *prefix,
                                                   int                 keep_total,
                                                   gboolean            keep_first,
                                                   GError            **error);
CKPT_AVAILABLE_IN_1_0
CkptManager *ckpt_manager_new_for_path            (const char         *path,
                                                   const char         *prefix,
                                                   int                 keep_total,
                                                   gboolean            keep_first,
                                                   GError            **error);

CKPT_AVAILABLE_IN_1_0
GFile       *ckpt_manager_get_root                (CkptManager        *self);
CKPT_AVAILABLE_IN_1_0
const char  *ckpt_manager_get_prefix              (CkptManager        *self);
CKPT_AVAILABLE_IN_1_0
int          ckpt_manager_get_keep_total          (CkptManager        *self);
CKPT_AVAILABLE_IN_1_0
void         ckpt_manager_set_keep_total          (CkptManager        *self,
                                                   int                 keep_total);
CKPT_AVAILABLE_IN_1_0
gboolean     ckpt_manager_get_keep_first          (CkptManager        *self);
CKPT_AVAILABLE_IN_1_0
void         ckpt_manager_set_keep_first          (CkptManager        *self,
                                                   gboolean            keep_first);
CKPT_AVAILABLE_IN_1_0
gboolean     ckpt_manager_get_durable             (CkptManager        *self);
CKPT_AVAILABLE_IN_1_0
void         ckpt_manager_set_durable             (CkptManager        *self,
                                                   gboolean            durable);
CKPT_AVAILABLE_IN_1_0
gboolean     ckpt_manager_get_durable_storage     (CkptManager        *self);

CKPT_AVAILABLE_IN_1_0
gboolean     ckpt_manager_get_verify              (CkptManager        *self);
CKPT_AVAILABLE_IN_1_0
void         ckpt_manager_set_verify              (CkptManager        *self,
                                                   gboolean            verify);
CKPT_AVAILABLE_IN_1_0
gboolean     ckpt_manager_get_busy                (CkptManager        *self);

CKPT_AVAILABLE_IN_1_0
GFile       *ckpt_manager_get_file                (CkptManager        *self,
                                                   gint64              round_num) G_GNUC_WARN_UNUSED_RESULT;

CKPT_AVAILABLE_IN_1_0
gboolean     ckpt_manager_save                    (CkptManager        *self,
                                                   GVariant           *state,
                                                   gint64              round_num,
                                                   GCancellable       *cancellable,
                                                   GError            **error);
CKPT_AVAILABLE_IN_1_0
gboolean     ckpt_manager_save_full               (CkptManager        *self,
                                                   GVariant           *state,
                                                   gint64              round_num,
                                                   GVariant           *metadata,
                                                   GCancellable       *cancellable,
                                                   GError            **error);
CKPT_AVAILABLE_IN_1_0
GVariant    *ckpt_manager_load                    (CkptManager        *self,
                                                   const GVariantType *type,
                                                   gint64              round_num,
                                                   GCancellable       *cancellable,
                                                   GError            **error) G_GNUC_WARN_UNUSED_RESULT;
CKPT_AVAILABLE_IN_1_0
GVariant    *ckpt_manager_load_latest             (CkptManager        *self,
                                                   const GVariantType *type,
                                                   gint64             *out_round_num,
                                                   GCancellable       *cancellable,
                                                   GError            **error) G_GNUC_WARN_UNUSED_RESULT;
CKPT_AVAILABLE_IN_1_0
GVariant    *ckpt_manager_load_latest_or_default  (CkptManager        *self,
                                                   GVariant           *default_state,
                                                   gint64             *out_round_num,
                                                   GCancellable       *cancellable,
                                                   GError            **error) G_GNUC_WARN_UNUSED_RESULT;
CKPT_AVAILABLE_IN_1_0
gint64      *ckpt_manager_list_rounds             (CkptManager        *self,
                                                   gsize              *n_rounds,
                                                   GError            **error) G_GNUC_WARN_UNUSED_RESULT;

CKPT_AVAILABLE_IN_1_0
CkptInfo    *ckpt_manager_query_info              (CkptManager        *self,
                                                   gint64              round_num,
                                                   CkptQueryFlags      flags,
                                                   GCancellable       *cancellable,
                                                   GError            **error) G_GNUC_WARN_UNUSED_RESULT;
CKPT_AVAILABLE_IN_1_0
gboolean     ckpt_manager_delete                  (CkptManager        *self,
                                                   gint64              round_num,
                                                   GCancellable       *cancellable,
                                                   GError            **error);
CKPT_AVAILABLE_IN_1_0
gint64      *ckpt_manager_prune                   (CkptManager        *self,
                                                   CkptPruneFlags      flags,
                                                   gsize              *n_pruned,
                                                   GCancellable       *cancellable,
                                                   GError            **error) G_GNUC_WARN_UNUSED_RESULT;

CKPT_AVAILABLE_IN_1_0
void         ckpt_manager_save_async              (CkptManager         *self,
                                                   GVariant            *state,
                                                   gint64               round_num,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
CKPT_AVAILABLE_IN_1_0
gboolean     ckpt_manager_save_finish             (CkptManager         *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
CKPT_AVAILABLE_IN_1_0
void         ckpt_manager_save_full_async         (CkptManager         *self,
                                                   GVariant            *state,
                                                   gint64               round_num,
                                                   GVariant            *metadata,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
CKPT_AVAILABLE_IN_1_0
gboolean     ckpt_manager_save_full_finish        (CkptManager         *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
CKPT_AVAILABLE_IN_1_0
void         ckpt_manager_load_async              (CkptManager         *self,
                                                   const GVariantType  *type,
                                                   gint64               round_num,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
CKPT_AVAILABLE_IN_1_0
GVariant    *ckpt_manager_load_finish             (CkptManager         *self,
                                                   GAsyncResult        *result,
                                                   GError             **error) G_GNUC_WARN_UNUSED_RESULT;
CKPT_AVAILABLE_IN_1_0
void         ckpt_manager_load_latest_async       (CkptManager         *self,
                                                   const GVariantType  *type,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
CKPT_AVAILABLE_IN_1_0
GVariant    *ckpt_manager_load_latest_finish      (CkptManager         *self,
                                                   GAsyncResult        *result,
                                                   gint64              *out_round_num,
                                                   GError             **error) G_GNUC_WARN_UNUSED_RESULT;
CKPT_AVAILABLE_IN_1_0
void         ckpt_manager_load_latest_or_default_async  (CkptManager         *self,
                                                         GVariant            *default_state,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
CKPT_AVAILABLE_IN_1_0
GVariant    *ckpt_manager_load_latest_or_default_finish (CkptManager         *self,
                                                         GAsyncResult        *result,
                                                         gint64              *out_round_num,
                                                         GError             **error) G_GNUC_WARN_UNUSED_RESULT;
CKPT_AVAILABLE_IN_1_0
void         ckpt_manager_list_rounds_async       (CkptManager         *self,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
CKPT_AVAILABLE_IN_1_0
gint64      *ckpt_manager_list_rounds_finish      (CkptManager         *self,
                                                   GAsyncResult        *result,
                                                   gsize               *n_rounds,
                                                   GError             **error) G_GNUC_WARN_UNUSED_RESULT;
CKPT_AVAILABLE_IN_1_0
void         ckpt_manager_delete_async            (CkptManager         *self,
                                                   gint64               round_num,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
CKPT_AVAILABLE_IN_1_0
gboolean     ckpt_manager_delete_finish           (CkptManager         *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
CKPT_AVAILABLE_IN_1_0
void         ckpt_manager_query_info_async        (CkptManager         *self,
                                                   gint64               round_num,
                                                   CkptQueryFlags       flags,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
CKPT_AVAILABLE_IN_1_0
CkptInfo    *ckpt_manager_query_info_finish       (CkptManager         *self,
                                                   GAsyncResult        *result,
                                                   GError             **error) G_GNUC_WARN_UNUSED_RESULT;
CKPT_AVAILABLE_IN_1_0
void         ckpt_manager_prune_async             (CkptManager         *self,
                                                   CkptPruneFlags       flags,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
CKPT_AVAILABLE_IN_1_0
gint64      *ckpt_manager_prune_finish            (CkptManager         *self,
                                                   GAsyncResult        *result,
                                                   gsize               *n_pruned,
                                                   GError             **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
