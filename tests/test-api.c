/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The 1.0 API shape: CkptInfo as a GObject with read-only properties, the
 * GFlags of query_info and prune, their async pairs, CKPT_ERROR_FAILED
 * and the registered CkptError, the version macros and the run-time
 * version.
 */

/* As a program that supports ckpt-glib 1.0 and later would compile. */
#define CKPT_VERSION_MIN_REQUIRED CKPT_VERSION_1_0
#define CKPT_VERSION_MAX_ALLOWED CKPT_VERSION_1_0

#include <string.h>

#include <ckpt-glib/ckpt-glib.h>
#include "ckpt-test-util.h"

#if CKPT_VERSION_MIN_REQUIRED != CKPT_ENCODE_VERSION (1, 0)
# error "CKPT_VERSION_MIN_REQUIRED is not the one defined above"
#endif
#if CKPT_VERSION_CUR_STABLE < CKPT_VERSION_1_0
# error "CKPT_VERSION_CUR_STABLE is older than 1.0"
#endif

typedef struct
{
  char        *dir;
  CkptManager *manager;
} Fixture;

static GVariant *
make_state (gint64 round_num)
{
  return g_variant_new ("(xd)", round_num, 0.5);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 r;

  f->dir = g_dir_make_tmp ("ckpt-api-XXXXXX", &error);
  g_assert_no_error (error);
  f->manager = ckpt_manager_new_for_path (f->dir, NULL, 0, TRUE, &error);
  g_assert_no_error (error);
  ckpt_manager_set_durable (f->manager, FALSE);
  for (r = 1; r <= 4; r++)
    {
      g_assert_true (ckpt_manager_save (f->manager, make_state (r), r, NULL, &error));
      g_assert_no_error (error);
    }
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_assert_finalize_object (f->manager);
  ckpt_test_rm_rf (f->dir);
  g_free (f->dir);
}

static void
run_until (gboolean *flag)
{
  while (!*flag)
    g_main_context_iteration (NULL, TRUE);
}

static void
on_result (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static void
wait_result (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

/* Damages the last byte of the state of @round_num: the header stays
 * intact, the checksum does not match. */
static void
damage_state (Fixture *f,
              gint64   round_num)
{
  g_autoptr(GFile) file = ckpt_manager_get_file (f->manager, round_num);
  g_autofree char *path = g_file_get_path (file);
  g_autoptr(GBytes) bytes = ckpt_test_read_bytes (path);
  gsize len = g_bytes_get_size (bytes);
  g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (bytes, NULL), len);

  copy[len - 1] ^= 0x40;
  ckpt_test_write_file (path, copy, len);
}

/* --- CkptInfo ------------------------------------------------------------ */

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           gpointer    user_data)
{
  (*(guint *) user_data)++;
}

/* Every property of @info says what its getter says, and none can be
 * written. */
