/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of the retention policy (ckpt-retention.c): a pure function,
 * tested with a table of cases.
 */
#include <string.h>

#include <ckpt-glib/ckpt-glib.h>
#include "ckpt-retention-private.h"

#define MAX_ROUNDS 16
#define END G_MININT64   /* terminates the arrays below */

typedef struct
{
  const char *name;
  gint64      rounds[MAX_ROUNDS];
  int         keep_total;
  gboolean    keep_first;
  gint64      deleted[MAX_ROUNDS];
} RetentionCase;

static const RetentionCase cases[] = {
  /* The examples. */
  { "issue-keep-first", { 1, 2, 3, 4, END }, 3, TRUE, { 2, END } },
  { "issue-no-keep-first", { 1, 2, 3, 4, END }, 3, FALSE, { 1, END } },

  /* keep_total <= 0 keeps everything. */
  { "keep-total-0-first", { 1, 2, 3, 4, END }, 0, TRUE, { END } },
  { "keep-total-0", { 1, 2, 3, 4, END }, 0, FALSE, { END } },
  { "keep-total-minus-1-first", { 1, 2, 3, 4, END }, -1, TRUE, { END } },
  { "keep-total-minus-1", { 1, 2, 3, 4, END }, -1, FALSE, { END } },
  { "keep-total-minint", { 1, 2, 3, 4, END }, G_MININT, FALSE, { END } },
  { "keep-total-maxint", { 1, 2, 3, 4, END }, G_MAXINT, FALSE, { END } },

  /* keep_total 1: the newest, plus the first with keep_first. */
  { "keep-total-1-first", { 1, 2, 3, 4, END }, 1, TRUE, { 2, 3, END } },
  { "keep-total-1", { 1, 2, 3, 4, END }, 1, FALSE, { 1, 2, 3, END } },
  { "keep-total-1-first-two-rounds", { 1, 2, END }, 1, TRUE, { END } },
  { "keep-total-1-two-rounds", { 1, 2, END }, 1, FALSE, { 1, END } },
  { "keep-total-1-first-one-round", { 9, END }, 1, TRUE, { END } },
  { "keep-total-1-one-round", { 9, END }, 1, FALSE, { END } },

  /* keep_total 2. */
  { "keep-total-2-first-one-round", { 3, END }, 2, TRUE, { END } },
  { "keep-total-2-first-two-rounds", { 3, 4, END }, 2, TRUE, { END } },
  { "keep-total-2-first-three-rounds", { 1, 2, 3, END }, 2, TRUE, { 2, END } },
  { "keep-total-2-three-rounds", { 1, 2, 3, END }, 2, FALSE, { 1, END } },

  /* Fewer rounds than keep_total, or exactly as many. */
  { "fewer-first", { 1, 2, END }, 5, TRUE, { END } },
  { "fewer", { 1, 2, END }, 5, FALSE, { END } },
  { "exactly-first", { 1, 2, 3, END }, 3, TRUE, { END } },
  { "exactly", { 1, 2, 3, END }, 3, FALSE, { END } },
  { "one-more-first", { 1, 2, 3, 4, END }, 3, TRUE, { 2, END } },

  /* Empty. */
  { "empty-first", { END }, 3, TRUE, { END } },
  { "empty", { END }, 3, FALSE, { END } },
  { "empty-keep-1", { END }, 1, FALSE, { END } },
  { "empty-keep-0", { END }, 0, TRUE, { END } },

  /* A single round is never deleted. */
  { "single-first", { 0, END }, 3, TRUE, { END } },
  { "single", { 0, END }, 3, FALSE, { END } },
  { "single-max", { G_MAXINT64, END }, 1, FALSE, { END } },

  /* Gaps and extremes. */
  { "gaps-2-first", { 0, 5, 100, G_MAXINT64, END }, 2, TRUE, { 5, 100, END } },
  { "gaps-2", { 0, 5, 100, G_MAXINT64, END }, 2, FALSE, { 0, 5, END } },
  { "gaps-3-first", { 0, 5, 100, G_MAXINT64, END }, 3, TRUE, { 5, END } },
  { "gaps-3", { 0, 5, 100, G_MAXINT64, END }, 3, FALSE, { 0, END } },
  { "gaps-1-first", { 0, 5, 100, G_MAXINT64, END }, 1, TRUE, { 5, 100, END } },
  { "gaps-1", { 0, 5, 100, G_MAXINT64, END }, 1, FALSE, { 0, 5, 100, END } },
  { "first-not-one-first", { 7, 8, 9, 10, 11, END }, 2, TRUE, { 8, 9, 10, END } },

  /* Longer runs. */
  { "ten-keep-5-first", { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, END }, 5, TRUE,
    { 2, 3, 4, 5, 6, END } },
  { "ten-keep-5", { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, END }, 5, FALSE,
    { 1, 2, 3, 4, 5, END } },
  { "ten-keep-9-first", { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, END }, 9, TRUE, { 2, END } },
  { "ten-keep-10-first", { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, END }, 10, TRUE, { END } },
};

static gsize
count (const gint64 *values)
{
  gsize n = 0;

  while (n < MAX_ROUNDS && values[n] != END)
    n++;
  g_assert_cmpuint (n, <, MAX_ROUNDS);
  return n;
}

static void
test_case (gconstpointer data)
{
  const RetentionCase *c = data;
  gsize n_rounds = count (c->rounds);
  gsize n_deleted = count (c->deleted);
  gint64 input[MAX_ROUNDS];
  g_autoptr(GArray) deleted = NULL;

  memcpy (input, c->rounds, sizeof input);
  deleted = ckpt_retention_select (n_rounds > 0 ? input : NULL, n_rounds,
                                   c->keep_total, c->keep_first);
  g_assert_nonnull (deleted);
  g_assert_cmpuint (g_array_get_element_size (deleted), ==, sizeof (gint64));
  g_assert_cmpmem (deleted->data, deleted->len * sizeof (gint64),
                   c->deleted, n_deleted * sizeof (gint64));
  /* The input is left alone. */
  g_assert_cmpmem (input, sizeof input, c->rounds, sizeof input);
}

