/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Compatibility of names: a prefix that ends with a digit is refused (its
 * names would read as rounds of a shorter prefix: round 2 of "run2" is
 * "run22").
 */

#include <string.h>

#include <glib/gstdio.h>

#include <ckpt-glib/ckpt-glib.h>

#include "ckpt-test-util.h"

/* ------------------------------------------------------------------------ */
/* Fixture */

typedef struct
{
  char  *tmp_path;   /* a fresh directory, removed in teardown */
  char  *root_path;  /* tmp_path/root, not created beforehand */
  GFile *root;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->tmp_path = g_dir_make_tmp ("test-compat-XXXXXX", &error);
  g_assert_no_error (error);
  f->root_path = g_build_filename (f->tmp_path, "root", NULL);
  f->root = g_file_new_for_path (f->root_path);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  ckpt_test_rm_rf (f->tmp_path);
  g_clear_object (&f->root);
  g_clear_pointer (&f->root_path, g_free);
  g_clear_pointer (&f->tmp_path, g_free);
}

/* ------------------------------------------------------------------------ */
/* Prefixes */

static void
test_prefix_trailing_digit (Fixture       *f,
                            gconstpointer  data)
{
  static const char * const bad[] = { "run2", "0", "x9", "ckpt_1", "model-v10", "é5" };
  static const char * const good[] = { "run2_", "run2-", "v2.", "2x", "r", "ckpt_" };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      CkptManager *mgr;
      GObject *obj;

      g_test_message ("prefix \"%s\"", bad[i]);
      mgr = ckpt_manager_new (f->root, bad[i], 5, TRUE, &error);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
      g_assert_null (mgr);
      /* The message says why. */
      g_assert_nonnull (strstr (error->message, bad[i]));
      g_assert_nonnull (strstr (error->message, "digit"));
      g_clear_error (&error);

      mgr = ckpt_manager_new_for_path (f->root_path, bad[i], 0, FALSE, &error);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
      g_assert_null (mgr);
      g_clear_error (&error);

      obj = g_initable_new (CKPT_TYPE_MANAGER, NULL, &error,
                            "root", f->root, "prefix", bad[i], NULL);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
      g_assert_null (obj);
    }

  for (i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      CkptManager *mgr = ckpt_manager_new (f->root, good[i], 5, TRUE, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (ckpt_manager_get_prefix (mgr), ==, good[i]);
      g_assert_finalize_object (mgr);
    }

  /* Nothing touched the disk. */
  g_assert_false (g_file_test (f->root_path, G_FILE_TEST_EXISTS));
}

/* The collision of the issue cannot happen any more: "run" and "run2_"
 * share a root and each sees its own rounds only. */
static void
test_prefix_no_collision (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CkptManager) run = ckpt_manager_new (f->root, "run", 2, FALSE, &error);
  g_autoptr(CkptManager) run2 = NULL;
  g_autofree gint64 *rounds = NULL;
  g_autofree char *listing = NULL;
  gsize n;

  g_assert_no_error (error);
  run2 = ckpt_manager_new (f->root, "run2_", 2, FALSE, &error);
  g_assert_no_error (error);
  ckpt_manager_set_durable (run, FALSE);
  ckpt_manager_set_durable (run2, FALSE);

  for (gint64 r = 1; r <= 3; r++)
    {
      g_assert_true (ckpt_manager_save (run2, g_variant_new_int64 (r), r, NULL, &error));
      g_assert_no_error (error);
    }
  g_assert_true (ckpt_manager_save (run, g_variant_new_int64 (1), 1, NULL, &error));
  g_assert_no_error (error);

  rounds = ckpt_manager_list_rounds (run, &n, &error);
  g_assert_no_error (error);
  listing = ckpt_test_rounds_string (rounds, n);
  g_assert_cmpstr (listing, ==, "1");
  ckpt_test_assert_listing (f->root_path, "run1", "run2_2", "run2_3");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/ckpt/compat/prefix/trailing-digit", test_prefix_trailing_digit);
  ADD ("/ckpt/compat/prefix/no-collision", test_prefix_no_collision);

#undef ADD

  return g_test_run ();
}
