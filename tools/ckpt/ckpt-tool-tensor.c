/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The tensor encoding of the bindings (docs/python.md, "Tensors"): a
 * `(satay)` of numpy's dtype string ('<f4', '|u1', '>c16', and '<bf2' for
 * bfloat16), the shape (outermost first, [] for 0-D) and the elements in C
 * order. A `(satay)` is taken for a tensor only when its dtype parses and
 * its data holds exactly product(shape) items; anything else is shown and
 * compared as the plain tuple it is.
 */
#include <math.h>
#include <string.h>

#include "ckpt-tool.h"

void
ckpt_tool_tensor_clear (CkptToolTensor *tensor)
{
  g_clear_pointer (&tensor->dtype_value, g_variant_unref);
  g_clear_pointer (&tensor->shape_value, g_variant_unref);
  g_clear_pointer (&tensor->data_value, g_variant_unref);
  memset (tensor, 0, sizeof *tensor);
}

static gboolean
parse_dtype (const char     *dtype,
             CkptToolTensor *tensor)
{
  const char *p = dtype + 1;
  guint64 size;
  char *end;

  if (dtype[0] != '<' && dtype[0] != '>' && dtype[0] != '|')
    return FALSE;
  if (g_str_has_prefix (p, "bf"))
    {
      tensor->kind = CKPT_TOOL_TENSOR_BFLOAT;
      p += 2;
    }
  else if (*p != '\0' && strchr ("biufc", *p) != NULL)
    tensor->kind = *p++;
  else
    return FALSE;
  if (!g_ascii_isdigit (*p) || *p == '0')
    return FALSE;
  size = g_ascii_strtoull (p, &end, 10);
  if (*end != '\0')
    return FALSE;

  switch (tensor->kind)
    {
    case CKPT_TOOL_TENSOR_BOOL:
      if (size != 1)
        return FALSE;
      break;
    case CKPT_TOOL_TENSOR_INT:
    case CKPT_TOOL_TENSOR_UINT:
      if (size != 1 && size != 2 && size != 4 && size != 8)
        return FALSE;
      break;
    case CKPT_TOOL_TENSOR_FLOAT:
      if (size != 2 && size != 4 && size != 8)
        return FALSE;
      break;
    case CKPT_TOOL_TENSOR_COMPLEX:
      if (size != 8 && size != 16)
        return FALSE;
      break;
    case CKPT_TOOL_TENSOR_BFLOAT:
    default:
      if (size != 2)
        return FALSE;
      break;
    }
  /* Items of more than one byte have a byte order. */
  if (size > 1 && dtype[0] == '|')
    return FALSE;
  tensor->order = dtype[0];
  tensor->itemsize = size;
  return TRUE;
}

gboolean
ckpt_tool_tensor_init (CkptToolTensor *tensor,
                       GVariant       *value)
{
  gsize n_data, i;

  memset (tensor, 0, sizeof *tensor);
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE ("(satay)")))
    return FALSE;

  tensor->dtype_value = g_variant_get_child_value (value, 0);
  tensor->shape_value = g_variant_get_child_value (value, 1);
  tensor->data_value = g_variant_get_child_value (value, 2);
  tensor->dtype = g_variant_get_string (tensor->dtype_value, NULL);
  tensor->shape = g_variant_get_fixed_array (tensor->shape_value, &tensor->rank, sizeof (guint64));
  tensor->data = g_variant_get_fixed_array (tensor->data_value, &n_data, 1);

  if (!parse_dtype (tensor->dtype, tensor))
    goto not_a_tensor;
  tensor->count = 1;
  for (i = 0; i < tensor->rank; i++)
    {
      if (tensor->shape[i] != 0 && tensor->count > G_MAXSIZE / tensor->shape[i])
        goto not_a_tensor;
      tensor->count *= tensor->shape[i];
    }
  if (tensor->count > G_MAXSIZE / tensor->itemsize ||
      tensor->count * tensor->itemsize != n_data)
    goto not_a_tensor;
  return TRUE;

