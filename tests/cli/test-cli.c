/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The `ckpt` tool, run as a user would, on directories built here through
 * the public API: intact, damaged, empty, missing, with another prefix.
 * $CKPT_TOOL is the tool; $CKPT_MANPAGE its man page.
 */
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>
#include <ckpt-glib/ckpt-glib.h>
#include <json-glib/json-glib.h>

#include "ckpt-test-util.h"

/* Fixtures */

typedef struct
{
  char *tmpdir;
  char *good;      /* rounds 0..4, a{sv} states of make_state() */
  char *damaged;   /* 0, 1 intact; 2 altered; 3 truncated; 4 holds round 0; stray files */
  char *empty;
  char *missing;   /* never created */
  char *prefixed;  /* prefix "model-", rounds 0..2 */
  char *many;      /* rounds 0..9, for prune */
  char *special;   /* 0: a big nested state; 1: NaN and infinities; 2: another type */
} Fixture;

#define N_WEIGHTS 8

/* What the good directory holds for round @r. Between rounds 1 and 3:
 * .round 1 vs 3; .weights items 0..2 differ by 0.25, 0.5, 0.75; .counts
 * items 1..3 differ by 2, 4, 6; .opt.lr 0.5 vs 0.25; .history length 1 vs
 * 3; ['note with space'] 'before' vs 'after'; .mode int64 vs string;
 * .extra only in round 3. .name, .opt.momentum and .tensor are equal. */
static GVariant *
make_state (gint64 r)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_auto(GVariantBuilder) opt = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  double weights[N_WEIGHTS];
  gint64 counts[4];
  double history[8];
  const guint8 bytes[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  const guint32 shape[] = { 2, 4 };
  int i;

  for (i = 0; i < N_WEIGHTS; i++)
    weights[i] = i + (i < 3 ? r * 0.125 * (i + 1) : 0.0);
  for (i = 0; i < 4; i++)
    counts[i] = i * r;
  for (i = 0; i < r && i < 8; i++)
    history[i] = 1.0 / (i + 1);

  g_variant_builder_add (&opt, "{sv}", "lr", g_variant_new_double (1.0 / (r + 1)));
  g_variant_builder_add (&opt, "{sv}", "momentum", g_variant_new_double (0.9));

  g_variant_builder_add (&builder, "{sv}", "round", g_variant_new_int64 (r));
  g_variant_builder_add (&builder, "{sv}", "name", g_variant_new_string ("run"));
  g_variant_builder_add (&builder, "{sv}", "weights",
                         g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, weights, N_WEIGHTS, sizeof (double)));
  g_variant_builder_add (&builder, "{sv}", "counts",
                         g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, counts, 4, sizeof (gint64)));
  g_variant_builder_add (&builder, "{sv}", "opt", g_variant_builder_end (&opt));
  g_variant_builder_add (&builder, "{sv}", "history",
                         g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, history, MIN (r, 8), sizeof (double)));
  g_variant_builder_add (&builder, "{sv}", "note with space", g_variant_new_string (r < 3 ? "before" : "after"));
  g_variant_builder_add (&builder, "{sv}", "mode",
                         r < 3 ? g_variant_new_int64 (1) : g_variant_new_string ("fast"));
  g_variant_builder_add (&builder, "{sv}", "tensor",
                         g_variant_new ("(s@au@ay)", "<f4",
                                        g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32, shape, 2, sizeof (guint32)),
                                        g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, bytes, sizeof bytes, 1)));
  if (r >= 3)
    g_variant_builder_add (&builder, "{sv}", "extra", g_variant_new_boolean (TRUE));
  return g_variant_builder_end (&builder);
}

/* A state too big to read whole: 1000 doubles, nesting 6 deep. */
static GVariant *
make_big_state (void)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  double values[1000];
  GVariant *deep;
  int i;

  for (i = 0; i < 1000; i++)
    values[i] = i * 0.5;
  deep = g_variant_new_parsed ("[[([[(1, 'one')]],)]]");
  g_variant_builder_add (&builder, "{sv}", "values",
                         g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, values, 1000, sizeof (double)));
  g_variant_builder_add (&builder, "{sv}", "deep", deep);
  g_variant_builder_add (&builder, "{sv}", "label", g_variant_new_string ("big"));
  return g_variant_builder_end (&builder);
}

static CkptManager *
make_manager (const char *dir,
              const char *prefix)
{
  g_autoptr(GError) error = NULL;
  CkptManager *manager;

  /* Keep everything; no fsync, for speed. */
  manager = ckpt_manager_new_for_path (dir, prefix, 0, TRUE, &error);
  g_assert_no_error (error);
  ckpt_manager_set_durable (manager, FALSE);
  return manager;
}

static void
save (CkptManager *manager,
      GVariant    *state,
      gint64       round_num)
{
  g_autoptr(GError) error = NULL;

  ckpt_manager_save (manager, state, round_num, NULL, &error);
  g_assert_no_error (error);
}

static char *
file_of (CkptManager *manager,
         gint64       round_num)
{
  g_autoptr(GFile) file = ckpt_manager_get_file (manager, round_num);

  return g_file_get_path (file);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CkptManager) good = NULL;
  g_autoptr(CkptManager) damaged = NULL;
  g_autoptr(CkptManager) prefixed = NULL;
  g_autoptr(CkptManager) many = NULL;
  g_autoptr(CkptManager) special = NULL;
  g_autofree char *path = NULL;
  g_autofree char *other = NULL;
  g_autofree guint8 *data = NULL;
  gsize size;
  gint64 r;

  fixture->tmpdir = g_dir_make_tmp ("ckpt-cli-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->good = g_build_filename (fixture->tmpdir, "good", NULL);
  fixture->damaged = g_build_filename (fixture->tmpdir, "damaged", NULL);
  fixture->empty = g_build_filename (fixture->tmpdir, "empty", NULL);
  fixture->missing = g_build_filename (fixture->tmpdir, "missing", NULL);
  fixture->prefixed = g_build_filename (fixture->tmpdir, "prefixed", NULL);
  fixture->many = g_build_filename (fixture->tmpdir, "many", NULL);
  fixture->special = g_build_filename (fixture->tmpdir, "special", NULL);

  good = make_manager (fixture->good, NULL);
  for (r = 0; r < 5; r++)
    save (good, make_state (r), r);

  damaged = make_manager (fixture->damaged, NULL);
  for (r = 0; r < 4; r++)
    save (damaged, make_state (r), r);
  /* 2: one byte of the state altered. */
  path = file_of (damaged, 2);
  data = g_bytes_unref_to_data (ckpt_test_read_bytes (path), &size);
  data[size - 3] ^= 0x40;
  ckpt_test_write_file (path, data, size);
  g_clear_pointer (&path, g_free);
  g_clear_pointer (&data, g_free);
  /* 3: cut in half. */
  path = file_of (damaged, 3);
  data = g_bytes_unref_to_data (ckpt_test_read_bytes (path), &size);
  ckpt_test_write_file (path, data, size / 2);
  g_clear_pointer (&path, g_free);
  g_clear_pointer (&data, g_free);
  /* 4: a copy of round 0, under another round's name. */
  path = file_of (damaged, 0);
  other = file_of (damaged, 4);
  data = g_bytes_unref_to_data (ckpt_test_read_bytes (path), &size);
  ckpt_test_write_file (other, data, size);
  /* Files that are not checkpoints. */
  g_clear_pointer (&path, g_free);
  path = g_build_filename (fixture->damaged, "notes.txt", NULL);
  ckpt_test_write_file (path, (const guint8 *) "not a checkpoint", 16);
  g_clear_pointer (&path, g_free);
  path = g_build_filename (fixture->damaged, "ckpt_x", NULL);
  ckpt_test_write_file (path, (const guint8 *) "junk", 4);

  g_assert_cmpint (g_mkdir (fixture->empty, 0755), ==, 0);

  prefixed = make_manager (fixture->prefixed, "model-");
  for (r = 0; r < 3; r++)
    save (prefixed, make_state (r), r);

  many = make_manager (fixture->many, NULL);
  for (r = 0; r < 10; r++)
    save (many, g_variant_new_int64 (r), r);

  special = make_manager (fixture->special, NULL);
  save (special, make_big_state (), 0);
  save (special, g_variant_new_parsed ("{'nan': <@d nan>, 'inf': <@d inf>, 'ninf': <@d -inf>, 'one': <1.5>}"), 1);
  save (special, g_variant_new ("(xs)", G_GINT64_CONSTANT (7), "seven"), 2);
  save (special, g_variant_new_parsed ("{'v': <[1.0, nan, 3.0, 4.0]>, 'x': <[int64 -9223372036854775808, 5]>,"
                                       " 'b': <b'abc'>, 'm': <just 2>, 't': <(1, 'a', [true])>}"), 3);
  save (special, g_variant_new_parsed ("{'v': <[1.0, 2.0, 5.0, -4.0]>, 'x': <[int64 9223372036854775807, 5]>,"
                                       " 'b': <b'abd'>, 'm': <@mi nothing>, 't': <(1, 'b', [false])>}"), 4);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  ckpt_test_rm_rf (fixture->tmpdir);
  g_free (fixture->tmpdir);
  g_free (fixture->good);
  g_free (fixture->damaged);
  g_free (fixture->empty);
  g_free (fixture->missing);
  g_free (fixture->prefixed);
  g_free (fixture->many);
  g_free (fixture->special);
}

/* A snapshot of everything under @path: names, types, sizes, modification
 * times and contents. */
