/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The async API: ordering, the caller's context, busy, cancellation, errors,
 * and dropping the manager while operations are in flight.
 */
#include <string.h>

#include <glib/gstdio.h>
#include <ckpt-glib/ckpt-glib.h>
#include "ckpt-test-util.h"

typedef struct
{
  char        *dir;
  GFile       *root;
  CkptManager *manager;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("ckpt-async-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->root = g_file_new_for_path (fixture->dir);
  fixture->manager = ckpt_manager_new (fixture->root, NULL, 3, FALSE, &error);
  g_assert_no_error (error);
  /* Keep the suite fast; durability is the sync tests' business. */
  ckpt_manager_set_durable (fixture->manager, FALSE);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  if (fixture->manager != NULL)
    g_assert_finalize_object (fixture->manager);
  ckpt_test_rm_rf (fixture->dir);
  g_clear_object (&fixture->root);
  g_free (fixture->dir);
}

static GVariant *
make_state (gint64 round_num)
{
  return g_variant_new ("(xs@ad)", round_num, "state",
                        g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE,
                                                   (double[]) { round_num, 0.5, 1.5 }, 3,
                                                   sizeof (double)));
}

static void
run_until (gboolean *flag)
{
  while (!*flag)
    g_main_context_iteration (NULL, TRUE);
}

/* --- ordering ----------------------------------------------------------- */

typedef struct
{
  GArray  *events;     /* of gint64: +round for callbacks, 1000+round saved, 2000+round pruned */
  GThread *thread;
  gboolean wrong_thread;
  guint    pending;
} Trace;

static void
on_saved (CkptManager *manager,
          gint64       round_num,
          GFile       *file,
          Trace       *trace)
{
  gint64 v = 1000 + round_num;

  g_array_append_val (trace->events, v);
  if (g_thread_self () != trace->thread)
    trace->wrong_thread = TRUE;
}

static void
on_pruned (CkptManager *manager,
           gint64       round_num,
           GFile       *file,
           Trace       *trace)
{
  gint64 v = 2000 + round_num;

  g_array_append_val (trace->events, v);
  if (g_thread_self () != trace->thread)
    trace->wrong_thread = TRUE;
}

typedef struct
{
  Trace  *trace;
  gint64  round_num;
} SaveCall;

static void
on_save_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  SaveCall *call = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = ckpt_manager_save_finish (CKPT_MANAGER (source), result, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_array_append_val (call->trace->events, call->round_num);
  if (g_thread_self () != call->trace->thread)
    call->trace->wrong_thread = TRUE;
  call->trace->pending--;
  g_free (call);
}

static void
test_overlapping_saves_in_order (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sync_dir = NULL;
  g_autofree char *async_listing = NULL;
  g_autofree char *sync_listing = NULL;
  g_autoptr(CkptManager) sync_manager = NULL;
  Trace trace = { g_array_new (FALSE, FALSE, sizeof (gint64)), g_thread_self (), FALSE, 0 };
  GArray *expected = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 r;
  guint i;

  g_signal_connect (fixture->manager, "saved", G_CALLBACK (on_saved), &trace);
  g_signal_connect (fixture->manager, "pruned", G_CALLBACK (on_pruned), &trace);

  for (r = 1; r <= 10; r++)
    {
      SaveCall *call = g_new0 (SaveCall, 1);

      call->trace = &trace;
      call->round_num = r;
      trace.pending++;
      ckpt_manager_save_async (fixture->manager, make_state (r), r, NULL, on_save_done, call);
    }
  /* Nothing is delivered before the main context runs. */
  g_assert_cmpuint (trace.events->len, ==, 0);

  while (trace.pending > 0)
    g_main_context_iteration (NULL, TRUE);

  g_assert_false (trace.wrong_thread);

  /* Per save: saved, pruned (keep_total 3, no keep_first), callback. */
  for (r = 1; r <= 10; r++)
    {
      gint64 v = 1000 + r;

      g_array_append_val (expected, v);
      if (r > 3)
        {
          v = 2000 + r - 3;
          g_array_append_val (expected, v);
        }
      g_array_append_val (expected, r);
    }
  g_assert_cmpuint (trace.events->len, ==, expected->len);
  for (i = 0; i < expected->len; i++)
    g_assert_cmpint (g_array_index (trace.events, gint64, i), ==, g_array_index (expected, gint64, i));

  /* The same files as ten sequential sync saves. */
  sync_dir = g_build_filename (fixture->dir, "sync", NULL);
  sync_manager = ckpt_manager_new_for_path (sync_dir, NULL, 3, FALSE, &error);
  g_assert_no_error (error);
  for (r = 1; r <= 10; r++)
    {
      ckpt_manager_save (sync_manager, make_state (r), r, NULL, &error);
      g_assert_no_error (error);
    }
  sync_listing = ckpt_test_dir_listing (sync_dir);
  ckpt_test_rm_rf (sync_dir);
  async_listing = ckpt_test_dir_listing (fixture->dir);
  g_assert_cmpstr (async_listing, ==, "ckpt_10 ckpt_8 ckpt_9");
  g_assert_cmpstr (async_listing, ==, sync_listing);

  g_signal_handlers_disconnect_by_data (fixture->manager, &trace);
  g_array_unref (trace.events);
  g_array_unref (expected);
}

