/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Managers made with g_object_new() (as bindings make them, without
 * GInitable.init()), and the way out of a damaged checkpoint:
 * ckpt_manager_delete() and the EXISTS message of a save.
 */
#include <string.h>

#include <glib/gstdio.h>
#include <ckpt-glib/ckpt-glib.h>
#include "ckpt-manager-private.h"
#include "ckpt-test-util.h"

typedef struct
{
  char  *dir;
  GFile *root;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("ckpt-recovery-XXXXXX", &error);
  g_assert_no_error (error);
  f->root = g_file_new_for_path (f->dir);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  ckpt_test_rm_rf (f->dir);
  g_clear_object (&f->root);
  g_free (f->dir);
}

static void
store_result (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

typedef struct
{
  GArray *pruned;
} Signals;

static void
on_pruned (CkptManager *manager,
           gint64       round_num,
           GFile       *file,
           Signals     *sig)
{
  g_assert_true (G_IS_FILE (file));
  g_array_append_val (sig->pruned, round_num);
}

static void
damage (const char *dir,
        const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GBytes) bytes = ckpt_test_read_bytes (path);
  gsize len;
  guint8 *buf = g_bytes_unref_to_data (g_steal_pointer (&bytes), &len);

  g_assert_cmpuint (len, >, 8);
  buf[len - 1] ^= 0x40;
  ckpt_test_write_file (path, buf, len);
  g_free (buf);
}

/* --- g_object_new ------------------------------------------------------- */