static void
snapshot_into (GString    *out,
               const char *path,
               const char *relative,
               gboolean    dir_times)
{
  GStatBuf st;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = NULL;
  const char *name;
  guint i;

  g_assert_cmpint (g_lstat (path, &st), ==, 0);
  g_string_append_printf (out, "%s %o %" G_GINT64_FORMAT, relative, (guint) st.st_mode, (gint64) st.st_size);
  if (dir_times || !S_ISDIR (st.st_mode))
    g_string_append_printf (out, " %" G_GINT64_FORMAT ".%09ld",
                            (gint64) st.st_mtim.tv_sec, (long) st.st_mtim.tv_nsec);
  if (S_ISREG (st.st_mode))
    {
      g_autofree guint8 *data = NULL;
      g_autofree char *checksum = NULL;
      gsize size;

      data = g_bytes_unref_to_data (ckpt_test_read_bytes (path), &size);
      checksum = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, size);
      g_string_append_printf (out, " %s", checksum);
    }
  g_string_append_c (out, '\n');
  if (!S_ISDIR (st.st_mode))
    return;

  dir = g_dir_open (path, 0, NULL);
  g_assert_nonnull (dir);
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, ckpt_test_strptr_cmp);
  for (i = 0; i < names->len; i++)
    {
      g_autofree char *child = g_build_filename (path, g_ptr_array_index (names, i), NULL);
      g_autofree char *child_relative = g_build_filename (relative, g_ptr_array_index (names, i), NULL);

      snapshot_into (out, child, child_relative, dir_times);
    }
}

static char *
snapshot (const char *path)
{
  GString *out = g_string_new (NULL);

  snapshot_into (out, path, ".", TRUE);
  return g_string_free (out, FALSE);
}

/* The same, but for the modification times of directories: a prune, even a
 * dry run, takes the writer lock, and a writer stamps the directory's mtime
 * for the listing cache (ckpt-storage-local.c). */
static char *
snapshot_files (const char *path)
{
  GString *out = g_string_new (NULL);

  snapshot_into (out, path, ".", FALSE);
  return g_string_free (out, FALSE);
}

/* Both snapshots are the same; else the lines that differ are named. */
static void
assert_unchanged (const char *before,
                  const char *after)
{
  g_auto(GStrv) lines_before = g_strsplit (before, "\n", -1);
  g_auto(GStrv) lines_after = g_strsplit (after, "\n", -1);
  g_autoptr(GString) changes = g_string_new (NULL);
  guint i;

  if (g_str_equal (before, after))
    return;
  for (i = 0; lines_before[i] != NULL; i++)
    if (!g_strv_contains ((const char * const *) lines_after, lines_before[i]))
      g_string_append_printf (changes, "\n- %s", lines_before[i]);
  for (i = 0; lines_after[i] != NULL; i++)
    if (!g_strv_contains ((const char * const *) lines_before, lines_after[i]))
      g_string_append_printf (changes, "\n+ %s", lines_after[i]);
  g_error ("The directories changed:%s", changes->str);
}

/* Running the tool */

typedef struct
{
  int   status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

static const char *
tool_path (void)
{
  const char *tool = g_getenv ("CKPT_TOOL");

  g_assert_nonnull (tool);
  return tool;
}

/* Runs `ckpt` with the NULL-terminated arguments. */
static void
run_ckpt (Run        *run,
          const char *first,
          ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  const char *arg;
  va_list args;

  g_ptr_array_add (argv, (gpointer) tool_path ());
  va_start (args, first);
  for (arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  run->status = g_subprocess_get_exit_status (process);
  g_test_message ("exit %d; stdout:\n%s\nstderr:\n%s", run->status, run->out, run->err);
}

static guint
count_lines (const char *text)
{
  guint n = 0;

  for (; *text != '\0'; text++)
    if (*text == '\n')
      n++;
  return n;
}

/* The command failed with @status and one line `ckpt: …` holding @part. */
static void
assert_error (Run        *run,
              int         status,
              const char *part)
{
  g_assert_cmpint (run->status, ==, status);
  g_assert_true (g_str_has_prefix (run->err, "ckpt: "));
  g_assert_cmpuint (count_lines (run->err), ==, 1);
  g_assert_true (g_str_has_suffix (run->err, "\n"));
  if (part != NULL)
    g_assert_nonnull (strstr (run->err, part));
}

static void
assert_success (Run *run)
{
  g_assert_cmpint (run->status, ==, 0);
  g_assert_cmpstr (run->err, ==, "");
}

static gboolean
has_line (const char *text,
          const char *line)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  return g_strv_contains ((const char * const *) lines, line);
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static gint64 *
list_rounds (const char *dir,
             const char *prefix,
             gsize      *n_rounds)
{
  g_autoptr(CkptManager) manager = make_manager (dir, prefix);
  g_autoptr(GError) error = NULL;
  gint64 *rounds;

  rounds = ckpt_manager_list_rounds (manager, n_rounds, &error);
  g_assert_no_error (error);
  return rounds;
}

/* Help and usage */

static const char *command_names[] = { "list", "show", "verify", "prune", "delete", "diff" };

static void
test_help (Fixture       *fixture,
           gconstpointer  user_data)
{
  g_auto(Run) run = { 0, };
  g_autofree char *manpage = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRegex) option_regex = NULL;
  gsize i;

  g_file_get_contents (g_getenv ("CKPT_MANPAGE"), &manpage, NULL, &error);
  g_assert_no_error (error);
  option_regex = g_regex_new ("--[a-z][a-z-]*", 0, 0, &error);
  g_assert_no_error (error);

  run_ckpt (&run, "--help", NULL);
  assert_success (&run);
  for (i = 0; i < G_N_ELEMENTS (command_names); i++)
    {
      g_autofree char *entry = g_strdup_printf ("  %-7s DIR", command_names[i]);

      g_assert_nonnull (strstr (run.out, entry));
    }
  g_assert_nonnull (strstr (run.out, "--version"));
  run_clear (&run);

  for (i = 0; i < G_N_ELEMENTS (command_names); i++)
    {
      g_autoptr(GMatchInfo) match = NULL;
      g_autofree char *usage = g_strdup_printf ("ckpt %s [OPTION…] DIR", command_names[i]);
      g_autofree char *man_command = g_strdup_printf (".BI \"%s ", command_names[i]);
      g_auto(Run) help = { 0, };
      g_auto(Run) help2 = { 0, };
      guint n_options = 0;

      run_ckpt (&help, command_names[i], "--help", NULL);
      assert_success (&help);
      g_assert_nonnull (strstr (help.out, usage));
      g_assert_nonnull (strstr (help.out, "--prefix"));
      g_assert_nonnull (strstr (manpage, man_command));

      /* Every option of the help is in the man page. */
      g_regex_match (option_regex, help.out, 0, &match);
      for (; g_match_info_matches (match); g_match_info_next (match, NULL))
        {
          g_autofree char *option = g_match_info_fetch (match, 0);
          g_autofree char *escaped = NULL;
          g_auto(GStrv) parts = g_strsplit (option, "-", -1);

          escaped = g_strjoinv ("\\-", parts);
          if (strstr (manpage, escaped) == NULL)
            g_error ("%s of ‘ckpt %s’ is not in the man page", option, command_names[i]);
          n_options++;
        }
      g_assert_cmpuint (n_options, >=, 2);

      run_ckpt (&help2, "help", command_names[i], NULL);
      assert_success (&help2);
      g_assert_cmpstr (help2.out, ==, help.out);
    }

  run_ckpt (&run, "--version", NULL);
  assert_success (&run);
  g_assert_cmpstr (run.out, ==, "ckpt " CKPT_VERSION_S "\n");
  run_clear (&run);

  run_ckpt (&run, "help", NULL);
  assert_success (&run);
  g_assert_nonnull (strstr (run.out, "Commands:"));
}

static void
test_usage_errors (Fixture       *fixture,
                   gconstpointer  user_data)
{
  const char *dir = fixture->good;
  struct {
    const char *args[6];
    const char *part;
  } cases[] = {
    { { NULL }, "Missing command" },
    { { "frobnicate", NULL }, "Unknown command ‘frobnicate’" },
    { { "--bogus", NULL }, "--bogus" },
    { { "help", "frobnicate", NULL }, "frobnicate" },
    { { "list", NULL }, "list: Missing directory" },
    { { "list", dir, "extra", NULL }, "Unexpected argument ‘extra’" },
    { { "list", "--bogus", dir, NULL }, "--bogus" },
    { { "list", dir, "--prefix", "a/b", NULL }, "a/b" },
    { { "list", dir, "--prefix", "", NULL }, "empty" },
    { { "show", dir, "abc", NULL }, "Invalid round ‘abc’" },
    { { "show", dir, "-1", NULL }, NULL },
    { { "show", dir, "--max-items", "-1", NULL }, "--max-items" },
    { { "show", dir, "--max-depth", "x", NULL }, "--max-depth" },
    { { "show", dir, "1", "2", NULL }, "Unexpected argument ‘2’" },
    { { "verify", NULL }, "Missing directory" },
    { { "prune", dir, NULL }, "Missing --keep-total" },
    { { "prune", dir, "--keep-total", "0", NULL }, "--keep-total must be 1 or more" },
    { { "prune", dir, "--keep-total", "many", NULL }, "--keep-total" },
    { { "diff", dir, "1", NULL }, "Missing arguments" },
    { { "diff", dir, "1", "x", NULL }, "Invalid round ‘x’" },
  };
  g_autofree char *before = snapshot (fixture->tmpdir);
  g_autofree char *after = NULL;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(Run) run = { 0, };

      run_ckpt (&run, cases[i].args[0], cases[i].args[1], cases[i].args[2],
                cases[i].args[3], cases[i].args[4], cases[i].args[5], NULL);
      assert_error (&run, 2, cases[i].part);
      g_assert_cmpstr (run.out, ==, "");
    }

  after = snapshot (fixture->tmpdir);
  assert_unchanged (before, after);
}

/* A prefix ending in a digit is refused by every command, before the
 * directory is looked at: its names would read as rounds of a shorter
 * prefix (round 2 of "run2" is "run22", round 22 of "run"). */
