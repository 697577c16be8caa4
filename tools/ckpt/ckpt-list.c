/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `ckpt list DIR`: one line per checkpoint, from its header, with its
 * checksum verified.
 */
#include "ckpt-tool.h"

typedef struct
{
  gint64      round_num;
  CkptInfo   *info;     /* NULL when it could not be read */
  GError     *error;
  const char *status;
  guint64     size;     /* of the file, even when it is damaged */
  gboolean    have_size;
} Row;

static void
row_clear (gpointer data)
{
  Row *row = data;

  g_clear_object (&row->info);
  g_clear_error (&row->error);
}

static GArray *
collect_rows (CkptManager  *manager,
              GError      **error)
{
  g_autofree gint64 *rounds = NULL;
  g_autoptr(GArray) rows = NULL;
  gsize n_rounds, i;

  rounds = ckpt_manager_list_rounds (manager, &n_rounds, error);
  if (rounds == NULL)
    return NULL;

  rows = g_array_sized_new (FALSE, TRUE, sizeof (Row), n_rounds);
  g_array_set_clear_func (rows, row_clear);
  for (i = 0; i < n_rounds; i++)
    {
      Row row = { rounds[i], NULL, NULL, "ok", 0, FALSE };

      row.info = ckpt_manager_query_info (manager, rounds[i], CKPT_QUERY_VERIFY, NULL, &row.error);
      if (row.info != NULL)
        {
          row.size = ckpt_info_get_size (row.info);
          row.have_size = TRUE;
        }
      else if (g_error_matches (row.error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND))
        {
          /* Deleted by a writer since the listing. */
          g_clear_error (&row.error);
          continue;
        }
      else
        {
          g_autoptr(GFile) file = ckpt_manager_get_file (manager, rounds[i]);
          g_autoptr(GFileInfo) file_info = NULL;

          row.status = ckpt_tool_status_for_error (row.error);
          file_info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE,
                                         G_FILE_QUERY_INFO_NONE, NULL, NULL);
          if (file_info != NULL)
            {
              row.size = g_file_info_get_size (file_info);
              row.have_size = TRUE;
            }
        }
      g_array_append_val (rows, row);
    }

  return g_steal_pointer (&rows);
}

static int
print_table (CkptManager *manager,
             GArray      *rows)
{
  g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func (g_free);
  const char *headers[] = { "ROUND", "SIZE", "CREATED", "STATUS", "TYPE" };
  int widths[G_N_ELEMENTS (headers)] = { 0, };
  guint i, c;

  for (c = 0; c < G_N_ELEMENTS (headers); c++)
    g_ptr_array_add (cells, g_strdup (headers[c]));
  for (i = 0; i < rows->len; i++)
    {
      Row *row = &g_array_index (rows, Row, i);

      g_ptr_array_add (cells, g_strdup_printf ("%" G_GINT64_FORMAT, row->round_num));
      g_ptr_array_add (cells, row->have_size ? g_strdup_printf ("%" G_GUINT64_FORMAT, row->size)
                                             : g_strdup ("-"));
      if (row->info != NULL)
        {
          g_ptr_array_add (cells, ckpt_tool_format_time (ckpt_info_get_creation_time (row->info), FALSE));
          g_ptr_array_add (cells, g_strdup (row->status));
          g_ptr_array_add (cells, g_variant_type_dup_string (ckpt_info_get_state_type (row->info)));
        }
      else
        {
          g_ptr_array_add (cells, g_strdup ("-"));
          g_ptr_array_add (cells, g_strdup (row->status));
          g_ptr_array_add (cells, g_strdup ("-"));
        }
    }

  for (i = 0; i < cells->len; i++)
    {
      c = i % G_N_ELEMENTS (headers);
      widths[c] = MAX (widths[c], (int) g_utf8_strlen (g_ptr_array_index (cells, i), -1));
    }

  for (i = 0; i < cells->len; i += G_N_ELEMENTS (headers))
    {
      char **line = (char **) &cells->pdata[i];

      /* Numbers to the right; the type, of any length, last. */
      g_print ("%*s  %*s  %-*s  %-*s  %s\n",
               widths[0], line[0], widths[1], line[1],
               widths[2], line[2], widths[3], line[3], line[4]);
    }
  return CKPT_TOOL_EXIT_OK;
}

static int
print_json (CkptManager *manager,
            GArray      *rows)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *where = ckpt_tool_describe_dir (manager);
  guint i;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "directory");
  json_builder_add_string_value (builder, where);
  json_builder_set_member_name (builder, "prefix");
  json_builder_add_string_value (builder, ckpt_manager_get_prefix (manager));
  json_builder_set_member_name (builder, "checkpoints");
  json_builder_begin_array (builder);
  for (i = 0; i < rows->len; i++)
    {
      Row *row = &g_array_index (rows, Row, i);
      g_autofree char *file = ckpt_tool_describe_round (manager, row->round_num);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "round");
      json_builder_add_int_value (builder, row->round_num);
      json_builder_set_member_name (builder, "file");
      json_builder_add_string_value (builder, file);
      json_builder_set_member_name (builder, "status");
      json_builder_add_string_value (builder, row->status);
      if (row->info != NULL)
        ckpt_tool_info_to_json (row->info, builder);
      else
        {
          if (row->have_size)
            {
              json_builder_set_member_name (builder, "size");
              json_builder_add_int_value (builder, row->size);
            }
          json_builder_set_member_name (builder, "error");
          json_builder_add_string_value (builder, row->error->message);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  if (!ckpt_tool_print_json (root, &error))
    return ckpt_tool_fail ("%s", error->message);
  return CKPT_TOOL_EXIT_OK;
}

int
ckpt_tool_command_list (int    argc,
                        char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CkptManager) manager = NULL;
  g_autoptr(GArray) rows = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *prefix = NULL;
  gboolean json = FALSE;
  char **args = NULL;
  int status;
  GOptionEntry entries[] = {
    CKPT_TOOL_PREFIX_ENTRY (&prefix),
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Write JSON, for scripts", NULL },
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new ("DIR");
  g_option_context_set_summary (context,
    "Lists the checkpoints of DIR, one line each: round, file size in bytes,\n"
    "creation time (UTC), status and the type of the state. The status is ‘ok’\n"
    "when the header is sound and the checksum over the whole file matches,\n"
    "else ‘corrupt’, ‘unsupported’ (a newer file format) or ‘unreadable’.\n"
    "Nothing is written or deleted.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!ckpt_tool_parse_options (context, "list", &argc, &argv, 1, 1, &args, &status))
    return status;

  manager = ckpt_tool_open (args[0], prefix, &error);
  if (manager == NULL)
    return ckpt_tool_fail_error ("list", error);

  rows = collect_rows (manager, &error);
  if (rows == NULL)
    return ckpt_tool_fail ("%s", error->message);

  if (json)
    return print_json (manager, rows);

  if (rows->len == 0)
    {
      g_autofree char *where = ckpt_tool_describe_dir (manager);

      g_print ("No checkpoints with prefix ‘%s’ in ‘%s’\n", ckpt_manager_get_prefix (manager), where);
      return CKPT_TOOL_EXIT_OK;
    }
  return print_table (manager, rows);
}
