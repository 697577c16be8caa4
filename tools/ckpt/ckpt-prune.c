/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `ckpt prune DIR --keep-total N`: applies retention, as a save does, under
 * the directory's writer lock. The only command that deletes anything.
 */
#include "ckpt-tool.h"

static void
on_pruned (CkptManager *manager,
           gint64       round_num,
           GFile       *file,
           gpointer     user_data)
{
  g_autofree char *where = g_file_get_parse_name (file);

  g_print ("deleted round %" G_GINT64_FORMAT " (%s)\n", round_num, where);
}

/* Damaged checkpoints among the newest are kept, not counted: say which. */
static void
on_corrupt (CkptManager *manager,
            gint64       round_num,
            GFile       *file,
            GError      *error,
            gpointer     user_data)
{
  ckpt_tool_warn ("keeping a damaged checkpoint (it does not count as kept): %s", error->message);
}

static void
on_prune_failed (CkptManager *manager,
                 gint64       round_num,
                 GFile       *file,
                 GError      *error,
                 gpointer     user_data)
{
  ckpt_tool_warn ("cannot delete round %" G_GINT64_FORMAT ": %s", round_num, error->message);
}

int
ckpt_tool_command_prune (int    argc,
                         char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CkptManager) manager = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *rounds = NULL;
  g_autofree gint64 *pruned = NULL;
  g_autofree char *prefix = NULL;
  /* The library's default: a program keeps its first round forever, so a
   * prune from a shell must not delete it unless told to. */
  gboolean keep_first = TRUE, dry_run = FALSE;
  int keep_total = -1;
  gsize n_rounds, n_pruned, i;
  char **args = NULL;
  int status;
  GOptionEntry entries[] = {
    CKPT_TOOL_PREFIX_ENTRY (&prefix),
    { "keep-total", 'k', 0, G_OPTION_ARG_INT, &keep_total,
      "Keep the newest N checkpoints, N ≥ 1 (required)", "N" },
    { "keep-first", 'f', 0, G_OPTION_ARG_NONE, &keep_first,
      "Also keep the first (lowest-numbered) checkpoint; it counts towards N (the default)", NULL },
    { "no-keep-first", 'F', G_OPTION_FLAG_REVERSE, G_OPTION_ARG_NONE, &keep_first,
      "Do not keep the first checkpoint: keep only the newest N", NULL },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
      "Delete nothing; print what would be deleted", NULL },
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new ("DIR --keep-total N");
  g_option_context_set_summary (context,
    "Deletes the old checkpoints of DIR, keeping the first one and the newest\n"
    "(N in all), as a program saving with keep-total N and keep-first (the\n"
    "library's default) would; with --no-keep-first, the newest N only. The\n"
    "newest checkpoint is never deleted. Only checkpoints that verify count:\n"
    "damaged ones among the newest are kept (and reported on standard error),\n"
    "and as many older intact ones with them. Prints one line per deleted\n"
    "round.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!ckpt_tool_parse_options (context, "prune", &argc, &argv, 1, 1, &args, &status))
    return status;

  if (keep_total == -1)
    return ckpt_tool_usage_error ("prune", "Missing --keep-total");
  if (keep_total < 1)
    return ckpt_tool_usage_error ("prune", "--keep-total must be 1 or more, not %d", keep_total);

  /* Never creates the directory (a save would). */
  manager = ckpt_tool_open (args[0], prefix, &error);
  if (manager == NULL)
    return ckpt_tool_fail_error ("prune", error);
  ckpt_manager_set_keep_total (manager, keep_total);
  ckpt_manager_set_keep_first (manager, keep_first);

  rounds = ckpt_manager_list_rounds (manager, &n_rounds, &error);
  if (rounds == NULL)
    return ckpt_tool_fail ("%s", error->message);

  /* Deletions are printed as they are reported, so that a failure half-way
   * still tells which rounds are gone. */
  g_signal_connect (manager, "pruned", G_CALLBACK (on_pruned), NULL);
  g_signal_connect (manager, "corrupt", G_CALLBACK (on_corrupt), NULL);
  g_signal_connect (manager, "prune-failed", G_CALLBACK (on_prune_failed), NULL);
  pruned = ckpt_manager_prune (manager, dry_run ? CKPT_PRUNE_DRY_RUN : CKPT_PRUNE_NONE,
                               &n_pruned, NULL, &error);
  if (pruned == NULL)
    return ckpt_tool_fail ("%s", error->message);

  for (i = 0; dry_run && i < n_pruned; i++)
    {
      g_autofree char *file = ckpt_tool_describe_round (manager, pruned[i]);

      g_print ("would delete round %" G_GINT64_FORMAT " (%s)\n", pruned[i], file);
    }
  g_print ("%s %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " checkpoints\n",
           dry_run ? "Would delete" : "Deleted", n_pruned, MAX (n_rounds, n_pruned));
  return CKPT_TOOL_EXIT_OK;
}
