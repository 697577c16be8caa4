/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the commands of `ckpt` share: errors, option parsing, opening a
 * directory, loading a round, formatting, JSON.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ckpt-tool.h"

/* Errors */

static void
print_error_line (const char *message)
{
  g_autofree char *line = g_strdup (message);

  /* One line, whatever the message holds. */
  g_strdelimit (line, "\n\r", ' ');
  g_printerr ("ckpt: %s\n", line);
}

int
ckpt_tool_fail (const char *format,
                ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  print_error_line (message);
  return CKPT_TOOL_EXIT_FAILURE;
}

int
ckpt_tool_usage_error (const char *command,
                       const char *format,
                       ...)
{
  g_autofree char *message = NULL;
  g_autofree char *line = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  if (command != NULL)
    line = g_strdup_printf ("%s: %s (see ‘ckpt %s --help’)", command, message, command);
  else
    line = g_strdup_printf ("%s (see ‘ckpt --help’)", message);
  print_error_line (line);
  return CKPT_TOOL_EXIT_USAGE;
}

int
ckpt_tool_fail_error (const char   *command,
                      const GError *error)
{
  if (g_error_matches (error, CKPT_ERROR, CKPT_ERROR_INVALID_ARGUMENT))
    return ckpt_tool_usage_error (command, "%s", error->message);
  return ckpt_tool_fail ("%s", error->message);
}

void
ckpt_tool_warn (const char *format,
                ...)
{
  g_autofree char *message = NULL;
  g_autofree char *line = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  line = g_strconcat ("warning: ", message, NULL);
  print_error_line (line);
}

/* Options */

gboolean
ckpt_tool_parse_options (GOptionContext   *context,
                         const char       *command,
                         int              *argc,
                         char           ***argv,
                         guint             min_args,
                         guint             max_args,
                         char           ***out_args,
                         int              *exit_status)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *prgname = g_strconcat ("ckpt ", command, NULL);
  guint n_args;
  int first = 1;

  /* The usage line of --help reads `ckpt COMMAND [OPTION…] …`. */
  g_set_prgname (prgname);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      *exit_status = ckpt_tool_usage_error (command, "%s", error->message);
      return FALSE;
    }
  g_set_prgname ("ckpt");

  if (*argc > 1 && g_str_equal ((*argv)[1], "--"))
    first = 2;
  n_args = *argc - first;
  if (n_args < min_args)
    {
      *exit_status = ckpt_tool_usage_error (command, n_args == 0 ? "Missing directory"
                                                                 : "Missing arguments");
      return FALSE;
    }
  if (n_args > max_args)
    {
      *exit_status = ckpt_tool_usage_error (command, "Unexpected argument ‘%s’",
                                            (*argv)[first + max_args]);
      return FALSE;
    }

  *out_args = *argv + first;
  return TRUE;
}

/* Directories and rounds */

CkptManager *
ckpt_tool_open (const char  *dir,
                const char  *prefix,
                GError     **error)
{
  g_autoptr(GFile) root = g_file_new_for_commandline_arg (dir);
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *where = g_file_get_parse_name (root);
  g_autoptr(CkptManager) manager = NULL;

  /* keep-total 0 keeps everything; read-only commands never save or prune
   * anyway. Made first, with no I/O, so that an invalid prefix is a usage
   * error whatever the directory. */
  manager = ckpt_manager_new (root, prefix, 0, TRUE, error);
  if (manager == NULL)
    return NULL;

  /* The library takes a missing root for an empty one; a tool should say
   * that the name is wrong instead (and never create it). */
  info = g_file_query_info (root, G_FILE_ATTRIBUTE_STANDARD_TYPE, G_FILE_QUERY_INFO_NONE,
                            NULL, &local_error);
  if (info == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     "‘%s’: No such directory", where);
      else
        g_set_error (error, local_error->domain, local_error->code,
                     "‘%s’: %s", where, local_error->message);
      return NULL;
    }
  if (g_file_info_get_file_type (info) != G_FILE_TYPE_DIRECTORY)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
                   "‘%s’: Not a directory", where);
      return NULL;
    }

  return g_steal_pointer (&manager);
}

