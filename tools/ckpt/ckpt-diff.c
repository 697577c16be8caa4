/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `ckpt diff DIR A B`: walks the states of two checkpoints side by side and
 * prints each path where they differ: `.weights` and `['odd key']` for
 * dictionary entries, `[2]` for array items and tuple members. Numeric
 * arrays and tensors (the bindings' `(satay)` encoding) are summed up (how
 * many items differ, the largest absolute difference); other values are
 * shown side by side.
 */
#include <math.h>
#include <string.h>

#include "ckpt-tool.h"

/* Values shown side by side are cut to this many characters. */
#define SHOWN_CHARS 60

typedef struct
{
  gint64   round_a;
  gint64   round_b;
  GString *path;
  gsize    n_differences;
} Diff;

static void diff_values (Diff     *diff,
                         GVariant *a,
                         GVariant *b);

static void report (Diff       *diff,
                    const char *format,
                    ...) G_GNUC_PRINTF (2, 3);

static void
report (Diff       *diff,
        const char *format,
        ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_print ("%s: %s\n", diff->path->len > 0 ? diff->path->str : ".", message);
  diff->n_differences++;
}

static char *
shown_value (GVariant *value)
{
  g_autofree char *text = NULL;

  /* Doubles as short as they read back, not with 17 digits. */
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_DOUBLE))
    return ckpt_tool_format_double (g_variant_get_double (value));
  text = g_variant_print (value, FALSE);

  if (g_utf8_strlen (text, -1) > SHOWN_CHARS)
    {
      g_autofree char *cut = g_utf8_substring (text, 0, SHOWN_CHARS - 1);

      return g_strconcat (cut, "…", NULL);
    }
  return g_steal_pointer (&text);
}

/* Numbers */

static gboolean
is_signed_integer (char type_char)
{
  return strchr ("nixh", type_char) != NULL;
}

static gboolean
is_numeric (const GVariantType *type)
{
  return g_variant_type_is_basic (type) &&
         strchr ("ynqiuxthd", g_variant_type_peek_string (type)[0]) != NULL;
}

static gsize
numeric_size (char type_char)
{
  switch (type_char)
    {
    case 'y':
      return 1;
    case 'n':
    case 'q':
      return 2;
    case 'i':
    case 'u':
    case 'h':
      return 4;
    default:
      return 8;
    }
}

/* Item @i of the fixed-size numeric array @data, widened. */
static gint64
signed_at (const guint8 *data,
           char          type_char,
           gsize         i)
{
  switch (type_char)
    {
    case 'n':
      return ((const gint16 *) (gconstpointer) data)[i];
    case 'i':
    case 'h':
      return ((const gint32 *) (gconstpointer) data)[i];
    default:
      return ((const gint64 *) (gconstpointer) data)[i];
    }
}

static guint64
unsigned_at (const guint8 *data,
             char          type_char,
             gsize         i)
{
  switch (type_char)
    {
    case 'y':
      return data[i];
    case 'q':
      return ((const guint16 *) (gconstpointer) data)[i];
    case 'u':
      return ((const guint32 *) (gconstpointer) data)[i];
    default:
      return ((const guint64 *) (gconstpointer) data)[i];
    }
}

/* |x - y|, exact: it fits in 64 unsigned bits. */
static guint64
signed_distance (gint64 x,
                 gint64 y)
{
  return x > y ? (guint64) x - (guint64) y : (guint64) y - (guint64) x;
}

static guint64
unsigned_distance (guint64 x,
                   guint64 y)
{
  return x > y ? x - y : y - x;
}

static guint64
integer_distance (const guint8 *a,
                  const guint8 *b,
                  char          type_char,
                  gsize         i)
{
  if (is_signed_integer (type_char))
    return signed_distance (signed_at (a, type_char, i), signed_at (b, type_char, i));
  return unsigned_distance (unsigned_at (a, type_char, i), unsigned_at (b, type_char, i));
}

