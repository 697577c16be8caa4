/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Writes tests/fixtures/byteswapped-v1.ckpt: a checkpoint whose metadata and
 * payload are in the byte order opposite to the host's (generate it on a
 * little-endian machine so that the committed file is big-endian).
 *
 *   gen-fixture OUTPUT
 *
 * The state must stay in sync with FIXTURE_VALUE in tests/test-format.c.
 */
#include <stdio.h>

#include <ckpt-glib/ckpt-glib.h>
#include "ckpt-format-private.h"

#define FIXTURE_TYPE  "(sxada{sv}ab)"
#define FIXTURE_VALUE "('byteswapped fixture', int64 -1234567890123, " \
                      "[1.5, -2.25, 1e+300], " \
                      "{'answer': <int32 42>, 'name': <'ckpt'>, " \
                      "'pair': <(uint16 513, @ax [1, -2])>}, " \
                      "[true, false, true])"
#define FIXTURE_ROUND 7
#define FIXTURE_CTIME G_GINT64_CONSTANT (1700000000000000)

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GBytes) file = NULL;
  gsize len;
  const char *data;

  if (argc != 2)
    {
      fprintf (stderr, "usage: %s OUTPUT\n", argv[0]);
      return 2;
    }

  if (G_BYTE_ORDER != G_LITTLE_ENDIAN)
    fprintf (stderr, "warning: on this big-endian host the fixture is little-endian\n");

  state = g_variant_parse (G_VARIANT_TYPE (FIXTURE_TYPE), FIXTURE_VALUE,
                           NULL, NULL, &error);
  if (state == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  g_variant_ref_sink (state);

  file = ckpt_format_encode_bytes (state, FIXTURE_ROUND, FIXTURE_CTIME,
                                   CKPT_FORMAT_ENCODE_BYTESWAP);
  data = g_bytes_get_data (file, &len);
  if (!g_file_set_contents (argv[1], data, len, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }

  return 0;
}
