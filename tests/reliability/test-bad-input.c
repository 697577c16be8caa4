/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Bad input at the API (issue 5): every public function with NULL where it
 * is not allowed (a g_return_val_if_fail() critical in the "Ckpt" domain),
 * negative rounds, invalid prefixes, a root that is a regular file, a root
 * without permission (through the fault hook: the tests run as root). Each
 * gives a critical or a clear error, and changes nothing on disk: the
 * directory is compared, names and bytes, before and after.
 *
 * An invalid GVariantType cannot be made from C: G_VARIANT_TYPE() and
 * g_variant_type_new() check their argument, and anything else would be a
 * cast of arbitrary memory, undefined behaviour rather than bad input. The
 * decoder's handling of invalid type strings read from files is tested in
 * test-damage.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <ckpt-glib/ckpt-glib.h>

#include "ckpt-fault-private.h"
#include "ckpt-manager-private.h"
#include "ckpt-test-util.h"

#define CRITICAL_PATTERN "*assertion*failed*"

/* Runs @stmt expecting exactly one critical of the library. */
#define EXPECT_CRITICAL(stmt) \
  G_STMT_START { \
    g_test_expect_message ("Ckpt", G_LOG_LEVEL_CRITICAL, CRITICAL_PATTERN); \
    stmt; \
    g_test_assert_expected_messages (); \
  } G_STMT_END

/* ------------------------------------------------------------------------ */
/* Directory snapshots */

static void
snapshot_add (GString    *out,
              const char *base,
              const char *rel)
{
  g_autofree char *path = rel[0] != '\0' ? g_build_filename (base, rel, NULL) : g_strdup (base);
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    return;

  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;
      guint i;

      g_string_append_printf (out, "dir %s mode %o\n", rel, (guint) (st.st_mode & 07777));
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        g_ptr_array_add (names, g_strdup (name));
      g_ptr_array_sort (names, ckpt_test_strptr_cmp);
      for (i = 0; i < names->len; i++)
        {
          g_autofree char *child = rel[0] != '\0'
                                   ? g_build_filename (rel, g_ptr_array_index (names, i), NULL)
                                   : g_strdup (g_ptr_array_index (names, i));

          snapshot_add (out, base, child);
        }
    }
  else
    {
      g_autofree char *contents = NULL;
      g_autofree char *checksum = NULL;
      gsize len = 0;

      g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
      checksum = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guint8 *) contents, len);
      g_string_append_printf (out, "file %s %" G_GSIZE_FORMAT " %s\n", rel, len, checksum);
    }
}

/* Names, modes of directories, sizes and checksums of files under @path
 * ("missing" when it does not exist). */
