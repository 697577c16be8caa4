/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GVariant text format for people: what g_variant_print() writes, with
 * containers that are too long broken over indented lines, and huge states
 * elided (arrays and dictionaries cut after max_items items, containers
 * nested deeper than max_depth replaced by a count). Whatever needs neither
 * is written by g_variant_print() itself, so that the text reads back with
 * g_variant_parse() unless it was elided (it then holds `…`) or holds a
 * tensor: a `(satay)` of the bindings' tensor encoding is written as
 * `tensor <f4 [2, 3]: [[1, 2, 3], [4, 5, 6]]`, its values as numbers.
 */
#include <string.h>

#include "ckpt-tool.h"

/* Arrays and tuples are levels of nesting; variants, maybes and dictionary
 * entries are not (they only wrap the level below). */
static gboolean
is_level (GVariant *value)
{
  GVariantClass klass = g_variant_classify (value);

  return klass == G_VARIANT_CLASS_ARRAY || klass == G_VARIANT_CLASS_TUPLE;
}

/* Whether @value (at nesting @depth, that of its parent) holds anything
 * the options elide. */
static gboolean
needs_elision (GVariant                   *value,
               guint                       depth,
               const CkptToolPrintOptions *options)
{
  gsize n, i;

  if (!g_variant_is_container (value))
    return FALSE;
  if (ckpt_tool_is_tensor (value))
    return TRUE;

  n = g_variant_n_children (value);
  if (is_level (value))
    {
      if (n == 0)
        return FALSE;
      depth++;
      if (options->max_depth > 0 && depth > options->max_depth)
        return TRUE;
      if (g_variant_is_of_type (value, G_VARIANT_TYPE_ARRAY))
        {
          if (options->max_items > 0 && n > options->max_items)
            return TRUE;
          if (g_variant_type_is_basic (g_variant_type_element (g_variant_get_type (value))))
            return FALSE;
        }
    }

  for (i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (value, i);

      if (needs_elision (child, depth, options))
        return TRUE;
    }
  return FALSE;
}

static gsize
current_column (GString *out)
{
  const char *end = out->str + out->len;
  const char *line_start = end;

  while (line_start > out->str && line_start[-1] != '\n')
    line_start--;
  return g_utf8_strlen (line_start, end - line_start);
}

static void
newline (GString *out,
         guint    indent)
{
  g_string_append_c (out, '\n');
  g_string_append_printf (out, "%*s", (int) indent, "");
}

static void print_value (GString                    *out,
                         GVariant                   *value,
                         gboolean                    type_annotate,
                         guint                       depth,
                         guint                       indent,
                         const CkptToolPrintOptions *options);

static void
print_array (GString                    *out,
             GVariant                   *value,
             gboolean                    type_annotate,
             guint                       depth,
             guint                       indent,
             const CkptToolPrintOptions *options,
             gboolean                    broken)
{
  const GVariantType *element_type = g_variant_type_element (g_variant_get_type (value));
  gboolean dict = g_variant_type_is_dict_entry (element_type);
  gboolean fill = !dict && g_variant_type_is_basic (element_type);
  gsize n = g_variant_n_children (value);
  gsize n_shown, i;

  /* The type is written once for all the items. */
  if (type_annotate)
    g_string_append_printf (out, "@%s ", g_variant_get_type_string (value));

  if (options->max_depth > 0 && depth + 1 > options->max_depth)
    {
      if (dict)
        g_string_append_printf (out, "{… %" G_GSIZE_FORMAT " %s}", n, n == 1 ? "entry" : "entries");
      else
        g_string_append_printf (out, "[… %" G_GSIZE_FORMAT " %s]", n, n == 1 ? "item" : "items");
      return;
    }

  n_shown = options->max_items > 0 ? MIN (n, options->max_items) : n;
  g_string_append_c (out, dict ? '{' : '[');
  for (i = 0; i <= n_shown; i++)
    {
      g_autoptr(GVariant) child = NULL;
      g_autofree char *more = NULL;
      g_autoptr(GString) item = NULL;

      if (i == n_shown && n_shown == n)
        break;
      if (i > 0)
        g_string_append_c (out, ',');

      if (i == n_shown)
        more = g_strdup_printf ("… (%" G_GSIZE_FORMAT " more)", n - n_shown);
      else
        child = g_variant_get_child_value (value, i);

      if (broken && fill)
        {
          /* Numbers and strings fill the lines. */
          item = g_string_new (more);
          if (child != NULL)
            g_variant_print_string (child, item, FALSE);
          if (i == 0)
            newline (out, indent + 2);
          /* Room for a space before and a comma after. */
          else if (current_column (out) + 2 + g_utf8_strlen (item->str, -1) > options->width)
            newline (out, indent + 2);
          else
            g_string_append_c (out, ' ');
          g_string_append (out, item->str);
          continue;
        }

      if (broken)
        newline (out, indent + 2);
      else if (i > 0)
        g_string_append_c (out, ' ');

      if (more != NULL)
        g_string_append (out, more);
      else if (dict)
        {
          g_autoptr(GVariant) key = g_variant_get_child_value (child, 0);
          g_autoptr(GVariant) entry_value = g_variant_get_child_value (child, 1);

          print_value (out, key, FALSE, depth + 1, indent + 2, options);
          g_string_append (out, ": ");
          print_value (out, entry_value, FALSE, depth + 1, indent + 2, options);
        }
      else
        print_value (out, child, FALSE, depth + 1, indent + 2, options);
    }
  if (broken)
    newline (out, indent);
  g_string_append_c (out, dict ? '}' : ']');
}

