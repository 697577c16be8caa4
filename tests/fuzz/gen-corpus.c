/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Writes the seed corpus of fuzz-load: valid checkpoints of a few types,
 * each prefixed with each mode byte. Run: gen-corpus DIR
 */
#include <glib/gstdio.h>
#include <ckpt-glib/ckpt-glib.h>
#include "ckpt-format-private.h"

int
main (int   argc,
      char *argv[])
{
  const char *texts[] = {
    "int32 7",
    "(1, 'two', [3.0, 4.5])",
    "{'weights': <[0.5, -1.0]>, 'round': <int64 3>, 'opt': <{'lr': <0.01>}>}",
    "[true, false]",
    "@ad []",
    "()",
    "(@mas ['x', 'y'], [byte 1, 2, 3])",
    "[(1, 'a'), (2, 'bb')]",
  };
  guint i, mode;

  g_return_val_if_fail (argc == 2, 2);
  g_mkdir_with_parents (argv[1], 0755);

  for (i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(GVariant) value = g_variant_parse (NULL, texts[i], NULL, NULL, NULL);
      g_autoptr(GBytes) file = NULL;

      g_assert_nonnull (value);
      file = ckpt_format_encode_bytes (value, i, 1700000000000000, (i % 3 == 2)
                                       ? CKPT_FORMAT_ENCODE_BYTESWAP : CKPT_FORMAT_ENCODE_NONE);
      for (mode = 0; mode < 5; mode++)
        {
          g_autofree char *path = g_strdup_printf ("%s/seed-%u-mode%u", argv[1], i, mode);
          g_autoptr(GByteArray) input = g_byte_array_new ();
          guint8 m = (guint8) mode;

          g_byte_array_append (input, &m, 1);
          g_byte_array_append (input, g_bytes_get_data (file, NULL), g_bytes_get_size (file));
          g_assert_true (g_file_set_contents (path, (const char *) input->data, input->len, NULL));
        }
    }
  /* Mode 4 (differential): a type index, then a value's serialised bytes.
   * The indices are those of differential_types in fuzz-load.c. */
  {
    const struct { guint8 type_index; const char *text; } serialised[] = {
      { 6, "[byte 1, 2, 3]" }, { 9, "['a', 'bb']" }, { 11, "{'a': <1>, 'b': <'x'>}" },
      { 15, "[(byte 1, 2.0)]" }, { 20, "@ms 'x'" }, { 24, "('<f4', @at [1], [byte 0, 0, 128, 63])" },
      { 26, "('s', ('a', 'b'), [(byte 1, <2>)])" }, { 5, "<<(1, 'x')>>" },
    };

    for (i = 0; i < G_N_ELEMENTS (serialised); i++)
      {
        g_autoptr(GVariant) value = g_variant_parse (NULL, serialised[i].text, NULL, NULL, NULL);
        g_autofree char *path = g_strdup_printf ("%s/differential-%u", argv[1], i);
        g_autoptr(GByteArray) input = g_byte_array_new ();
        guint8 head[2] = { 4, serialised[i].type_index };
        gsize size;
        g_autofree guint8 *data = NULL;

        g_assert_nonnull (value);
        size = g_variant_get_size (value);
        data = g_malloc (MAX (size, 1));
        g_variant_store (value, data);
        g_byte_array_append (input, head, 2);
        g_byte_array_append (input, data, size);
        g_assert_true (g_file_set_contents (path, (const char *) input->data, input->len, NULL));
      }
  }
  return 0;
}