static char *
snapshot (const char *path)
{
  GString *out = g_string_new (NULL);

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    g_string_append (out, "missing");
  snapshot_add (out, path, "");
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------------ */
/* Fixture: a root with checkpoints 1 and 2 and a file of someone else */

typedef struct
{
  char        *tmp_path;
  char        *root_path;
  CkptManager *mgr;
  char        *before;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *notes = NULL;
  gint64 r;

  f->tmp_path = g_dir_make_tmp ("test-bad-input-XXXXXX", &error);
  g_assert_no_error (error);
  f->root_path = g_build_filename (f->tmp_path, "root", NULL);
  f->mgr = ckpt_manager_new_for_path (f->root_path, NULL, 3, TRUE, &error);
  g_assert_no_error (error);
  for (r = 1; r <= 2; r++)
    {
      g_assert_true (ckpt_manager_save (f->mgr, g_variant_new ("(xs)", r, "state"), r, NULL, &error));
      g_assert_no_error (error);
    }
  notes = g_build_filename (f->root_path, "notes.txt", NULL);
  g_assert_true (g_file_set_contents (notes, "not a checkpoint", -1, NULL));
  f->before = snapshot (f->tmp_path);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *after = snapshot (f->tmp_path);

  /* Whatever the test did, nothing changed on disk. */
  ckpt_fault_disarm ();
  g_assert_cmpstr (after, ==, f->before);

  g_clear_object (&f->mgr);
  ckpt_test_rm_rf (f->tmp_path);
  g_free (f->before);
  g_free (f->root_path);
  g_free (f->tmp_path);
}

/* ------------------------------------------------------------------------ */
/* Async helpers */

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

/* ------------------------------------------------------------------------ */
/* NULL and wrong objects */

static void
test_null (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GVariant) state = g_variant_ref_sink (g_variant_new_int32 (1));
  g_autoptr(GFile) root = g_file_new_for_path (f->root_path);
  g_autoptr(GObject) not_a_file = g_object_new (G_TYPE_CANCELLABLE, NULL);
  GCancellable *not_cancellable = (GCancellable *) g_object_ref (root);
  g_autoptr(GError) set = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "already set");
  GError *preset = set;
  CkptManager *m = NULL;
  gsize n = 0;

  /* Constructors. */
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_new (NULL, NULL, 3, TRUE, NULL)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_new ((GFile *) not_a_file, NULL, 3, TRUE, NULL)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_new (root, NULL, 3, TRUE, &preset)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_new_for_path (NULL, NULL, 3, TRUE, NULL)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_new_for_path (f->root_path, NULL, 3, TRUE, &preset)));
  g_assert_true (preset == set);

  /* Properties. */
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_get_root (m)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_get_prefix (m)));
  EXPECT_CRITICAL (g_assert_cmpint (ckpt_manager_get_keep_total (m), ==, 0));
  EXPECT_CRITICAL (ckpt_manager_set_keep_total (m, 1));
  EXPECT_CRITICAL (g_assert_false (ckpt_manager_get_keep_first (m)));
  EXPECT_CRITICAL (ckpt_manager_set_keep_first (m, TRUE));
  EXPECT_CRITICAL (g_assert_false (ckpt_manager_get_durable (m)));
  EXPECT_CRITICAL (ckpt_manager_set_durable (m, TRUE));
  EXPECT_CRITICAL ((void) ckpt_manager_get_verify (m));
  EXPECT_CRITICAL (ckpt_manager_set_verify (m, TRUE));
  EXPECT_CRITICAL (g_assert_false (ckpt_manager_get_busy (m)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_get_file (m, 1)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_get_file ((CkptManager *) root, 1)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_get_file (f->mgr, -1)));

  /* Sync operations. */
  EXPECT_CRITICAL (g_assert_false (ckpt_manager_save (m, state, 3, NULL, NULL)));
  EXPECT_CRITICAL (g_assert_false (ckpt_manager_save ((CkptManager *) root, state, 3, NULL, NULL)));
  EXPECT_CRITICAL (g_assert_false (ckpt_manager_save (f->mgr, NULL, 3, NULL, NULL)));
  EXPECT_CRITICAL (g_assert_false (ckpt_manager_save (f->mgr, state, 3, not_cancellable, NULL)));
  EXPECT_CRITICAL (g_assert_false (ckpt_manager_save (f->mgr, state, 3, NULL, &preset)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_load (m, NULL, 1, NULL, NULL)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_load (f->mgr, NULL, 1, not_cancellable, NULL)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_load (f->mgr, NULL, 1, NULL, &preset)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_load_latest (m, NULL, NULL, NULL, NULL)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_load_latest (f->mgr, NULL, NULL, not_cancellable, NULL)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_load_latest (f->mgr, NULL, NULL, NULL, &preset)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_load_latest_or_default (m, state, NULL, NULL, NULL)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_load_latest_or_default (f->mgr, NULL, NULL, NULL, NULL)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_load_latest_or_default (f->mgr, state, NULL, not_cancellable, NULL)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_load_latest_or_default (f->mgr, state, NULL, NULL, &preset)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_list_rounds (m, &n, NULL)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_list_rounds (f->mgr, NULL, NULL)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_list_rounds (f->mgr, &n, &preset)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_query_info (m, 1, CKPT_QUERY_VERIFY, NULL, NULL)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_query_info (f->mgr, 1, CKPT_QUERY_VERIFY, not_cancellable, NULL)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_query_info (f->mgr, 1, CKPT_QUERY_VERIFY, NULL, &preset)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_prune (m, CKPT_PRUNE_NONE, &n, NULL, NULL)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_prune (f->mgr, CKPT_PRUNE_NONE, NULL, NULL, NULL)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_prune (f->mgr, CKPT_PRUNE_NONE, &n, not_cancellable, NULL)));
  EXPECT_CRITICAL (g_assert_null (ckpt_manager_prune (f->mgr, CKPT_PRUNE_NONE, &n, NULL, &preset)));
  EXPECT_CRITICAL (g_assert_false (ckpt_manager_delete (m, 1, NULL, NULL)));
  EXPECT_CRITICAL (g_assert_false (ckpt_manager_delete (f->mgr, 1, not_cancellable, NULL)));
  EXPECT_CRITICAL (g_assert_false (ckpt_manager_delete (f->mgr, 1, NULL, &preset)));
  g_assert_true (preset == set);

  /* Async operations: nothing is started, no callback runs. */
  EXPECT_CRITICAL (ckpt_manager_save_async (m, state, 3, NULL, NULL, NULL));
  EXPECT_CRITICAL (ckpt_manager_save_async (f->mgr, NULL, 3, NULL, NULL, NULL));
  EXPECT_CRITICAL (ckpt_manager_save_async (f->mgr, state, 3, not_cancellable, NULL, NULL));
  EXPECT_CRITICAL (ckpt_manager_load_async (m, NULL, 1, NULL, NULL, NULL));
  EXPECT_CRITICAL (ckpt_manager_load_async (f->mgr, NULL, 1, not_cancellable, NULL, NULL));
  EXPECT_CRITICAL (ckpt_manager_load_latest_async (m, NULL, NULL, NULL, NULL));
  EXPECT_CRITICAL (ckpt_manager_load_latest_async (f->mgr, NULL, not_cancellable, NULL, NULL));
  EXPECT_CRITICAL (ckpt_manager_load_latest_or_default_async (m, state, NULL, NULL, NULL));
  EXPECT_CRITICAL (ckpt_manager_load_latest_or_default_async (f->mgr, NULL, NULL, NULL, NULL));
  EXPECT_CRITICAL (ckpt_manager_load_latest_or_default_async (f->mgr, state, not_cancellable, NULL, NULL));
  EXPECT_CRITICAL (ckpt_manager_list_rounds_async (m, NULL, NULL, NULL));
  EXPECT_CRITICAL (ckpt_manager_list_rounds_async (f->mgr, not_cancellable, NULL, NULL));
  EXPECT_CRITICAL (ckpt_manager_delete_async (m, 1, NULL, NULL, NULL));
  EXPECT_CRITICAL (ckpt_manager_delete_async (f->mgr, 1, not_cancellable, NULL, NULL));
  g_assert_false (ckpt_manager_get_busy (f->mgr));
  while (g_main_context_iteration (NULL, FALSE))
    ;

  /* Finish functions: NULL, a result of another manager, of another
   * operation, a result that is not a task. */
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(CkptManager) other = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree gint64 *rounds = NULL;
    g_autoptr(GTask) foreign = g_task_new (root, NULL, NULL, NULL);

    other = ckpt_manager_new_for_path (f->root_path, NULL, 3, TRUE, &error);
    g_assert_no_error (error);
    ckpt_manager_list_rounds_async (f->mgr, NULL, store_result, &result);
    wait_result (&result);

    EXPECT_CRITICAL (g_assert_false (ckpt_manager_save_finish (m, result, NULL)));
    EXPECT_CRITICAL (g_assert_false (ckpt_manager_save_finish (f->mgr, NULL, NULL)));
    EXPECT_CRITICAL (g_assert_false (ckpt_manager_save_finish (f->mgr, result, NULL)));
    EXPECT_CRITICAL (g_assert_false (ckpt_manager_save_finish (f->mgr, G_ASYNC_RESULT (foreign), NULL)));
    EXPECT_CRITICAL (g_assert_null (ckpt_manager_load_finish (m, result, NULL)));
    EXPECT_CRITICAL (g_assert_null (ckpt_manager_load_finish (f->mgr, NULL, NULL)));
    EXPECT_CRITICAL (g_assert_null (ckpt_manager_load_finish (f->mgr, result, NULL)));
    EXPECT_CRITICAL (g_assert_null (ckpt_manager_load_latest_finish (m, result, NULL, NULL)));
    EXPECT_CRITICAL (g_assert_null (ckpt_manager_load_latest_finish (f->mgr, NULL, NULL, NULL)));
    EXPECT_CRITICAL (g_assert_null (ckpt_manager_load_latest_finish (f->mgr, result, NULL, NULL)));
    EXPECT_CRITICAL (g_assert_null (ckpt_manager_load_latest_or_default_finish (m, result, NULL, NULL)));
    EXPECT_CRITICAL (g_assert_null (ckpt_manager_load_latest_or_default_finish (f->mgr, NULL, NULL, NULL)));
    EXPECT_CRITICAL (g_assert_null (ckpt_manager_load_latest_or_default_finish (f->mgr, result, NULL, NULL)));
    EXPECT_CRITICAL (g_assert_null (ckpt_manager_list_rounds_finish (m, result, &n, NULL)));
    EXPECT_CRITICAL (g_assert_null (ckpt_manager_list_rounds_finish (f->mgr, NULL, &n, NULL)));
    EXPECT_CRITICAL (g_assert_null (ckpt_manager_list_rounds_finish (other, result, &n, NULL)));
    EXPECT_CRITICAL (g_assert_null (ckpt_manager_list_rounds_finish (f->mgr, G_ASYNC_RESULT (foreign), &n, NULL)));
    EXPECT_CRITICAL (g_assert_null (ckpt_manager_list_rounds_finish (f->mgr, result, NULL, NULL)));
    EXPECT_CRITICAL (g_assert_false (ckpt_manager_delete_finish (m, result, NULL)));
    EXPECT_CRITICAL (g_assert_false (ckpt_manager_delete_finish (f->mgr, result, NULL)));
    EXPECT_CRITICAL (g_assert_false (ckpt_manager_delete_finish (f->mgr, G_ASYNC_RESULT (foreign), NULL)));

    /* The result was not consumed by the wrong calls. */
    rounds = ckpt_manager_list_rounds_finish (f->mgr, result, &n, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (n, ==, 2);
    g_task_return_boolean (foreign, TRUE);
  }

  /* CkptInfo. */
  EXPECT_CRITICAL (g_assert_cmpint (ckpt_info_get_round (NULL), ==, -1));
  EXPECT_CRITICAL (g_assert_cmpuint (ckpt_info_get_size (NULL), ==, 0));
  EXPECT_CRITICAL (g_assert_cmpuint (ckpt_info_get_state_size (NULL), ==, 0));
  EXPECT_CRITICAL (g_assert_null (ckpt_info_get_state_type (NULL)));
  EXPECT_CRITICAL (g_assert_null (ckpt_info_get_creation_time (NULL)));
  EXPECT_CRITICAL (g_assert_null (ckpt_info_get_metadata (NULL)));
  EXPECT_CRITICAL (g_assert_cmpuint (ckpt_info_get_format_version (NULL), ==, 0));
  EXPECT_CRITICAL (g_assert_false (ckpt_info_get_verified (NULL)));

  /* A manager made with g_object_new() without a root: not a programmer
   * mistake a binding could prevent, so errors, not criticals (the rest is
   * in tests/test-recovery.c). */
  {
    g_autoptr(CkptManager) raw = g_object_new (CKPT_TYPE_MANAGER, NULL);
    g_autoptr(GError) error = NULL;

    g_assert_false (ckpt_manager_save (raw, state, 3, NULL, &error));
    g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_null (ckpt_manager_load (raw, NULL, 1, NULL, &error));
    g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_null (ckpt_manager_load_latest (raw, NULL, NULL, NULL, &error));
    g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_null (ckpt_manager_list_rounds (raw, &n, &error));
    g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
    g_assert_null (ckpt_manager_get_file (raw, 1));
  }

  g_object_unref (not_cancellable);
  /* The manager still works. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) value = ckpt_manager_load (f->mgr, NULL, 2, NULL, &error);

    g_assert_no_error (error);
    g_assert_nonnull (value);
  }
}

/* ------------------------------------------------------------------------ */
/* Negative rounds */