static void
test_prefix_trailing_digit (Fixture       *fixture,
                            gconstpointer  user_data)
{
  const char *dirs[] = { fixture->good, fixture->missing };
  const char *commands[][5] = {
    { "list", NULL },
    { "show", "latest", NULL },
    { "verify", NULL },
    { "prune", "--keep-total", "1", NULL },
    { "diff", "1", "2", NULL },
  };
  g_autofree char *before = snapshot_files (fixture->tmpdir);
  g_autofree char *after = NULL;
  gsize d, c;

  for (d = 0; d < G_N_ELEMENTS (dirs); d++)
    for (c = 0; c < G_N_ELEMENTS (commands); c++)
      {
        g_auto(Run) run = { 0, };
        g_autofree char *what = g_strdup_printf ("%s: Invalid checkpoint prefix ‘run2’: "
                                                 "it must not end with a digit", commands[c][0]);

        run_ckpt (&run, commands[c][0], dirs[d], "--prefix", "run2", commands[c][1],
                  commands[c][2], commands[c][3], NULL);
        assert_error (&run, 2, what);
        g_assert_cmpstr (run.out, ==, "");
      }

  /* With a separator it is a prefix like any other. */
  {
    g_auto(Run) run = { 0, };

    run_ckpt (&run, "list", fixture->good, "-p", "run2_", NULL);
    assert_success (&run);
    g_assert_true (g_str_has_prefix (run.out, "No checkpoints with prefix ‘run2_’"));
  }

  after = snapshot_files (fixture->tmpdir);
  assert_unchanged (before, after);
  g_assert_false (g_file_test (fixture->missing, G_FILE_TEST_EXISTS));
}

/* list */

static void
test_list_good (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_auto(Run) run = { 0, };
  g_autoptr(JsonNode) root = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *before = snapshot (fixture->tmpdir);
  g_autofree char *after = NULL;
  JsonObject *object;
  JsonArray *checkpoints;
  guint i;

  run_ckpt (&run, "list", fixture->good, NULL);
  assert_success (&run);
  lines = g_strsplit (run.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 7);  /* header, 5 rows, "" */
  g_assert_true (g_str_has_prefix (lines[0], "ROUND"));
  for (i = 0; i < 5; i++)
    {
      g_auto(GStrv) cells = g_regex_split_simple (" +", g_strstrip (lines[i + 1]), 0, 0);
      g_autoptr(GDateTime) created = NULL;
      g_autofree char *round_text = g_strdup_printf ("%u", i);
      g_autofree char *path = g_strdup_printf ("%s/ckpt_%u", fixture->good, i);
      g_autofree char *size_text = NULL;
      GStatBuf st;

      g_assert_cmpuint (g_strv_length (cells), ==, 5);
      g_assert_cmpint (g_stat (path, &st), ==, 0);
      size_text = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) st.st_size);
      g_assert_cmpstr (cells[0], ==, round_text);
      g_assert_cmpstr (cells[1], ==, size_text);
      created = g_date_time_new_from_iso8601 (cells[2], NULL);
      g_assert_nonnull (created);
      g_assert_cmpstr (cells[3], ==, "ok");
      g_assert_cmpstr (cells[4], ==, "a{sv}");
    }
  run_clear (&run);

  run_ckpt (&run, "list", fixture->good, "--json", NULL);
  assert_success (&run);
  root = parse_json (run.out);
  object = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (object, "directory"), ==, fixture->good);
  g_assert_cmpstr (json_object_get_string_member (object, "prefix"), ==, "ckpt_");
  checkpoints = json_object_get_array_member (object, "checkpoints");
  g_assert_cmpuint (json_array_get_length (checkpoints), ==, 5);
  for (i = 0; i < 5; i++)
    {
      JsonObject *entry = json_array_get_object_element (checkpoints, i);
      g_autofree char *path = g_strdup_printf ("%s/ckpt_%u", fixture->good, i);
      g_autoptr(GDateTime) created = NULL;
      GStatBuf st;

      g_assert_cmpint (g_stat (path, &st), ==, 0);
      g_assert_cmpint (json_object_get_int_member (entry, "round"), ==, i);
      g_assert_cmpstr (json_object_get_string_member (entry, "file"), ==, path);
      g_assert_cmpstr (json_object_get_string_member (entry, "status"), ==, "ok");
      g_assert_cmpint (json_object_get_int_member (entry, "size"), ==, st.st_size);
      g_assert_cmpint (json_object_get_int_member (entry, "state_size"), <, st.st_size);
      g_assert_cmpstr (json_object_get_string_member (entry, "type"), ==, "a{sv}");
      g_assert_cmpint (json_object_get_int_member (entry, "format_version"), >=, 1);
      created = g_date_time_new_from_iso8601 (json_object_get_string_member (entry, "created"), NULL);
      g_assert_nonnull (created);
      g_assert_cmpint (ABS (g_date_time_to_unix (created) - g_get_real_time () / G_USEC_PER_SEC), <, 24 * 3600);
      g_assert_true (json_object_has_member (json_object_get_object_member (entry, "metadata"),
                                             "ckpt-glib-version"));
      g_assert_false (json_object_has_member (entry, "error"));
    }

  /* A URI works as well as a path. */
  run_clear (&run);
  {
    g_autofree char *uri = g_filename_to_uri (fixture->good, NULL, NULL);

    run_ckpt (&run, "list", uri, NULL);
    assert_success (&run);
    g_assert_cmpuint (count_lines (run.out), ==, 6);
  }

  after = snapshot (fixture->tmpdir);
  assert_unchanged (before, after);
}

static void
test_list_damaged (Fixture       *fixture,
                   gconstpointer  user_data)
{
  const char *expected[] = { "ok", "ok", "corrupt", "corrupt", "corrupt" };
  g_auto(Run) run = { 0, };
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *before = snapshot (fixture->tmpdir);
  g_autofree char *after = NULL;
  JsonArray *checkpoints;
  guint i;

  run_ckpt (&run, "list", fixture->damaged, NULL);
  assert_success (&run);
  g_assert_cmpuint (count_lines (run.out), ==, 6);
  for (i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr(GRegex) regex = NULL;
      g_autofree char *pattern = g_strdup_printf ("^ *%u +[0-9]+ +[^ ]+ +%s +[^ ]+$", i, expected[i]);

      regex = g_regex_new (pattern, G_REGEX_MULTILINE, 0, NULL);
      g_assert_true (g_regex_match (regex, run.out, 0, NULL));
    }
  run_clear (&run);

  run_ckpt (&run, "list", fixture->damaged, "--json", NULL);
  assert_success (&run);
  root = parse_json (run.out);
  checkpoints = json_object_get_array_member (json_node_get_object (root), "checkpoints");
  g_assert_cmpuint (json_array_get_length (checkpoints), ==, G_N_ELEMENTS (expected));
  for (i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      JsonObject *entry = json_array_get_object_element (checkpoints, i);

      g_assert_cmpint (json_object_get_int_member (entry, "round"), ==, i);
      g_assert_cmpstr (json_object_get_string_member (entry, "status"), ==, expected[i]);
      g_assert_cmpint (json_object_get_int_member (entry, "size"), >, 0);
      g_assert_cmpint (json_object_has_member (entry, "error"), ==, i >= 2);
      g_assert_cmpint (json_object_has_member (entry, "type"), ==, i < 2);
    }
  g_assert_nonnull (strstr (json_object_get_string_member (json_array_get_object_element (checkpoints, 4), "error"),
                            "holds round 0"));

  after = snapshot (fixture->tmpdir);
  assert_unchanged (before, after);
}

static void
test_list_empty_missing (Fixture       *fixture,
                         gconstpointer  user_data)
{
  g_auto(Run) run = { 0, };
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *before = snapshot (fixture->tmpdir);
  g_autofree char *after = NULL;
  g_autofree char *file = g_build_filename (fixture->good, "ckpt_0", NULL);

  run_ckpt (&run, "list", fixture->empty, NULL);
  assert_success (&run);
  g_assert_true (g_str_has_prefix (run.out, "No checkpoints with prefix ‘ckpt_’"));
  run_clear (&run);

  run_ckpt (&run, "list", fixture->empty, "--json", NULL);
  assert_success (&run);
  root = parse_json (run.out);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (root), "checkpoints")), ==, 0);
  run_clear (&run);

  run_ckpt (&run, "list", fixture->missing, NULL);
  assert_error (&run, 1, "No such directory");
  g_assert_nonnull (strstr (run.err, fixture->missing));
  g_assert_cmpstr (run.out, ==, "");
  run_clear (&run);

  run_ckpt (&run, "list", fixture->missing, "--json", NULL);
  assert_error (&run, 1, "No such directory");
  run_clear (&run);

  run_ckpt (&run, "list", file, NULL);
  assert_error (&run, 1, "Not a directory");
  run_clear (&run);

  g_assert_false (g_file_test (fixture->missing, G_FILE_TEST_EXISTS));
  after = snapshot (fixture->tmpdir);
  assert_unchanged (before, after);
}

static void
test_list_prefix (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_auto(Run) run = { 0, };
  g_autoptr(JsonNode) root = NULL;
  JsonArray *checkpoints;
  guint i;

  run_ckpt (&run, "list", fixture->prefixed, NULL);
  assert_success (&run);
  g_assert_true (g_str_has_prefix (run.out, "No checkpoints"));
  run_clear (&run);

  run_ckpt (&run, "list", "--prefix", "model-", fixture->prefixed, "--json", NULL);
  assert_success (&run);
  root = parse_json (run.out);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "prefix"), ==, "model-");
  checkpoints = json_object_get_array_member (json_node_get_object (root), "checkpoints");
  g_assert_cmpuint (json_array_get_length (checkpoints), ==, 3);
  for (i = 0; i < 3; i++)
    {
      JsonObject *entry = json_array_get_object_element (checkpoints, i);
      g_autofree char *path = g_strdup_printf ("%s/model-%u", fixture->prefixed, i);

      g_assert_cmpstr (json_object_get_string_member (entry, "file"), ==, path);
      g_assert_cmpstr (json_object_get_string_member (entry, "status"), ==, "ok");
    }
}

/* show */

static const char *
state_text (const char *out)
{
  const char *state = g_strstr_len (out, -1, "\nState:\n");

  g_assert_nonnull (state);
  return state + strlen ("\nState:\n");
}

