/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer target over the checkpoint decoder and the load path.
 *
 * The first input byte picks a mode, the rest is a checkpoint file:
 *   0  decode as is (the checksum rejects almost everything: this guards
 *      the checks that come before it)
 *   1  decode with CKPT_FORMAT_DECODE_NO_VERIFY: the structural checks,
 *      metadata and payload parsing, normal form, byte swapping
 *   2  reseal: recompute the checksum, then decode with verification, as a
 *      hostile writer with a correct checksum would
 *   3  reseal, write the file as a checkpoint and load it through
 *      CkptManager (load_latest with fallback, signals, mapping)
 *   4  differential: the next byte picks a type, the rest is serialised
 *      data; ckpt-glib's normal-form check must agree with GLib's
 * A verified value must be in normal form; an unverified one (mode 1) need
 * not be, but must be safe to read in full.
 *
 * Build: see docs/reliability.md ("Fuzzing").
 */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <xxhash.h>

#include <ckpt-glib/ckpt-glib.h>
#include "ckpt-format-private.h"
#include "ckpt-normal-private.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
reseal (guint8 *file,
        gsize   size)
{
  guint32 header_size;
  XXH3_state_t *state;
  guint64 digest;

  if (size < CKPT_FORMAT_FIXED_HEADER_SIZE)
    return;
  memcpy (&header_size, file + CKPT_FORMAT_OFFSET_HEADER_SIZE, 4);
  header_size = GUINT32_FROM_LE (header_size);
  if (header_size < CKPT_FORMAT_FIXED_HEADER_SIZE || header_size > size)
    return;

  state = XXH3_createState ();
  XXH3_64bits_reset_withSeed (state, CKPT_FORMAT_CHECKSUM_SEED);
  XXH3_64bits_update (state, file, CKPT_FORMAT_OFFSET_CHECKSUM);
  XXH3_64bits_update (state, file + CKPT_FORMAT_OFFSET_CHECKSUM + 8,
                      size - CKPT_FORMAT_OFFSET_CHECKSUM - 8);
  digest = GUINT64_TO_LE (XXH3_64bits_digest (state));
  XXH3_freeState (state);
  memcpy (file + CKPT_FORMAT_OFFSET_CHECKSUM, &digest, 8);
}

static void
check_value (GVariant *value)
{
  g_autoptr(GVariant) normal = NULL;

  if (value == NULL)
    return;
  g_assert_true (g_variant_is_normal_form (value));
  normal = g_variant_get_normal_form (value);
  g_assert_true (g_variant_equal (normal, value));
}

static void
load_through_manager (GBytes *file)
{
  static char *dir = NULL;
  g_autoptr(CkptManager) manager = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  gint64 round_num;

  if (dir == NULL)
    dir = g_dir_make_tmp ("ckpt-fuzz-XXXXXX", NULL);
  g_assert_nonnull (dir);

  path = g_build_filename (dir, "ckpt_0", NULL);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (file, NULL),
                                      (gssize) g_bytes_get_size (file), NULL));

  manager = ckpt_manager_new_for_path (dir, NULL, 0, FALSE, &error);
  g_assert_no_error (error);
  value = ckpt_manager_load_latest (manager, NULL, &round_num, NULL, &error);
  if (value != NULL)
    {
      g_assert_cmpint (round_num, ==, 0);
      check_value (value);
    }
  else
    g_assert_nonnull (error);

  g_unlink (path);
}

static const char *differential_types[] = {
  "b", "y", "s", "o", "g", "v", "ay", "ab", "ad", "as", "av", "a{sv}", "a{sd}",
  "(ysd)", "(yd)", "a(yd)", "a(ii)", "()", "a()", "mi", "ms", "mas", "amb", "aay",
  "(satay)", "a{s(satay)}", "(s(ss)a(yv))", "{sv}", "aa{sv}", "(uuuuu)",
};

static void
differential (const guint8 *data,
              gsize         size)
{
  const GVariantType *type;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GVariant) value = NULL;
  gboolean ours;

  if (size < 1)
    return;
  type = G_VARIANT_TYPE (differential_types[data[0] % G_N_ELEMENTS (differential_types)]);
  bytes = g_bytes_new (data + 1, size - 1);
  ours = ckpt_normal_form_check (type, size > 1 ? g_bytes_get_data (bytes, NULL) : NULL, size - 1);
  value = g_variant_ref_sink (g_variant_new_from_bytes (type, bytes, FALSE));
  g_assert_cmpint (ours, ==, g_variant_is_normal_form (value));
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(GBytes) file = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *copy;
  guint mode;

  if (size < 1)
    return 0;
  mode = data[0] % 5;
  data++;
  size--;

  if (mode == 4)
    {
      differential (data, size);
      return 0;
    }

  /* An aligned, owned copy, as a mapping would be. */
  copy = g_malloc (MAX (size, 1));
  memcpy (copy, data, size);
  if (mode >= 2)
    reseal (copy, size);
  file = g_bytes_new_take (copy, size);

  switch (mode)
    {
    case 0:
    case 2:
      value = ckpt_format_decode (file, -1, NULL, CKPT_FORMAT_DECODE_NONE, NULL, &error);
      break;
    case 1:
      value = ckpt_format_decode (file, -1, NULL, CKPT_FORMAT_DECODE_NO_VERIFY, NULL, &error);
      if (value != NULL)
        {
          g_autofree char *text = g_variant_print (value, TRUE);
          g_assert_nonnull (text);
          return 0;
        }
      break;
    default:
      load_through_manager (file);
      return 0;
    }

  if (value == NULL)
    {
      g_assert_nonnull (error);
      g_assert_true (error->domain == CKPT_ERROR);
    }
  check_value (value);
  return 0;
}