gboolean
ckpt_tool_parse_round (const char  *arg,
                       gint64      *out_round_num,
                       GError     **error)
{
  g_autoptr(GError) local_error = NULL;

  if (g_str_equal (arg, "latest"))
    {
      *out_round_num = CKPT_TOOL_ROUND_LATEST;
      return TRUE;
    }
  if (!g_ascii_string_to_signed (arg, 10, 0, G_MAXINT64, out_round_num, &local_error))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "Invalid round ‘%s’: expected a number (0 or more) or ‘latest’", arg);
      return FALSE;
    }
  return TRUE;
}

char *
ckpt_tool_describe_dir (CkptManager *manager)
{
  return g_file_get_parse_name (ckpt_manager_get_root (manager));
}

char *
ckpt_tool_describe_round (CkptManager *manager,
                          gint64       round_num)
{
  g_autoptr(GFile) file = ckpt_manager_get_file (manager, round_num);

  return g_file_get_parse_name (file);
}

static void
on_corrupt (CkptManager  *manager,
            gint64        round_num,
            GFile        *file,
            const GError *error,
            gpointer      user_data)
{
  ckpt_tool_warn ("skipping a damaged checkpoint: %s", error->message);
}

GVariant *
ckpt_tool_load (CkptManager  *manager,
                gint64        round_num,
                gint64       *out_round_num,
                CkptInfo    **out_info,
                GError      **error)
{
  g_autoptr(GVariant) state = NULL;
  gint64 loaded = round_num;

  if (round_num == CKPT_TOOL_ROUND_LATEST)
    {
      gulong handler = g_signal_connect (manager, "corrupt", G_CALLBACK (on_corrupt), NULL);

      state = ckpt_manager_load_latest (manager, NULL, &loaded, NULL, error);
      g_signal_handler_disconnect (manager, handler);
      if (state == NULL && error != NULL && *error == NULL)
        {
          g_autofree char *where = ckpt_tool_describe_dir (manager);

          g_set_error (error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND,
                       "No checkpoints with prefix ‘%s’ in ‘%s’",
                       ckpt_manager_get_prefix (manager), where);
        }
    }
  else
    state = ckpt_manager_load (manager, NULL, round_num, NULL, error);
  if (state == NULL)
    return NULL;

  if (out_info != NULL)
    {
      /* The state is verified; the header needs no second checksum. */
      *out_info = ckpt_manager_query_info (manager, loaded, CKPT_QUERY_NONE, NULL, error);
      if (*out_info == NULL)
        return NULL;
    }
  if (out_round_num != NULL)
    *out_round_num = loaded;
  return g_steal_pointer (&state);
}

const char *
ckpt_tool_status_for_error (const GError *error)
{
  if (g_error_matches (error, CKPT_ERROR, CKPT_ERROR_CORRUPT))
    return "corrupt";
  if (g_error_matches (error, CKPT_ERROR, CKPT_ERROR_UNSUPPORTED))
    return "unsupported";
  if (g_error_matches (error, CKPT_ERROR, CKPT_ERROR_NOT_FOUND))
    return "missing";
  return "unreadable";
}

/* Formatting */

char *
ckpt_tool_format_time (GDateTime *time,
                       gboolean   precise)
{
  g_autoptr(GDateTime) utc = g_date_time_to_utc (time);

  if (precise)
    return g_date_time_format (utc, "%Y-%m-%dT%H:%M:%S.%fZ");
  return g_date_time_format (utc, "%Y-%m-%dT%H:%M:%SZ");
}

char *
ckpt_tool_format_double (double value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  int precision;

  if (isnan (value))
    return g_strdup ("nan");
  if (isinf (value))
    return g_strdup (value > 0 ? "inf" : "-inf");
  for (precision = 1; precision <= 17; precision++)
    {
      char format[8];

      g_snprintf (format, sizeof format, "%%.%dg", precision);
      g_ascii_formatd (buffer, sizeof buffer, format, value);
      if (g_ascii_strtod (buffer, NULL) == value)
        break;
    }
  /* A double looks like one: 5.0, not 5. */
  if (strpbrk (buffer, ".e") == NULL)
    return g_strconcat (buffer, ".0", NULL);
  return g_strdup (buffer);
}

/* JSON */

