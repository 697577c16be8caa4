/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Async operations whose caller's main context goes away: the operation
 * runs to its end, nothing is delivered, and nothing is leaked (the
 * manager is finalized). Run under ASan's leak detection too.
 */
#include <string.h>

#include <glib/gstdio.h>
#include <ckpt-glib/ckpt-glib.h>
#include "ckpt-test-util.h"

typedef struct
{
  char  *dir;
  GFile *root;
  int    finalized;   /* atomic: set by the manager's weak ref */
  int    called;      /* atomic: a callback that must not run */
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("ckpt-async-life-XXXXXX", &error);
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
on_finalized (gpointer  data,
              GObject  *where_the_object_was)
{
  Fixture *f = data;

  g_atomic_int_set (&f->finalized, 1);
}

static void
must_not_run (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Fixture *f = user_data;

  g_atomic_int_set (&f->called, 1);
}

static void
must_not_emit (CkptManager *manager,
               gint64       round_num,
               GFile       *file,
               Fixture     *f)
{
  g_atomic_int_set (&f->called, 1);
}

static CkptManager *
new_manager (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  CkptManager *manager;

  manager = ckpt_manager_new (f->root, NULL, 2, FALSE, &error);
  g_assert_no_error (error);
  ckpt_manager_set_durable (manager, FALSE);
  g_object_weak_ref (G_OBJECT (manager), on_finalized, f);
  g_signal_connect (manager, "saved", G_CALLBACK (must_not_emit), f);
  return manager;
}

/* Waits (without iterating any context the operations were started from)
 * until the manager is finalized, for at most 20 s. */
static gboolean
wait_finalized (Fixture *f)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (!g_atomic_int_get (&f->finalized) && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  return g_atomic_int_get (&f->finalized);
}

/* A context pushed, used for a few calls, popped and freed without ever
 * being iterated again; the manager dropped too. */
static void
start_and_abandon (Fixture     *f,
                   CkptManager *manager,
                   guint        n_saves)
{
  GMainContext *context = g_main_context_new ();
  guint i;

  g_main_context_push_thread_default (context);
  for (i = 1; i <= n_saves; i++)
    ckpt_manager_save_async (manager, g_variant_new_int64 (i), i, NULL, must_not_run, f);
  ckpt_manager_load_latest_async (manager, NULL, NULL, must_not_run, f);
  ckpt_manager_list_rounds_async (manager, NULL, must_not_run, f);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  g_object_unref (manager);
}

static void
test_context_gone_at_once (Fixture       *f,
                           gconstpointer  data)
{
  start_and_abandon (f, new_manager (f), 3);

  g_assert_true (wait_finalized (f));
  g_assert_false (g_atomic_int_get (&f->called));
  /* The saves were made all the same (keep_total 2). */
  ckpt_test_assert_listing (f->dir, "ckpt_2", "ckpt_3");
}

typedef struct
{
  Fixture     *f;
  CkptManager *manager;
} ThreadData;

static gpointer
abandon_in_thread (gpointer data)
{
  ThreadData *td = data;

  start_and_abandon (td->f, td->manager, 2);
  return NULL;
}

/* The same from a thread of its own, as a worker thread of a program
 * would. */
static void
test_context_gone_in_thread (Fixture       *f,
                             gconstpointer  data)
{
  ThreadData td = { f, new_manager (f) };
  GThread *thread = g_thread_new ("abandon", abandon_in_thread, &td);

  g_thread_join (thread);
  g_assert_true (wait_finalized (f));
  g_assert_false (g_atomic_int_get (&f->called));
  ckpt_test_assert_listing (f->dir, "ckpt_1", "ckpt_2");
}

static void
store_result (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* The context goes away after the operation finished but before it was
 * delivered; the manager is still used by others, whose context runs. */
static void
test_context_gone_after_completion (Fixture       *f,
                                    gconstpointer  data)
{
  CkptManager *manager = new_manager (f);
  GMainContext *context = g_main_context_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *rounds = NULL;
  gsize n = 0;

  g_main_context_push_thread_default (context);
  ckpt_manager_save_async (manager, g_variant_new_int64 (1), 1, NULL, must_not_run, f);
  g_main_context_pop_thread_default (context);

  /* Queued after the save on the manager's serial queue: when it is
   * delivered here, the save is done, waiting in the other context. */
  ckpt_manager_list_rounds_async (manager, NULL, store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  rounds = ckpt_manager_list_rounds_finish (manager, result, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 1);
  g_clear_object (&result);
  g_assert_true (ckpt_manager_get_busy (manager));

  g_main_context_unref (context);
  g_assert_false (ckpt_manager_get_busy (manager));
  g_assert_false (g_atomic_int_get (&f->called));
  g_signal_handlers_disconnect_by_data (manager, f);
  g_object_weak_unref (G_OBJECT (manager), on_finalized, f);
  g_assert_finalize_object (manager);
}

/* Still: an operation whose context runs is delivered, and the manager
 * is finalized after its callback, in that context. */
typedef struct
{
  GThread *thread;
  gboolean done;
} Delivery;

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Delivery *d = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (ckpt_manager_save_finish (CKPT_MANAGER (source), result, &error));
  g_assert_no_error (error);
  g_assert_true (g_thread_self () == d->thread);
  d->done = TRUE;
}

static void
test_delivered_then_finalized (Fixture       *f,
                               gconstpointer  data)
{
  CkptManager *manager = new_manager (f);
  Delivery d = { g_thread_self (), FALSE };

  g_signal_handlers_disconnect_by_data (manager, f);
  ckpt_manager_save_async (manager, g_variant_new_int64 (1), 1, NULL, on_done, &d);
  g_object_unref (manager);
  g_assert_false (g_atomic_int_get (&f->finalized));
  while (!d.done)
    g_main_context_iteration (NULL, TRUE);
  /* Finalized in this thread, right after the callback. */
  g_assert_true (g_atomic_int_get (&f->finalized));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/ckpt/async/context-gone/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("at-once", test_context_gone_at_once);
  ADD ("in-thread", test_context_gone_in_thread);
  ADD ("after-completion", test_context_gone_after_completion);
  ADD ("delivered-then-finalized", test_delivered_then_finalized);

#undef ADD

  return g_test_run ();
}