static void
test_show_latest (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_auto(Run) run = { 0, };
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GVariant) parsed = NULL;
  g_autoptr(GVariant) expected = g_variant_ref_sink (make_state (4));
  g_autoptr(GError) error = NULL;
  g_autofree char *before = snapshot (fixture->tmpdir);
  g_autofree char *after = NULL;
  g_autofree char *file_line = g_strdup_printf ("File:            %s/ckpt_4", fixture->good);
  JsonObject *object, *state;
  JsonArray *weights;
  guint i;

  run_ckpt (&run, "show", fixture->good, NULL);
  assert_success (&run);
  g_assert_true (has_line (run.out, file_line));
  g_assert_true (has_line (run.out, "Round:           4"));
  g_assert_true (has_line (run.out, "Type:            a{sv}"));
  g_assert_true (has_line (run.out, "Metadata:"));
  g_assert_true (has_line (run.out, "  ckpt-glib-version: '" CKPT_VERSION_S "'"));
  /* Small enough to be shown whole: the text reads back. */
  parsed = g_variant_parse (G_VARIANT_TYPE_VARDICT, state_text (run.out), NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_equal (parsed, expected));
  run_clear (&run);

  run_ckpt (&run, "show", fixture->good, "latest", "--json", NULL);
  assert_success (&run);
  root = parse_json (run.out);
  object = json_node_get_object (root);
  g_assert_cmpint (json_object_get_int_member (object, "round"), ==, 4);
  g_assert_cmpstr (json_object_get_string_member (object, "type"), ==, "a{sv}");
  g_assert_true (json_object_has_member (object, "created"));
  g_assert_true (json_object_has_member (object, "size"));
  state = json_object_get_object_member (object, "state");
  g_assert_cmpint (json_object_get_int_member (state, "round"), ==, 4);
  g_assert_cmpstr (json_object_get_string_member (state, "name"), ==, "run");
  g_assert_cmpstr (json_object_get_string_member (state, "mode"), ==, "fast");
  g_assert_cmpfloat (json_object_get_double_member (json_object_get_object_member (state, "opt"), "lr"), ==, 0.2);
  weights = json_object_get_array_member (state, "weights");
  g_assert_cmpuint (json_array_get_length (weights), ==, N_WEIGHTS);
  for (i = 0; i < N_WEIGHTS; i++)
    g_assert_cmpfloat (json_array_get_double_element (weights, i), ==, i + (i < 3 ? 4 * 0.125 * (i + 1) : 0.0));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (state, "tensor")), ==, 3);

  after = snapshot (fixture->tmpdir);
  assert_unchanged (before, after);
}

static void
test_show_round (Fixture       *fixture,
                 gconstpointer  user_data)
{
  g_auto(Run) run = { 0, };
  g_autofree char *before = snapshot (fixture->tmpdir);
  g_autofree char *after = NULL;

  run_ckpt (&run, "show", fixture->good, "2", NULL);
  assert_success (&run);
  g_assert_true (has_line (run.out, "Round:           2"));
  g_assert_nonnull (strstr (run.out, "'round': <int64 2>"));
  run_clear (&run);

  run_ckpt (&run, "show", fixture->good, "99", NULL);
  assert_error (&run, 1, "No checkpoint of round 99");
  g_assert_cmpstr (run.out, ==, "");
  run_clear (&run);

  run_ckpt (&run, "show", "--prefix", "model-", fixture->prefixed, "1", NULL);
  assert_success (&run);
  g_assert_true (has_line (run.out, "Round:           1"));
  run_clear (&run);

  run_ckpt (&run, "show", fixture->empty, NULL);
  assert_error (&run, 1, "No checkpoints with prefix ‘ckpt_’");
  run_clear (&run);

  run_ckpt (&run, "show", fixture->empty, "--json", NULL);
  assert_error (&run, 1, "No checkpoints");
  g_assert_cmpstr (run.out, ==, "");
  run_clear (&run);

  run_ckpt (&run, "show", fixture->missing, "0", NULL);
  assert_error (&run, 1, "No such directory");
  run_clear (&run);

  g_assert_false (g_file_test (fixture->missing, G_FILE_TEST_EXISTS));
  after = snapshot (fixture->tmpdir);
  assert_unchanged (before, after);
}

static void
test_show_damaged (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_auto(Run) run = { 0, };
  g_auto(GStrv) warnings = NULL;
  g_autofree char *before = snapshot (fixture->tmpdir);
  g_autofree char *after = NULL;
  guint i;

  /* The latest intact one is 1; 4, 3 and 2 are passed over, with a
   * warning each. */
  run_ckpt (&run, "show", fixture->damaged, NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_true (has_line (run.out, "Round:           1"));
  warnings = g_strsplit (run.err, "\n", -1);
  g_assert_cmpuint (g_strv_length (warnings), ==, 4);
  for (i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("ckpt_%u’ is damaged", 4 - i);

      g_assert_true (g_str_has_prefix (warnings[i], "ckpt: warning: skipping a damaged checkpoint: "));
      g_assert_nonnull (strstr (warnings[i], name));
    }
  run_clear (&run);

  for (i = 2; i <= 4; i++)
    {
      g_autofree char *round_text = g_strdup_printf ("%u", i);
      g_autofree char *name = g_strdup_printf ("ckpt_%u’ is damaged", i);

      run_ckpt (&run, "show", fixture->damaged, round_text, NULL);
      assert_error (&run, 1, name);
      g_assert_cmpstr (run.out, ==, "");
      run_clear (&run);
    }

  after = snapshot (fixture->tmpdir);
  assert_unchanged (before, after);
}

static void
test_show_elided (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_auto(Run) run = { 0, };
  g_autoptr(GVariant) expected = g_variant_ref_sink (make_big_state ());
  g_autoptr(GVariant) parsed = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonArray *values;
  const char *text;

  /* By default, 32 items of each array. */
  run_ckpt (&run, "show", fixture->special, "0", NULL);
  assert_success (&run);
  text = state_text (run.out);
  g_assert_nonnull (strstr (text, "15.5,"));
  g_assert_nonnull (strstr (text, "15.5, … (968 more)\n  ]>,\n"));
  g_assert_null (strstr (text, "16.0"));
  g_assert_nonnull (strstr (text, "'label': <'big'>"));
  run_clear (&run);

  run_ckpt (&run, "show", fixture->special, "0", "--max-items", "3", NULL);
  assert_success (&run);
  text = state_text (run.out);
  g_assert_nonnull (strstr (text, "'values': <@ad [0.0, 0.5, 1.0, … (997 more)]>"));
  g_assert_nonnull (strstr (text, "'deep': <[[([[(1, 'one')]],)]]>"));
  run_clear (&run);

  run_ckpt (&run, "show", fixture->special, "0", "--max-depth", "1", NULL);
  assert_success (&run);
  text = state_text (run.out);
  g_assert_nonnull (strstr (text, "'values': <@ad [… 1000 items]>"));
  g_assert_nonnull (strstr (text, "'deep': <@aa(aa(is)) [… 1 item]>"));
  g_assert_nonnull (strstr (text, "'label': <'big'>"));
  run_clear (&run);

  run_ckpt (&run, "show", fixture->special, "0", "--max-depth", "3", "-n", "0", NULL);
  assert_success (&run);
  g_assert_nonnull (strstr (state_text (run.out), "'deep': <@aa(aa(is)) [[(…)]]>"));
  run_clear (&run);

  /* Without limits, broken over lines of at most 80 columns, and the text
   * reads back. */
  run_ckpt (&run, "show", fixture->special, "0", "--max-items", "0", NULL);
  assert_success (&run);
  text = state_text (run.out);
  {
    g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
    guint i;

    g_assert_cmpuint (g_strv_length (lines), >, 50);
    for (i = 0; lines[i] != NULL; i++)
      g_assert_cmpuint (g_utf8_strlen (lines[i], -1), <=, 80);
  }
  parsed = g_variant_parse (G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_equal (parsed, expected));
  run_clear (&run);

  /* JSON is never elided. */
  run_ckpt (&run, "show", fixture->special, "0", "--json", "--max-items", "2", NULL);
  assert_success (&run);
  root = parse_json (run.out);
  values = json_object_get_array_member (json_object_get_object_member (json_node_get_object (root), "state"),
                                         "values");
  g_assert_cmpuint (json_array_get_length (values), ==, 1000);
  g_assert_cmpfloat (json_array_get_double_element (values, 999), ==, 499.5);
}

static void
test_show_special (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_auto(Run) run = { 0, };
  g_autoptr(JsonNode) root = NULL;
  JsonObject *state;

  /* JSON has no NaN nor infinities. */
  run_ckpt (&run, "show", fixture->special, "1", "--json", NULL);
  assert_success (&run);
  root = parse_json (run.out);
  state = json_object_get_object_member (json_node_get_object (root), "state");
  g_assert_cmpstr (json_object_get_string_member (state, "nan"), ==, "NaN");
  g_assert_cmpstr (json_object_get_string_member (state, "inf"), ==, "Infinity");
  g_assert_cmpstr (json_object_get_string_member (state, "ninf"), ==, "-Infinity");
  g_assert_cmpfloat (json_object_get_double_member (state, "one"), ==, 1.5);
  run_clear (&run);
  g_clear_pointer (&root, json_node_unref);

  /* A state that is not a dictionary. */
  run_ckpt (&run, "show", fixture->special, "2", NULL);
  assert_success (&run);
  g_assert_true (has_line (run.out, "Type:            (xs)"));
  g_assert_true (g_str_has_suffix (run.out, "State:\n(7, 'seven')\n"));
  run_clear (&run);

  run_ckpt (&run, "show", fixture->special, "2", "--json", NULL);
  assert_success (&run);
  root = parse_json (run.out);
  g_assert_cmpint (json_array_get_int_element (json_object_get_array_member (json_node_get_object (root), "state"), 0), ==, 7);
}

/* Every integer type's extremes come out of `show --json` as JSON numbers
 * of exactly their value, 2^64-1 included (json-glib's int64 nodes would
 * write it as -1), wherever they are: in a tuple, an array, a dictionary
 * (key and value), a variant, a maybe. */
static void
test_show_json_integers (Fixture       *fixture,
                         gconstpointer  user_data)
{
  g_autofree char *dir = g_build_filename (fixture->tmpdir, "integers", NULL);
  g_autoptr(CkptManager) manager = make_manager (dir, NULL);
  const guint64 big[] = { G_MAXUINT64, G_MAXINT64, (guint64) G_MAXINT64 + 1 };
  g_auto(GVariantBuilder) dict = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{tt}"));
  g_auto(GVariantBuilder) vardict = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  const char *marker_like = "ckpt-uint64-00000000000000000000000000000000:5";
  GVariant *state;
  g_auto(Run) run = { 0, };
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GString) compact = g_string_new (NULL);
  g_autofree char *expected = NULL;
  JsonArray *array;
  const char *p;

  g_variant_builder_add (&dict, "{tt}", G_MAXUINT64, G_MAXUINT64);
  g_variant_builder_add (&vardict, "{sv}", "big", g_variant_new_uint64 (G_MAXUINT64));
  state = g_variant_new ("(yynnqqiiuuxxttthh@ata{tt}vmta{sv}s)",
                         (guint8) 0, (guint8) G_MAXUINT8,
                         (gint16) G_MININT16, (gint16) G_MAXINT16,
                         (guint16) 0, (guint16) G_MAXUINT16,
                         (gint32) G_MININT32, (gint32) G_MAXINT32,
                         (guint32) 0, (guint32) G_MAXUINT32,
                         (gint64) G_MININT64, (gint64) G_MAXINT64,
                         (guint64) 0, (guint64) G_MAXINT64 + 1, (guint64) G_MAXUINT64,
                         (gint32) G_MININT32, (gint32) G_MAXINT32,
                         g_variant_new_fixed_array (G_VARIANT_TYPE_UINT64, big, G_N_ELEMENTS (big), sizeof big[0]),
                         &dict,
                         g_variant_new_uint64 (G_MAXUINT64),
                         TRUE, (guint64) G_MAXUINT64,
                         &vardict,
                         marker_like);
  save (manager, state, 1);

  run_ckpt (&run, "show", dir, "--json", NULL);
  assert_success (&run);

  /* The output without its layout (no string here holds a space). */
  for (p = run.out; *p != '\0'; p++)
    if (!g_ascii_isspace (*p))
      g_string_append_c (compact, *p);
  expected = g_strdup_printf ("\"state\":[0,255,-32768,32767,0,65535,-2147483648,2147483647,0,4294967295,"
                              "-9223372036854775808,9223372036854775807,0,9223372036854775808,18446744073709551615,"
                              "-2147483648,2147483647,"
                              "[18446744073709551615,9223372036854775807,9223372036854775808],"
                              "{\"18446744073709551615\":18446744073709551615},"
                              "18446744073709551615,18446744073709551615,"
                              "{\"big\":18446744073709551615},"
                              "\"%s\"]", marker_like);
  g_assert_nonnull (strstr (compact->str, expected));
  /* No marker is left: the only such text is the state's string. */
  p = strstr (run.out, "ckpt-uint64-");
  g_assert_true (p == strstr (run.out, marker_like));
  g_assert_null (strstr (p + 1, "ckpt-uint64-"));

  /* It is JSON (json-glib reads the numbers above 2^63-1 wrapped, as it
   * writes them; Python's json, for one, reads them exactly). */
  root = parse_json (run.out);
  array = json_object_get_array_member (json_node_get_object (root), "state");
  g_assert_cmpuint (json_array_get_length (array), ==, 23);
  g_assert_cmpint (json_array_get_int_element (array, 10), ==, G_MININT64);
  g_assert_cmpint (json_array_get_int_element (array, 11), ==, G_MAXINT64);
  g_assert_cmpstr (json_array_get_string_element (array, 22), ==, marker_like);
}

