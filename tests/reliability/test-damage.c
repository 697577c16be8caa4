/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Damaged and hostile checkpoint files: issue 5, points 4 and 5.
 *
 * Damage: checkpoints of three types (ad, a nested a{sv}, (sa{sv}ad)) with
 * payloads of about 100 bytes, 64 KiB and 4 MiB are truncated at every
 * length (small files) or at a dense sample of lengths, have every bit
 * flipped (small files) or a dense seeded sample of bits, get zeroed 4 KiB
 * blocks at every 4 KiB offset, are swapped with another round's file,
 * emptied, extended, or get a header declaring huge sizes. Every one must be
 * rejected with CKPT_ERROR_CORRUPT by the decoder, and, through the manager,
 * load_latest must fall back to the intact previous round (every damaged
 * file of the small samples, and a sample of the others, goes through the
 * manager). Huge declared sizes are decoded under a lowered address-space
 * limit, so that a large allocation would abort.
 *
 * Hostile payloads: files a hostile writer made, with a correct checksum
 * (resealed as tests/fuzz/fuzz-load.c does): not in normal form, nested
 * deeper than GVariant allows, a wrong or invalid type string, metadata that
 * is not (sa{sv}), bad header fields. Each is rejected with the code that is
 * the truth, and loading it with verification off does not crash either.
 *
 * Environment: CKPT_TEST_SEED (printed) seeds the samples; CKPT_DAMAGE_FLIPS
 * (default 20000) is the number of bits flipped in each large file;
 * CKPT_DAMAGE_STRIDE (default 1) makes every systematic loop (each length and
 * bit of the small files, each header bit, truncation sample and 4 KiB block
 * of the large ones) take every Nth case only, for slow runs (valgrind).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <ckpt-glib/ckpt-glib.h>

#include "ckpt-format-private.h"
#include "ckpt-manager-private.h"
#include "ckpt-test-util.h"

#define SMALL_LIMIT 4096          /* files up to this size get every bit and length */
#define DEFAULT_FLIPS 20000
#define TRUNCATION_SAMPLE 2000
#define MANAGER_SAMPLE 50         /* damaged large files loaded through the manager */
#define SUBPROCESS_DIR_ENV "CKPT_TEST_DAMAGE_DIR"

#if defined (__SANITIZE_ADDRESS__)
# define RUNNING_UNDER_ASAN 1
#elif defined (__has_feature)
# if __has_feature (address_sanitizer)
#  define RUNNING_UNDER_ASAN 1
# endif
#endif
#ifndef RUNNING_UNDER_ASAN
# define RUNNING_UNDER_ASAN 0
#endif

/* ------------------------------------------------------------------------ */
/* Helpers */

/* ------------------------------------------------------------------------ */
/* Samples */

typedef enum
{
  KIND_AD,
  KIND_DICT,
  KIND_TUPLE,
} Kind;

static const char * const kind_types[] = { "ad", "a{sv}", "(sa{sv}ad)" };
static const char * const kind_names[] = { "ad", "nested a{sv}", "(sa{sv}ad)" };

static GVariant *
make_ad (gint64 round_num,
         gsize  n)
{
  g_autofree double *values = g_new (double, MAX (n, 1));
  gsize i;

  for (i = 0; i < n; i++)
    values[i] = (double) round_num + 1.5 + (double) i;
  return g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, values, n, sizeof (double));
}

/* A nested dictionary of about @size bytes. */
static GVariant *
make_dict (gint64 round_num,
           gsize  size)
{
  GVariantBuilder builder;
  gsize i, n = MAX (size / 96, 1);

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  for (i = 0; i < n; i++)
    {
      g_autofree char *key = g_strdup_printf ("key-%" G_GSIZE_FORMAT, i);
      GVariantBuilder inner;
      static const guint8 blob[] = { 1, 2, 3, 4, 5, 6, 7, 8 };

      g_variant_builder_init (&inner, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&inner, "{sv}", "d", g_variant_new_double ((double) i + 0.5));
      g_variant_builder_add (&inner, "{sv}", "b",
                             g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, blob, 8, 1));
      g_variant_builder_add (&builder, "{sv}", key,
                             g_variant_new ("(xs@a{sv})", round_num + (gint64) i, "value",
                                            g_variant_builder_end (&inner)));
    }
  return g_variant_builder_end (&builder);
}

static GVariant *
make_state (Kind   kind,
            gint64 round_num,
            gsize  size)
{
  switch (kind)
    {
    case KIND_AD:
      return make_ad (round_num, MAX (size / 8, 1));
    case KIND_DICT:
      return make_dict (round_num, size);
    case KIND_TUPLE:
    default:
      return g_variant_new ("(s@a{sv}@ad)", "model", make_dict (round_num, MIN (size / 16, 4096)),
                            make_ad (round_num, MAX (size / 8, 1)));
    }
}

typedef struct
{
  Kind    kind;
  gsize   payload_size;
  GBytes *file1;    /* round 1, intact */
  GBytes *file2;    /* round 2: the one damaged */
  GBytes *file3;    /* round 3, for the swap */
} Sample;