/* json-glib's GVariant mapping (json_gvariant_serialize()), but with every
 * integer exact: a JsonNode holds integers as gint64, so json-glib writes a
 * uint64 above G_MAXINT64 (2^64-1) as a negative number (-1). Such a value
 * is held here as the string node "<marker><digits>", and
 * ckpt_tool_print_json() writes it as the bare number. The marker holds 128
 * random bits, drawn once per process, so no string of a checkpoint can be
 * taken for one. JSON has no NaN nor infinities: they are the strings
 * "NaN", "Infinity" and "-Infinity", as in the protobuf JSON mapping.
 * Tensor elements of floating-point types are held the same way, as
 * "<marker><text>", the text ckpt_tool_format_double() writes: the shortest
 * that reads back as the same double (a float32 0.1 is then
 * 0.10000000149011612, as numpy's tolist() gives it). */
static const char *
big_uint64_marker (void)
{
  static char marker[64];

  if (marker[0] == '\0')
    g_snprintf (marker, sizeof marker, "ckpt-uint64-%08x%08x%08x%08x:",
                g_random_int (), g_random_int (), g_random_int (), g_random_int ());
  return marker;
}

/* A dictionary key as json-glib writes it (gvariant_simple_to_string()). */
static char *
key_to_string (GVariant *key)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  switch (g_variant_classify (key))
    {
    case G_VARIANT_CLASS_BOOLEAN:
      return g_strdup (g_variant_get_boolean (key) ? "true" : "false");
    case G_VARIANT_CLASS_BYTE:
      return g_strdup_printf ("%u", g_variant_get_byte (key));
    case G_VARIANT_CLASS_INT16:
      return g_strdup_printf ("%d", g_variant_get_int16 (key));
    case G_VARIANT_CLASS_UINT16:
      return g_strdup_printf ("%u", g_variant_get_uint16 (key));
    case G_VARIANT_CLASS_INT32:
      return g_strdup_printf ("%d", g_variant_get_int32 (key));
    case G_VARIANT_CLASS_UINT32:
      return g_strdup_printf ("%u", g_variant_get_uint32 (key));
    case G_VARIANT_CLASS_INT64:
      return g_strdup_printf ("%" G_GINT64_FORMAT, g_variant_get_int64 (key));
    case G_VARIANT_CLASS_UINT64:
      return g_strdup_printf ("%" G_GUINT64_FORMAT, g_variant_get_uint64 (key));
    case G_VARIANT_CLASS_HANDLE:
      return g_strdup_printf ("%d", g_variant_get_handle (key));
    case G_VARIANT_CLASS_DOUBLE:
      g_ascii_formatd (buffer, sizeof buffer, "%f", g_variant_get_double (key));
      return g_strdup (buffer);
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
    default:
      return g_strdup (g_variant_get_string (key, NULL));
    }
}

static void
add_entry (JsonObject *object,
           GVariant   *entry)
{
  g_autoptr(GVariant) key = g_variant_get_child_value (entry, 0);
  g_autoptr(GVariant) value = g_variant_get_child_value (entry, 1);
  g_autofree char *name = key_to_string (key);

  json_object_set_member (object, name, ckpt_tool_variant_to_json (value));
}

/* A number written as @text (digits, sign, '.', 'e'): see above. */
static JsonNode *
raw_number_node (const char *text)
{
  g_autofree char *marked = g_strconcat (big_uint64_marker (), text, NULL);

  return json_node_init_string (json_node_alloc (), marked);
}

static JsonNode *
tensor_part_to_json (const CkptToolTensor *tensor,
                     gsize                 index,
                     guint                 part)
{
  g_autofree char *text = NULL;
  double number;

  switch (tensor->kind)
    {
    case CKPT_TOOL_TENSOR_BOOL:
      return json_node_init_boolean (json_node_alloc (), ckpt_tool_tensor_bits (tensor, index, 0) != 0);
    case CKPT_TOOL_TENSOR_INT:
      return json_node_init_int (json_node_alloc (), ckpt_tool_tensor_int (tensor, index));
    case CKPT_TOOL_TENSOR_UINT:
      {
        guint64 bits = ckpt_tool_tensor_bits (tensor, index, 0);

        if (bits <= G_MAXINT64)
          return json_node_init_int (json_node_alloc (), (gint64) bits);
        text = g_strdup_printf ("%" G_GUINT64_FORMAT, bits);
        return raw_number_node (text);
      }
    default:
      number = ckpt_tool_tensor_real (tensor, index, part);
      if (isnan (number))
        return json_node_init_string (json_node_alloc (), "NaN");
      if (isinf (number))
        return json_node_init_string (json_node_alloc (), number > 0 ? "Infinity" : "-Infinity");
      text = ckpt_tool_format_double (number);
      return raw_number_node (text);
    }
}