/* --- the caller's context ------------------------------------------------ */

typedef struct
{
  CkptManager  *manager;
  GMainContext *context;
  GThread      *thread;
  gboolean      saved_here;
  gboolean      saved_elsewhere;
  gboolean      callback_here;
  gboolean      done;
} ContextCheck;

static void
on_saved_check_context (CkptManager  *manager,
                        gint64        round_num,
                        GFile        *file,
                        ContextCheck *check)
{
  if (g_thread_self () == check->thread &&
      g_main_context_is_owner (check->context))
    check->saved_here = TRUE;
  else
    check->saved_elsewhere = TRUE;
}

static void
on_context_save_done (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  ContextCheck *check = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (ckpt_manager_save_finish (CKPT_MANAGER (source), result, &error));
  g_assert_no_error (error);
  check->callback_here = g_thread_self () == check->thread &&
                         g_main_context_is_owner (check->context);
  check->done = TRUE;
}

static gpointer
save_from_thread (gpointer data)
{
  ContextCheck *check = data;

  check->thread = g_thread_self ();
  check->context = g_main_context_new ();
  g_main_context_push_thread_default (check->context);

  ckpt_manager_save_async (check->manager, make_state (7), 7, NULL, on_context_save_done, check);
  while (!check->done)
    g_main_context_iteration (check->context, TRUE);

  g_main_context_pop_thread_default (check->context);
  g_main_context_unref (check->context);
  return NULL;
}