/* |a - b| of two integer scalars of the same type. */
static guint64
scalar_distance (GVariant *a,
                 GVariant *b)
{
  switch (g_variant_classify (a))
    {
    case G_VARIANT_CLASS_BYTE:
      return unsigned_distance (g_variant_get_byte (a), g_variant_get_byte (b));
    case G_VARIANT_CLASS_INT16:
      return signed_distance (g_variant_get_int16 (a), g_variant_get_int16 (b));
    case G_VARIANT_CLASS_UINT16:
      return unsigned_distance (g_variant_get_uint16 (a), g_variant_get_uint16 (b));
    case G_VARIANT_CLASS_INT32:
      return signed_distance (g_variant_get_int32 (a), g_variant_get_int32 (b));
    case G_VARIANT_CLASS_HANDLE:
      return signed_distance (g_variant_get_handle (a), g_variant_get_handle (b));
    case G_VARIANT_CLASS_UINT32:
      return unsigned_distance (g_variant_get_uint32 (a), g_variant_get_uint32 (b));
    case G_VARIANT_CLASS_INT64:
      return signed_distance (g_variant_get_int64 (a), g_variant_get_int64 (b));
    case G_VARIANT_CLASS_UINT64:
      return unsigned_distance (g_variant_get_uint64 (a), g_variant_get_uint64 (b));
    case G_VARIANT_CLASS_BOOLEAN:
    case G_VARIANT_CLASS_DOUBLE:
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
    case G_VARIANT_CLASS_VARIANT:
    case G_VARIANT_CLASS_MAYBE:
    case G_VARIANT_CLASS_ARRAY:
    case G_VARIANT_CLASS_TUPLE:
    case G_VARIANT_CLASS_DICT_ENTRY:
    default:
      g_assert_not_reached ();
    }
}

static void
diff_numeric_arrays (Diff     *diff,
                     GVariant *a,
                     GVariant *b)
{
  char type_char = g_variant_get_type_string (a)[1];
  gsize size = numeric_size (type_char);
  gsize n_a, n_b, n_differ = 0, n_nan = 0, i;
  const guint8 *data_a = g_variant_get_fixed_array (a, &n_a, size);
  const guint8 *data_b = g_variant_get_fixed_array (b, &n_b, size);
  guint64 max_integer = 0;
  double max_double = 0;

  if (n_a != n_b)
    {
      report (diff, "length %" G_GSIZE_FORMAT " vs %" G_GSIZE_FORMAT, n_a, n_b);
      return;
    }

  for (i = 0; i < n_a; i++)
    {
      /* Different bits are different values, as for g_variant_equal(). */
      if (memcmp (data_a + i * size, data_b + i * size, size) == 0)
        continue;
      n_differ++;
      if (type_char == 'd')
        {
          double distance = fabs (((const double *) (gconstpointer) data_a)[i] -
                                  ((const double *) (gconstpointer) data_b)[i]);

          if (isnan (distance))
            n_nan++;
          else
            max_double = MAX (max_double, distance);
        }
      else
        max_integer = MAX (max_integer, integer_distance (data_a, data_b, type_char, i));
    }

  if (n_differ == 0)
    return;

  if (type_char == 'd')
    {
      g_autofree char *max_text = ckpt_tool_format_double (n_nan == n_differ ? NAN : max_double);
      g_autofree char *nan_text = NULL;

      if (n_nan > 0 && n_nan < n_differ)
        nan_text = g_strdup_printf (" (%" G_GSIZE_FORMAT " of them with NaN)", n_nan);
      report (diff, "%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " elements differ, max abs difference %s%s",
              n_differ, n_a, max_text, nan_text != NULL ? nan_text : "");
    }
  else
    report (diff, "%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " elements differ, max abs difference %" G_GUINT64_FORMAT,
            n_differ, n_a, max_integer);
}

/* Tensors of the same dtype and shape, element by element; else what
 * differs in their dtype or shape. */