/* The elements from @start of dimension @dim and below, nested arrays. */
static JsonNode *
tensor_data_to_json (const CkptToolTensor *tensor,
                     gsize                 dim,
                     gsize                 start)
{
  g_autoptr(JsonArray) array = NULL;
  gsize stride = 1, i;

  if (dim == tensor->rank)
    {
      if (tensor->kind != CKPT_TOOL_TENSOR_COMPLEX)
        return tensor_part_to_json (tensor, start, 0);
      /* Complex numbers as [re, im]. */
      array = json_array_sized_new (2);
      json_array_add_element (array, tensor_part_to_json (tensor, start, 0));
      json_array_add_element (array, tensor_part_to_json (tensor, start, 1));
      return json_node_init_array (json_node_alloc (), array);
    }
  for (i = dim + 1; i < tensor->rank; i++)
    stride *= tensor->shape[i];
  array = json_array_sized_new (tensor->shape[dim]);
  for (i = 0; i < tensor->shape[dim]; i++)
    json_array_add_element (array, tensor_data_to_json (tensor, dim + 1, start + i * stride));
  return json_node_init_array (json_node_alloc (), array);
}

/* {"dtype": "<f4", "shape": [2, 3], "data": [[1, 2, 3], [4, 5, 6]]} */
static JsonNode *
tensor_to_json (const CkptToolTensor *tensor)
{
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(JsonArray) shape = json_array_sized_new (tensor->rank);
  gsize i;

  for (i = 0; i < tensor->rank; i++)
    {
      if (tensor->shape[i] <= G_MAXINT64)
        json_array_add_int_element (shape, (gint64) tensor->shape[i]);
      else
        {
          g_autofree char *text = g_strdup_printf ("%" G_GUINT64_FORMAT, tensor->shape[i]);

          json_array_add_element (shape, raw_number_node (text));
        }
    }
  json_object_set_string_member (object, "dtype", tensor->dtype);
  json_object_set_array_member (object, "shape", g_steal_pointer (&shape));
  json_object_set_member (object, "data", tensor_data_to_json (tensor, 0, 0));
  return json_node_init_object (json_node_alloc (), object);
}

JsonNode *
ckpt_tool_variant_to_json (GVariant *value)
{
  CkptToolTensor tensor;
  JsonNode *node;

  if (ckpt_tool_tensor_init (&tensor, value))
    {
      node = tensor_to_json (&tensor);
      ckpt_tool_tensor_clear (&tensor);
      return node;
    }

  /* Maybes and variants are their content (a maybe without one is null). */
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr(GVariant) child = g_variant_get_variant (value);

      return ckpt_tool_variant_to_json (child);
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_MAYBE))
    {
      g_autoptr(GVariant) child = g_variant_get_maybe (value);

      if (child == NULL)
        return json_node_init_null (json_node_alloc ());
      return ckpt_tool_variant_to_json (child);
    }

  node = json_node_alloc ();
  switch (g_variant_classify (value))
    {
    case G_VARIANT_CLASS_BOOLEAN:
      return json_node_init_boolean (node, g_variant_get_boolean (value));
    case G_VARIANT_CLASS_BYTE:
      return json_node_init_int (node, g_variant_get_byte (value));
    case G_VARIANT_CLASS_INT16:
      return json_node_init_int (node, g_variant_get_int16 (value));
    case G_VARIANT_CLASS_UINT16:
      return json_node_init_int (node, g_variant_get_uint16 (value));
    case G_VARIANT_CLASS_INT32:
      return json_node_init_int (node, g_variant_get_int32 (value));
    case G_VARIANT_CLASS_UINT32:
      return json_node_init_int (node, g_variant_get_uint32 (value));
    case G_VARIANT_CLASS_INT64:
      return json_node_init_int (node, g_variant_get_int64 (value));
    case G_VARIANT_CLASS_HANDLE:
      return json_node_init_int (node, g_variant_get_handle (value));
    case G_VARIANT_CLASS_UINT64:
      {
        guint64 number = g_variant_get_uint64 (value);
        g_autofree char *text = NULL;

        if (number <= G_MAXINT64)
          return json_node_init_int (node, (gint64) number);
        text = g_strdup_printf ("%s%" G_GUINT64_FORMAT, big_uint64_marker (), number);
        return json_node_init_string (node, text);
      }
    case G_VARIANT_CLASS_DOUBLE:
      {
        double number = g_variant_get_double (value);

        if (isnan (number))
          return json_node_init_string (node, "NaN");
        if (isinf (number))
          return json_node_init_string (node, number > 0 ? "Infinity" : "-Infinity");
        return json_node_init_double (node, number);
      }
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      return json_node_init_string (node, g_variant_get_string (value, NULL));
    case G_VARIANT_CLASS_DICT_ENTRY:
      {
        g_autoptr(JsonObject) object = json_object_new ();

        add_entry (object, value);
        return json_node_init_object (node, object);
      }
    case G_VARIANT_CLASS_ARRAY:
      if (g_variant_type_is_dict_entry (g_variant_type_element (g_variant_get_type (value))))
        {
          g_autoptr(JsonObject) object = json_object_new ();
          gsize i, n = g_variant_n_children (value);

          for (i = 0; i < n; i++)
            {
              g_autoptr(GVariant) entry = g_variant_get_child_value (value, i);

              add_entry (object, entry);
            }
          return json_node_init_object (node, object);
        }
      G_GNUC_FALLTHROUGH;
    case G_VARIANT_CLASS_TUPLE:
    case G_VARIANT_CLASS_MAYBE:    /* handled above */
    case G_VARIANT_CLASS_VARIANT:
    default:
      {
        g_autoptr(JsonArray) array = json_array_sized_new (g_variant_n_children (value));
        gsize i, n = g_variant_n_children (value);

        for (i = 0; i < n; i++)
          {
            g_autoptr(GVariant) child = g_variant_get_child_value (value, i);

            json_array_add_element (array, ckpt_tool_variant_to_json (child));
          }
        return json_node_init_array (node, array);
      }
    }
}