static gboolean
mark_true (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_delivered_in_callers_context (Fixture       *fixture,
                                   gconstpointer  data)
{
  ContextCheck check = { fixture->manager, NULL, NULL, FALSE, FALSE, FALSE, FALSE };
  gboolean idle_ran = FALSE;
  GThread *thread;

  g_signal_connect (fixture->manager, "saved", G_CALLBACK (on_saved_check_context), &check);

  thread = g_thread_new ("saver", save_from_thread, &check);
  g_thread_join (thread);

  g_assert_true (check.done);
  g_assert_true (check.callback_here);
  g_assert_true (check.saved_here);
  g_assert_false (check.saved_elsewhere);

  /* Nothing of that save was queued on the global default context. */
  g_idle_add (mark_true, &idle_ran);
  run_until (&idle_ran);
  g_assert_false (check.saved_elsewhere);

  g_signal_handlers_disconnect_by_data (fixture->manager, &check);
}

/* --- busy ----------------------------------------------------------------- */

static void
on_busy_notify (GObject    *object,
                GParamSpec *pspec,
                GString    *log)
{
  g_string_append_c (log, ckpt_manager_get_busy (CKPT_MANAGER (object)) ? 'T' : 'F');
}

static void
on_save_done_count (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  guint *pending = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (ckpt_manager_save_finish (CKPT_MANAGER (source), result, &error));
  g_assert_no_error (error);
  (*pending)--;
}

static void
test_busy (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new ("");
  guint pending = 3;
  gint64 r;

  g_assert_false (ckpt_manager_get_busy (fixture->manager));
  g_signal_connect (fixture->manager, "notify::busy", G_CALLBACK (on_busy_notify), log);

  for (r = 1; r <= 3; r++)
    ckpt_manager_save_async (fixture->manager, make_state (r), r, NULL, on_save_done_count, &pending);
  g_assert_true (ckpt_manager_get_busy (fixture->manager));
  g_assert_cmpstr (log->str, ==, "T");

  while (pending > 0)
    g_main_context_iteration (NULL, TRUE);

  g_assert_false (ckpt_manager_get_busy (fixture->manager));
  g_assert_cmpstr (log->str, ==, "TF");

  /* Sync calls do not touch it. */
  ckpt_manager_save (fixture->manager, make_state (4), 4, NULL, NULL);
  g_assert_cmpstr (log->str, ==, "TF");

  g_signal_handlers_disconnect_by_data (fixture->manager, log);
}

/* --- cancellation --------------------------------------------------------- */

typedef struct
{
  gboolean  done;
  gboolean  ok;
  GError   *error;
} Outcome;

static void
on_save_outcome (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Outcome *outcome = user_data;

  outcome->ok = ckpt_manager_save_finish (CKPT_MANAGER (source), result, &outcome->error);
  outcome->done = TRUE;
}

static void
test_cancel_before_start (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *listing = NULL;
  Outcome outcome = { 0, };

  g_cancellable_cancel (cancellable);
  ckpt_manager_save_async (fixture->manager, make_state (1), 1, cancellable, on_save_outcome, &outcome);
  run_until (&outcome.done);

  g_assert_false (outcome.ok);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&outcome.error);
  listing = ckpt_test_dir_listing (fixture->dir);
  /* Nothing written: the root was not even created or is empty. */
  g_assert_true (g_strcmp0 (listing, "<missing>") == 0 || g_strcmp0 (listing, "") == 0);
}

static void
test_cancel_while_queued (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *listing = NULL;
  g_autofree double *big = g_new0 (double, 4 * 1024 * 1024);   /* 32 MiB */
  Outcome first = { 0, }, second = { 0, };

  ckpt_manager_save_async (fixture->manager,
                           g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, big,
                                                      4 * 1024 * 1024, sizeof (double)),
                           1, NULL, on_save_outcome, &first);
  ckpt_manager_save_async (fixture->manager, make_state (2), 2, cancellable, on_save_outcome, &second);
  /* The second save waits behind the first in the manager's queue. */
  g_cancellable_cancel (cancellable);
  run_until (&second.done);

  g_assert_true (first.done);
  g_assert_no_error (first.error);
  g_assert_true (first.ok);
  g_assert_error (second.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&second.error);

  listing = ckpt_test_dir_listing (fixture->dir);
  g_assert_cmpstr (listing, ==, "ckpt_1");
}

static void
cancel_on_saved (CkptManager  *manager,
                 gint64        round_num,
                 GFile        *file,
                 GCancellable *cancellable)
{
  g_cancellable_cancel (cancellable);
}

static void
test_cancel_after_commit (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *listing = NULL;
  Outcome outcome = { 0, };

  /* `saved` is emitted before the callback: cancelling there is cancelling
   * after the point of no return. */
  g_signal_connect (fixture->manager, "saved", G_CALLBACK (cancel_on_saved), cancellable);
  ckpt_manager_save_async (fixture->manager, make_state (1), 1, cancellable, on_save_outcome, &outcome);
  run_until (&outcome.done);

  g_assert_true (g_cancellable_is_cancelled (cancellable));
  g_assert_no_error (outcome.error);
  g_assert_true (outcome.ok);
  listing = ckpt_test_dir_listing (fixture->dir);
  g_assert_cmpstr (listing, ==, "ckpt_1");

  g_signal_handlers_disconnect_by_data (fixture->manager, cancellable);
}