static void
sample_init (Sample *s,
             Kind    kind,
             gsize   payload_size)
{
  s->kind = kind;
  s->payload_size = payload_size;
  s->file1 = ckpt_format_encode_bytes (make_state (kind, 1, payload_size), 1, 1000, CKPT_FORMAT_ENCODE_NONE);
  s->file2 = ckpt_format_encode_bytes (make_state (kind, 2, payload_size), 2, 2000, CKPT_FORMAT_ENCODE_NONE);
  s->file3 = ckpt_format_encode_bytes (make_state (kind, 3, payload_size), 3, 3000, CKPT_FORMAT_ENCODE_NONE);
}

static void
sample_clear (Sample *s)
{
  g_clear_pointer (&s->file1, g_bytes_unref);
  g_clear_pointer (&s->file2, g_bytes_unref);
  g_clear_pointer (&s->file3, g_bytes_unref);
}

/* ------------------------------------------------------------------------ */
/* Checking one damaged file */

typedef struct
{
  char        *root;
  char        *path1;
  char        *path2;
  CkptManager *mgr;
  guint        corrupt_signals;
  guint        decoded;      /* files rejected by the decoder */
  guint        loaded;       /* … and through the manager */
} Checker;

static void
on_corrupt (CkptManager *mgr,
            gint64       round_num,
            GFile       *file,
            GError      *error,
            gpointer     user_data)
{
  Checker *c = user_data;

  g_assert_cmpint (round_num, ==, 2);
  g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
  c->corrupt_signals++;
}

static void
checker_init (Checker    *c,
              const char *tmp)
{
  g_autoptr(GError) error = NULL;

  memset (c, 0, sizeof *c);
  c->root = g_build_filename (tmp, "root", NULL);
  g_assert_cmpint (g_mkdir_with_parents (c->root, 0755), ==, 0);
  c->path1 = g_build_filename (c->root, "ckpt_1", NULL);
  c->path2 = g_build_filename (c->root, "ckpt_2", NULL);
  c->mgr = ckpt_manager_new_for_path (c->root, NULL, 0, TRUE, &error);
  g_assert_no_error (error);
  g_signal_connect (c->mgr, "corrupt", G_CALLBACK (on_corrupt), c);
}

static void
checker_clear (Checker *c)
{
  g_clear_object (&c->mgr);
  g_clear_pointer (&c->root, g_free);
  g_clear_pointer (&c->path1, g_free);
  g_clear_pointer (&c->path2, g_free);
}

static void
checker_set_sample (Checker *c,
                    Sample  *s)
{
  ckpt_test_write_file (c->path1, g_bytes_get_data (s->file1, NULL), g_bytes_get_size (s->file1));
}

/* @data (@len bytes) as round 2 of @s must be rejected as CORRUPT by the
 * decoder; with @through_manager also through the manager, which falls
 * back to round 1. */