not_a_tensor:
  ckpt_tool_tensor_clear (tensor);
  return FALSE;
}

gboolean
ckpt_tool_is_tensor (GVariant *value)
{
  CkptToolTensor tensor;

  if (!ckpt_tool_tensor_init (&tensor, value))
    return FALSE;
  ckpt_tool_tensor_clear (&tensor);
  return TRUE;
}

/* Raw bits of @size bytes at @p, in host order. */
static guint64
load_bits (const guint8 *p,
           gsize         size,
           char          order)
{
  gboolean big = order == '>';
  guint64 bits = 0;
  gsize i;

  for (i = 0; i < size; i++)
    bits |= (guint64) p[big ? i : size - 1 - i] << (8 * (size - 1 - i));
  return bits;
}

guint64
ckpt_tool_tensor_bits (const CkptToolTensor *tensor,
                       gsize                 index,
                       guint                 part)
{
  gsize size = tensor->kind == CKPT_TOOL_TENSOR_COMPLEX ? tensor->itemsize / 2 : tensor->itemsize;

  return load_bits (tensor->data + index * tensor->itemsize + part * size, size, tensor->order);
}

gint64
ckpt_tool_tensor_int (const CkptToolTensor *tensor,
                      gsize                 index)
{
  guint64 bits = ckpt_tool_tensor_bits (tensor, index, 0);
  guint shift = 64 - 8 * tensor->itemsize;

  /* Sign-extend. */
  return shift == 0 ? (gint64) bits : (gint64) (bits << shift) >> shift;
}

static double
double_from_bits (guint64 bits)
{
  double d;

  memcpy (&d, &bits, sizeof d);
  return d;
}

static double
float_from_bits (guint32 bits)
{
  float f;

  memcpy (&f, &bits, sizeof f);
  return f;
}

static double
half_from_bits (guint16 h)
{
  int exponent = (h >> 10) & 0x1f;
  int mantissa = h & 0x3ff;
  double v;

  if (exponent == 0)
    v = ldexp (mantissa, -24);
  else if (exponent == 31)
    v = mantissa != 0 ? NAN : INFINITY;
  else
    v = ldexp (mantissa + 1024, exponent - 25);
  return (h & 0x8000) ? -v : v;
}

static double
real_from_bits (guint64 bits,
                char    kind,
                gsize   size)
{
  if (kind == CKPT_TOOL_TENSOR_BFLOAT)
    return float_from_bits ((guint32) bits << 16);
  if (size == 2)
    return half_from_bits (bits);
  if (size == 4)
    return float_from_bits (bits);
  return double_from_bits (bits);
}

double
ckpt_tool_tensor_real (const CkptToolTensor *tensor,
                       gsize                 index,
                       guint                 part)
{
  gsize size = tensor->kind == CKPT_TOOL_TENSOR_COMPLEX ? tensor->itemsize / 2 : tensor->itemsize;
  guint64 bits = ckpt_tool_tensor_bits (tensor, index, part);

  switch (tensor->kind)
    {
    case CKPT_TOOL_TENSOR_BOOL:
      return bits != 0;
    case CKPT_TOOL_TENSOR_INT:
      return (double) ckpt_tool_tensor_int (tensor, index);
    case CKPT_TOOL_TENSOR_UINT:
      return (double) bits;
    default:
      return real_from_bits (bits, tensor->kind, size);
    }
}

/* @value rounded to the precision of the element type (round to nearest,
 * ties to even), as a double again. */