/* --- errors and results ---------------------------------------------------- */

typedef struct
{
  gboolean  done;
  GVariant *value;
  gint64    round_num;
  GError   *error;
} LoadOutcome;

static void
on_load_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  LoadOutcome *outcome = user_data;

  outcome->value = ckpt_manager_load_finish (CKPT_MANAGER (source), result, &outcome->error);
  outcome->done = TRUE;
}

static void
on_load_latest_done (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  LoadOutcome *outcome = user_data;

  outcome->value = ckpt_manager_load_latest_finish (CKPT_MANAGER (source), result,
                                                    &outcome->round_num, &outcome->error);
  outcome->done = TRUE;
}

static void
on_load_or_default_done (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  LoadOutcome *outcome = user_data;

  outcome->value = ckpt_manager_load_latest_or_default_finish (CKPT_MANAGER (source), result,
                                                               &outcome->round_num,
                                                               &outcome->error);
  outcome->done = TRUE;
}

static void
load_outcome_clear (LoadOutcome *outcome)
{
  g_clear_pointer (&outcome->value, g_variant_unref);
  g_clear_error (&outcome->error);
  memset (outcome, 0, sizeof *outcome);
}

static void
assert_same_error (const GError *async_error,
                   const GError *sync_error)
{
  g_assert_nonnull (async_error);
  g_assert_nonnull (sync_error);
  g_assert_cmpuint (async_error->domain, ==, sync_error->domain);
  g_assert_cmpint (async_error->code, ==, sync_error->code);
  g_assert_cmpstr (async_error->message, ==, sync_error->message);
}

static void
test_errors_match_sync (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(GError) sync_error = NULL;
  g_autoptr(GVariant) sync_value = NULL;
  Outcome save = { 0, };
  LoadOutcome load = { 0, };

  g_assert_true (ckpt_manager_save (fixture->manager, make_state (1), 1, NULL, NULL));

  /* EXISTS */
  ckpt_manager_save (fixture->manager, make_state (1), 1, NULL, &sync_error);
  ckpt_manager_save_async (fixture->manager, make_state (1), 1, NULL, on_save_outcome, &save);
  run_until (&save.done);
  g_assert_false (save.ok);
  g_assert_error (save.error, CKPT_ERROR, CKPT_ERROR_EXISTS);
  assert_same_error (save.error, sync_error);
  g_clear_error (&save.error);
  g_clear_error (&sync_error);

  /* INVALID_ARGUMENT */
  memset (&save, 0, sizeof save);
  ckpt_manager_save (fixture->manager, make_state (1), -5, NULL, &sync_error);
  ckpt_manager_save_async (fixture->manager, make_state (1), -5, NULL, on_save_outcome, &save);
  run_until (&save.done);
  g_assert_error (save.error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT);
  assert_same_error (save.error, sync_error);
  g_clear_error (&save.error);
  g_clear_error (&sync_error);

  /* NOT_FOUND */
  sync_value = ckpt_manager_load (fixture->manager, NULL, 42, NULL, &sync_error);
  g_assert_null (sync_value);
  ckpt_manager_load_async (fixture->manager, NULL, 42, NULL, on_load_done, &load);
  run_until (&load.done);
  g_assert_null (load.value);
  g_assert_error (load.error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND);
  assert_same_error (load.error, sync_error);
  load_outcome_clear (&load);
  g_clear_error (&sync_error);

  /* TYPE_MISMATCH */
  sync_value = ckpt_manager_load (fixture->manager, G_VARIANT_TYPE ("as"), 1, NULL, &sync_error);
  g_assert_null (sync_value);
  ckpt_manager_load_async (fixture->manager, G_VARIANT_TYPE ("as"), 1, NULL, on_load_done, &load);
  run_until (&load.done);
  g_assert_error (load.error, CKPT_ERROR, CKPT_ERROR_TYPE_MISMATCH);
  assert_same_error (load.error, sync_error);
  load_outcome_clear (&load);
  g_clear_error (&sync_error);

  /* load_latest_or_default of another type than what is there */
  ckpt_manager_load_latest_or_default_async (fixture->manager, g_variant_new_int32 (3), NULL,
                                             on_load_or_default_done, &load);
  run_until (&load.done);
  g_assert_error (load.error, CKPT_ERROR, CKPT_ERROR_TYPE_MISMATCH);
  g_assert_cmpint (load.round_num, ==, -1);
  load_outcome_clear (&load);
}