static void
check_damaged (Checker      *c,
               Sample       *s,
               const guint8 *data,
               gsize         len,
               gboolean      through_manager,
               const char   *what)
{
  g_autoptr(GBytes) bytes = g_bytes_new_static (data, len);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;

  value = ckpt_format_decode (bytes, 2, G_VARIANT_TYPE (kind_types[s->kind]),
                              CKPT_FORMAT_DECODE_NONE, NULL, &error);
  if (value != NULL || !g_error_matches (error, CKPT_ERROR, CKPT_ERROR_CORRUPT))
    g_error ("%s of a %s checkpoint (%" G_GSIZE_FORMAT " bytes) was not rejected as corrupt: %s",
             what, kind_names[s->kind], g_bytes_get_size (s->file2),
             error != NULL ? error->message : "accepted");
  c->decoded++;

  if (through_manager)
    {
      guint signals_before = c->corrupt_signals;
      gint64 round_num = -2;

      g_clear_error (&error);
      ckpt_test_write_file (c->path2, data, len);

      value = ckpt_manager_load (c->mgr, NULL, 2, NULL, &error);
      g_assert_error (error, CKPT_ERROR, CKPT_ERROR_CORRUPT);
      g_assert_null (value);
      g_clear_error (&error);

      value = ckpt_manager_load_latest (c->mgr, G_VARIANT_TYPE (kind_types[s->kind]),
                                        &round_num, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (round_num, ==, 1);
      g_assert_nonnull (value);
      g_assert_cmpuint (c->corrupt_signals, ==, signals_before + 2);
      c->loaded++;
    }
}

/* ------------------------------------------------------------------------ */
/* Point 4: damage */

typedef struct
{
  guint truncations;
  guint flips;
  guint zeroed;
  guint other;
  guint through_manager;
} DamageTotals;

static void
damage_sample (Checker      *c,
               Sample       *s,
               GRand        *rand,
               DamageTotals *totals)
{
  gsize len = g_bytes_get_size (s->file2);
  g_autofree guint8 *buf = g_memdup2 (g_bytes_get_data (s->file2, NULL), len);
  gboolean small = len <= SMALL_LIMIT;
  guint32 header_size = ckpt_test_get_le32 (buf + CKPT_FORMAT_OFFSET_HEADER_SIZE);
  guint decoded_before = c->decoded, loaded_before = c->loaded;
  gint64 t0 = g_get_monotonic_time ();
  guint stride = ckpt_test_env_count ("CKPT_DAMAGE_STRIDE", 1);
  gsize i;
  guint k;

  checker_set_sample (c, s);

  /* The intact file loads (the damage below is the only difference). */
  {
    g_autoptr(GBytes) bytes = g_bytes_new_static (buf, len);
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) value = ckpt_format_decode (bytes, 2, G_VARIANT_TYPE (kind_types[s->kind]),
                                                    CKPT_FORMAT_DECODE_NONE, NULL, &error);

    g_assert_no_error (error);
    g_assert_nonnull (value);
  }

  /* Truncations: every length, or the first and last 256 and a sample. */
  if (small)
    {
      gsize done = 0;

      for (i = 0; i < len; i += stride, done++)
        check_damaged (c, s, buf, i, TRUE, "A truncation");
      totals->truncations += done;
    }
  else
    {
      for (k = 0; k < TRUNCATION_SAMPLE; k += stride)
        {
          gsize cut;

          if (k < 256)
            cut = k;
          else if (k < 512)
            cut = len - 1 - (k - 256);
          else
            cut = (gsize) g_rand_double_range (rand, 0, (double) len);
          check_damaged (c, s, buf, cut, (k / stride) % (TRUNCATION_SAMPLE / MANAGER_SAMPLE) == 0,
                         "A truncation");
          totals->truncations++;
        }
    }

  /* Extended by one byte, by a page. */
  {
    g_autofree guint8 *longer = g_malloc0 (len + 4096);

    memcpy (longer, buf, len);
    check_damaged (c, s, longer, len + 1, TRUE, "An extension");
    check_damaged (c, s, longer, len + 4096, TRUE, "An extension");
    totals->other += 2;
  }

  /* Bit flips: every bit, or every bit of the header and a sample. */
  if (small)
    {
      gsize done = 0;

      for (i = 0; i < len * 8; i += stride, done++)
        {
          buf[i / 8] ^= (guint8) (1u << (i % 8));
          check_damaged (c, s, buf, len, TRUE, "A bit flip");
          buf[i / 8] ^= (guint8) (1u << (i % 8));
        }
      totals->flips += done;
    }
  else
    {
      guint n = ckpt_test_env_count ("CKPT_DAMAGE_FLIPS", DEFAULT_FLIPS);

      for (i = 0; i < (gsize) header_size * 8; i += stride)
        {
          buf[i / 8] ^= (guint8) (1u << (i % 8));
          check_damaged (c, s, buf, len, (i / stride) % 97 == 0, "A bit flip");
          buf[i / 8] ^= (guint8) (1u << (i % 8));
          totals->flips++;
        }
      for (k = 0; k < n; k++)
        {
          gsize bit = (gsize) g_rand_double_range (rand, 0, (double) len * 8);

          buf[bit / 8] ^= (guint8) (1u << (bit % 8));
          check_damaged (c, s, buf, len, k % (n / MANAGER_SAMPLE) == 0, "A bit flip");
          buf[bit / 8] ^= (guint8) (1u << (bit % 8));
        }
      totals->flips += n;
    }

  /* Zeroed 4 KiB blocks at every 4 KiB offset (the last one partial). */
  {
    guint8 saved[4096];
    static const guint8 zeros[4096] = { 0, };
    gsize n_blocks = (len + 4095) / 4096;

    for (i = 0; i < n_blocks; i += stride)
      {
        gsize off = i * 4096, n = MIN (4096, len - off);

        if (memcmp (buf + off, zeros, n) == 0)
          continue;
        memcpy (saved, buf + off, n);
        memset (buf + off, 0, n);
        check_damaged (c, s, buf, len, small || (i / stride) % MAX (n_blocks / MANAGER_SAMPLE, 1) == 0,
                       "A zeroed block");
        memcpy (buf + off, saved, n);
        totals->zeroed++;
      }
  }

  /* Another round's file under this round's name; an empty file. */
  check_damaged (c, s, g_bytes_get_data (s->file3, NULL), g_bytes_get_size (s->file3), TRUE,
                 "Round 3's file as round 2");
  check_damaged (c, s, g_bytes_get_data (s->file1, NULL), g_bytes_get_size (s->file1), TRUE,
                 "Round 1's file as round 2");
  check_damaged (c, s, buf, 0, TRUE, "An empty file");
  totals->other += 3;

  totals->through_manager += c->loaded - loaded_before;
  g_test_message ("%s, %" G_GSIZE_FORMAT " bytes: %u damaged files rejected (%u through the "
                  "manager) in %.2f s",
                  kind_names[s->kind], len, c->decoded - decoded_before, c->loaded - loaded_before,
                  (g_get_monotonic_time () - t0) / 1e6);
}

