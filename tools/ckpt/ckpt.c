/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `ckpt`: inspect, check and tidy checkpoint directories. This file only
 * dispatches to the commands (one file each).
 */
#include <locale.h>

#include "ckpt-tool.h"

static const CkptToolCommand commands[] = {
  { "list", "DIR [--prefix P] [--json]",
    "List the checkpoints: round, size, creation time, status, type",
    ckpt_tool_command_list },
  { "show", "DIR [ROUND|latest] [--prefix P] [--json] [--max-depth N] [--max-items N]",
    "Show a checkpoint's header, metadata and state",
    ckpt_tool_command_show },
  { "verify", "DIR [--prefix P]",
    "Load every checkpoint fully; fail if any is damaged",
    ckpt_tool_command_verify },
  { "prune", "DIR --keep-total N [--no-keep-first] [--dry-run] [--prefix P]",
    "Delete old checkpoints, keeping the newest N",
    ckpt_tool_command_prune },
  { "delete", "DIR ROUND [--prefix P]",
    "Delete one checkpoint, intact or damaged",
    ckpt_tool_command_delete },
  { "diff", "DIR A B [--prefix P]",
    "Show which paths of two checkpoints' states differ, and by how much",
    ckpt_tool_command_diff },
};

const CkptToolCommand *
ckpt_tool_find_command (const char *name)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];
  return NULL;
}

static char *
build_summary (void)
{
  GString *summary = g_string_new ("Inspect, check and tidy directories of ckpt-glib checkpoints.\n\nCommands:");
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (summary, "\n  %-7s %s\n          %s",
                            commands[i].name, commands[i].synopsis, commands[i].summary);
  return g_string_free (summary, FALSE);
}

static GOptionContext *
build_context (gboolean *version)
{
  GOptionEntry entries[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, version, "Print the version of ckpt-glib and exit", NULL },
    G_OPTION_ENTRY_NULL
  };
  GOptionContext *context = g_option_context_new ("COMMAND [ARGUMENTS…]");
  g_autofree char *summary = build_summary ();

  g_option_context_set_summary (context, summary);
  g_option_context_set_description (context,
    "DIR is a directory path or a GIO URI. ROUND is a round number or ‘latest’\n"
    "(the newest intact checkpoint). Run ‘ckpt COMMAND --help’ for the options\n"
    "of a command, and see ckpt(1).\n"
    "\n"
    "Exit status: 0 on success, 1 on failure (or a damaged checkpoint, for\n"
    "‘verify’), 2 on a usage error.");
  g_option_context_add_main_entries (context, entries, NULL);
  /* Stop at the command: its options are its own. */
  g_option_context_set_strict_posix (context, TRUE);
  return context;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  const CkptToolCommand *command;
  gboolean version = FALSE;

  setlocale (LC_ALL, "");
  g_set_prgname ("ckpt");

  /* `ckpt COMMAND …` and `ckpt help [COMMAND]`. */
  if (argc >= 2 && (command = ckpt_tool_find_command (argv[1])) != NULL)
    return command->run (argc - 1, argv + 1);
  if (argc >= 2 && g_str_equal (argv[1], "help"))
    {
      if (argc >= 3 && (command = ckpt_tool_find_command (argv[2])) != NULL)
        {
          char *help_argv[] = { (char *) command->name, (char *) "--help", NULL };

          return command->run (2, help_argv);
        }
      if (argc >= 3)
        return ckpt_tool_usage_error (NULL, "Unknown command ‘%s’", argv[2]);
      argv[1] = (char *) "--help";
    }

  context = build_context (&version);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return ckpt_tool_usage_error (NULL, "%s", error->message);

  if (version)
    {
      g_print ("ckpt %s\n", CKPT_VERSION_S);
      return CKPT_TOOL_EXIT_OK;
    }
  if (argc < 2)
    return ckpt_tool_usage_error (NULL, "Missing command");
  return ckpt_tool_usage_error (NULL, "Unknown command ‘%s’", argv[1]);
}