static void
test_results (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GVariant) expected = g_variant_ref_sink (make_state (2));
  g_autofree gint64 *rounds = NULL;
  LoadOutcome load = { 0, };
  gsize n_rounds = 0;

  /* load_latest on an empty (missing) root */
  ckpt_manager_load_latest_async (fixture->manager, NULL, NULL, on_load_latest_done, &load);
  run_until (&load.done);
  g_assert_no_error (load.error);
  g_assert_null (load.value);
  g_assert_cmpint (load.round_num, ==, -1);
  load_outcome_clear (&load);

  /* load_latest_or_default on an empty root saves round 0 */
  ckpt_manager_load_latest_or_default_async (fixture->manager, make_state (0), NULL,
                                             on_load_or_default_done, &load);
  run_until (&load.done);
  g_assert_no_error (load.error);
  g_assert_cmpint (load.round_num, ==, 0);
  {
    g_autoptr(GVariant) zero = g_variant_ref_sink (make_state (0));

    g_assert_true (g_variant_equal (load.value, zero));
  }
  load_outcome_clear (&load);

  g_assert_true (ckpt_manager_save (fixture->manager, expected, 2, NULL, NULL));

  ckpt_manager_load_async (fixture->manager, G_VARIANT_TYPE ("(xsad)"), 2, NULL, on_load_done, &load);
  run_until (&load.done);
  g_assert_no_error (load.error);
  g_assert_true (g_variant_equal (load.value, expected));
  load_outcome_clear (&load);

  ckpt_manager_load_latest_async (fixture->manager, NULL, NULL, on_load_latest_done, &load);
  run_until (&load.done);
  g_assert_no_error (load.error);
  g_assert_cmpint (load.round_num, ==, 2);
  g_assert_true (g_variant_equal (load.value, expected));
  load_outcome_clear (&load);

  rounds = ckpt_manager_list_rounds (fixture->manager, &n_rounds, NULL);
  g_assert_cmpuint (n_rounds, ==, 2);
}