static void
test_damage (void)
{
  static const gsize sizes[] = { 100, 64 * 1024, 4 * 1024 * 1024 };
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("test-damage-XXXXXX", &error);
  g_autoptr(GRand) rand = NULL;
  guint32 seed = ckpt_test_seed ();
  DamageTotals totals = { 0, };
  Checker c;
  gsize k, z;

  g_assert_no_error (error);
  g_test_message ("seed %u (CKPT_TEST_SEED=%u reproduces the samples)", seed, seed);
  rand = g_rand_new_with_seed (seed);
  checker_init (&c, tmp);

  for (k = 0; k < G_N_ELEMENTS (kind_types); k++)
    for (z = 0; z < G_N_ELEMENTS (sizes); z++)
      {
        Sample s;

        sample_init (&s, (Kind) k, sizes[z]);
        damage_sample (&c, &s, rand, &totals);
        sample_clear (&s);
      }

  g_test_message ("damage: %u rejected as CORRUPT: %u truncations, %u bit flips, "
                  "%u zeroed 4 KiB blocks, %u swapped/empty/extended; %u of them loaded "
                  "through the manager, which fell back to the previous round each time",
                  c.decoded, totals.truncations, totals.flips, totals.zeroed, totals.other,
                  totals.through_manager);

  checker_clear (&c);
  ckpt_test_rm_rf (tmp);
}

/* Headers declaring huge sizes, resealed or not, decoded with the address
 * space limited to what the process uses plus 256 MiB: an allocation or a
 * read driven by the declared size would abort or crash. */
static void
huge_sizes_child (void)
{
  const char *dir = g_getenv (SUBPROCESS_DIR_ENV);
  g_autoptr(GBytes) good = ckpt_format_encode_bytes (make_state (KIND_TUPLE, 2, 100), 2, 0,
                                                     CKPT_FORMAT_ENCODE_NONE);
  g_autoptr(GBytes) good1 = ckpt_format_encode_bytes (make_state (KIND_TUPLE, 1, 100), 1, 0,
                                                      CKPT_FORMAT_ENCODE_NONE);
  gsize len = g_bytes_get_size (good);
  g_autofree char *status = NULL;
  struct rlimit limit;
  const char *vm;
  guint64 vm_kib;
  Checker c;
  Sample s = { KIND_TUPLE, 100, good1, good, NULL };
  guint i;
  const struct
  {
    guint  offset;
    guint  width;
    guint64 value;
  } fields[] = {
    { CKPT_FORMAT_OFFSET_HEADER_SIZE, 4, 0xfffffff8 },
    { CKPT_FORMAT_OFFSET_HEADER_SIZE, 4, 0x80000000 },
    { CKPT_FORMAT_OFFSET_PAYLOAD_SIZE, 8, G_MAXUINT64 },
    { CKPT_FORMAT_OFFSET_PAYLOAD_SIZE, 8, G_MAXUINT64 - 63 },
    { CKPT_FORMAT_OFFSET_PAYLOAD_SIZE, 8, G_GUINT64_CONSTANT (1) << 40 },
    { CKPT_FORMAT_OFFSET_META_SIZE, 4, 0xffffffff },
    { CKPT_FORMAT_OFFSET_META_SIZE, 4, 0x7ffffff0 },
  };

  g_assert_nonnull (dir);

  /* Lower the limit. AddressSanitizer reserves terabytes of address space
   * for its shadow memory, so there the limit cannot be used; its allocator
   * reports any allocation of such a size as an error anyway. */
  if (!RUNNING_UNDER_ASAN)
    {
      gpointer big;

      g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
      vm = strstr (status, "VmSize:");
      g_assert_nonnull (vm);
      vm_kib = g_ascii_strtoull (vm + strlen ("VmSize:"), NULL, 10);
      limit.rlim_cur = limit.rlim_max = (rlim_t) (vm_kib * 1024 + 256 * 1024 * 1024);
      g_assert_cmpint (setrlimit (RLIMIT_AS, &limit), ==, 0);

      /* The limit works. */
      big = g_try_malloc (512 * 1024 * 1024);
      g_assert_null (big);
    }

  checker_init (&c, dir);
  checker_set_sample (&c, &s);
  for (i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_autofree guint8 *buf = g_memdup2 (g_bytes_get_data (good, NULL), len);

      if (fields[i].width == 4)
        ckpt_test_put_le32 (buf + fields[i].offset, (guint32) fields[i].value);
      else
        ckpt_test_put_le64 (buf + fields[i].offset, fields[i].value);
      check_damaged (&c, &s, buf, len, TRUE, "A huge declared size");
      ckpt_test_reseal (buf, len);
      check_damaged (&c, &s, buf, len, TRUE, "A huge declared size (resealed)");
    }
  checker_clear (&c);
}