static void
diff_tensors (Diff                 *diff,
              const CkptToolTensor *a,
              const CkptToolTensor *b)
{
  g_autofree char *described_a = ckpt_tool_tensor_describe (a);
  g_autofree char *described_b = ckpt_tool_tensor_describe (b);
  gsize n_differ = 0, n_nan = 0, i;
  guint64 max_integer = 0;
  double max_double = 0;
  gboolean integers = a->kind == CKPT_TOOL_TENSOR_INT || a->kind == CKPT_TOOL_TENSOR_UINT ||
                      a->kind == CKPT_TOOL_TENSOR_BOOL;

  if (!g_str_equal (a->dtype, b->dtype))
    {
      report (diff, "different dtypes: %s vs %s", described_a, described_b);
      return;
    }
  if (a->rank != b->rank ||
      (a->rank > 0 && memcmp (a->shape, b->shape, a->rank * sizeof (guint64)) != 0))
    {
      report (diff, "different shapes: %s vs %s", described_a, described_b);
      return;
    }

  for (i = 0; i < a->count; i++)
    {
      /* Different bits are different values, as for arrays. */
      if (memcmp (a->data + i * a->itemsize, b->data + i * b->itemsize, a->itemsize) == 0)
        continue;
      n_differ++;
      if (a->kind == CKPT_TOOL_TENSOR_INT)
        max_integer = MAX (max_integer, signed_distance (ckpt_tool_tensor_int (a, i),
                                                         ckpt_tool_tensor_int (b, i)));
      else if (integers)
        max_integer = MAX (max_integer, unsigned_distance (ckpt_tool_tensor_bits (a, i, 0),
                                                           ckpt_tool_tensor_bits (b, i, 0)));
      else
        {
          double distance = fabs (ckpt_tool_tensor_real (a, i, 0) - ckpt_tool_tensor_real (b, i, 0));

          if (a->kind == CKPT_TOOL_TENSOR_COMPLEX)
            distance = hypot (distance, ckpt_tool_tensor_real (a, i, 1) - ckpt_tool_tensor_real (b, i, 1));
          if (isnan (distance))
            n_nan++;
          else
            max_double = MAX (max_double, distance);
        }
    }

  if (n_differ == 0)
    return;
  if (integers)
    report (diff, "%s: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " elements differ, max abs difference %" G_GUINT64_FORMAT,
            described_a, n_differ, a->count, max_integer);
  else
    {
      g_autofree char *max_text = ckpt_tool_format_double (n_nan == n_differ ? NAN : max_double);
      g_autofree char *nan_text = NULL;

      if (n_nan > 0 && n_nan < n_differ)
        nan_text = g_strdup_printf (" (%" G_GSIZE_FORMAT " of them with NaN)", n_nan);
      report (diff, "%s: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " elements differ, max abs difference %s%s",
              described_a, n_differ, a->count, max_text, nan_text != NULL ? nan_text : "");
    }
}

static void
diff_scalars (Diff     *diff,
              GVariant *a,
              GVariant *b)
{
  g_autofree char *text_a = shown_value (a);
  g_autofree char *text_b = shown_value (b);
  const GVariantType *type = g_variant_get_type (a);

  if (g_variant_type_equal (type, G_VARIANT_TYPE_DOUBLE))
    {
      g_autofree char *distance = ckpt_tool_format_double (fabs (g_variant_get_double (a) -
                                                                 g_variant_get_double (b)));

      report (diff, "%s vs %s (abs difference %s)", text_a, text_b, distance);
    }
  else if (is_numeric (type))
    report (diff, "%s vs %s (abs difference %" G_GUINT64_FORMAT ")", text_a, text_b,
            scalar_distance (a, b));
  else
    report (diff, "%s vs %s", text_a, text_b);
}

/* Paths */