/* verify */

static void
test_verify (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_auto(Run) run = { 0, };
  g_autofree char *before = snapshot (fixture->tmpdir);
  g_autofree char *after = NULL;
  guint i;

  run_ckpt (&run, "verify", fixture->good, NULL);
  assert_success (&run);
  for (i = 0; i < 5; i++)
    {
      g_autofree char *line = g_strdup_printf ("round %u: ok", i);

      g_assert_true (has_line (run.out, line));
    }
  g_assert_nonnull (strstr (run.out, "All 5 checkpoints in"));
  run_clear (&run);

  run_ckpt (&run, "verify", fixture->damaged, NULL);
  assert_error (&run, 1, "3 of 5 checkpoints in");
  g_assert_true (has_line (run.out, "round 0: ok"));
  g_assert_true (has_line (run.out, "round 1: ok"));
  for (i = 2; i <= 4; i++)
    {
      g_autofree char *prefix = g_strdup_printf ("round %u: corrupt: Checkpoint ‘%s/ckpt_%u’ is damaged: ",
                                                 i, fixture->damaged, i);

      g_assert_nonnull (strstr (run.out, prefix));
    }
  g_assert_nonnull (strstr (run.out, "holds round 0"));
  g_assert_cmpuint (count_lines (run.out), ==, 5);
  run_clear (&run);

  run_ckpt (&run, "verify", "-p", "model-", fixture->prefixed, NULL);
  assert_success (&run);
  g_assert_nonnull (strstr (run.out, "All 3 checkpoints in"));
  run_clear (&run);

  run_ckpt (&run, "verify", fixture->empty, NULL);
  assert_success (&run);
  g_assert_true (g_str_has_prefix (run.out, "No checkpoints"));
  run_clear (&run);

  run_ckpt (&run, "verify", fixture->missing, NULL);
  assert_error (&run, 1, "No such directory");
  run_clear (&run);

  g_assert_false (g_file_test (fixture->missing, G_FILE_TEST_EXISTS));
  after = snapshot (fixture->tmpdir);
  assert_unchanged (before, after);
}

/* prune */

static void
assert_rounds (const char   *dir,
               const gint64 *expected,
               gsize         n_expected)
{
  g_autofree gint64 *rounds = NULL;
  gsize n_rounds, i;

  rounds = list_rounds (dir, NULL, &n_rounds);
  g_assert_cmpuint (n_rounds, ==, n_expected);
  for (i = 0; i < n_rounds; i++)
    g_assert_cmpint (rounds[i], ==, expected[i]);
}

static void
test_prune_dry_run (Fixture       *fixture,
                    gconstpointer  user_data)
{
  const gint64 all[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  g_auto(Run) run = { 0, };
  g_autofree char *before = snapshot_files (fixture->tmpdir);
  g_autofree char *after = NULL;
  guint i;

  run_ckpt (&run, "prune", fixture->many, "--keep-total", "3", "--no-keep-first", "--dry-run", NULL);
  assert_success (&run);
  for (i = 0; i < 7; i++)
    {
      g_autofree char *line = g_strdup_printf ("would delete round %u (%s/ckpt_%u)", i, fixture->many, i);

      g_assert_true (has_line (run.out, line));
    }
  g_assert_true (has_line (run.out, "Would delete 7 of 10 checkpoints"));
  g_assert_cmpuint (count_lines (run.out), ==, 8);
  run_clear (&run);

  run_ckpt (&run, "prune", fixture->many, "-k", "3", "--keep-first", "-n", NULL);
  assert_success (&run);
  g_assert_null (strstr (run.out, "would delete round 0 "));
  for (i = 1; i < 8; i++)
    {
      g_autofree char *line = g_strdup_printf ("would delete round %u (%s/ckpt_%u)", i, fixture->many, i);

      g_assert_true (has_line (run.out, line));
    }
  g_assert_true (has_line (run.out, "Would delete 7 of 10 checkpoints"));
  run_clear (&run);

  /* Damaged checkpoints take no kept place: the newest intact one (1) is
   * kept, and the damaged newer ones are left alone. */
  run_ckpt (&run, "prune", fixture->damaged, "--keep-total", "1", "-F", "--dry-run", NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.err, "keeping a damaged checkpoint"));
  g_assert_true (has_line (run.out, "Would delete 1 of 5 checkpoints"));
  run_clear (&run);

  assert_rounds (fixture->many, all, G_N_ELEMENTS (all));
  after = snapshot_files (fixture->tmpdir);
  assert_unchanged (before, after);
}