static void
test_huge_sizes (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = NULL;

  if (g_test_subprocess ())
    {
      huge_sizes_child ();
      return;
    }

  tmp = g_dir_make_tmp ("test-damage-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv (SUBPROCESS_DIR_ENV, tmp, TRUE);
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv (SUBPROCESS_DIR_ENV);
  ckpt_test_rm_rf (tmp);
  g_test_trap_assert_passed ();
  g_test_message ("huge declared sizes: 14 files rejected%s",
                  RUNNING_UNDER_ASAN ? " (AddressSanitizer: no RLIMIT_AS)"
                                     : " under RLIMIT_AS = VmSize + 256 MiB");
}

/* ------------------------------------------------------------------------ */
/* Point 5: hostile payloads with a correct checksum */

/* A version 1 file: fixed header, metadata @meta (serialized as is), padded
 * to 8, then @payload; checksum resealed. */
static GBytes *
build_file (gint64        round_num,
            GBytes       *meta,
            const void   *payload,
            gsize         payload_size)
{
  gsize meta_size = g_bytes_get_size (meta);
  gsize header_size = (CKPT_FORMAT_FIXED_HEADER_SIZE + meta_size + 7) & ~(gsize) 7;
  gsize len = header_size + payload_size;
  guint8 *buf = g_malloc0 (MAX (len, 1));

  memcpy (buf, CKPT_FORMAT_MAGIC, CKPT_FORMAT_MAGIC_LEN);
  ckpt_test_put_le32 (buf + CKPT_FORMAT_OFFSET_VERSION, 1);
  ckpt_test_put_le32 (buf + CKPT_FORMAT_OFFSET_HEADER_SIZE, (guint32) header_size);
  ckpt_test_put_le64 (buf + CKPT_FORMAT_OFFSET_PAYLOAD_SIZE, payload_size);
  ckpt_test_put_le64 (buf + CKPT_FORMAT_OFFSET_ROUND, (guint64) round_num);
  ckpt_test_put_le64 (buf + CKPT_FORMAT_OFFSET_CTIME, 0);
  ckpt_test_put_le32 (buf + CKPT_FORMAT_OFFSET_META_SIZE, (guint32) meta_size);
  buf[CKPT_FORMAT_OFFSET_BYTE_ORDER] = G_BYTE_ORDER == G_LITTLE_ENDIAN ? 'l' : 'B';
  memcpy (buf + CKPT_FORMAT_FIXED_HEADER_SIZE, g_bytes_get_data (meta, NULL), meta_size);
  if (payload_size > 0)
    memcpy (buf + header_size, payload, payload_size);
  ckpt_test_reseal (buf, len);
  return g_bytes_new_take (buf, len);
}

/* The metadata a writer stores: (type string, {version}). */
static GBytes *
make_meta (const char *type_string)
{
  g_autoptr(GVariant) meta = g_variant_ref_sink (
    g_variant_new_parsed ("(%s, {'ckpt-glib-version': <'0.1.0'>})", type_string));

  return g_variant_get_data_as_bytes (meta);
}

static GBytes *
build_typed (gint64      round_num,
             const char *type_string,
             const void *payload,
             gsize       payload_size)
{
  g_autoptr(GBytes) meta = make_meta (type_string);

  return build_file (round_num, meta, payload, payload_size);
}

static GBytes *
variant_bytes (GVariant *value)
{
  g_autoptr(GVariant) sunk = g_variant_ref_sink (value);

  return g_variant_get_data_as_bytes (sunk);
}

/* A variant holding a variant … @depth deep, holding an int32. */
static GVariant *
make_deep_variant (guint depth)
{
  GVariant *v = g_variant_new_int32 (42);
  guint i;

  for (i = 0; i < depth; i++)
    v = g_variant_new_variant (v);
  return v;
}

static char *
repeat (const char *s,
        guint       n)
{
  GString *out = g_string_new (NULL);
  guint i;

  for (i = 0; i < n; i++)
    g_string_append (out, s);
  return g_string_free (out, FALSE);
}

typedef struct
{
  guint rejected;
  guint accepted;
} HostileTotals;

/* Decodes @file as round 2 (in memory and through the manager, verified and
 * not): it must fail with @code, or, with @code -1, either be a valid value
 * or fail with CORRUPT. @asked is the type asked for, or NULL. */
static void
check_hostile (Checker            *c,
               const char         *what,
               GBytes             *file,
               const GVariantType *asked,
               int                 code,
               HostileTotals      *totals)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  gint64 round_num = -2;
  guint signals_before = c->corrupt_signals;

  value = ckpt_format_decode (file, 2, asked, CKPT_FORMAT_DECODE_NONE, NULL, &error);
  if (code < 0 && value != NULL)
    {
      g_autoptr(GVariant) normal = g_variant_get_normal_form (value);

      g_assert_no_error (error);
      g_assert_true (g_variant_is_normal_form (value));
      g_assert_true (g_variant_equal (normal, value));
      totals->accepted++;
    }
  else
    {
      if (value != NULL || !g_error_matches (error, CKPT_ERROR, code < 0 ? CKPT_ERROR_CORRUPT : code))
        g_error ("%s: expected error %d, got %s", what, code,
                 error != NULL ? error->message : "a value");
      totals->rejected++;
    }
  g_test_message ("%s: %s", what, error != NULL ? error->message : "accepted (valid)");
  g_clear_pointer (&value, g_variant_unref);

  /* Through the manager: load_latest falls back past a CORRUPT one,
   * returns TYPE_MISMATCH and UNSUPPORTED as they are. */
  ckpt_test_write_file (c->path2, g_bytes_get_data (file, NULL), g_bytes_get_size (file));
  g_clear_error (&error);
  value = ckpt_manager_load_latest (c->mgr, asked, &round_num, NULL, &error);
  if (error == NULL && round_num == 2)
    g_assert_cmpint (code, <, 0);
  else if (error == NULL)
    {
      g_assert_cmpint (round_num, ==, 1);
      g_assert_cmpuint (c->corrupt_signals, ==, signals_before + 1);
    }
  else
    {
      g_assert_true (code == CKPT_ERROR_TYPE_MISMATCH || code == CKPT_ERROR_UNSUPPORTED);
      g_assert_error (error, CKPT_ERROR, code);
      g_assert_null (value);
    }
  g_clear_pointer (&value, g_variant_unref);
  g_clear_error (&error);

  /* Unverified loads may return wrong values, never crash: read every part
   * of whatever comes back. */
  ckpt_manager_set_verify (c->mgr, FALSE);
  value = ckpt_manager_load (c->mgr, asked, 2, NULL, &error);
  if (value != NULL)
    {
      g_autofree char *text = g_variant_print (value, TRUE);

      g_assert_nonnull (text);
    }
  else
    g_assert_nonnull (error);
  ckpt_manager_set_verify (c->mgr, TRUE);
}