static gboolean
is_identifier (const char *key)
{
  const char *p;

  if (!g_ascii_isalpha (key[0]) && key[0] != '_')
    return FALSE;
  for (p = key + 1; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

static void
append_key (GString  *path,
            GVariant *key)
{
  if (g_variant_is_of_type (key, G_VARIANT_TYPE_STRING) &&
      is_identifier (g_variant_get_string (key, NULL)))
    g_string_append_printf (path, ".%s", g_variant_get_string (key, NULL));
  else
    {
      g_string_append_c (path, '[');
      g_variant_print_string (key, path, FALSE);
      g_string_append_c (path, ']');
    }
}

/* Containers */

static void
diff_dictionaries (Diff     *diff,
                   GVariant *a,
                   GVariant *b)
{
  g_autoptr(GHashTable) index_b = g_hash_table_new_full (g_variant_hash, g_variant_equal,
                                                         (GDestroyNotify) g_variant_unref, NULL);
  g_autoptr(GHashTable) seen_b = g_hash_table_new (g_direct_hash, g_direct_equal);
  gsize n_a = g_variant_n_children (a), n_b = g_variant_n_children (b), i;
  gsize path_len = diff->path->len;

  for (i = 0; i < n_b; i++)
    {
      g_autoptr(GVariant) entry_b = g_variant_get_child_value (b, i);

      g_hash_table_insert (index_b, g_variant_get_child_value (entry_b, 0), GSIZE_TO_POINTER (i + 1));
    }

  for (i = 0; i < n_a; i++)
    {
      g_autoptr(GVariant) entry_a = g_variant_get_child_value (a, i);
      g_autoptr(GVariant) key = g_variant_get_child_value (entry_a, 0);
      g_autoptr(GVariant) value_a = g_variant_get_child_value (entry_a, 1);
      gsize j = GPOINTER_TO_SIZE (g_hash_table_lookup (index_b, key));

      append_key (diff->path, key);
      if (j == 0)
        report (diff, "only in round %" G_GINT64_FORMAT, diff->round_a);
      else
        {
          g_autoptr(GVariant) entry_b = g_variant_get_child_value (b, j - 1);
          g_autoptr(GVariant) value_b = g_variant_get_child_value (entry_b, 1);

          g_hash_table_add (seen_b, GSIZE_TO_POINTER (j));
          diff_values (diff, value_a, value_b);
        }
      g_string_truncate (diff->path, path_len);
    }

  for (i = 0; i < n_b; i++)
    {
      g_autoptr(GVariant) entry_b = NULL;
      g_autoptr(GVariant) key = NULL;

      if (g_hash_table_contains (seen_b, GSIZE_TO_POINTER (i + 1)))
        continue;
      entry_b = g_variant_get_child_value (b, i);
      key = g_variant_get_child_value (entry_b, 0);
      append_key (diff->path, key);
      report (diff, "only in round %" G_GINT64_FORMAT, diff->round_b);
      g_string_truncate (diff->path, path_len);
    }
}

/* Tuples, and arrays of the same length: item by item. */
static void
diff_items (Diff     *diff,
            GVariant *a,
            GVariant *b)
{
  gsize n = g_variant_n_children (a), i;
  gsize path_len = diff->path->len;

  for (i = 0; i < n; i++)
    {
      g_autoptr(GVariant) item_a = g_variant_get_child_value (a, i);
      g_autoptr(GVariant) item_b = g_variant_get_child_value (b, i);

      g_string_append_printf (diff->path, "[%" G_GSIZE_FORMAT "]", i);
      diff_values (diff, item_a, item_b);
      g_string_truncate (diff->path, path_len);
    }
}

static void
diff_values (Diff     *diff,
             GVariant *a,
             GVariant *b)
{
  if (!g_variant_type_equal (g_variant_get_type (a), g_variant_get_type (b)))
    {
      report (diff, "different types: %s vs %s",
              g_variant_get_type_string (a), g_variant_get_type_string (b));
      return;
    }
  if (g_variant_equal (a, b))
    return;

  if (g_variant_is_of_type (a, G_VARIANT_TYPE ("(satay)")))
    {
      CkptToolTensor tensor_a, tensor_b;
      gboolean both;

      both = ckpt_tool_tensor_init (&tensor_a, a);
      both = ckpt_tool_tensor_init (&tensor_b, b) && both;
      if (both)
        diff_tensors (diff, &tensor_a, &tensor_b);
      ckpt_tool_tensor_clear (&tensor_a);
      ckpt_tool_tensor_clear (&tensor_b);
      if (both)
        return;
    }

  switch (g_variant_classify (a))
    {
    case G_VARIANT_CLASS_VARIANT:
      {
        g_autoptr(GVariant) child_a = g_variant_get_variant (a);
        g_autoptr(GVariant) child_b = g_variant_get_variant (b);

        diff_values (diff, child_a, child_b);
      }
      break;

    case G_VARIANT_CLASS_MAYBE:
      if (g_variant_n_children (a) != g_variant_n_children (b))
        diff_scalars (diff, a, b);
      else
        {
          g_autoptr(GVariant) child_a = g_variant_get_maybe (a);
          g_autoptr(GVariant) child_b = g_variant_get_maybe (b);

          diff_values (diff, child_a, child_b);
        }
      break;

    case G_VARIANT_CLASS_ARRAY:
      {
        const GVariantType *element = g_variant_type_element (g_variant_get_type (a));

        if (g_variant_type_is_dict_entry (element))
          diff_dictionaries (diff, a, b);
        else if (is_numeric (element))
          diff_numeric_arrays (diff, a, b);
        else if (g_variant_n_children (a) != g_variant_n_children (b))
          report (diff, "length %" G_GSIZE_FORMAT " vs %" G_GSIZE_FORMAT,
                  g_variant_n_children (a), g_variant_n_children (b));
        else
          diff_items (diff, a, b);
      }
      break;

    case G_VARIANT_CLASS_TUPLE:
    case G_VARIANT_CLASS_DICT_ENTRY:
      diff_items (diff, a, b);
      break;

    case G_VARIANT_CLASS_BOOLEAN:
    case G_VARIANT_CLASS_BYTE:
    case G_VARIANT_CLASS_INT16:
    case G_VARIANT_CLASS_UINT16:
    case G_VARIANT_CLASS_INT32:
    case G_VARIANT_CLASS_UINT32:
    case G_VARIANT_CLASS_INT64:
    case G_VARIANT_CLASS_UINT64:
    case G_VARIANT_CLASS_HANDLE:
    case G_VARIANT_CLASS_DOUBLE:
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
    default:
      diff_scalars (diff, a, b);
      break;
    }
}

int
ckpt_tool_command_diff (int    argc,
                        char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CkptManager) manager = NULL;
  g_autoptr(GVariant) state_a = NULL;
  g_autoptr(GVariant) state_b = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) path = g_string_new (NULL);
  g_autofree char *prefix = NULL;
  gint64 round_a, round_b;
  Diff diff = { 0, };
  char **args = NULL;
  int status;
  GOptionEntry entries[] = {
    CKPT_TOOL_PREFIX_ENTRY (&prefix),
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new ("DIR A B");
  g_option_context_set_summary (context,
    "Compares the states of the checkpoints of rounds A and B of DIR (round\n"
    "numbers or ‘latest’), both verified, and prints one line per path where\n"
    "they differ: ‘.name’ or ‘['other key']’ for dictionary entries, ‘[i]’ for\n"
    "array items and tuple members. For arrays of numbers and tensors (the\n"
    "bindings' (satay) encoding): how many items differ and the largest\n"
    "absolute difference; for other values: both; where the types differ\n"
    "(or a tensor's dtype or shape): both.");
  g_option_context_set_description (context,
    "Exit status: 0 when both states could be compared, whether or not they\n"
    "differ; 1 when one cannot be loaded; 2 on a usage error.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!ckpt_tool_parse_options (context, "diff", &argc, &argv, 3, 3, &args, &status))
    return status;

  if (!ckpt_tool_parse_round (args[1], &round_a, &error) ||
      !ckpt_tool_parse_round (args[2], &round_b, &error))
    return ckpt_tool_usage_error ("diff", "%s", error->message);

  manager = ckpt_tool_open (args[0], prefix, &error);
  if (manager == NULL)
    return ckpt_tool_fail_error ("diff", error);

  state_a = ckpt_tool_load (manager, round_a, &diff.round_a, NULL, &error);
  if (state_a == NULL)
    return ckpt_tool_fail ("%s", error->message);
  state_b = ckpt_tool_load (manager, round_b, &diff.round_b, NULL, &error);
  if (state_b == NULL)
    return ckpt_tool_fail ("%s", error->message);

  diff.path = path;
  diff_values (&diff, state_a, state_b);

  if (diff.n_differences == 0)
    g_print ("The states of rounds %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT " are equal\n",
             diff.round_a, diff.round_b);
  else
    g_print ("%" G_GSIZE_FORMAT " %s between rounds %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT "\n",
             diff.n_differences, diff.n_differences == 1 ? "difference" : "differences",
             diff.round_a, diff.round_b);
  return CKPT_TOOL_EXIT_OK;
}