/* @text with every "<marker><number>" string written as the bare number. */
static char *
write_big_uint64 (const char *text)
{
  g_autofree char *quoted = g_strconcat ("\"", big_uint64_marker (), NULL);
  gsize quoted_len = strlen (quoted);
  GString *out = g_string_sized_new (strlen (text));
  const char *p = text, *hit;

  while ((hit = strstr (p, quoted)) != NULL)
    {
      const char *digits = hit + quoted_len, *end = digits;

      while (g_ascii_isdigit (*end) || (*end != '\0' && strchr ("+-.e", *end) != NULL))
        end++;
      g_string_append_len (out, p, hit - p);
      if (end > digits && *end == '"')
        {
          g_string_append_len (out, digits, end - digits);
          p = end + 1;
        }
      else
        {
          g_string_append_len (out, hit, quoted_len);
          p = digits;
        }
    }
  g_string_append (out, p);
  return g_string_free (out, FALSE);
}

void
ckpt_tool_info_to_json (CkptInfo    *info,
                        JsonBuilder *builder)
{
  g_autofree char *created = ckpt_tool_format_time (ckpt_info_get_creation_time (info), TRUE);
  g_autofree char *type = g_variant_type_dup_string (ckpt_info_get_state_type (info));

  json_builder_set_member_name (builder, "size");
  json_builder_add_int_value (builder, ckpt_info_get_size (info));
  json_builder_set_member_name (builder, "state_size");
  json_builder_add_int_value (builder, ckpt_info_get_state_size (info));
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type);
  json_builder_set_member_name (builder, "created");
  json_builder_add_string_value (builder, created);
  json_builder_set_member_name (builder, "format_version");
  json_builder_add_int_value (builder, ckpt_info_get_format_version (info));
  json_builder_set_member_name (builder, "metadata");
  json_builder_add_value (builder, ckpt_tool_variant_to_json (ckpt_info_get_metadata (info)));
}

gboolean
ckpt_tool_print_json (JsonNode  *root,
                      GError   **error)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *generated = NULL;
  g_autofree char *text = NULL;
  gsize length;

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, root);
  generated = json_generator_to_data (generator, NULL);
  text = write_big_uint64 (generated);
  length = strlen (text);

  if (fwrite (text, 1, length, stdout) != length || fputc ('\n', stdout) == EOF ||
      fflush (stdout) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot write the output: %s", g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}