static void
test_prune (Fixture       *fixture,
            gconstpointer  user_data)
{
  const gint64 kept[] = { 0, 8, 9 };
  const gint64 kept_damaged[] = { 0, 1, 2, 3, 4 };
  g_auto(Run) run = { 0, };
  g_autofree char *stray = g_build_filename (fixture->damaged, "notes.txt", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  guint i;

  run_ckpt (&run, "prune", fixture->many, "--keep-total", "3", "--keep-first", NULL);
  assert_success (&run);
  for (i = 1; i < 8; i++)
    {
      g_autofree char *line = g_strdup_printf ("deleted round %u (%s/ckpt_%u)", i, fixture->many, i);

      g_assert_true (has_line (run.out, line));
    }
  g_assert_true (has_line (run.out, "Deleted 7 of 10 checkpoints"));
  assert_rounds (fixture->many, kept, G_N_ELEMENTS (kept));
  run_clear (&run);

  /* Nothing more to do. */
  run_ckpt (&run, "prune", fixture->many, "--keep-total", "3", "--keep-first", NULL);
  assert_success (&run);
  g_assert_cmpstr (run.out, ==, "Deleted 0 of 3 checkpoints\n");
  assert_rounds (fixture->many, kept, G_N_ELEMENTS (kept));
  run_clear (&run);

  /* Damaged checkpoints do not count as kept: with the three newest
   * damaged, keep-total 2 keeps the two intact ones (0 and 1), and leaves
   * the damaged ones alone; other files stay. */
  run_ckpt (&run, "prune", fixture->damaged, "--keep-total", "2", "--no-keep-first", NULL);
  g_assert_cmpint (run.status, ==, 0);
  for (i = 2; i <= 4; i++)
    {
      g_autofree char *name = g_strdup_printf ("ckpt_%u’ is damaged", i);

      g_assert_nonnull (strstr (run.err, name));
    }
  g_assert_nonnull (strstr (run.err, "ckpt: warning: keeping a damaged checkpoint"));
  assert_rounds (fixture->damaged, kept_damaged, G_N_ELEMENTS (kept_damaged));
  g_assert_true (g_file_test (stray, G_FILE_TEST_IS_REGULAR));
  run_clear (&run);

  /* Empty and missing directories: nothing to do, nothing created. */
  before = snapshot_files (fixture->tmpdir);
  run_ckpt (&run, "prune", fixture->empty, "--keep-total", "1", NULL);
  assert_success (&run);
  g_assert_cmpstr (run.out, ==, "Deleted 0 of 0 checkpoints\n");
  run_clear (&run);

  run_ckpt (&run, "prune", fixture->missing, "--keep-total", "1", NULL);
  assert_error (&run, 1, "No such directory");
  g_assert_false (g_file_test (fixture->missing, G_FILE_TEST_EXISTS));
  run_clear (&run);

  /* The prefix is honoured. */
  run_ckpt (&run, "prune", fixture->prefixed, "--keep-total", "1", NULL);
  assert_success (&run);
  g_assert_cmpstr (run.out, ==, "Deleted 0 of 0 checkpoints\n");
  run_clear (&run);

  after = snapshot_files (fixture->tmpdir);
  assert_unchanged (before, after);

  /* Round 0 is kept by default. */
  run_ckpt (&run, "prune", fixture->prefixed, "--prefix", "model-", "--keep-total", "1", NULL);
  assert_success (&run);
  g_assert_true (has_line (run.out, "Deleted 1 of 3 checkpoints"));
}

/* Without --keep-first or --no-keep-first, prune keeps the first round,
 * as the library does by default: a shell user does not delete the round
 * that a program keeps forever. */
static void
test_prune_keep_first_default (Fixture       *fixture,
                               gconstpointer  user_data)
{
  const gint64 kept[] = { 0, 8, 9 };
  const gint64 kept_newest[] = { 9 };
  g_auto(Run) run = { 0, };
  g_autoptr(GFile) root = g_file_new_for_path (fixture->many);
  g_autoptr(CkptManager) manager = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *pruned = NULL;
  g_autofree char *expected = NULL;
  gsize n_pruned;
  guint i;

  /* What a program with the library's defaults would delete. */
  manager = g_initable_new (CKPT_TYPE_MANAGER, NULL, &error,
                            "root", root, "keep-total", 3, NULL);
  g_assert_no_error (error);
  g_assert_true (ckpt_manager_get_keep_first (manager));
  pruned = ckpt_manager_prune (manager, CKPT_PRUNE_DRY_RUN, &n_pruned, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_pruned, ==, 7);
  g_assert_cmpint (pruned[0], ==, 1);
  g_assert_cmpint (pruned[6], ==, 7);

  /* The same from the tool. */
  run_ckpt (&run, "prune", fixture->many, "--keep-total", "3", "--dry-run", NULL);
  assert_success (&run);
  g_assert_null (strstr (run.out, "round 0 "));
  for (i = 1; i < 8; i++)
    {
      g_autofree char *line = g_strdup_printf ("would delete round %u (%s/ckpt_%u)", i, fixture->many, i);

      g_assert_true (has_line (run.out, line));
    }
  g_assert_true (has_line (run.out, "Would delete 7 of 10 checkpoints"));
  run_clear (&run);

  run_ckpt (&run, "prune", fixture->many, "-k", "3", NULL);
  assert_success (&run);
  g_assert_true (has_line (run.out, "Deleted 7 of 10 checkpoints"));
  assert_rounds (fixture->many, kept, G_N_ELEMENTS (kept));
  run_clear (&run);

  /* --keep-first is still accepted; of the two options, the last wins. */
  run_ckpt (&run, "prune", fixture->many, "-k", "2", "--no-keep-first", "--keep-first", NULL);
  assert_success (&run);
  expected = g_strdup_printf ("deleted round 8 (%s/ckpt_8)\nDeleted 1 of 3 checkpoints\n", fixture->many);
  g_assert_cmpstr (run.out, ==, expected);
  run_clear (&run);

  /* --no-keep-first drops it. */
  run_ckpt (&run, "prune", fixture->many, "-k", "1", "--keep-first", "--no-keep-first", NULL);
  assert_success (&run);
  assert_rounds (fixture->many, kept_newest, G_N_ELEMENTS (kept_newest));
}

/* Later format versions */

/* Rewrites the checkpoint file @path as a file of format version 2 with a
 * layout version 1 does not have (16 bytes after the payload), sealed by
 * the checksum rule of every version; or, with @damaged, with its last
 * byte changed after sealing. */
static void
make_later_version (const char *path,
                    gboolean    damaged)
{
  g_autoptr(GBytes) bytes = ckpt_test_read_bytes (path);
  g_autoptr(GByteArray) file = g_byte_array_new ();
  const guint8 trailer[16] = { 0x54, 0x52, 0x41, 0x49, 0x4c, 0x45, 0x52, 0x32, 1, 2, 3, 4, 5, 6, 7, 8 };

  g_byte_array_append (file, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_byte_array_append (file, trailer, sizeof trailer);
  ckpt_test_put_le32 (file->data + 8, 2);   /* the version field */
  ckpt_test_reseal (file->data, file->len);
  if (damaged)
    file->data[file->len - 1] ^= 0x40;
  ckpt_test_write_file (path, file->data, file->len);
}

/* A checkpoint of a later format version is `unsupported`, never
 * `corrupt`, and `latest` does not pass over it for an older round. */
static void
test_later_version (Fixture       *fixture,
                    gconstpointer  user_data)
{
  g_autofree char *dir = g_build_filename (fixture->tmpdir, "later", NULL);
  g_autoptr(CkptManager) manager = make_manager (dir, NULL);
  g_autofree char *path2 = NULL;
  g_autofree char *path3 = NULL;
  g_autofree char *line = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_auto(Run) run = { 0, };
  JsonArray *checkpoints;
  JsonObject *entry;
  guint r;

  for (r = 0; r < 3; r++)
    save (manager, make_state (r), r);
  path2 = file_of (manager, 2);
  make_later_version (path2, FALSE);

  run_ckpt (&run, "list", dir, NULL);
  assert_success (&run);
  g_assert_nonnull (strstr (run.out, "  unsupported  "));
  g_assert_null (strstr (run.out, "corrupt"));
  run_clear (&run);

  run_ckpt (&run, "list", dir, "--json", NULL);
  assert_success (&run);
  root = parse_json (run.out);
  checkpoints = json_object_get_array_member (json_node_get_object (root), "checkpoints");
  g_assert_cmpuint (json_array_get_length (checkpoints), ==, 3);
  entry = json_array_get_object_element (checkpoints, 2);
  g_assert_cmpstr (json_object_get_string_member (entry, "status"), ==, "unsupported");
  g_assert_nonnull (strstr (json_object_get_string_member (entry, "error"), "format version 2"));
  g_clear_pointer (&root, json_node_unref);
  run_clear (&run);

  run_ckpt (&run, "verify", dir, NULL);
  assert_error (&run, 1, "1 of 3 checkpoints in");
  g_assert_nonnull (strstr (run.err, "of a later file format version than this ckpt reads (unsupported)"));
  g_assert_true (has_line (run.out, "round 0: ok"));
  g_assert_true (has_line (run.out, "round 1: ok"));
  line = g_strdup_printf ("round 2: unsupported: Checkpoint ‘%s’: The checkpoint is in file format version 2", path2);
  g_assert_true (g_str_has_prefix (strstr (run.out, "round 2: "), line));
  run_clear (&run);

  /* Not passed over for round 1, not reported as damaged. */
  run_ckpt (&run, "show", dir, NULL);
  assert_error (&run, 1, "format version 2");
  g_assert_null (strstr (run.err, "damaged"));
  g_assert_cmpstr (run.out, ==, "");
  run_clear (&run);

  run_ckpt (&run, "show", dir, "latest", "--json", NULL);
  assert_error (&run, 1, "format version 2");
  run_clear (&run);

  run_ckpt (&run, "diff", dir, "1", "latest", NULL);
  assert_error (&run, 1, "format version 2");
  run_clear (&run);

  run_ckpt (&run, "show", dir, "1", NULL);
  assert_success (&run);
  run_clear (&run);

  /* A damaged file of a later version is damaged. */
  save (manager, make_state (3), 3);
  path3 = file_of (manager, 3);
  make_later_version (path3, TRUE);

  run_ckpt (&run, "verify", dir, NULL);
  assert_error (&run, 1, "1 of 4 checkpoints in");
  g_assert_nonnull (strstr (run.err, "is damaged or unreadable, and 1 of a later file format version (unsupported)"));
  g_assert_nonnull (strstr (run.out, "round 3: corrupt: "));
  g_assert_nonnull (strstr (run.out, "round 2: unsupported: "));
  run_clear (&run);

  run_ckpt (&run, "list", dir, NULL);
  assert_success (&run);
  g_assert_nonnull (strstr (run.out, "  corrupt  "));
  g_assert_nonnull (strstr (run.out, "  unsupported  "));
  run_clear (&run);

  /* latest passes over round 3 (damaged), then stops at round 2. */
  run_ckpt (&run, "show", dir, NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_nonnull (strstr (run.err, "ckpt: warning: skipping a damaged checkpoint: "));
  g_assert_nonnull (strstr (run.err, "format version 2"));
  g_assert_cmpstr (run.out, ==, "");
}

/* delete */

static void
test_delete (Fixture       *fixture,
             gconstpointer  user_data)
{
  const gint64 after_delete[] = { 0, 1, 3, 4 };
  const gint64 prefixed_after[] = { 0, 2 };
  g_auto(Run) run = { 0, };
  g_autoptr(CkptManager) manager = make_manager (fixture->damaged, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_strdup_printf ("Deleted round 2 (%s/ckpt_2)\n", fixture->damaged);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  /* The program's way into the dead end: the damaged round is in the way,
   * and the message says how to get past it, with this command. */
  g_assert_false (ckpt_manager_save (manager, make_state (2), 2, NULL, &error));
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "`ckpt delete "));
  g_clear_error (&error);

  run_ckpt (&run, "delete", fixture->damaged, "2", NULL);
  assert_success (&run);
  g_assert_cmpstr (run.out, ==, line);
  assert_rounds (fixture->damaged, after_delete, G_N_ELEMENTS (after_delete));
  run_clear (&run);
  save (manager, make_state (2), 2);

  /* Not there (any more): status 1, nothing changed. */
  before = snapshot_files (fixture->tmpdir);
  run_ckpt (&run, "delete", fixture->good, "7", NULL);
  assert_error (&run, 1, "No checkpoint of round 7");
  run_clear (&run);
  run_ckpt (&run, "delete", fixture->missing, "0", NULL);
  assert_error (&run, 1, "No such directory");
  g_assert_false (g_file_test (fixture->missing, G_FILE_TEST_EXISTS));
  run_clear (&run);
  run_ckpt (&run, "delete", fixture->prefixed, "1", NULL);
  assert_error (&run, 1, "No checkpoint of round 1");
  run_clear (&run);

  /* Usage errors. */
  run_ckpt (&run, "delete", fixture->good, NULL);
  assert_error (&run, 2, NULL);
  run_clear (&run);
  run_ckpt (&run, "delete", fixture->good, "latest", NULL);
  assert_error (&run, 2, "Invalid round");
  run_clear (&run);
  run_ckpt (&run, "delete", fixture->good, "x1", NULL);
  assert_error (&run, 2, "Invalid round");
  run_clear (&run);
  run_ckpt (&run, "delete", fixture->good, "1", "2", NULL);
  assert_error (&run, 2, NULL);
  run_clear (&run);
  after = snapshot_files (fixture->tmpdir);
  assert_unchanged (before, after);

  /* The prefix is honoured. */
  run_ckpt (&run, "delete", "--prefix", "model-", fixture->prefixed, "1", NULL);
  assert_success (&run);
  {
    g_autofree gint64 *rounds = NULL;
    gsize n_rounds, i;

    rounds = list_rounds (fixture->prefixed, "model-", &n_rounds);
    g_assert_cmpuint (n_rounds, ==, G_N_ELEMENTS (prefixed_after));
    for (i = 0; i < n_rounds; i++)
      g_assert_cmpint (rounds[i], ==, prefixed_after[i]);
  }
}

/* diff */

static void
test_diff (Fixture       *fixture,
           gconstpointer  user_data)
{
  const char *expected[] = {
    ".round: 1 vs 3 (abs difference 2)",
    ".weights: 3 of 8 elements differ, max abs difference 0.75",
    ".counts: 3 of 4 elements differ, max abs difference 6",
    ".opt.lr: 0.5 vs 0.25 (abs difference 0.25)",
    ".history: length 1 vs 3",
    "['note with space']: 'before' vs 'after'",
    ".mode: different types: x vs s",
    ".extra: only in round 3",
    "8 differences between rounds 1 and 3",
    "",
    NULL
  };
  g_auto(Run) run = { 0, };
  g_autofree char *expected_text = g_strjoinv ("\n", (char **) expected);
  g_autofree char *before = snapshot (fixture->tmpdir);
  g_autofree char *after = NULL;

  run_ckpt (&run, "diff", fixture->good, "1", "3", NULL);
  assert_success (&run);
  g_assert_cmpstr (run.out, ==, expected_text);
  run_clear (&run);

  /* The other way round. */
  run_ckpt (&run, "diff", fixture->good, "3", "1", NULL);
  assert_success (&run);
  g_assert_true (has_line (run.out, ".weights: 3 of 8 elements differ, max abs difference 0.75"));
  g_assert_true (has_line (run.out, ".extra: only in round 3"));
  g_assert_true (has_line (run.out, ".mode: different types: s vs x"));
  run_clear (&run);

  run_ckpt (&run, "diff", fixture->good, "3", "latest", NULL);
  assert_success (&run);
  g_assert_true (has_line (run.out, ".round: 3 vs 4 (abs difference 1)"));
  g_assert_true (has_line (run.out, ".weights: 3 of 8 elements differ, max abs difference 0.375"));
  g_assert_false (has_line (run.out, ".extra: only in round 3"));
  run_clear (&run);

  run_ckpt (&run, "diff", fixture->good, "2", "2", NULL);
  assert_success (&run);
  g_assert_cmpstr (run.out, ==, "The states of rounds 2 and 2 are equal\n");
  run_clear (&run);

  /* States of different types. */
  run_ckpt (&run, "diff", fixture->special, "1", "2", NULL);
  assert_success (&run);
  g_assert_true (g_str_has_prefix (run.out, ".: different types: a{sv} vs (xs)\n"));
  run_clear (&run);

  /* NaN, integer extremes, bytes, maybes, tuples. */
  run_ckpt (&run, "diff", fixture->special, "3", "4", NULL);
  assert_success (&run);
  g_assert_cmpstr (run.out, ==,
                   ".v: 3 of 4 elements differ, max abs difference 8.0 (1 of them with NaN)\n"
                   ".x: 1 of 2 elements differ, max abs difference 18446744073709551615\n"
                   ".b: 1 of 4 elements differ, max abs difference 1\n"
                   ".m: 2 vs nothing\n"
                   ".t[1]: 'a' vs 'b'\n"
                   ".t[2][0]: true vs false\n"
                   "6 differences between rounds 3 and 4\n");
  run_clear (&run);

  /* Rounds that cannot be loaded. */
  run_ckpt (&run, "diff", fixture->good, "1", "99", NULL);
  assert_error (&run, 1, "No checkpoint of round 99");
  g_assert_cmpstr (run.out, ==, "");
  run_clear (&run);

  run_ckpt (&run, "diff", fixture->damaged, "0", "2", NULL);
  assert_error (&run, 1, "ckpt_2’ is damaged");
  run_clear (&run);

  run_ckpt (&run, "diff", fixture->empty, "latest", "latest", NULL);
  assert_error (&run, 1, "No checkpoints");
  run_clear (&run);

  run_ckpt (&run, "diff", fixture->missing, "0", "1", NULL);
  assert_error (&run, 1, "No such directory");
  run_clear (&run);

  run_ckpt (&run, "diff", "--prefix", "model-", fixture->prefixed, "0", "2", NULL);
  assert_success (&run);
  g_assert_true (has_line (run.out, ".round: 0 vs 2 (abs difference 2)"));

  g_assert_false (g_file_test (fixture->missing, G_FILE_TEST_EXISTS));
  after = snapshot (fixture->tmpdir);
  assert_unchanged (before, after);
}

/* Tensors: the bindings' (satay) encoding */

/* A tensor of @dtype and @shape (@rank dimensions) over @size bytes. */
static GVariant *
make_tensor (const char    *dtype,
             const guint64 *shape,
             gsize          rank,
             gconstpointer  data,
             gsize          size)
{
  return g_variant_new ("(s@at@ay)", dtype,
                        g_variant_new_fixed_array (G_VARIANT_TYPE_UINT64, shape, rank, sizeof (guint64)),
                        g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, size, 1));
}

/* Round @r of the tensors directory; rounds 1 and 2 differ in .f4 (one
 * element by 0.5), .bf (one by 0.25), .be (two, one of them NaN), .c8 (by
 * 5: 3+4j), .i8 (0-D, by 3) and .shape (2x3 vs 3x2); .u1 is equal. */
static GVariant *
make_tensor_state (gint64 r)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  const guint64 shape_2x3[] = { 2, 3 }, shape_3x2[] = { 3, 2 }, shape_2[] = { 2 }, shape_4[] = { 4 },
    shape_3d[] = { 2, 1, 2 }, shape_40[] = { 40 }, shape_0[] = { 0 };
  float f4[] = { 1, 2, 3, 4, 5, 6.5f };
  /* float16 (little-endian): 0.1 (0x2e66), -2, 65504, 1.5; bfloat16: 1, 0.1 */
  const guint8 f2[] = { 0x66, 0x2e, 0x00, 0xc0, 0xff, 0x7b, 0x00, 0x3e };
  guint8 bf2[] = { 0x80, 0x3f, 0xcd, 0x3d };
  const guint8 b1[] = { 1, 0, 0, 1 };
  /* complex64: 1+2j, 3-4j */
  float c8[] = { 1, 2, 3, -4 };
  /* big-endian float64: 1.5, -0.25, 1e300, 8 */
  guint8 be[4][8] = {
    { 0x3f, 0xf8, 0, 0, 0, 0, 0, 0 }, { 0xbf, 0xd0, 0, 0, 0, 0, 0, 0 },
    { 0x7e, 0x37, 0xe4, 0x3c, 0x88, 0x00, 0x75, 0x9c }, { 0x40, 0x20, 0, 0, 0, 0, 0, 0 },
  };
  gint64 i8 = -7;
  guint8 u1[40];
  gint32 i4[6] = { 1, 2, 3, 4, 5, 6 };
  int i;

  for (i = 0; i < 40; i++)
    u1[i] = i;
  if (r == 2)
    {
      f4[5] = 7.0f;
      bf2[0] = 0xa0;  /* 1 -> 1.25 */
      be[1][0] = 0x7f;  /* -0.25 -> NaN */
      be[1][1] = 0xf8;
      be[3][1] = 0x24;  /* 8 -> 10 */
      c8[2] = 6;
      c8[3] = 0;
      i8 = -4;
    }

  g_variant_builder_add (&builder, "{sv}", "f4", make_tensor ("<f4", shape_2x3, 2, f4, sizeof f4));
  g_variant_builder_add (&builder, "{sv}", "f2", make_tensor ("<f2", shape_4, 1, f2, sizeof f2));
  g_variant_builder_add (&builder, "{sv}", "bf", make_tensor ("<bf2", shape_2, 1, bf2, sizeof bf2));
  g_variant_builder_add (&builder, "{sv}", "b1", make_tensor ("|b1", shape_2, 1, b1, 2));
  g_variant_builder_add (&builder, "{sv}", "c8", make_tensor ("<c8", shape_2, 1, c8, sizeof c8));
  g_variant_builder_add (&builder, "{sv}", "be", make_tensor (">f8", shape_3d, 3, be, sizeof be));
  g_variant_builder_add (&builder, "{sv}", "i8", make_tensor ("<i8", NULL, 0, &i8, sizeof i8));
  g_variant_builder_add (&builder, "{sv}", "u1", make_tensor ("|u1", shape_40, 1, u1, sizeof u1));
  g_variant_builder_add (&builder, "{sv}", "empty", make_tensor ("<f8", shape_0, 1, NULL, 0));
  g_variant_builder_add (&builder, "{sv}", "shape",
                         make_tensor ("<i4", r == 2 ? shape_3x2 : shape_2x3, 2, i4, sizeof i4));
  /* Not tensors: data of the wrong size, an unknown dtype. */
  g_variant_builder_add (&builder, "{sv}", "short", make_tensor ("<f4", shape_2, 1, f4, 6));
  g_variant_builder_add (&builder, "{sv}", "odd", make_tensor ("<x4", shape_2, 1, f4, 8));
  return g_variant_builder_end (&builder);
}