static void
assert_info_properties (CkptInfo *info,
                        gint64    round_num,
                        gboolean  verified)
{
  static const char * const names[] = {
    "creation-time", "format-version", "metadata", "round", "size",
    "state-size", "state-type", "verified",
  };
  g_autoptr(GDateTime) creation_time = NULL;
  g_autoptr(GVariant) metadata = NULL;
  g_autofree char *state_type = NULL;
  g_autofree GParamSpec **pspecs = NULL;
  gint64 round_prop = -1;
  guint64 size = 0, state_size = 0;
  guint format_version = 0, n_pspecs = 0, i;
  gboolean verified_prop = !verified;

  g_assert_true (G_IS_OBJECT (info));
  g_assert_true (CKPT_IS_INFO (info));
  g_assert_true (G_TYPE_IS_FINAL (CKPT_TYPE_INFO));

  pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (info), &n_pspecs);
  g_assert_cmpuint (n_pspecs, ==, G_N_ELEMENTS (names));
  for (i = 0; i < G_N_ELEMENTS (names); i++)
    {
      GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (info), names[i]);

      g_assert_nonnull (pspec);
      g_assert_true (pspec->flags & G_PARAM_READABLE);
      g_assert_false (pspec->flags & (G_PARAM_WRITABLE | G_PARAM_CONSTRUCT | G_PARAM_CONSTRUCT_ONLY));
    }

  g_object_get (info,
                "round", &round_prop,
                "size", &size,
                "state-size", &state_size,
                "state-type", &state_type,
                "creation-time", &creation_time,
                "metadata", &metadata,
                "format-version", &format_version,
                "verified", &verified_prop,
                NULL);

  g_assert_cmpint (round_prop, ==, round_num);
  g_assert_cmpint (ckpt_info_get_round (info), ==, round_num);
  g_assert_cmpuint (size, ==, ckpt_info_get_size (info));
  g_assert_cmpuint (state_size, ==, ckpt_info_get_state_size (info));
  g_assert_cmpuint (state_size, ==, 16);
  g_assert_cmpuint (size, >, state_size);
  g_assert_cmpstr (state_type, ==, "(xd)");
  g_assert_cmpstr (ckpt_info_get_state_type_string (info), ==, "(xd)");
  g_assert_true (g_variant_type_equal (ckpt_info_get_state_type (info), G_VARIANT_TYPE ("(xd)")));
  g_assert_true (creation_time == ckpt_info_get_creation_time (info));
  g_assert_cmpint (g_date_time_get_utc_offset (creation_time), ==, 0);
  g_assert_true (metadata == ckpt_info_get_metadata (info));
  g_assert_true (g_variant_is_of_type (metadata, G_VARIANT_TYPE_VARDICT));
  {
    g_autoptr(GVariant) version = g_variant_lookup_value (metadata, "ckpt-glib-version",
                                                          G_VARIANT_TYPE_STRING);

    g_assert_nonnull (version);
    g_assert_cmpstr (g_variant_get_string (version, NULL), ==, CKPT_VERSION_S);
  }
  g_assert_cmpuint (format_version, ==, ckpt_info_get_format_version (info));
  g_assert_cmpuint (format_version, ==, 1);
  g_assert_cmpint (verified_prop, ==, verified);
  g_assert_cmpint (ckpt_info_get_verified (info), ==, verified);
}

static void
test_info_gobject (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  CkptInfo *info, *unverified;
  guint n_notify = 0;

  g_assert_true (g_type_is_a (CKPT_TYPE_INFO, G_TYPE_OBJECT));
  g_assert_false (G_TYPE_IS_BOXED (CKPT_TYPE_INFO));

  info = ckpt_manager_query_info (f->manager, 3, CKPT_QUERY_VERIFY, NULL, &error);
  g_assert_no_error (error);
  assert_info_properties (info, 3, TRUE);
  g_signal_connect (info, "notify", G_CALLBACK (on_notify), &n_notify);

  /* A GObject, so a binding (and a GtkPropertyExpression) can take
   * references and hold on to it. */
  g_object_ref (info);
  g_object_unref (info);
  g_assert_cmpuint (n_notify, ==, 0);
  g_assert_finalize_object (info);

  unverified = ckpt_manager_query_info (f->manager, 3, CKPT_QUERY_NONE, NULL, &error);
  g_assert_no_error (error);
  assert_info_properties (unverified, 3, FALSE);
  g_assert_finalize_object (unverified);
}

/* --- flags --------------------------------------------------------------- */