static double
narrow (double value,
        char   kind,
        gsize  size)
{
  float f = (float) value;
  guint32 x;

  if (size == 8 || isnan (value))
    return value;
  if (size == 4)
    return f;
  memcpy (&x, &f, sizeof x);
  if (kind == CKPT_TOOL_TENSOR_BFLOAT)
    {
      x += 0x7fff + ((x >> 16) & 1);
      return float_from_bits (x & 0xffff0000u);
    }
  else
    {
      guint32 sign = (x >> 16) & 0x8000;
      gint32 exponent = (gint32) ((x >> 23) & 0xff) - 127 + 15;
      guint32 mantissa = x & 0x7fffff, half, rest, halfway;
      guint shift;

      if (((x >> 23) & 0xff) == 0xff)
        return value;
      if (exponent >= 0x1f)
        return half_from_bits (sign | 0x7c00);
      if (exponent <= 0)
        {
          /* A subnormal half. */
          if (exponent < -10)
            return half_from_bits (sign);
          mantissa |= 0x800000;
          shift = 14 - exponent;
          half = mantissa >> shift;
        }
      else
        {
          shift = 13;
          half = ((guint32) exponent << 10) | (mantissa >> shift);
        }
      rest = mantissa & ((1u << shift) - 1);
      halfway = 1u << (shift - 1);
      /* A carry moves into the exponent, up to infinity: as it should. */
      if (rest > halfway || (rest == halfway && (half & 1)))
        half++;
      return half_from_bits (sign | half);
    }
}

/* The shortest text that reads back as @value at the element's precision:
 * 0.1 for a float32 0.1, not 0.10000000149011612. */
static char *
format_real (double value,
             char   kind,
             gsize  size)
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
      if (narrow (g_ascii_strtod (buffer, NULL), kind, size) == value)
        break;
    }
  return g_strdup (buffer);
}

char *
ckpt_tool_tensor_format_part (const CkptToolTensor *tensor,
                              gsize                 index,
                              guint                 part)
{
  gsize size = tensor->kind == CKPT_TOOL_TENSOR_COMPLEX ? tensor->itemsize / 2 : tensor->itemsize;

  switch (tensor->kind)
    {
    case CKPT_TOOL_TENSOR_BOOL:
      return g_strdup (ckpt_tool_tensor_bits (tensor, index, 0) != 0 ? "true" : "false");
    case CKPT_TOOL_TENSOR_INT:
      return g_strdup_printf ("%" G_GINT64_FORMAT, ckpt_tool_tensor_int (tensor, index));
    case CKPT_TOOL_TENSOR_UINT:
      return g_strdup_printf ("%" G_GUINT64_FORMAT, ckpt_tool_tensor_bits (tensor, index, 0));
    default:
      return format_real (ckpt_tool_tensor_real (tensor, index, part),
                          tensor->kind == CKPT_TOOL_TENSOR_COMPLEX ? CKPT_TOOL_TENSOR_FLOAT : tensor->kind,
                          size);
    }
}

char *
ckpt_tool_tensor_format_element (const CkptToolTensor *tensor,
                                 gsize                 index)
{
  g_autofree char *re = NULL;
  g_autofree char *im = NULL;

  re = ckpt_tool_tensor_format_part (tensor, index, 0);
  if (tensor->kind != CKPT_TOOL_TENSOR_COMPLEX)
    return g_steal_pointer (&re);
  /* As numpy writes complex numbers: 1+2j, 1-2j, nan+infj. */
  im = ckpt_tool_tensor_format_part (tensor, index, 1);
  return g_strdup_printf ("%s%s%sj", re, im[0] == '-' ? "" : "+", im);
}

char *
ckpt_tool_tensor_describe (const CkptToolTensor *tensor)
{
  GString *out = g_string_new ("tensor ");
  gsize i;

  g_string_append_printf (out, "%s [", tensor->dtype);
  for (i = 0; i < tensor->rank; i++)
    g_string_append_printf (out, "%s%" G_GUINT64_FORMAT, i > 0 ? ", " : "", tensor->shape[i]);
  g_string_append_c (out, ']');
  return g_string_free (out, FALSE);
}