static void
test_hostile (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("test-damage-XXXXXX", &error);
  g_autofree char *deep_a = NULL;
  g_autofree char *deep_tuple = NULL;
  g_autofree char *limit_a = NULL;
  HostileTotals totals = { 0, };
  Checker c;
  gsize i;

  g_assert_no_error (error);
  checker_init (&c, tmp);
  {
    g_autoptr(GBytes) good1 = ckpt_format_encode_bytes (g_variant_new ("(xad)", 1, NULL), 1, 0,
                                                        CKPT_FORMAT_ENCODE_NONE);

    ckpt_test_write_file (c.path1, g_bytes_get_data (good1, NULL), g_bytes_get_size (good1));
  }

  /* Not in normal form. */
  {
    static const guint8 padded[16] = { 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 7, 0, 0, 0, 0, 0, 0, 0 };
    static const guint8 bad_offsets[] = { 'a', 0, 'b', 0, 9, 3 };   /* as: offsets past the end */
    static const guint8 boolean2[] = { 2 };
    static const guint8 maybe_bad[] = { 1, 2, 3 };                  /* mi of 3 bytes */
    g_autoptr(GBytes) f1 = build_typed (2, "s", "abc", 3);
    g_autoptr(GBytes) f2 = build_typed (2, "b", boolean2, 1);
    g_autoptr(GBytes) f3 = build_typed (2, "(yx)", padded, sizeof padded);
    g_autoptr(GBytes) f4 = build_typed (2, "as", bad_offsets, sizeof bad_offsets);
    g_autoptr(GBytes) f5 = build_typed (2, "ai", "1234567", 7);
    g_autoptr(GBytes) f6 = build_typed (2, "mi", maybe_bad, sizeof maybe_bad);
    g_autoptr(GBytes) f7 = build_typed (2, "s", "a\0b", 4);   /* embedded nul */
    g_autoptr(GBytes) f8 = build_typed (2, "ad", "", 0);      /* empty: valid */

    check_hostile (&c, "string without its nul", f1, NULL, CKPT_ERROR_CORRUPT, &totals);
    check_hostile (&c, "boolean 2", f2, NULL, CKPT_ERROR_CORRUPT, &totals);
    check_hostile (&c, "non-zero padding", f3, NULL, CKPT_ERROR_CORRUPT, &totals);
    check_hostile (&c, "framing offsets out of range", f4, NULL, CKPT_ERROR_CORRUPT, &totals);
    check_hostile (&c, "array of int32 of 7 bytes", f5, NULL, CKPT_ERROR_CORRUPT, &totals);
    check_hostile (&c, "maybe of the wrong size", f6, NULL, CKPT_ERROR_CORRUPT, &totals);
    check_hostile (&c, "string with an embedded nul", f7, NULL, CKPT_ERROR_CORRUPT, &totals);
    check_hostile (&c, "empty array", f8, NULL, -1, &totals);
  }

  /* Nested deeper than GVariant allows (128). */
  {
    g_autofree char *a200 = repeat ("a", 200);
    g_autofree char *open200 = repeat ("(", 200);
    g_autofree char *close200 = repeat (")", 200);
    g_autofree char *a127 = repeat ("a", 127);

    deep_a = g_strconcat (a200, "y", NULL);
    deep_tuple = g_strconcat (open200, "y", close200, NULL);
    limit_a = g_strconcat (a127, "y", NULL);
  }
  {
    g_autoptr(GBytes) v200 = variant_bytes (make_deep_variant (200));
    g_autoptr(GBytes) dict_bytes = variant_bytes (g_variant_new_parsed ("{'deep': %v}",
                                                                        make_deep_variant (200)));
    g_autoptr(GBytes) v100 = variant_bytes (make_deep_variant (100));
    g_autoptr(GBytes) f1 = build_typed (2, deep_a, "", 0);
    g_autoptr(GBytes) f2 = build_typed (2, deep_tuple, "\0", 1);
    g_autoptr(GBytes) f3 = build_typed (2, "v", g_bytes_get_data (v200, NULL), g_bytes_get_size (v200));
    g_autoptr(GBytes) f4 = build_typed (2, "a{sv}", g_bytes_get_data (dict_bytes, NULL),
                                       g_bytes_get_size (dict_bytes));
    g_autoptr(GBytes) f5 = build_typed (2, limit_a, "", 0);
    g_autoptr(GBytes) f6 = build_typed (2, "v", g_bytes_get_data (v100, NULL), g_bytes_get_size (v100));

    check_hostile (&c, "type string of 200 nested arrays", f1, NULL, CKPT_ERROR_CORRUPT, &totals);
    check_hostile (&c, "type string of 200 nested tuples", f2, NULL, CKPT_ERROR_CORRUPT, &totals);
    check_hostile (&c, "variant nested 200 deep", f3, NULL, CKPT_ERROR_CORRUPT, &totals);
    check_hostile (&c, "a{sv} holding a variant nested 200 deep", f4, NULL, CKPT_ERROR_CORRUPT, &totals);
    check_hostile (&c, "type string of 127 nested arrays (the limit)", f5, NULL, -1, &totals);
    check_hostile (&c, "variant nested 100 deep (within the limit)", f6, NULL, -1, &totals);
  }

  /* A wrong type string for the payload. */
  {
    g_autoptr(GBytes) dict = variant_bytes (make_dict (2, 500));
    g_autoptr(GBytes) ad = variant_bytes (make_ad (2, 3));
    g_autoptr(GBytes) f1 = build_typed (2, "(xad)", g_bytes_get_data (dict, NULL), g_bytes_get_size (dict));
    g_autoptr(GBytes) f2 = build_typed (2, "a{sv}", g_bytes_get_data (ad, NULL), g_bytes_get_size (ad));
    g_autoptr(GBytes) f3 = build_typed (2, "ad", "abcdefghijkl", 12);
    g_autoptr(GBytes) f4 = build_typed (2, "(ss)", g_bytes_get_data (ad, NULL), g_bytes_get_size (ad));

    /* Whatever the payload, what the file declares is (xad): asking for the
     * real type is a mismatch; asking for none, it is either a valid (xad)
     * or corrupt. */
    check_hostile (&c, "a{sv} payload declared (xad)", f1, G_VARIANT_TYPE ("a{sv}"),
                   CKPT_ERROR_TYPE_MISMATCH, &totals);
    check_hostile (&c, "a{sv} payload declared (xad), any type", f1, NULL, -1, &totals);
    check_hostile (&c, "ad payload declared a{sv}", f2, NULL, CKPT_ERROR_CORRUPT, &totals);
    check_hostile (&c, "12 bytes declared ad", f3, NULL, CKPT_ERROR_CORRUPT, &totals);
    check_hostile (&c, "ad payload declared (ss)", f4, NULL, CKPT_ERROR_CORRUPT, &totals);
  }

  /* Invalid type strings. */
  {
    static const char * const invalid[] = {
      "", "z", "(", ")", "a", "m", "{sv}x", "a{vs}", "{sv", "((i)", "ii", "*", "?", "r", "a?",
      "a{?v}", "(i", "a{sv}}", "\xff",
    };

    for (i = 0; i < G_N_ELEMENTS (invalid); i++)
      {
        g_autoptr(GBytes) meta = make_meta (g_utf8_validate (invalid[i], -1, NULL) ? invalid[i] : "s");
        g_autoptr(GBytes) file = NULL;
        g_autofree char *escaped = g_strescape (invalid[i], NULL);
        g_autofree char *what = g_strdup_printf ("type string \"%s\"", escaped);

        if (!g_utf8_validate (invalid[i], -1, NULL))
          {
            /* A string GVariant would not build: patch the bytes. */
            gsize meta_size = g_bytes_get_size (meta);
            g_autofree guint8 *raw = g_memdup2 (g_bytes_get_data (meta, NULL), meta_size);

            raw[0] = (guint8) invalid[i][0];
            g_bytes_unref (meta);
            meta = g_bytes_new_take (g_steal_pointer (&raw), meta_size);
          }
        file = build_file (2, meta, "\0\0\0\0\0\0\0\0", 8);
        check_hostile (&c, what, file, NULL, CKPT_ERROR_CORRUPT, &totals);
      }
  }

  /* Metadata that is not (sa{sv}). */
  {
    g_autoptr(GBytes) m1 = variant_bytes (g_variant_new ("(ss)", "ad", "xyz"));
    g_autoptr(GBytes) m2 = variant_bytes (g_variant_new_string ("ad"));
    g_autoptr(GBytes) m3 = g_bytes_new_static ("", 0);
    g_autoptr(GBytes) m4 = variant_bytes (g_variant_new_parsed ("('ad', {'deep': %v})", make_deep_variant (200)));
    g_autoptr(GBytes) m5 = variant_bytes (g_variant_new_parsed ("('ad', {'x': <1>}, 7)"));
    g_autoptr(GBytes) m6 = variant_bytes (g_variant_new_parsed ("@(sa{sv}) ('ad', {})"));
    const struct
    {
      const char *what;
      GBytes     *meta;
    } metas[] = {
      { "metadata (ss)", m1 },
      { "metadata s", m2 },
      { "metadata empty", m3 },
      { "metadata holding a variant nested 200 deep", m4 },
      { "metadata (sa{sv}i)", m5 },
    };

    for (i = 0; i < G_N_ELEMENTS (metas); i++)
      {
        g_autoptr(GBytes) file = build_file (2, metas[i].meta, "\0\0\0\0\0\0\0\0", 8);

        check_hostile (&c, metas[i].what, file, NULL, CKPT_ERROR_CORRUPT, &totals);
      }
    {
      /* The minimal valid metadata: no version key. */
      g_autoptr(GBytes) file = build_file (2, m6, "\0\0\0\0\0\0\0\0", 8);

      check_hostile (&c, "metadata without keys", file, NULL, -1, &totals);
    }
  }

  /* Header fields, resealed. */
  {
    g_autoptr(GBytes) good = ckpt_format_encode_bytes (make_ad (2, 4), 2, 0, CKPT_FORMAT_ENCODE_NONE);
    gsize len = g_bytes_get_size (good);
    guint32 header_size = ckpt_test_get_le32 ((const guint8 *) g_bytes_get_data (good, NULL) + CKPT_FORMAT_OFFSET_HEADER_SIZE);
    const struct
    {
      const char *what;
      guint       offset;
      guint8      value;
      int         code;
    } patches[] = {
      { "version 2", CKPT_FORMAT_OFFSET_VERSION, 2, CKPT_ERROR_UNSUPPORTED },
      { "version 255", CKPT_FORMAT_OFFSET_VERSION, 255, CKPT_ERROR_UNSUPPORTED },
      { "version 0", CKPT_FORMAT_OFFSET_VERSION, 0, CKPT_ERROR_CORRUPT },
      { "reserved byte set", CKPT_FORMAT_OFFSET_BYTE_ORDER + 1, 1, CKPT_ERROR_CORRUPT },
      { "last reserved byte set", CKPT_FORMAT_FIXED_HEADER_SIZE - 1, 0x80, CKPT_ERROR_CORRUPT },
      { "byte order 'x'", CKPT_FORMAT_OFFSET_BYTE_ORDER, 'x', CKPT_ERROR_CORRUPT },
      { "byte order 0", CKPT_FORMAT_OFFSET_BYTE_ORDER, 0, CKPT_ERROR_CORRUPT },
      { "negative round", CKPT_FORMAT_OFFSET_ROUND + 7, 0x80, CKPT_ERROR_CORRUPT },
      { "round 3", CKPT_FORMAT_OFFSET_ROUND, 3, CKPT_ERROR_CORRUPT },
      { "header size not a multiple of 8", CKPT_FORMAT_OFFSET_HEADER_SIZE, (guint8) (header_size - 4), CKPT_ERROR_CORRUPT },
      { "header size below 64", CKPT_FORMAT_OFFSET_HEADER_SIZE, 56, CKPT_ERROR_CORRUPT },
      { "metadata size past the header", CKPT_FORMAT_OFFSET_META_SIZE, (guint8) (header_size - 63), CKPT_ERROR_CORRUPT },
      { "non-zero padding", (guint) header_size - 1, 1, CKPT_ERROR_CORRUPT },
    };

    for (i = 0; i < G_N_ELEMENTS (patches); i++)
      {
        g_autofree guint8 *buf = g_memdup2 (g_bytes_get_data (good, NULL), len);
        g_autoptr(GBytes) file = NULL;

        buf[patches[i].offset] = patches[i].value;
        ckpt_test_reseal (buf, len);
        file = g_bytes_new_take (g_steal_pointer (&buf), len);
        check_hostile (&c, patches[i].what, file, NULL, patches[i].code, &totals);
      }
  }

  g_test_message ("hostile payloads: %u rejected with the expected error, %u valid ones accepted",
                  totals.rejected, totals.accepted);
  checker_clear (&c);
  ckpt_test_rm_rf (tmp);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ckpt/reliability/damage/all", test_damage);
  g_test_add_func ("/ckpt/reliability/damage/huge-sizes", test_huge_sizes);
  g_test_add_func ("/ckpt/reliability/hostile/payloads", test_hostile);

  return g_test_run ();
}