/* Every method of a manager made with g_object_new() and no init(). */
static void
test_object_new_works (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(CkptManager) manager = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(CkptInfo) info = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree gint64 *rounds = NULL;
  g_autofree gint64 *pruned = NULL;
  gsize n = 0;
  gint64 round_num = -1;

  manager = g_object_new (CKPT_TYPE_MANAGER, "root", f->root, "prefix", "r_",
                          "keep-total", 2, "keep-first", FALSE, "durable", FALSE, NULL);

  g_assert_true (ckpt_manager_get_durable_storage (manager));
  g_assert_true (ckpt_manager_get_root (manager) == f->root);
  file = ckpt_manager_get_file (manager, 4);
  g_assert_nonnull (file);
  g_assert_cmpstr (g_file_peek_path (file) + strlen (f->dir), ==, "/r_4");

  value = ckpt_manager_load_latest_or_default (manager, g_variant_new_int32 (0), &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 0);
  g_clear_pointer (&value, g_variant_unref);

  g_assert_true (ckpt_manager_save (manager, g_variant_new_int32 (1), 1, NULL, &error));
  g_assert_no_error (error);
  value = ckpt_manager_load (manager, G_VARIANT_TYPE_INT32, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_variant_get_int32 (value), ==, 1);
  g_clear_pointer (&value, g_variant_unref);

  info = ckpt_manager_query_info (manager, 1, CKPT_QUERY_VERIFY, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ckpt_info_get_round (info), ==, 1);

  rounds = ckpt_manager_list_rounds (manager, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 2);

  pruned = ckpt_manager_prune (manager, CKPT_PRUNE_DRY_RUN, &n, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 0);

  /* Async, through the default context. */
  ckpt_manager_save_async (manager, g_variant_new_int32 (2), 2, NULL, store_result, &result);
  g_assert_true (ckpt_manager_save_finish (manager, wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  ckpt_manager_load_latest_async (manager, G_VARIANT_TYPE_INT32, NULL, store_result, &result);
  value = ckpt_manager_load_latest_finish (manager, wait_result (&result), &round_num, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 2);
  g_assert_cmpint (g_variant_get_int32 (value), ==, 2);
  g_clear_object (&result);

  ckpt_test_assert_listing (f->dir, "r_1", "r_2");

  g_assert_true (ckpt_manager_delete (manager, 1, NULL, &error));
  g_assert_no_error (error);
  ckpt_test_assert_listing (f->dir, "r_2");

  /* init() on a manager that is already set up is a no-op. */
  g_assert_true (g_initable_init (G_INITABLE (manager), NULL, &error));
  g_assert_no_error (error);

  g_assert_finalize_object (g_steal_pointer (&manager));
}

/* A manager that cannot be set up: every call is a GError, never a
 * critical (the tests run with fatal warnings and criticals). */
static void
check_unusable (CkptManager *manager,
                const char  *dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  GVariant *state = g_variant_ref_sink (g_variant_new_int32 (1));
  gsize n = 7;
  gint64 round_num = 7;

  g_assert_false (g_initable_init (G_INITABLE (manager), NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_null (ckpt_manager_get_file (manager, 1));
  g_assert_false (ckpt_manager_get_durable_storage (manager));

#define EXPECT_INVALID(call) \
  G_STMT_START { \
    call; \
    g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT); \
    g_clear_error (&error); \
  } G_STMT_END

  EXPECT_INVALID (g_assert_false (ckpt_manager_save (manager, state, 1, NULL, &error)));
  EXPECT_INVALID (g_assert_null (ckpt_manager_load (manager, NULL, 1, NULL, &error)));
  EXPECT_INVALID (g_assert_null (ckpt_manager_load_latest (manager, NULL, NULL, NULL, &error)));
  EXPECT_INVALID (g_assert_null (ckpt_manager_load_latest_or_default (manager, state, NULL, NULL, &error)));
  EXPECT_INVALID (g_assert_null (ckpt_manager_list_rounds (manager, &n, &error)));
  EXPECT_INVALID (g_assert_null (ckpt_manager_query_info (manager, 1, CKPT_QUERY_VERIFY, NULL, &error)));
  EXPECT_INVALID (g_assert_null (ckpt_manager_prune (manager, CKPT_PRUNE_NONE, &n, NULL, &error)));
  EXPECT_INVALID (g_assert_false (ckpt_manager_delete (manager, 1, NULL, &error)));

  /* Async: the error arrives through the result, never from within the
   * call. */
  ckpt_manager_save_async (manager, state, 1, NULL, store_result, &result);
  g_assert_null (result);
  EXPECT_INVALID (g_assert_false (ckpt_manager_save_finish (manager, wait_result (&result), &error)));
  g_clear_object (&result);
  ckpt_manager_load_async (manager, NULL, 1, NULL, store_result, &result);
  EXPECT_INVALID (g_assert_null (ckpt_manager_load_finish (manager, wait_result (&result), &error)));
  g_clear_object (&result);
  ckpt_manager_load_latest_async (manager, NULL, NULL, store_result, &result);
  EXPECT_INVALID (g_assert_null (ckpt_manager_load_latest_finish (manager, wait_result (&result),
                                                                  &round_num, &error)));
  g_assert_cmpint (round_num, ==, -1);
  g_clear_object (&result);
  round_num = 7;
  ckpt_manager_load_latest_or_default_async (manager, state, NULL, store_result, &result);
  EXPECT_INVALID (g_assert_null (ckpt_manager_load_latest_or_default_finish (manager, wait_result (&result),
                                                                             &round_num, &error)));
  g_assert_cmpint (round_num, ==, -1);
  g_clear_object (&result);
  ckpt_manager_list_rounds_async (manager, NULL, store_result, &result);
  EXPECT_INVALID (g_assert_null (ckpt_manager_list_rounds_finish (manager, wait_result (&result), &n, &error)));
  g_assert_cmpuint (n, ==, 0);
  g_clear_object (&result);
  ckpt_manager_delete_async (manager, 1, NULL, store_result, &result);
  EXPECT_INVALID (g_assert_false (ckpt_manager_delete_finish (manager, wait_result (&result), &error)));
  g_clear_object (&result);

#undef EXPECT_INVALID

  g_assert_false (ckpt_manager_get_busy (manager));
  if (dir != NULL)
    ckpt_test_assert_listing (dir, NULL);
  g_variant_unref (state);
}

static void
test_object_new_bad_prefix (Fixture       *f,
                            gconstpointer  data)
{
  static const char *prefixes[] = { "", ".hidden", "a/b" };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (prefixes); i++)
    {
      CkptManager *manager = g_object_new (CKPT_TYPE_MANAGER, "root", f->root,
                                           "prefix", prefixes[i], NULL);

      check_unusable (manager, f->dir);
      g_assert_finalize_object (manager);
    }
}

static void
test_object_new_no_root (Fixture       *f,
                         gconstpointer  data)
{
  CkptManager *manager = g_object_new (CKPT_TYPE_MANAGER, NULL);

  g_assert_null (ckpt_manager_get_root (manager));
  check_unusable (manager, NULL);
  g_assert_finalize_object (manager);
}

/* --- a damaged newest checkpoint ----------------------------------------- */

static void
check_recovery (Fixture          *f,
                CkptStorageFlags  flags)
{
  g_autoptr(CkptManager) manager = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autofree char *where = NULL;
  Signals sig = { g_array_new (FALSE, FALSE, sizeof (gint64)) };
  gint64 round_num = -1, r;

  manager = ckpt_manager_new (f->root, NULL, 0, TRUE, &error);
  g_assert_no_error (error);
  if (flags != CKPT_STORAGE_FLAGS_NONE)
    ckpt_manager_set_storage_flags (manager, flags);
  ckpt_manager_set_durable (manager, FALSE);
  g_signal_connect (manager, "pruned", G_CALLBACK (on_pruned), &sig);

  for (r = 0; r <= 2; r++)
    {
      g_assert_true (ckpt_manager_save (manager, g_variant_new_int64 (r), r, NULL, &error));
      g_assert_no_error (error);
    }

  /* Saving an intact round again: it is already saved, and says so. */
  g_assert_false (ckpt_manager_save (manager, g_variant_new_int64 (9), 2, NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "already saved"));
  g_assert_null (strstr (error->message, "damaged"));
  g_clear_error (&error);

  damage (f->dir, "ckpt_2");

  /* load_latest_or_default falls back to round 1... */
  state = ckpt_manager_load_latest_or_default (manager, g_variant_new_int64 (0), &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 1);

  /* ...and the program's next save is in the way of the damaged file: the
   * message says so, and how to get past it. */
  g_assert_false (ckpt_manager_save (manager, g_variant_new_int64 (2), 2, NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_EXISTS);
  g_test_message ("%s", error->message);
  where = g_build_filename (f->dir, "ckpt_2", NULL);
  g_assert_nonnull (strstr (error->message, where));
  g_assert_nonnull (strstr (error->message, "is damaged ("));
  g_assert_nonnull (strstr (error->message, "ckpt_manager_delete()"));
  g_assert_nonnull (strstr (error->message, "`ckpt delete "));
  g_clear_error (&error);
  ckpt_test_assert_listing (f->dir, "ckpt_0", "ckpt_1", "ckpt_2");

  /* The way out. */
  g_assert_cmpuint (sig.pruned->len, ==, 0);
  g_assert_true (ckpt_manager_delete (manager, 2, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sig.pruned->len, ==, 1);
  g_assert_cmpint (g_array_index (sig.pruned, gint64, 0), ==, 2);
  ckpt_test_assert_listing (f->dir, "ckpt_0", "ckpt_1");

  g_assert_true (ckpt_manager_save (manager, g_variant_new_int64 (2), 2, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&state, g_variant_unref);
  state = ckpt_manager_load_latest (manager, G_VARIANT_TYPE_INT64, &round_num, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (round_num, ==, 2);

  /* Deleting what is not there. */
  g_assert_false (ckpt_manager_delete (manager, 5, NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (ckpt_manager_delete (manager, -1, NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpuint (sig.pruned->len, ==, 1);
  ckpt_test_assert_listing (f->dir, "ckpt_0", "ckpt_1", "ckpt_2");

  g_signal_handlers_disconnect_by_data (manager, &sig);
  g_array_unref (sig.pruned);
}

static void
test_recovery_local (Fixture       *f,
                     gconstpointer  data)
{
  check_recovery (f, CKPT_STORAGE_FLAGS_NONE);
}

static void
test_recovery_generic (Fixture       *f,
                       gconstpointer  data)
{
  check_recovery (f, CKPT_STORAGE_FLAGS_FORCE_GENERIC);
}

/* A damaged file whose header is gone entirely (not even a checkpoint). */
static void
test_exists_not_a_checkpoint (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(CkptManager) manager = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "p3", NULL);

  manager = ckpt_manager_new (f->root, "p", 0, TRUE, &error);
  g_assert_no_error (error);
  ckpt_test_write_file (path, "garbage", 7);

  g_assert_false (ckpt_manager_save (manager, g_variant_new_int64 (3), 3, NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "is damaged ("));
  g_assert_nonnull (strstr (error->message, "`ckpt delete --prefix=p "));
  g_clear_error (&error);

  g_assert_true (ckpt_manager_delete (manager, 3, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ckpt_manager_save (manager, g_variant_new_int64 (3), 3, NULL, &error));
  g_assert_no_error (error);
}

/* A missing root has nothing to delete, and is not created. */
static void
test_delete_missing_root (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(CkptManager) manager = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = g_build_filename (f->dir, "missing", NULL);
  g_autoptr(GAsyncResult) result = NULL;

  manager = ckpt_manager_new_for_path (missing, NULL, 0, TRUE, &error);
  g_assert_no_error (error);
  g_assert_false (ckpt_manager_delete (manager, 0, NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
  g_clear_error (&error);

  ckpt_manager_delete_async (manager, 0, NULL, store_result, &result);
  g_assert_false (ckpt_manager_delete_finish (manager, wait_result (&result), &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
}

/* delete_async: in call order with the other operations, its pruned signal
 * in the caller's context before the callback. */
typedef struct
{
  GString *log;
} AsyncLog;

static void
on_pruned_log (CkptManager *manager,
               gint64       round_num,
               GFile       *file,
               AsyncLog    *log)
{
  g_string_append_printf (log->log, "p%" G_GINT64_FORMAT " ", round_num);
}

static void
on_delete_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  AsyncLog *log = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (ckpt_manager_delete_finish (CKPT_MANAGER (source), result, &error));
  g_assert_no_error (error);
  g_string_append (log->log, "d ");
}

static void
on_save_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  AsyncLog *log = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (ckpt_manager_save_finish (CKPT_MANAGER (source), result, &error));
  g_assert_no_error (error);
  g_string_append (log->log, "s ");
}

static void
test_delete_async (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(CkptManager) manager = NULL;
  g_autoptr(GError) error = NULL;
  AsyncLog log = { g_string_new ("") };

  manager = ckpt_manager_new (f->root, NULL, 0, TRUE, &error);
  g_assert_no_error (error);
  ckpt_manager_set_durable (manager, FALSE);
  g_signal_connect (manager, "pruned", G_CALLBACK (on_pruned_log), &log);

  /* Save 4, delete it, save it again: in call order. */
  ckpt_manager_save_async (manager, g_variant_new_int64 (4), 4, NULL, on_save_done, &log);
  ckpt_manager_delete_async (manager, 4, NULL, on_delete_done, &log);
  ckpt_manager_save_async (manager, g_variant_new_int64 (4), 4, NULL, on_save_done, &log);
  while (ckpt_manager_get_busy (manager))
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpstr (log.log->str, ==, "s p4 d s ");
  ckpt_test_assert_listing (f->dir, "ckpt_4");

  g_signal_handlers_disconnect_by_data (manager, &log);
  g_string_free (log.log, TRUE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/ckpt/recovery/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("object-new/works", test_object_new_works);
  ADD ("object-new/bad-prefix", test_object_new_bad_prefix);
  ADD ("object-new/no-root", test_object_new_no_root);
  ADD ("damaged-newest/local", test_recovery_local);
  ADD ("damaged-newest/generic", test_recovery_generic);
  ADD ("exists/not-a-checkpoint", test_exists_not_a_checkpoint);
  ADD ("delete/missing-root", test_delete_missing_root);
  ADD ("delete/async", test_delete_async);

#undef ADD

  return g_test_run ();
}