static void
test_flags_types (void)
{
  g_autoptr(GFlagsClass) query = NULL;
  g_autoptr(GFlagsClass) prune = NULL;
  GFlagsValue *v;

  g_assert_true (G_TYPE_IS_FLAGS (CKPT_TYPE_QUERY_FLAGS));
  g_assert_true (G_TYPE_IS_FLAGS (CKPT_TYPE_PRUNE_FLAGS));
  g_assert_cmpstr (g_type_name (CKPT_TYPE_QUERY_FLAGS), ==, "CkptQueryFlags");
  g_assert_cmpstr (g_type_name (CKPT_TYPE_PRUNE_FLAGS), ==, "CkptPruneFlags");

  query = g_type_class_ref (CKPT_TYPE_QUERY_FLAGS);
  g_assert_cmpuint (query->n_values, ==, 2);
  g_assert_cmpint (CKPT_QUERY_NONE, ==, 0);
  v = g_flags_get_first_value (query, CKPT_QUERY_VERIFY);
  g_assert_nonnull (v);
  g_assert_cmpstr (v->value_nick, ==, "verify");
  g_assert_nonnull (g_flags_get_value_by_nick (query, "none"));

  prune = g_type_class_ref (CKPT_TYPE_PRUNE_FLAGS);
  g_assert_cmpuint (prune->n_values, ==, 2);
  g_assert_cmpint (CKPT_PRUNE_NONE, ==, 0);
  v = g_flags_get_first_value (prune, CKPT_PRUNE_DRY_RUN);
  g_assert_nonnull (v);
  g_assert_cmpstr (v->value_nick, ==, "dry-run");
  g_assert_nonnull (g_flags_get_value_by_nick (prune, "none"));
}