static void
test_negative_rounds (Fixture       *f,
                      gconstpointer  data)
{
  static const gint64 rounds[] = { -1, -2, G_MININT64 };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (rounds); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) value = NULL;
      g_autoptr(CkptInfo) info = NULL;
      g_autoptr(GAsyncResult) save_result = NULL;
      g_autoptr(GAsyncResult) load_result = NULL;

      g_assert_false (ckpt_manager_save (f->mgr, g_variant_new_int32 (1), rounds[i], NULL, &error));
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
      g_test_message ("save (%" G_GINT64_FORMAT "): %s", rounds[i], error->message);
      g_clear_error (&error);

      value = ckpt_manager_load (f->mgr, NULL, rounds[i], NULL, &error);
      g_assert_null (value);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);

      info = ckpt_manager_query_info (f->mgr, rounds[i], CKPT_QUERY_VERIFY, NULL, &error);
      g_assert_null (info);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);

      ckpt_manager_save_async (f->mgr, g_variant_new_int32 (1), rounds[i], NULL,
                               store_result, &save_result);
      g_assert_false (ckpt_manager_save_finish (f->mgr, wait_result (&save_result), &error));
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);

      ckpt_manager_load_async (f->mgr, NULL, rounds[i], NULL, store_result, &load_result);
      value = ckpt_manager_load_finish (f->mgr, wait_result (&load_result), &error);
      g_assert_null (value);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
    }

  /* A negative keep-total is allowed (keeps everything), so it is not bad
   * input; the round limit at the other end is fine too. */
  {
    g_autoptr(GFile) file = ckpt_manager_get_file (f->mgr, G_MAXINT64);
    g_autofree char *name = g_file_get_basename (file);

    g_assert_cmpstr (name, ==, "ckpt_9223372036854775807");
  }
}