static void
print_tuple (GString                    *out,
             GVariant                   *value,
             gboolean                    type_annotate,
             guint                       depth,
             guint                       indent,
             const CkptToolPrintOptions *options,
             gboolean                    broken)
{
  gsize n = g_variant_n_children (value);
  gsize i;

  if (options->max_depth > 0 && depth + 1 > options->max_depth)
    {
      if (type_annotate)
        g_string_append_printf (out, "@%s ", g_variant_get_type_string (value));
      g_string_append (out, "(…)");
      return;
    }

  g_string_append_c (out, '(');
  for (i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (value, i);

      if (i > 0)
        g_string_append_c (out, ',');
      if (broken)
        newline (out, indent + 2);
      else if (i > 0)
        g_string_append_c (out, ' ');
      print_value (out, child, type_annotate, depth + 1, indent + 2, options);
    }
  if (n == 1)
    g_string_append_c (out, ',');
  if (broken)
    newline (out, indent);
  g_string_append_c (out, ')');
}

static void
print_container (GString                    *out,
                 GVariant                   *value,
                 gboolean                    type_annotate,
                 guint                       depth,
                 guint                       indent,
                 const CkptToolPrintOptions *options,
                 gboolean                    broken)
{
  switch (g_variant_classify (value))
    {
    case G_VARIANT_CLASS_VARIANT:
      {
        g_autoptr(GVariant) child = g_variant_get_variant (value);

        /* As g_variant_print(): a variant's content is always annotated. */
        g_string_append_c (out, '<');
        print_value (out, child, TRUE, depth, indent, options);
        g_string_append_c (out, '>');
      }
      break;

    case G_VARIANT_CLASS_MAYBE:
      {
        g_autoptr(GVariant) child = g_variant_get_maybe (value);

        if (type_annotate)
          g_string_append_printf (out, "@%s ", g_variant_get_type_string (value));
        if (child == NULL)
          g_string_append (out, "nothing");
        else
          {
            g_string_append (out, "just ");
            print_value (out, child, FALSE, depth, indent, options);
          }
      }
      break;

    case G_VARIANT_CLASS_ARRAY:
      print_array (out, value, type_annotate, depth, indent, options, broken);
      break;

    case G_VARIANT_CLASS_TUPLE:
      print_tuple (out, value, type_annotate, depth, indent, options, broken);
      break;

    case G_VARIANT_CLASS_DICT_ENTRY:
      {
        g_autoptr(GVariant) key = g_variant_get_child_value (value, 0);
        g_autoptr(GVariant) entry_value = g_variant_get_child_value (value, 1);

        g_string_append_c (out, '{');
        print_value (out, key, type_annotate, depth, indent, options);
        g_string_append (out, ", ");
        print_value (out, entry_value, type_annotate, depth, indent, options);
        g_string_append_c (out, '}');
      }
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
      g_variant_print_string (value, out, type_annotate);
      break;
    }
}

/* Whether the whole one-line text of @value cannot fit in @room columns,
 * judged without writing it: each child takes at least three columns, each
 * 8 bytes of data at least one. (Elided text is written to be measured.) */
static gboolean
surely_too_long (GVariant *value,
                 gsize     room)
{
  return g_variant_n_children (value) * 3 > room || g_variant_get_size (value) / 8 > room;
}

/* Tensors */

/* The elements of @tensor from @start, of dimension @dim and below, on one
 * line: [[1, 2], [3, 4]], each dimension cut after max_items. */
static void
tensor_one_line (GString                    *out,
                 const CkptToolTensor       *tensor,
                 gsize                       dim,
                 gsize                       start,
                 const CkptToolPrintOptions *options)
{
  gsize n, n_shown, stride = 1, i;

  if (dim == tensor->rank)
    {
      g_autofree char *text = ckpt_tool_tensor_format_element (tensor, start);

      g_string_append (out, text);
      return;
    }
  for (i = dim + 1; i < tensor->rank; i++)
    stride *= tensor->shape[i];
  n = tensor->shape[dim];
  n_shown = options->max_items > 0 ? MIN (n, options->max_items) : n;
  g_string_append_c (out, '[');
  for (i = 0; i < n_shown; i++)
    {
      if (i > 0)
        g_string_append (out, ", ");
      tensor_one_line (out, tensor, dim + 1, start + i * stride, options);
    }
  if (n_shown < n)
    g_string_append_printf (out, ", … (%" G_GSIZE_FORMAT " more)", n - n_shown);
  g_string_append_c (out, ']');
}