/* CKPT_QUERY_VERIFY reads the whole file; CKPT_QUERY_NONE the header. */
static void
test_query_flags (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CkptInfo) info = NULL;

  damage_state (f, 2);
  info = ckpt_manager_query_info (f->manager, 2, CKPT_QUERY_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (ckpt_info_get_verified (info));
  g_assert_null (ckpt_manager_query_info (f->manager, 2, CKPT_QUERY_VERIFY, NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
}

/* --- async pairs --------------------------------------------------------- */

static void
test_query_info_async (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  GAsyncResult *verified = NULL, *plain = NULL, *missing = NULL, *damaged = NULL;
  GAsyncResult *negative = NULL, *cancelled_result = NULL;
  CkptInfo *info;

  damage_state (f, 4);
  g_cancellable_cancel (cancelled);

  ckpt_manager_query_info_async (f->manager, 3, CKPT_QUERY_VERIFY, NULL, on_result, &verified);
  ckpt_manager_query_info_async (f->manager, 4, CKPT_QUERY_NONE, NULL, on_result, &plain);
  ckpt_manager_query_info_async (f->manager, 9, CKPT_QUERY_NONE, NULL, on_result, &missing);
  ckpt_manager_query_info_async (f->manager, 4, CKPT_QUERY_VERIFY, NULL, on_result, &damaged);
  ckpt_manager_query_info_async (f->manager, -1, CKPT_QUERY_NONE, NULL, on_result, &negative);
  ckpt_manager_query_info_async (f->manager, 3, CKPT_QUERY_VERIFY, cancelled, on_result,
                                 &cancelled_result);
  /* Never from within the call. */
  g_assert_null (verified);
  g_assert_true (ckpt_manager_get_busy (f->manager));
  wait_result (&cancelled_result);
  g_assert_nonnull (verified);
  g_assert_nonnull (damaged);

  info = ckpt_manager_query_info_finish (f->manager, verified, &error);
  g_assert_no_error (error);
  assert_info_properties (info, 3, TRUE);
  g_assert_finalize_object (info);

  /* The header of a damaged file reads without CKPT_QUERY_VERIFY. */
  info = ckpt_manager_query_info_finish (f->manager, plain, &error);
  g_assert_no_error (error);
  assert_info_properties (info, 4, FALSE);
  g_assert_finalize_object (info);

  g_assert_null (ckpt_manager_query_info_finish (f->manager, missing, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (ckpt_manager_query_info_finish (f->manager, damaged, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_null (ckpt_manager_query_info_finish (f->manager, negative, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (ckpt_manager_query_info_finish (f->manager, cancelled_result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  g_object_unref (verified);
  g_object_unref (plain);
  g_object_unref (missing);
  g_object_unref (damaged);
  g_object_unref (negative);
  g_object_unref (cancelled_result);
}

typedef struct
{
  GString  *events;
  GThread  *thread;
  gboolean  wrong_thread;
  gboolean  done;
  gint64   *pruned;
  gsize     n_pruned;
  GError   *error;
} PruneTrace;

static void
on_pruned (CkptManager *manager,
           gint64       round_num,
           GFile       *file,
           PruneTrace  *trace)
{
  g_string_append_printf (trace->events, "pruned %" G_GINT64_FORMAT "; ", round_num);
  if (g_thread_self () != trace->thread)
    trace->wrong_thread = TRUE;
}

static void
on_corrupt (CkptManager *manager,
            gint64       round_num,
            GFile       *file,
            GError      *error,
            PruneTrace  *trace)
{
  g_string_append_printf (trace->events, "corrupt %" G_GINT64_FORMAT "; ", round_num);
  if (g_thread_self () != trace->thread)
    trace->wrong_thread = TRUE;
}

static void
on_prune_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  PruneTrace *trace = user_data;
  gsize i;

  g_free (trace->pruned);
  g_clear_error (&trace->error);
  trace->pruned = ckpt_manager_prune_finish (CKPT_MANAGER (source), result, &trace->n_pruned,
                                             &trace->error);
  g_string_append (trace->events, "done [");
  for (i = 0; trace->pruned != NULL && i < trace->n_pruned; i++)
    g_string_append_printf (trace->events, "%s%" G_GINT64_FORMAT, i > 0 ? " " : "",
                            trace->pruned[i]);
  g_string_append (trace->events, "]; ");
  if (g_thread_self () != trace->thread)
    trace->wrong_thread = TRUE;
  trace->done = TRUE;
}

static void
test_prune_async (Fixture       *f,
                  gconstpointer  data)
{
  PruneTrace trace = { g_string_new (NULL), g_thread_self (), FALSE, FALSE, NULL, 0, NULL };
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();

  g_signal_connect (f->manager, "pruned", G_CALLBACK (on_pruned), &trace);
  g_signal_connect (f->manager, "corrupt", G_CALLBACK (on_corrupt), &trace);
  ckpt_manager_set_keep_total (f->manager, 2);

  /* A dry run: the rounds, no signal, nothing deleted. */
  ckpt_manager_prune_async (f->manager, CKPT_PRUNE_DRY_RUN, NULL, on_prune_done, &trace);
  g_assert_false (trace.done);
  run_until (&trace.done);
  g_assert_no_error (trace.error);
  g_assert_cmpstr (trace.events->str, ==, "done [2 3]; ");
  ckpt_test_assert_listing (f->dir, "ckpt_1", "ckpt_2", "ckpt_3", "ckpt_4");

  /* Cancelled before it runs: nothing deleted. */
  g_string_truncate (trace.events, 0);
  trace.done = FALSE;
  g_cancellable_cancel (cancelled);
  ckpt_manager_prune_async (f->manager, CKPT_PRUNE_NONE, cancelled, on_prune_done, &trace);
  run_until (&trace.done);
  g_assert_error (trace.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (trace.pruned);
  g_assert_cmpuint (trace.n_pruned, ==, 0);
  ckpt_test_assert_listing (f->dir, "ckpt_1", "ckpt_2", "ckpt_3", "ckpt_4");

  /* The retention properties are those of the call: raising keep-total
   * after it changes nothing. A damaged round is not kept (and not
   * deleted): round 3 goes as well. The signals come first, in the
   * caller's context, then the callback. */
  g_string_truncate (trace.events, 0);
  trace.done = FALSE;
  damage_state (f, 4);
  ckpt_manager_prune_async (f->manager, CKPT_PRUNE_NONE, NULL, on_prune_done, &trace);
  ckpt_manager_set_keep_total (f->manager, 0);
  run_until (&trace.done);
  g_assert_no_error (trace.error);
  g_assert_cmpstr (trace.events->str, ==, "corrupt 4; pruned 2; done [2]; ");
  g_assert_false (trace.wrong_thread);
  ckpt_test_assert_listing (f->dir, "ckpt_1", "ckpt_3", "ckpt_4");

  /* A missing root is not created. */
  {
    g_autofree char *missing = g_build_filename (f->dir, "missing", NULL);
    g_autoptr(CkptManager) other = ckpt_manager_new_for_path (missing, NULL, 1, FALSE, NULL);

    g_string_truncate (trace.events, 0);
    trace.done = FALSE;
    ckpt_manager_prune_async (other, CKPT_PRUNE_NONE, NULL, on_prune_done, &trace);
    run_until (&trace.done);
    g_assert_no_error (trace.error);
    g_assert_nonnull (trace.pruned);
    g_assert_cmpuint (trace.n_pruned, ==, 0);
    g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
  }

  g_signal_handlers_disconnect_by_data (f->manager, &trace);
  g_free (trace.pruned);
  g_clear_error (&trace.error);
  g_string_free (trace.events, TRUE);
}

/* Programmer errors are criticals, as in the other calls. */
static void
test_bad_calls (Fixture       *f,
                gconstpointer  data)
{
  GAsyncResult *result = NULL;
  gsize n = 0;

  if (g_test_undefined ())
    {
      g_test_expect_message ("Ckpt", G_LOG_LEVEL_CRITICAL, "*CKPT_IS_INFO*");
      g_assert_cmpint (ckpt_info_get_round (NULL), ==, -1);
      g_test_assert_expected_messages ();
      g_test_expect_message ("Ckpt", G_LOG_LEVEL_CRITICAL, "*CKPT_IS_INFO*");
      g_assert_null (ckpt_info_get_state_type_string ((CkptInfo *) f->manager));
      g_test_assert_expected_messages ();
      g_test_expect_message ("Ckpt", G_LOG_LEVEL_CRITICAL, "*CKPT_IS_MANAGER*");
      ckpt_manager_query_info_async (NULL, 1, CKPT_QUERY_NONE, NULL, NULL, NULL);
      g_test_assert_expected_messages ();
      g_test_expect_message ("Ckpt", G_LOG_LEVEL_CRITICAL, "*CKPT_IS_MANAGER*");
      ckpt_manager_prune_async (NULL, CKPT_PRUNE_NONE, NULL, NULL, NULL);
      g_test_assert_expected_messages ();
    }

  /* The result of one pair is not the other's. */
  ckpt_manager_query_info_async (f->manager, 1, CKPT_QUERY_NONE, NULL, on_result, &result);
  wait_result (&result);
  if (g_test_undefined ())
    {
      g_test_expect_message ("Ckpt", G_LOG_LEVEL_CRITICAL, "*ckpt_async_result_is_valid*");
      g_assert_null (ckpt_manager_prune_finish (f->manager, result, &n, NULL));
      g_test_assert_expected_messages ();
    }
  g_assert_finalize_object (ckpt_manager_query_info_finish (f->manager, result, NULL));
  g_object_unref (result);
}

/* --- errors -------------------------------------------------------------- */

static void
test_error_failed (void)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (CKPT_TYPE_ERROR);
  GEnumValue *v;

  g_assert_true (G_TYPE_IS_ENUM (CKPT_TYPE_ERROR));
  v = g_enum_get_value (klass, CKPT_ERROR_FAILED);
  g_assert_nonnull (v);
  g_assert_cmpstr (v->value_name, ==, "CKPT_ERROR_FAILED");
  g_assert_cmpstr (v->value_nick, ==, "failed");
  /* Appended: the codes of before keep their values. */
  g_assert_cmpint (CKPT_ERROR_NOT_FOUND, ==, 0);
  g_assert_cmpint (CKPT_ERROR_SUPERSEDED, ==, 7);
  g_assert_cmpint (CKPT_ERROR_FAILED, ==, 8);
  g_assert_cmpint (klass->maximum, ==, CKPT_ERROR_FAILED);
}

/* --- version ------------------------------------------------------------- */

static void
test_version (void)
{
  const char *deprecated = G_STRINGIFY (CKPT_DEPRECATED_IN_1_0);
  const char *deprecated_for = G_STRINGIFY (CKPT_DEPRECATED_IN_1_0_FOR (ckpt_manager_new));
  const char *available = G_STRINGIFY (CKPT_AVAILABLE_IN_1_0);
  g_autofree char *s = NULL;

  g_assert_cmpuint (ckpt_get_major_version (), ==, CKPT_MAJOR_VERSION);
  g_assert_cmpuint (ckpt_get_minor_version (), ==, CKPT_MINOR_VERSION);
  g_assert_cmpuint (ckpt_get_micro_version (), ==, CKPT_MICRO_VERSION);
  s = g_strdup_printf ("%u.%u.%u", ckpt_get_major_version (), ckpt_get_minor_version (),
                       ckpt_get_micro_version ());
  g_assert_cmpstr (s, ==, CKPT_VERSION_S);

  g_assert_cmpint (CKPT_VERSION_1_0, ==, 0x10000);
  g_assert_cmpint (CKPT_ENCODE_VERSION (1, 2), >, CKPT_VERSION_1_0);
  g_assert_cmpint (CKPT_ENCODE_VERSION (2, 0), >, CKPT_ENCODE_VERSION (1, 254));
  g_assert_cmpint (CKPT_VERSION_CUR_STABLE, >=, CKPT_ENCODE_VERSION (CKPT_MAJOR_VERSION, CKPT_MINOR_VERSION));
  g_assert_cmpint (CKPT_VERSION_MIN_REQUIRED, ==, CKPT_VERSION_1_0);
  g_assert_cmpint (CKPT_VERSION_MAX_ALLOWED, ==, CKPT_VERSION_1_0);
  g_assert_true (CKPT_CHECK_VERSION (1, 0, 0));

  /* With CKPT_VERSION_MIN_REQUIRED at 1.0, what 1.0 deprecated warns;
   * with CKPT_VERSION_MAX_ALLOWED at 1.0, what 1.0 added does not. */
  g_test_message ("CKPT_DEPRECATED_IN_1_0: %s", deprecated);
  g_assert_nonnull (strstr (deprecated, "deprecated"));
  g_assert_nonnull (strstr (deprecated, "visibility"));
  g_assert_nonnull (strstr (deprecated_for, "deprecated"));
  g_assert_nonnull (strstr (deprecated_for, "ckpt_manager_new"));
  g_assert_null (strstr (available, "deprecated"));
  g_assert_null (strstr (available, "unavailable"));
  g_assert_nonnull (strstr (available, "visibility"));
  g_assert_nonnull (strstr (G_STRINGIFY (CKPT_UNAVAILABLE (1, 2)), "Not available before"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/ckpt/api/info/gobject", Fixture, NULL, fixture_setup, test_info_gobject, fixture_teardown);
  g_test_add_func ("/ckpt/api/flags/types", test_flags_types);
  g_test_add ("/ckpt/api/flags/query", Fixture, NULL, fixture_setup, test_query_flags, fixture_teardown);
  g_test_add ("/ckpt/api/async/query-info", Fixture, NULL, fixture_setup, test_query_info_async,
              fixture_teardown);
  g_test_add ("/ckpt/api/async/prune", Fixture, NULL, fixture_setup, test_prune_async, fixture_teardown);
  g_test_add ("/ckpt/api/async/bad-calls", Fixture, NULL, fixture_setup, test_bad_calls, fixture_teardown);
  g_test_add_func ("/ckpt/api/error/failed", test_error_failed);
  g_test_add_func ("/ckpt/api/version", test_version);

  return g_test_run ();
}