/* ------------------------------------------------------------------------ */
/* Invalid prefixes */

static void
test_prefixes (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *long_prefix = g_strnfill (201, 'p');
  g_autofree char *max_prefix = g_strnfill (200, 'p');
  const char * const invalid[] = {
    "", ".", ".hidden", "..", "a/b", "/", "../escape", "ckpt_/", "\xff\xfe", "ok\xc3", long_prefix,
  };
  g_autofree char *fresh = g_build_filename (f->tmp_path, "fresh", NULL);
  g_autoptr(GFile) fresh_file = g_file_new_for_path (fresh);
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(CkptManager) mgr = NULL;

      mgr = ckpt_manager_new_for_path (f->root_path, invalid[i], 3, TRUE, &error);
      g_assert_null (mgr);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);

      mgr = ckpt_manager_new (fresh_file, invalid[i], 3, TRUE, &error);
      g_assert_null (mgr);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);

      mgr = g_initable_new (CKPT_TYPE_MANAGER, NULL, &error,
                            "root", fresh_file, "prefix", invalid[i], NULL);
      g_assert_null (mgr);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
      if (g_utf8_validate (invalid[i], -1, NULL) && strlen (invalid[i]) < 20)
        g_test_message ("prefix \"%s\": %s", invalid[i], error->message);
    }

  /* No root at all. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(CkptManager) mgr = g_initable_new (CKPT_TYPE_MANAGER, NULL, &error, NULL);

    g_assert_null (mgr);
    g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
  }

  /* The longest prefix allowed works, in a fresh root; then it is removed
   * (the fixture checks the rest). */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(CkptManager) mgr = ckpt_manager_new (fresh_file, max_prefix, 3, TRUE, &error);
    g_autoptr(GVariant) value = NULL;

    g_assert_no_error (error);
    g_assert_true (ckpt_manager_save (mgr, g_variant_new_int32 (7), G_MAXINT64, NULL, &error));
    g_assert_no_error (error);
    value = ckpt_manager_load (mgr, G_VARIANT_TYPE_INT32, G_MAXINT64, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (g_variant_get_int32 (value), ==, 7);
    ckpt_test_rm_rf (fresh);
  }
  g_assert_false (g_file_test (fresh, G_FILE_TEST_EXISTS));
}