/* Invariants over many generated inputs: the result is an ascending subset
 * of the input, the newest is never deleted, and exactly
 * max(0, n - keep_total) (with keep_first: the first is kept and counts)
 * rounds go. */
static void
test_invariants (void)
{
  for (gsize n = 0; n <= 12; n++)
    for (int keep_total = -2; keep_total <= 14; keep_total++)
      for (int keep_first = 0; keep_first < 2; keep_first++)
        {
          g_autofree gint64 *rounds = g_new (gint64, n + 1);
          g_autoptr(GArray) deleted = NULL;
          gsize expected_n;
          gsize j = 0;

          for (gsize i = 0; i < n; i++)
            rounds[i] = (gint64) (i * i * 3 + i);

          deleted = ckpt_retention_select (rounds, n, keep_total, keep_first);
          g_assert_nonnull (deleted);

          if (keep_total <= 0 || n <= (gsize) keep_total)
            expected_n = 0;
          else if (keep_first && keep_total == 1)
            expected_n = n >= 2 ? n - 2 : 0;
          else
            expected_n = n - keep_total;
          g_assert_cmpuint (deleted->len, ==, expected_n);

          for (guint k = 0; k < deleted->len; k++)
            {
              gint64 r = g_array_index (deleted, gint64, k);

              if (k > 0)
                g_assert_cmpint (g_array_index (deleted, gint64, k - 1), <, r);
              while (j < n && rounds[j] != r)
                j++;
              g_assert_cmpuint (j, <, n);   /* r is one of the rounds */
              g_assert_cmpuint (j, !=, n - 1);   /* never the newest */
              if (keep_first)
                g_assert_cmpuint (j, !=, 0);
            }
        }
}

/* With damaged checkpoints (issue 13, item 9): damaged ones take no kept
 * place, are never deleted while they are among the newest, and the newest
 * intact checkpoint is never deleted. */
typedef struct
{
  const char *name;
  gint64      rounds[MAX_ROUNDS];
  gint64      damaged[MAX_ROUNDS];
  int         keep_total;
  gboolean    keep_first;
  gint64      deleted[MAX_ROUNDS];
  gint64      anchor;
  guint       max_asked;    /* the intact check is asked at most this often */
} DamagedCase;

static const DamagedCase damaged_cases[] = {
  /* The case: the two newest damaged, keep_total 2. */
  { "two-newest-damaged", { 1, 2, 3, 4, 5, END }, { 4, 5, END }, 2, FALSE, { 1, END }, 2, 4 },
  { "two-newest-damaged-first", { 1, 2, 3, 4, 5, END }, { 4, 5, END }, 2, TRUE, { 2, END }, 3, 3 },
  /* All damaged: nothing is deleted. */
  { "all-damaged", { 1, 2, 3, 4, END }, { 1, 2, 3, 4, END }, 1, FALSE, { END }, -1, 4 },
  /* Fewer intact than kept: nothing is deleted. */
  { "too-few-intact", { 1, 2, 3, 4, END }, { 2, 3, 4, END }, 2, FALSE, { END }, -1, 4 },
  /* A damaged one in the middle of the kept ones stays, one more intact
   * one is kept, the older go. */
  { "damaged-in-window", { 1, 2, 3, 4, 5, 6, END }, { 5, END }, 3, FALSE, { 1, 2, END }, 3, 4 },
  /* Damaged ones older than the kept ones go like any other. */
  { "damaged-old", { 1, 2, 3, 4, 5, 6, END }, { 1, 2, END }, 2, FALSE, { 1, 2, 3, 4, END }, 5, 2 },
  /* The first is kept, damaged or not, and is not asked about. */
  { "damaged-first", { 1, 2, 3, 4, 5, END }, { 1, END }, 2, TRUE, { 2, 3, 4, END }, 5, 1 },
};

typedef struct
{
  const DamagedCase *c;
  guint              asked;
} DamagedCheck;

static gboolean
is_intact_case (gint64   round_num,
                gpointer user_data)
{
  DamagedCheck *check = user_data;
  gsize i;

  check->asked++;
  for (i = 0; check->c->damaged[i] != END; i++)
    if (check->c->damaged[i] == round_num)
      return FALSE;
  return TRUE;
}

static void
test_damaged_case (gconstpointer data)
{
  const DamagedCase *c = data;
  DamagedCheck check = { c, 0 };
  g_autoptr(GArray) deleted = NULL;
  gint64 anchor = -2;

  deleted = ckpt_retention_select_checked (c->rounds, count (c->rounds), c->keep_total,
                                           c->keep_first, is_intact_case, &check, &anchor);
  g_assert_cmpmem (deleted->data, deleted->len * sizeof (gint64),
                   c->deleted, count (c->deleted) * sizeof (gint64));
  g_assert_cmpint (anchor, ==, c->anchor);
  g_assert_cmpuint (check.asked, <=, c->max_asked);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ckpt/retention/%s", cases[i].name);

      g_test_add_data_func (path, &cases[i], test_case);
    }
  g_test_add_func ("/ckpt/retention/invariants", test_invariants);
  for (gsize i = 0; i < G_N_ELEMENTS (damaged_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ckpt/retention/damaged/%s", damaged_cases[i].name);

      g_test_add_data_func (path, &damaged_cases[i], test_damaged_case);
    }

  return g_test_run ();
}