/* The same, broken over lines where it does not fit in options->width:
 * the innermost dimension fills its lines, the outer ones put each item on
 * a line of its own. */
static void
tensor_broken (GString                    *out,
               const CkptToolTensor       *tensor,
               gsize                       dim,
               gsize                       start,
               guint                       indent,
               const CkptToolPrintOptions *options)
{
  CkptToolPrintOptions one_line = *options;
  g_autoptr(GString) flat = g_string_new (NULL);
  gsize n, n_shown, stride = 1, i;

  one_line.width = 0;
  tensor_one_line (flat, tensor, dim, start, &one_line);
  if (dim == tensor->rank || options->width == 0 ||
      current_column (out) + g_utf8_strlen (flat->str, -1) <= options->width)
    {
      g_string_append (out, flat->str);
      return;
    }

  for (i = dim + 1; i < tensor->rank; i++)
    stride *= tensor->shape[i];
  n = tensor->shape[dim];
  n_shown = options->max_items > 0 ? MIN (n, options->max_items) : n;
  g_string_append_c (out, '[');
  for (i = 0; i <= n_shown; i++)
    {
      g_autoptr(GString) item = g_string_new (NULL);

      if (i == n_shown && n_shown == n)
        break;
      if (i > 0)
        g_string_append_c (out, ',');
      if (i == n_shown)
        g_string_append_printf (item, "… (%" G_GSIZE_FORMAT " more)", n - n_shown);
      else if (dim + 1 == tensor->rank)
        tensor_one_line (item, tensor, dim + 1, start + i * stride, options);

      if (dim + 1 < tensor->rank && i < n_shown)
        {
          newline (out, indent + 2);
          tensor_broken (out, tensor, dim + 1, start + i * stride, indent + 2, options);
        }
      else if (i == 0 || (dim + 1 < tensor->rank) ||
               current_column (out) + 2 + g_utf8_strlen (item->str, -1) > options->width)
        {
          newline (out, indent + 2);
          g_string_append (out, item->str);
        }
      else
        {
          g_string_append_c (out, ' ');
          g_string_append (out, item->str);
        }
    }
  newline (out, indent);
  g_string_append_c (out, ']');
}

static void
print_tensor (GString                    *out,
              const CkptToolTensor       *tensor,
              guint                       depth,
              guint                       indent,
              const CkptToolPrintOptions *options)
{
  g_autofree char *described = ckpt_tool_tensor_describe (tensor);

  g_string_append (out, described);
  g_string_append (out, ": ");
  /* A tensor is one level of nesting, however many dimensions it has. */
  if (options->max_depth > 0 && depth + 1 > options->max_depth && tensor->rank > 0)
    g_string_append_printf (out, "[… %" G_GSIZE_FORMAT " %s]", tensor->count,
                            tensor->count == 1 ? "element" : "elements");
  else
    tensor_broken (out, tensor, 0, 0, indent, options);
}

static void
print_value (GString                    *out,
             GVariant                   *value,
             gboolean                    type_annotate,
             guint                       depth,
             guint                       indent,
             const CkptToolPrintOptions *options)
{
  CkptToolTensor tensor;
  gboolean elide;
  gsize column, room;

  if (ckpt_tool_tensor_init (&tensor, value))
    {
      print_tensor (out, &tensor, depth, indent, options);
      ckpt_tool_tensor_clear (&tensor);
      return;
    }

  if (!g_variant_is_container (value) || g_variant_n_children (value) == 0)
    {
      g_variant_print_string (value, out, type_annotate);
      return;
    }

  elide = needs_elision (value, depth, options);
  if (options->width == 0)
    {
      if (elide)
        print_container (out, value, type_annotate, depth, indent, options, FALSE);
      else
        g_variant_print_string (value, out, type_annotate);
      return;
    }

  /* On one line if it fits, else broken over lines. */
  column = current_column (out);
  room = options->width > column ? options->width - column : 0;
  if (elide || !surely_too_long (value, room))
    {
      CkptToolPrintOptions one_line = *options;
      g_autoptr(GString) flat = g_string_new (NULL);

      one_line.width = 0;
      print_value (flat, value, type_annotate, depth, indent, &one_line);
      if ((gsize) g_utf8_strlen (flat->str, -1) <= room)
        {
          g_string_append (out, flat->str);
          return;
        }
    }
  print_container (out, value, type_annotate, depth, indent, options, TRUE);
}

char *
ckpt_tool_print_variant (GVariant                   *value,
                         gboolean                    type_annotate,
                         const CkptToolPrintOptions *options)
{
  GString *out = g_string_new (NULL);

  print_value (out, value, type_annotate, 0, 0, options);
  return g_string_free (out, FALSE);
}