/* ------------------------------------------------------------------------ */
/* Roots that cannot be used */

/* Every operation on @mgr fails with an error naming @path; none saves. */
static void
assert_all_fail (CkptManager *mgr,
                 const char  *path,
                 GQuark       domain,
                 int          code)
{
  g_autoptr(GVariant) state = g_variant_ref_sink (g_variant_new ("(xs)", (gint64) 3, "state"));
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autofree gint64 *rounds = NULL;
  gint64 round_num = -2;
  gsize n = 0;

#define CHECK_ERROR(what) \
  G_STMT_START { \
    g_assert_nonnull (error); \
    if (domain != 0) \
      g_assert_error (error, domain, code); \
    g_assert_nonnull (strstr (error->message, path)); \
    g_test_message ("%s: %s", what, error->message); \
    g_clear_error (&error); \
  } G_STMT_END

  g_assert_false (ckpt_manager_save (mgr, state, 3, NULL, &error));
  CHECK_ERROR ("save");
  value = ckpt_manager_load_latest (mgr, NULL, &round_num, NULL, &error);
  g_assert_null (value);
  CHECK_ERROR ("load_latest");
  value = ckpt_manager_load_latest_or_default (mgr, state, &round_num, NULL, &error);
  g_assert_null (value);
  CHECK_ERROR ("load_latest_or_default");
  rounds = ckpt_manager_list_rounds (mgr, &n, &error);
  g_assert_null (rounds);
  CHECK_ERROR ("list_rounds");
  rounds = ckpt_manager_prune (mgr, CKPT_PRUNE_NONE, &n, NULL, &error);
  g_assert_null (rounds);
  CHECK_ERROR ("prune");
  rounds = ckpt_manager_prune (mgr, CKPT_PRUNE_DRY_RUN, &n, NULL, &error);
  g_assert_null (rounds);
  CHECK_ERROR ("prune (dry run)");

#undef CHECK_ERROR
}

