/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `ckpt show DIR [ROUND|latest]`: a checkpoint's header and metadata, then
 * its state in GVariant text format (elided) or JSON.
 */
#include "ckpt-tool.h"

/* Wide enough for a terminal, narrow enough to read. */
#define SHOW_WIDTH 80

static void
print_text (CkptManager                *manager,
            CkptInfo                   *info,
            GVariant                   *state,
            const CkptToolPrintOptions *options)
{
  g_autofree char *file = ckpt_tool_describe_round (manager, ckpt_info_get_round (info));
  g_autofree char *created = ckpt_tool_format_time (ckpt_info_get_creation_time (info), TRUE);
  g_autofree char *type = g_variant_type_dup_string (ckpt_info_get_state_type (info));
  g_autofree char *text = NULL;
  GVariant *metadata = ckpt_info_get_metadata (info);
  CkptToolPrintOptions metadata_options = *options;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_print ("File:            %s\n", file);
  g_print ("Round:           %" G_GINT64_FORMAT "\n", ckpt_info_get_round (info));
  g_print ("Created:         %s\n", created);
  g_print ("Size:            %" G_GUINT64_FORMAT " bytes (state: %" G_GUINT64_FORMAT " bytes)\n",
           ckpt_info_get_size (info), ckpt_info_get_state_size (info));
  g_print ("Format version:  %u\n", ckpt_info_get_format_version (info));
  g_print ("Type:            %s\n", type);

  /* Metadata entries on one line each, annotated like variants. */
  g_print ("Metadata:\n");
  metadata_options.width = 0;
  if (g_variant_is_of_type (metadata, G_VARIANT_TYPE_VARDICT))
    {
      g_variant_iter_init (&iter, metadata);
      while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
        {
          g_autofree char *value_text = ckpt_tool_print_variant (value, TRUE, &metadata_options);

          g_print ("  %s: %s\n", key, value_text);
        }
    }
  else
    {
      g_autofree char *metadata_text = ckpt_tool_print_variant (metadata, TRUE, &metadata_options);

      g_print ("  %s\n", metadata_text);
    }

  text = ckpt_tool_print_variant (state, FALSE, options);
  g_print ("State:\n%s\n", text);
}

static int
print_json (CkptManager *manager,
            CkptInfo    *info,
            GVariant    *state)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *file = ckpt_tool_describe_round (manager, ckpt_info_get_round (info));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "round");
  json_builder_add_int_value (builder, ckpt_info_get_round (info));
  json_builder_set_member_name (builder, "file");
  json_builder_add_string_value (builder, file);
  ckpt_tool_info_to_json (info, builder);
  json_builder_set_member_name (builder, "state");
  json_builder_add_value (builder, ckpt_tool_variant_to_json (state));
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  if (!ckpt_tool_print_json (root, &error))
    return ckpt_tool_fail ("%s", error->message);
  return CKPT_TOOL_EXIT_OK;
}

int
ckpt_tool_command_show (int    argc,
                        char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CkptManager) manager = NULL;
  g_autoptr(CkptInfo) info = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *prefix = NULL;
  gboolean json = FALSE;
  int max_depth = 0, max_items = 32;
  CkptToolPrintOptions options;
  gint64 round_num = CKPT_TOOL_ROUND_LATEST;
  char **args = NULL;
  int status;
  GOptionEntry entries[] = {
    CKPT_TOOL_PREFIX_ENTRY (&prefix),
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json,
      "Write JSON: the header and the whole state", NULL },
    { "max-depth", 'd', 0, G_OPTION_ARG_INT, &max_depth,
      "Elide arrays and tuples nested deeper than N (default: 0, no limit)", "N" },
    { "max-items", 'n', 0, G_OPTION_ARG_INT, &max_items,
      "Show at most N items of each array or dictionary (default: 32; 0: all)", "N" },
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new ("DIR [ROUND|latest]");
  g_option_context_set_summary (context,
    "Shows the checkpoint of ROUND in DIR (by default the latest: the newest\n"
    "intact one): its header and metadata, then its state in GVariant text\n"
    "format, broken over lines and elided past the limits of --max-depth and\n"
    "--max-items (elided text holds ‘…’). The checkpoint is verified first.");
  g_option_context_set_description (context,
    "With --json, the state is complete (the limits do not apply); every\n"
    "integer is a number of exactly its value (uint64 ones above 2^63-1 too);\n"
    "NaN and infinities are written as the strings \"NaN\", \"Infinity\",\n"
    "\"-Infinity\".");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!ckpt_tool_parse_options (context, "show", &argc, &argv, 1, 2, &args, &status))
    return status;

  if (max_depth < 0 || max_items < 0)
    return ckpt_tool_usage_error ("show", "%s must be 0 or more",
                                  max_depth < 0 ? "--max-depth" : "--max-items");
  if (args[1] != NULL && !ckpt_tool_parse_round (args[1], &round_num, &error))
    return ckpt_tool_usage_error ("show", "%s", error->message);

  manager = ckpt_tool_open (args[0], prefix, &error);
  if (manager == NULL)
    return ckpt_tool_fail_error ("show", error);

  state = ckpt_tool_load (manager, round_num, NULL, &info, &error);
  if (state == NULL)
    return ckpt_tool_fail ("%s", error->message);

  if (json)
    return print_json (manager, info, state);

  options.max_depth = max_depth;
  options.max_items = max_items;
  options.width = SHOW_WIDTH;
  print_text (manager, info, state, &options);
  return CKPT_TOOL_EXIT_OK;
}