static void
on_list_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static void
test_list_rounds (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *rounds = NULL;
  gsize n_rounds = 99;
  gint64 r;

  for (r = 3; r <= 5; r++)
    g_assert_true (ckpt_manager_save (fixture->manager, make_state (r), r, NULL, NULL));

  ckpt_manager_list_rounds_async (fixture->manager, NULL, on_list_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  rounds = ckpt_manager_list_rounds_finish (fixture->manager, result, &n_rounds, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_rounds, ==, 3);
  g_assert_cmpint (rounds[0], ==, 3);
  g_assert_cmpint (rounds[2], ==, 5);
}

/* --- corrupt signal ------------------------------------------------------- */

static void
on_corrupt (CkptManager *manager,
            gint64       round_num,
            GFile       *file,
            GError      *error,
            Trace       *trace)
{
  gint64 v = 3000 + round_num;

  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
  g_array_append_val (trace->events, v);
  if (g_thread_self () != trace->thread)
    trace->wrong_thread = TRUE;
}

static void
test_corrupt_signal (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  gsize length;
  Trace trace = { g_array_new (FALSE, FALSE, sizeof (gint64)), g_thread_self (), FALSE, 0 };
  LoadOutcome load = { 0, };

  g_assert_true (ckpt_manager_save (fixture->manager, make_state (1), 1, NULL, NULL));
  g_assert_true (ckpt_manager_save (fixture->manager, make_state (2), 2, NULL, NULL));

  path = g_build_filename (fixture->dir, "ckpt_2", NULL);
  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  contents[length - 1] ^= 0x10;
  g_assert_true (g_file_set_contents (path, contents, length, NULL));

  g_signal_connect (fixture->manager, "corrupt", G_CALLBACK (on_corrupt), &trace);
  ckpt_manager_load_latest_async (fixture->manager, NULL, NULL, on_load_latest_done, &load);
  run_until (&load.done);

  g_assert_no_error (load.error);
  g_assert_cmpint (load.round_num, ==, 1);
  g_assert_cmpuint (trace.events->len, ==, 1);
  g_assert_cmpint (g_array_index (trace.events, gint64, 0), ==, 3002);
  g_assert_false (trace.wrong_thread);
  load_outcome_clear (&load);

  g_signal_handlers_disconnect_by_data (fixture->manager, &trace);
  g_array_unref (trace.events);
}

/* --- lifetime ------------------------------------------------------------- */

static void
test_unref_in_flight (Fixture       *fixture,
                      gconstpointer  data)
{
  CkptManager *manager = g_steal_pointer (&fixture->manager);
  g_autofree char *listing = NULL;
  Outcome outcomes[4] = { { 0, }, };
  gint64 r;

  g_object_add_weak_pointer (G_OBJECT (manager), (gpointer *) &manager);
  for (r = 0; r < 4; r++)
    ckpt_manager_save_async (manager, make_state (r + 1), r + 1, NULL, on_save_outcome, &outcomes[r]);
  g_object_unref (manager);
  /* Alive while its operations are in flight. */
  g_assert_nonnull (manager);

  run_until (&outcomes[3].done);
  for (r = 0; r < 4; r++)
    {
      g_assert_true (outcomes[r].done);
      g_assert_no_error (outcomes[r].error);
      g_assert_true (outcomes[r].ok);
    }

  /* The last task lets go of the manager once its callback has run. */
  while (manager != NULL)
    g_main_context_iteration (NULL, TRUE);

  listing = ckpt_test_dir_listing (fixture->dir);
  g_assert_cmpstr (listing, ==, "ckpt_2 ckpt_3 ckpt_4");
}

static void
test_mixed_sync_async (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *listing = NULL;
  Outcome outcome = { 0, };
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;

  ckpt_manager_set_keep_total (fixture->manager, 0);
  ckpt_manager_save_async (fixture->manager, make_state (1), 1, NULL, on_save_outcome, &outcome);
  g_assert_true (ckpt_manager_save (fixture->manager, make_state (2), 2, NULL, &error));
  g_assert_no_error (error);
  run_until (&outcome.done);
  g_assert_no_error (outcome.error);

  value = ckpt_manager_load (fixture->manager, NULL, 1, NULL, &error);
  g_assert_no_error (error);
  {
    g_autoptr(GVariant) one = g_variant_ref_sink (make_state (1));

    g_assert_true (g_variant_equal (value, one));
  }
  listing = ckpt_test_dir_listing (fixture->dir);
  g_assert_cmpstr (listing, ==, "ckpt_1 ckpt_2");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/ckpt/async/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("overlapping-saves-in-order", test_overlapping_saves_in_order);
  ADD ("delivered-in-callers-context", test_delivered_in_callers_context);
  ADD ("busy", test_busy);
  ADD ("cancel-before-start", test_cancel_before_start);
  ADD ("cancel-while-queued", test_cancel_while_queued);
  ADD ("cancel-after-commit", test_cancel_after_commit);
  ADD ("errors-match-sync", test_errors_match_sync);
  ADD ("results", test_results);
  ADD ("list-rounds", test_list_rounds);
  ADD ("corrupt-signal", test_corrupt_signal);
  ADD ("unref-in-flight", test_unref_in_flight);
  ADD ("mixed-sync-async", test_mixed_sync_async);

#undef ADD

  return g_test_run ();
}