static void
test_root_is_file (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *file_path = g_build_filename (f->root_path, "notes.txt", NULL);
  g_autofree char *below = g_build_filename (file_path, "sub", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(CkptManager) mgr_below = NULL;

  /* The manager is created (construction does no I/O); every operation
   * then fails, naming the path. */
  mgr = ckpt_manager_new_for_path (file_path, NULL, 3, TRUE, &error);
  g_assert_no_error (error);
  assert_all_fail (mgr, file_path, 0, 0);
  {
    g_autoptr(GVariant) value = ckpt_manager_load (mgr, NULL, 1, NULL, &error);

    g_assert_null (value);
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, file_path));
    g_clear_error (&error);
  }

  /* A root below a regular file. */
  mgr_below = ckpt_manager_new_for_path (below, NULL, 3, TRUE, &error);
  g_assert_no_error (error);
  assert_all_fail (mgr_below, below, 0, 0);

  /* Both managers see it the same after the fact. */
  g_assert_false (ckpt_manager_get_busy (mgr));
}

/* Permission denied, through the fault hook (root ignores modes). */
static void
test_no_permission (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *missing = g_build_filename (f->tmp_path, "missing", "root", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CkptManager) mgr = NULL;

  /* The root exists but cannot be opened. */
  mgr = ckpt_manager_new_for_path (f->root_path, NULL, 3, TRUE, &error);
  g_assert_no_error (error);
  ckpt_fault_arm (CKPT_FAULT_OPEN, 1, EACCES);
  {
    /* One fault per call: re-arm before each. */
    g_autoptr(GVariant) state = g_variant_ref_sink (g_variant_new ("(xs)", (gint64) 3, "state"));
    g_autoptr(GVariant) value = NULL;
    g_autoptr(CkptInfo) info = NULL;
    g_autofree gint64 *rounds = NULL;
    gsize n = 0;

    g_assert_false (ckpt_manager_save (mgr, state, 3, NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
    g_assert_nonnull (strstr (error->message, f->root_path));
    g_clear_error (&error);

    ckpt_fault_arm (CKPT_FAULT_OPEN, 1, EACCES);
    value = ckpt_manager_load_latest (mgr, NULL, NULL, NULL, &error);
    g_assert_null (value);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
    g_clear_error (&error);

    ckpt_fault_arm (CKPT_FAULT_OPEN, 1, EACCES);
    value = ckpt_manager_load_latest_or_default (mgr, state, NULL, NULL, &error);
    g_assert_null (value);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
    g_clear_error (&error);

    ckpt_fault_arm (CKPT_FAULT_OPEN, 1, EACCES);
    value = ckpt_manager_load (mgr, NULL, 1, NULL, &error);
    g_assert_null (value);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
    g_assert_nonnull (strstr (error->message, f->root_path));
    g_clear_error (&error);

    ckpt_fault_arm (CKPT_FAULT_OPEN, 1, EACCES);
    info = ckpt_manager_query_info (mgr, 1, CKPT_QUERY_VERIFY, NULL, &error);
    g_assert_null (info);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
    g_clear_error (&error);

    ckpt_fault_arm (CKPT_FAULT_OPEN, 1, EACCES);
    rounds = ckpt_manager_list_rounds (mgr, &n, &error);
    g_assert_null (rounds);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
    g_clear_error (&error);

    ckpt_fault_arm (CKPT_FAULT_OPEN, 1, EACCES);
    rounds = ckpt_manager_prune (mgr, CKPT_PRUNE_NONE, &n, NULL, &error);
    g_assert_null (rounds);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
    g_clear_error (&error);

    /* The lock cannot be taken. */
    ckpt_fault_arm (CKPT_FAULT_LOCK, 1, EACCES);
    g_assert_false (ckpt_manager_save (mgr, state, 3, NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
    g_clear_error (&error);

    /* A file cannot be created in it. */
    ckpt_fault_arm (CKPT_FAULT_OPEN, 2, EACCES);
    g_assert_false (ckpt_manager_save (mgr, state, 3, NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
    g_assert_nonnull (strstr (error->message, f->root_path));
    g_clear_error (&error);
  }
  ckpt_fault_disarm ();

  /* A root that does not exist and cannot be created. */
  g_clear_object (&mgr);
  mgr = ckpt_manager_new_for_path (missing, NULL, 3, TRUE, &error);
  g_assert_no_error (error);
  ckpt_fault_arm (CKPT_FAULT_MKDIR, 1, EACCES);
  g_assert_false (ckpt_manager_save (mgr, g_variant_new_int32 (1), 1, NULL, &error));
  ckpt_fault_disarm ();
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_nonnull (strstr (error->message, missing));
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  /* For real, where permissions apply. */
  if (geteuid () != 0)
    {
      g_autoptr(GVariant) value = NULL;

      g_assert_cmpint (g_chmod (f->root_path, 0500), ==, 0);
      g_clear_object (&mgr);
      mgr = ckpt_manager_new_for_path (f->root_path, NULL, 3, TRUE, &error);
      g_assert_no_error (error);
      g_assert_false (ckpt_manager_save (mgr, g_variant_new_int32 (1), 3, NULL, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
      g_clear_error (&error);
      /* Reading still works. */
      value = ckpt_manager_load_latest (mgr, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (value);
      g_assert_cmpint (g_chmod (f->root_path, 0755), ==, 0);
    }
  else
    g_test_message ("running as root: real permission checks skipped, the fault hook stands in");
}

/* ------------------------------------------------------------------------ */
/* States and types */

/* An invalid GVariantType cannot be made from C (see the top of the file). */
static void
test_invalid_type (Fixture       *f,
                   gconstpointer  data)
{
  g_test_skip ("An invalid GVariantType cannot be made from C: G_VARIANT_TYPE () and "
               "g_variant_type_new () reject it; invalid type strings in files are "
               "tested by test-damage");
}

/* Types that are valid but do not fit: a clear TYPE_MISMATCH naming both,
 * and nothing changes. */
static void
test_type_mismatch (Fixture       *f,
                    gconstpointer  data)
{
  static const char * const types[] = { "i", "(xi)", "a{sv}", "(xsi)", "ay", "m(xs)" };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) value = NULL;
      gint64 round_num = -2;

      value = ckpt_manager_load (f->mgr, G_VARIANT_TYPE (types[i]), 2, NULL, &error);
      g_assert_null (value);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_TYPE_MISMATCH);
      g_assert_nonnull (strstr (error->message, "(xs)"));
      g_assert_nonnull (strstr (error->message, types[i]));
      g_clear_error (&error);

      value = ckpt_manager_load_latest (f->mgr, G_VARIANT_TYPE (types[i]), &round_num, NULL, &error);
      g_assert_null (value);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_TYPE_MISMATCH);
      g_clear_error (&error);

      /* or_default with a default of another type: no fresh start over
       * existing checkpoints. */
      value = ckpt_manager_load_latest_or_default (f->mgr, g_variant_new_int32 (0), &round_num, NULL, &error);
      g_assert_null (value);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_TYPE_MISMATCH);
    }

  /* Indefinite types that cover it are fine. */
  {
    static const char * const ok[] = { "*", "r", "(x*)", "(?s)", "(xs)" };

    for (i = 0; i < G_N_ELEMENTS (ok); i++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) value = ckpt_manager_load (f->mgr, G_VARIANT_TYPE (ok[i]), 2, NULL, &error);

        g_assert_no_error (error);
        g_assert_nonnull (value);
      }
  }
}

/* A state that is not in normal form (untrusted bytes) is saved in normal
 * form; the round then exists, so the fixture's comparison would fail: it
 * is saved into another root. */
static void
test_non_normal_state (Fixture       *f,
                       gconstpointer  data)
{
  static const guint8 not_normal[] = { 'a', 'b', 'c' };   /* a string without its nul */
  g_autofree char *other = g_build_filename (f->tmp_path, "other", NULL);
  g_autoptr(GBytes) bytes = g_bytes_new_static (not_normal, sizeof not_normal);
  g_autoptr(GVariant) state = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_STRING, bytes, FALSE));
  g_autoptr(GError) error = NULL;
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GVariant) normal = g_variant_get_normal_form (state);

  g_assert_false (g_variant_is_normal_form (state));
  mgr = ckpt_manager_new_for_path (other, NULL, 3, TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (ckpt_manager_save (mgr, state, 1, NULL, &error));
  g_assert_no_error (error);
  value = ckpt_manager_load (mgr, G_VARIANT_TYPE_STRING, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_is_normal_form (value));
  g_assert_true (g_variant_equal (value, normal));
  ckpt_test_rm_rf (other);
}

/* Operations that only read, or have nothing to do, on a root that does
 * not exist: no error, and the root is not created. */
static void
test_missing_root (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *missing = g_build_filename (f->tmp_path, "missing", "root", NULL);
  g_autofree char *parent = g_path_get_dirname (missing);
  g_autoptr(GError) error = NULL;
  g_autoptr(CkptManager) mgr = NULL;
  gboolean dry_run;

  mgr = ckpt_manager_new_for_path (missing, NULL, 3, TRUE, &error);
  g_assert_no_error (error);

  {
    g_autofree gint64 *rounds = NULL;
    g_autoptr(GVariant) value = NULL;
    g_autoptr(CkptInfo) info = NULL;
    gint64 round_num = -2;
    gsize n = 99;

    rounds = ckpt_manager_list_rounds (mgr, &n, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (n, ==, 0);
    value = ckpt_manager_load_latest (mgr, NULL, &round_num, NULL, &error);
    g_assert_no_error (error);
    g_assert_null (value);
    g_assert_cmpint (round_num, ==, -1);
    value = ckpt_manager_load (mgr, NULL, 1, NULL, &error);
    g_assert_error (error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
    g_clear_error (&error);
    info = ckpt_manager_query_info (mgr, 1, CKPT_QUERY_VERIFY, NULL, &error);
    g_assert_error (error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }
  g_assert_false (g_file_test (parent, G_FILE_TEST_EXISTS));

  for (dry_run = TRUE; dry_run >= FALSE; dry_run--)
    {
      g_autofree gint64 *pruned = NULL;
      gsize n = 99;

      pruned = ckpt_manager_prune (mgr, dry_run ? CKPT_PRUNE_DRY_RUN : CKPT_PRUNE_NONE, &n, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (pruned);
      g_assert_cmpuint (n, ==, 0);
      if (g_file_test (parent, G_FILE_TEST_EXISTS))
        g_error ("ckpt_manager_prune (dry_run=%d) on a missing root created ‘%s’",
                 dry_run, missing);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/ckpt/reliability/bad-input/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("null", test_null);
  ADD ("negative-rounds", test_negative_rounds);
  ADD ("prefixes", test_prefixes);
  ADD ("root-is-file", test_root_is_file);
  ADD ("no-permission", test_no_permission);
  ADD ("invalid-type", test_invalid_type);
  ADD ("type-mismatch", test_type_mismatch);
  ADD ("non-normal-state", test_non_normal_state);
  ADD ("missing-root", test_missing_root);

#undef ADD

  return g_test_run ();
}
