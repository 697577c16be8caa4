/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `ckpt delete DIR ROUND`: deletes one checkpoint, whatever its contents,
 * under the writer lock (ckpt_manager_delete()). The way past a damaged
 * checkpoint that is in the way of a save of its round.
 */
#include "ckpt-tool.h"

int
ckpt_tool_command_delete (int    argc,
                          char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CkptManager) manager = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *what = NULL;
  gint64 round_num = 0;
  char **args = NULL;
  int status;
  GOptionEntry entries[] = {
    CKPT_TOOL_PREFIX_ENTRY (&prefix),
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new ("DIR ROUND");
  g_option_context_set_summary (context,
    "Deletes the checkpoint of ROUND in DIR, intact or damaged (it is not read),\n"
    "under the same lock as the writers of DIR. Use it to get past a damaged\n"
    "checkpoint: a program that fell back to an older round cannot save the\n"
    "damaged round again until it is deleted.");
  g_option_context_set_description (context,
    "Exit status: 0 if the checkpoint was deleted, 1 if there is none of ROUND\n"
    "or it cannot be deleted, 2 on a usage error.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!ckpt_tool_parse_options (context, "delete", &argc, &argv, 2, 2, &args, &status))
    return status;

  if (!ckpt_tool_parse_round (args[1], &round_num, &error) ||
      round_num == CKPT_TOOL_ROUND_LATEST)
    return ckpt_tool_usage_error ("delete", "Invalid round ‘%s’: expected a number (0 or more)",
                                  args[1]);

  manager = ckpt_tool_open (args[0], prefix, &error);
  if (manager == NULL)
    return ckpt_tool_fail_error ("delete", error);

  what = ckpt_tool_describe_round (manager, round_num);
  if (!ckpt_manager_delete (manager, round_num, NULL, &error))
    return ckpt_tool_fail ("%s", error->message);

  g_print ("Deleted round %" G_GINT64_FORMAT " (%s)\n", round_num, what);
  return CKPT_TOOL_EXIT_OK;
}