static void
test_tensors (Fixture       *fixture,
              gconstpointer  user_data)
{
  g_autofree char *dir = g_build_filename (fixture->tmpdir, "tensors", NULL);
  g_autoptr(CkptManager) manager = make_manager (dir, NULL);
  g_auto(Run) run = { 0, };
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  JsonObject *state;
  const char *expected_diff =
    ".f4: tensor <f4 [2, 3]: 1 of 6 elements differ, max abs difference 0.5\n"
    ".bf: tensor <bf2 [2]: 1 of 2 elements differ, max abs difference 0.25\n"
    ".c8: tensor <c8 [2]: 1 of 2 elements differ, max abs difference 5.0\n"
    ".be: tensor >f8 [2, 1, 2]: 2 of 4 elements differ, max abs difference 2.0 (1 of them with NaN)\n"
    ".i8: tensor <i8 []: 1 of 1 elements differ, max abs difference 3\n"
    ".shape: different shapes: tensor <i4 [2, 3] vs tensor <i4 [3, 2]\n"
    "6 differences between rounds 1 and 2\n";

  save (manager, make_tensor_state (1), 1);
  save (manager, make_tensor_state (2), 2);

  run_ckpt (&run, "show", dir, "1", NULL);
  assert_success (&run);
  g_assert_true (has_line (run.out, "  'f4': <tensor <f4 [2, 3]: [[1, 2, 3], [4, 5, 6.5]]>,"));
  g_assert_true (has_line (run.out, "  'f2': <tensor <f2 [4]: [0.1, -2, 6.55e+04, 1.5]>,"));
  g_assert_true (has_line (run.out, "  'bf': <tensor <bf2 [2]: [1, 0.1]>,"));
  g_assert_true (has_line (run.out, "  'b1': <tensor |b1 [2]: [true, false]>,"));
  g_assert_true (has_line (run.out, "  'c8': <tensor <c8 [2]: [1+2j, 3-4j]>,"));
  g_assert_true (has_line (run.out, "  'be': <tensor >f8 [2, 1, 2]: [[[1.5, -0.25]], [[1e+300, 8]]]>,"));
  g_assert_true (has_line (run.out, "  'i8': <tensor <i8 []: -7>,"));
  g_assert_true (has_line (run.out, "  'empty': <tensor <f8 [0]: []>,"));
  /* Long ones are broken over lines and elided as arrays are. */
  g_assert_true (has_line (run.out, "  'u1': <tensor |u1 [40]: ["));
  g_assert_true (has_line (run.out, "    21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, … (8 more)"));
  /* Not tensors: shown as the tuples they are. */
  g_assert_true (has_line (run.out, "  'short': <('<f4', [uint64 2], [byte 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00])>,"));
  g_assert_nonnull (strstr (run.out, "'odd': <(\n    '<x4',"));
  run_clear (&run);

  /* --max-items 0 shows every element. */
  run_ckpt (&run, "show", "--max-items", "0", dir, "1", NULL);
  assert_success (&run);
  g_assert_true (has_line (run.out, "    21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39"));
  run_clear (&run);
  run_ckpt (&run, "show", "--max-items", "2", dir, "1", NULL);
  assert_success (&run);
  g_assert_true (has_line (run.out, "  'f4': <tensor <f4 [2, 3]: [[1, 2, … (1 more)], [4, 5, … (1 more)]]>,"));
  run_clear (&run);

  /* JSON: numbers, nested by the shape. */
  run_ckpt (&run, "show", "--json", dir, "2", NULL);
  assert_success (&run);
  root = parse_json (run.out);
  state = json_object_get_object_member (json_node_get_object (root), "state");
  json_generator_set_root (generator, json_object_get_member (state, "f4"));
  {
    g_autofree char *text = json_generator_to_data (generator, NULL);

    g_assert_cmpstr (text, ==, "{\"dtype\":\"<f4\",\"shape\":[2,3],\"data\":[[1.0,2.0,3.0],[4.0,5.0,7.0]]}");
  }
  g_assert_nonnull (strstr (run.out, "0.0999755859375"));   /* the float16 0.1, exactly */
  g_assert_nonnull (strstr (run.out, "65504.0"));
  g_assert_nonnull (strstr (run.out, "0.10009765625"));     /* the bfloat16 0.1 */
#define MEMBER_JSON(name, expected) \
  G_STMT_START { \
    g_autofree char *text = NULL; \
    json_generator_set_root (generator, json_object_get_member (state, name)); \
    text = json_generator_to_data (generator, NULL); \
    g_assert_cmpstr (text, ==, expected); \
  } G_STMT_END
  MEMBER_JSON ("bf", "{\"dtype\":\"<bf2\",\"shape\":[2],\"data\":[1.25,0.10009765625]}");
  MEMBER_JSON ("b1", "{\"dtype\":\"|b1\",\"shape\":[2],\"data\":[true,false]}");
  MEMBER_JSON ("c8", "{\"dtype\":\"<c8\",\"shape\":[2],\"data\":[[1.0,2.0],[6.0,0.0]]}");
  /* (json-glib writes the 1e+300 it read back with 17 digits.) */
  MEMBER_JSON ("be", "{\"dtype\":\">f8\",\"shape\":[2,1,2],\"data\":[[[1.5,\"NaN\"]],[[1.0000000000000001e+300,10.0]]]}");
  g_assert_nonnull (strstr (run.out, " 1e+300,"));
  MEMBER_JSON ("i8", "{\"dtype\":\"<i8\",\"shape\":[],\"data\":-4}");
  MEMBER_JSON ("empty", "{\"dtype\":\"<f8\",\"shape\":[0],\"data\":[]}");
  MEMBER_JSON ("shape", "{\"dtype\":\"<i4\",\"shape\":[3,2],\"data\":[[1,2],[3,4],[5,6]]}");
#undef MEMBER_JSON
  run_clear (&run);

  /* diff: numbers, not bytes. */
  run_ckpt (&run, "diff", dir, "1", "2", NULL);
  assert_success (&run);
  g_assert_cmpstr (run.out, ==, expected_diff);
}

