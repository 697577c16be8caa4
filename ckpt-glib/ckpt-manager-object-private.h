/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The instance struct of CkptManager, shared by the two files of its
 * GObject surface only: ckpt-manager.c (construction, signals) and
 * ckpt-manager-properties.c (the properties). No other file includes this
 * header: the operations must not read the properties behind the settings
 * snapshot they run with, nor anything that could change under them, so
 * they get the immutable parts through the accessors of
 * ckpt-manager-private.h.
 */
#pragma once

#include "ckpt-manager-private.h"

G_BEGIN_DECLS

struct _CkptManager
{
  GObject      parent_instance;

  /* Set at construction, then never changed (but for the storage, by the
   * test hook ckpt_manager_set_storage_flags() before any operation): any
   * thread may read them. */
  GFile       *root;
  char        *prefix;
  CkptStorage *storage;      /* NULL when construction failed */
  GError      *construct_error;
  CkptQueue   *queue;        /* async operations, in call order */

  /* The properties that may change; atomic, read by
   * ckpt_manager_snapshot_settings() when an operation is called. */
  int          keep_total;
  int          keep_first;
  int          durable;
  int          verify;

  int          n_in_flight;  /* atomic: async operations not yet finished */
};

/* In ckpt-manager-properties.c, called by class_init: the properties'
 * specs and GObject's get/set_property. */
void ckpt_manager_class_install_properties (GObjectClass *object_class);

G_END_DECLS
