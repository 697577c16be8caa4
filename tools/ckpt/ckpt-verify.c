/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `ckpt verify DIR`: loads every checkpoint as a program would, which
 * checks the header, the checksum over every byte, the round it holds and
 * the normal form of the state.
 */
#include "ckpt-tool.h"

int
ckpt_tool_command_verify (int    argc,
                          char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CkptManager) manager = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *rounds = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *where = NULL;
  gsize n_rounds, n_checked = 0, n_damaged = 0, n_unsupported = 0, i;
  char **args = NULL;
  int status;
  GOptionEntry entries[] = {
    CKPT_TOOL_PREFIX_ENTRY (&prefix),
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new ("DIR");
  g_option_context_set_summary (context,
    "Verifies every checkpoint of DIR by loading it fully, as a program would:\n"
    "the header, the checksum over every byte, the round the file holds and the\n"
    "normal form of the state. Prints one line per checkpoint (‘round N: ok’, or\n"
    "its status and what is wrong). Nothing is written or deleted.");
  g_option_context_set_description (context,
    "Exit status: 0 if every checkpoint is intact (or there are none), 1 if any\n"
    "is damaged, cannot be read or is of a later file format version\n"
    "(unsupported), 2 on a usage error.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!ckpt_tool_parse_options (context, "verify", &argc, &argv, 1, 1, &args, &status))
    return status;

  manager = ckpt_tool_open (args[0], prefix, &error);
  if (manager == NULL)
    return ckpt_tool_fail_error ("verify", error);
  where = ckpt_tool_describe_dir (manager);

  rounds = ckpt_manager_list_rounds (manager, &n_rounds, &error);
  if (rounds == NULL)
    return ckpt_tool_fail ("%s", error->message);

  for (i = 0; i < n_rounds; i++)
    {
      g_autoptr(GVariant) state = NULL;
      g_autoptr(GError) load_error = NULL;

      state = ckpt_manager_load (manager, NULL, rounds[i], NULL, &load_error);
      if (state != NULL)
        {
          n_checked++;
          g_print ("round %" G_GINT64_FORMAT ": ok\n", rounds[i]);
          continue;
        }
      /* Deleted by a writer since the listing: not a damaged one. */
      if (g_error_matches (load_error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND))
        continue;

      n_checked++;
      /* Written by a later version of the format: intact, but not
       * readable here. */
      if (g_error_matches (load_error, CKPT_ERROR, CKPT_ERROR_UNSUPPORTED))
        n_unsupported++;
      else
        n_damaged++;
      g_print ("round %" G_GINT64_FORMAT ": %s: %s\n", rounds[i],
               ckpt_tool_status_for_error (load_error), load_error->message);
    }

  if (n_unsupported > 0 && n_damaged == 0)
    return ckpt_tool_fail ("%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " checkpoints in ‘%s’ %s "
                           "of a later file format version than this ckpt reads (unsupported)",
                           n_unsupported, n_checked, where, n_unsupported == 1 ? "is" : "are");
  if (n_unsupported > 0)
    return ckpt_tool_fail ("%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " checkpoints in ‘%s’ %s "
                           "damaged or unreadable, and %" G_GSIZE_FORMAT " of a later file "
                           "format version (unsupported)",
                           n_damaged, n_checked, where, n_damaged == 1 ? "is" : "are",
                           n_unsupported);
  if (n_damaged > 0)
    return ckpt_tool_fail ("%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " checkpoints in ‘%s’ %s damaged or unreadable",
                           n_damaged, n_checked, where, n_damaged == 1 ? "is" : "are");

  if (n_checked == 0)
    g_print ("No checkpoints with prefix ‘%s’ in ‘%s’\n", ckpt_manager_get_prefix (manager), where);
  else
    g_print ("All %" G_GSIZE_FORMAT " checkpoints in ‘%s’ are intact\n", n_checked, where);
  return CKPT_TOOL_EXIT_OK;
}