/* Every read-only command on every directory: nothing changes. */
static void
test_read_only (Fixture       *fixture,
                gconstpointer  user_data)
{
  const char *dirs[] = { fixture->good, fixture->damaged, fixture->empty, fixture->missing,
                         fixture->prefixed, fixture->special };
  g_autofree char *before = snapshot (fixture->tmpdir);
  g_autofree char *after = NULL;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_auto(Run) run = { 0, };

      run_ckpt (&run, "list", dirs[i], NULL);
      run_clear (&run);
      run_ckpt (&run, "list", dirs[i], "--json", NULL);
      run_clear (&run);
      run_ckpt (&run, "show", dirs[i], NULL);
      run_clear (&run);
      run_ckpt (&run, "show", dirs[i], "0", "--json", NULL);
      run_clear (&run);
      run_ckpt (&run, "verify", dirs[i], NULL);
      run_clear (&run);
      run_ckpt (&run, "diff", dirs[i], "0", "latest", NULL);
      run_clear (&run);
    }

  g_assert_false (g_file_test (fixture->missing, G_FILE_TEST_EXISTS));
  after = snapshot (fixture->tmpdir);
  assert_unchanged (before, after);

  /* A dry run deletes nothing either. */
  g_clear_pointer (&before, g_free);
  g_clear_pointer (&after, g_free);
  before = snapshot_files (fixture->tmpdir);
  for (i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_auto(Run) run = { 0, };

      run_ckpt (&run, "prune", dirs[i], "--keep-total", "1", "--dry-run", NULL);
    }
  g_assert_false (g_file_test (fixture->missing, G_FILE_TEST_EXISTS));
  after = snapshot_files (fixture->tmpdir);
  assert_unchanged (before, after);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/ckpt/cli/help", test_help);
  ADD ("/ckpt/cli/usage-errors", test_usage_errors);
  ADD ("/ckpt/cli/prefix-trailing-digit", test_prefix_trailing_digit);
  ADD ("/ckpt/cli/list/good", test_list_good);
  ADD ("/ckpt/cli/list/damaged", test_list_damaged);
  ADD ("/ckpt/cli/list/empty-missing", test_list_empty_missing);
  ADD ("/ckpt/cli/list/prefix", test_list_prefix);
  ADD ("/ckpt/cli/show/latest", test_show_latest);
  ADD ("/ckpt/cli/show/round", test_show_round);
  ADD ("/ckpt/cli/show/damaged", test_show_damaged);
  ADD ("/ckpt/cli/show/elided", test_show_elided);
  ADD ("/ckpt/cli/show/special", test_show_special);
  ADD ("/ckpt/cli/show/json-integers", test_show_json_integers);
  ADD ("/ckpt/cli/verify", test_verify);
  ADD ("/ckpt/cli/prune/dry-run", test_prune_dry_run);
  ADD ("/ckpt/cli/prune", test_prune);
  ADD ("/ckpt/cli/prune/keep-first-default", test_prune_keep_first_default);
  ADD ("/ckpt/cli/delete", test_delete);
  ADD ("/ckpt/cli/diff", test_diff);
  ADD ("/ckpt/cli/tensors", test_tensors);
  ADD ("/ckpt/cli/later-version", test_later_version);
  ADD ("/ckpt/cli/read-only", test_read_only);

#undef ADD

  return g_test_run ();
}
