/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A value loaded from a mapped checkpoint stays memory-safe whatever happens
 * to the file after the load (issue 13, item 4): files of MAP_MIN (64 KiB)
 * bytes or more are mapped, and the mapping shows whatever anybody writes
 * to the file afterwards. The tests load such files through the manager,
 * change them in place with pwrite() through another descriptor, and read
 * the value with GLib's accessors: nothing may read outside the mapping, and
 * a string must end where GLib says it does.
 *
 * Each test body runs in a child process (g_test_trap_subprocess()), so that
 * a read beyond the mapping that crashes reports a failure instead of
 * killing the suite.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <ckpt-glib/ckpt-glib.h>
#include "ckpt-format-private.h"
#include "ckpt-storage-private.h"
#include "ckpt-test-util.h"

/* At least MAP_MIN of ckpt-storage-local.c. */
#define MAPPED_SIZE (80 * 1024)

typedef struct
{
  char        *tmp_path;
  CkptManager *manager;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  /* The parent only spawns the child that runs the body. */
  if (!g_test_subprocess ())
    return;

  f->tmp_path = g_dir_make_tmp ("test-mapping-XXXXXX", &error);
  g_assert_no_error (error);
  f->manager = ckpt_manager_new_for_path (f->tmp_path, NULL, -1, FALSE, &error);
  g_assert_no_error (error);
  ckpt_manager_set_durable (f->manager, FALSE);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->manager);
  if (f->tmp_path != NULL)
    ckpt_test_rm_rf (f->tmp_path);
  g_free (f->tmp_path);
}

/* Runs the calling test's body in a child; TRUE in the child. */
static gboolean
in_child (void)
{
  if (g_test_subprocess ())
    return TRUE;
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  return FALSE;
}

static gsize
page_size (void)
{
  return (gsize) sysconf (_SC_PAGESIZE);
}

/* Writes @state as round @round_num, in the host's byte order or (with
 * @byteswap) the other one; returns the file's path and, optionally, its
 * header size. */
static char *
write_checkpoint (Fixture  *f,
                  GVariant *state,
                  gint64    round_num,
                  gboolean  byteswap,
                  gsize    *out_header_size)
{
  g_autoptr(GBytes) file = NULL;
  g_autoptr(GFile) gfile = ckpt_manager_get_file (f->manager, round_num);
  char *path = g_file_get_path (gfile);
  const guint8 *data;
  gsize size;

  file = ckpt_format_encode_bytes (state, round_num, 1700000000000000,
                                   byteswap ? CKPT_FORMAT_ENCODE_BYTESWAP : CKPT_FORMAT_ENCODE_NONE);
  data = g_bytes_get_data (file, &size);
  ckpt_test_write_file (path, data, size);
  if (out_header_size != NULL)
    *out_header_size = ckpt_test_get_le32 (data + CKPT_FORMAT_OFFSET_HEADER_SIZE);
  return path;
}

/* Overwrites @len bytes at @offset of the file @path in place, through a
 * descriptor of its own, as a stray writer would. */
static void
overwrite (const char    *path,
           goffset        offset,
           gconstpointer  data,
           gsize          len)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pwrite (fd, data, len, (off_t) offset), ==, (gssize) len);
  g_assert_cmpint (close (fd), ==, 0);
}

static gsize
file_size (const char *path)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return (gsize) st.st_size;
}

/* A string state of exactly @pages pages of file: the string's NUL is the
 * file's last byte, and the mapping of the file ends on a page boundary. */
static GVariant *
string_filling_pages (gsize  pages,
                      char **out_string)
{
  g_autoptr(GBytes) probe = NULL;
  gsize header_size, len;
  char *s;

  probe = ckpt_format_encode_bytes (g_variant_new_string ("x"), 1, 0, CKPT_FORMAT_ENCODE_NONE);
  header_size = ckpt_test_get_le32 ((const guint8 *) g_bytes_get_data (probe, NULL) +
                                    CKPT_FORMAT_OFFSET_HEADER_SIZE);
  len = pages * page_size () - header_size - 1;
  s = g_malloc (len + 1);
  memset (s, 'a', len);
  s[len] = '\0';
  *out_string = s;
  return g_variant_ref_sink (g_variant_new_string (s));
}

/* Whether [p, p + n) lies inside [lo, hi). */
static gboolean
inside (gconstpointer p,
        gsize         n,
        const guint8 *lo,
        const guint8 *hi)
{
  const guint8 *q = p;

  return q >= lo && q <= hi && n <= (gsize) (hi - q);
}

/* Reads all of @value with GLib's accessors, as a program would, and
 * asserts that whatever is read from the mapping [lo, hi) stays inside it,
 * and that every string ends where GLib says it does. Returns the number
 * of values read. */
static gsize
walk_checked (GVariant     *value,
              const guint8 *lo,
              const guint8 *hi)
{
  gconstpointer data = g_variant_get_data (value);
  gsize size = g_variant_get_size (value), n = 1;

  if (data >= (gconstpointer) lo && data < (gconstpointer) hi)
    g_assert_true (inside (data, size, lo, hi));

  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING) ||
      g_variant_is_of_type (value, G_VARIANT_TYPE_OBJECT_PATH) ||
      g_variant_is_of_type (value, G_VARIANT_TYPE_SIGNATURE))
    {
      gsize len = 0;
      const char *s = g_variant_get_string (value, &len);

      /* A string ends where GLib says: a NUL at s[len] and none before. */
      g_assert_cmpuint (strlen (s), ==, len);
      if ((const guint8 *) s >= lo && (const guint8 *) s < hi)
        g_assert_true (inside (s, len + 1, lo, hi));
    }
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE ("ad")))
    {
      gsize n_elements = 0, i;
      const double *d = g_variant_get_fixed_array (value, &n_elements, sizeof (double));
      volatile double sum = 0;

      if (n_elements > 0 && (const guint8 *) d >= lo && (const guint8 *) d < hi)
        g_assert_true (inside (d, n_elements * sizeof (double), lo, hi));
      for (i = 0; i < n_elements; i++)
        sum += d[i];
    }
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARDICT))
    {
      GVariantIter iter;
      const char *key;
      GVariant *child;

      /* Lookups compare keys as C strings. */
      child = g_variant_lookup_value (value, "key-0007", NULL);
      if (child != NULL)
        {
          n += walk_checked (child, lo, hi);
          g_variant_unref (child);
        }

      g_variant_iter_init (&iter, value);
      while (g_variant_iter_next (&iter, "{&sv}", &key, &child))
        {
          g_assert_nonnull (key);
          g_assert_true (g_utf8_validate (key, -1, NULL));
          n += walk_checked (child, lo, hi);
          g_variant_unref (child);
        }
    }
  else if (g_variant_is_container (value))
    {
      gsize n_children = g_variant_n_children (value), i;

      for (i = 0; i < n_children; i++)
        {
          g_autoptr(GVariant) child = g_variant_get_child_value (value, i);

          n += walk_checked (child, lo, hi);
        }
    }

  return n;
}

/* Walks @value and prints it (g_variant_print() reads every string as a C
 * string too). */
static void
read_all (GVariant     *value,
          const guint8 *lo,
          const guint8 *hi)
{
  g_autofree char *printed = NULL;

  walk_checked (value, lo, hi);
  printed = g_variant_print (value, TRUE);
  g_assert_nonnull (printed);
}

/* The string of a verified load ends at the file's last byte, on a page
 * boundary; then its NUL is overwritten. */
static void
check_string_at_end (Fixture  *f,
                     gboolean  verify)
{
  g_autofree char *expected = NULL;
  g_autoptr(GVariant) state = string_filling_pages (20, &expected);
  g_autofree char *path = write_checkpoint (f, state, 1, FALSE, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  gsize size = file_size (path), len = 0, len_after = 0;
  const char *before, *after;

  g_assert_cmpuint (size % page_size (), ==, 0);
  g_assert_cmpuint (size, >=, MAPPED_SIZE);

  ckpt_manager_set_verify (f->manager, verify);
  value = ckpt_manager_load (f->manager, G_VARIANT_TYPE_STRING, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (value);

  /* Obtained before the change. */
  before = g_variant_get_string (value, &len);
  g_assert_cmpuint (len, ==, strlen (expected));
  g_assert_cmpstr (before, ==, expected);

  overwrite (path, (goffset) size - 1, "b", 1);

  /* Accessed after the change: GLib checks it again and sees no string
   * (an untrusted value gives "" for an invalid string). */
  after = g_variant_get_string (value, &len_after);
  g_assert_cmpuint (strlen (after), ==, len_after);
  g_assert_cmpstr (after, ==, "");
  read_all (value, NULL, NULL);

  /* The pointer obtained before now runs into the page after the file:
   * zeros, readable, so a C string read ends there. */
  g_assert_cmpuint (strlen (before), ==, len + 1);
  g_assert_cmpint (before[len], ==, 'b');

  /* Put back, it is a string again: every access checks afresh. */
  overwrite (path, (goffset) size - 1, "", 1);
  after = g_variant_get_string (value, &len_after);
  g_assert_cmpuint (len_after, ==, len);
  g_assert_cmpstr (after, ==, expected);
}

static void
test_string_at_end (Fixture       *f,
                    gconstpointer  data)
{
  if (in_child ())
    check_string_at_end (f, TRUE);
}

static void
test_string_at_end_unverified (Fixture       *f,
                               gconstpointer  data)
{
  if (in_child ())
    check_string_at_end (f, FALSE);
}

/* An a{sv} of @n entries "key-NNNN" → (int64, string, ad), ≥ 64 KiB. */
static GVariant *
make_dict (gsize n)
{
  GVariantBuilder builder;
  gsize i;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  for (i = 0; i < n; i++)
    {
      char key[16], text[40];
      double d[3] = { (double) i, 0.5 * (double) i, -1.0 };

      g_snprintf (key, sizeof key, "key-%04" G_GSIZE_FORMAT, i);
      g_snprintf (text, sizeof text, "value number %" G_GSIZE_FORMAT, i);
      g_variant_builder_add (&builder, "{sv}", key,
                             g_variant_new ("(xs@ad)", (gint64) i, text,
                                            g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE,
                                                                       d, 3, sizeof (double))));
    }
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

/* Where @child's bytes are within @parent's (both serialised). */
static gsize
offset_in (GVariant *parent,
           GVariant *child)
{
  return (gsize) ((const guint8 *) g_variant_get_data (child) -
                  (const guint8 *) g_variant_get_data (parent));
}

/* A verified load of an a{sv}: keys' NULs, then framing offsets of the
 * entries and of the dictionary, then random bytes are overwritten; the
 * value, and children taken before, are read after each change. */
static void
test_dict_framing (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GVariant) state = NULL, serialised = NULL, value = NULL;
  g_autoptr(GVariant) early_child = NULL, early_entry = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  const guint8 *lo, *hi;
  gsize header_size, size, n, i;
  GRand *rand;

  if (!in_child ())
    return;

  state = make_dict (1000);
  serialised = g_variant_new_from_data (G_VARIANT_TYPE_VARDICT,
                                        g_variant_get_data (state), g_variant_get_size (state),
                                        TRUE, NULL, NULL);
  g_variant_ref_sink (serialised);
  path = write_checkpoint (f, state, 1, FALSE, &header_size);
  size = file_size (path);
  g_assert_cmpuint (size, >=, MAPPED_SIZE);

  value = ckpt_manager_load (f->manager, G_VARIANT_TYPE_VARDICT, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_equal (value, state));
  lo = g_variant_get_data (value);
  hi = lo + g_variant_get_size (value);
  g_assert_cmpuint (g_variant_get_size (value), ==, size - header_size);
  early_entry = g_variant_get_child_value (value, 5);
  early_child = g_variant_lookup_value (value, "key-0009", NULL);
  g_assert_nonnull (early_child);
  read_all (value, lo, hi);

  /* 1. The NULs of the keys of entries 0-9 (entry 7 is looked up). */
  n = g_variant_n_children (serialised);
  g_assert_cmpuint (n, ==, 1000);
  for (i = 0; i < 10; i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (serialised, i);
      g_autoptr(GVariant) key = g_variant_get_child_value (entry, 0);

      overwrite (path, (goffset) (header_size + offset_in (serialised, key) +
                                  g_variant_get_size (key) - 1), "Z", 1);
    }
  read_all (value, lo, hi);
  read_all (early_entry, lo, hi);
  read_all (early_child, lo, hi);

  /* 2. The framing offset at the end of entries 10-19 (where the key
   * ends), and the tuple's framing offset (where its string ends). */
  for (i = 10; i < 20; i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (serialised, i);
      g_autoptr(GVariant) boxed = g_variant_get_child_value (entry, 1);
      g_autoptr(GVariant) tuple = g_variant_get_variant (boxed);
      guint8 junk = 0xf3;

      overwrite (path, (goffset) (header_size + offset_in (serialised, entry) +
                                  g_variant_get_size (entry) - 1), &junk, 1);
      overwrite (path, (goffset) (header_size + offset_in (serialised, tuple) +
                                  g_variant_get_size (tuple) - 1), &junk, 1);
    }
  read_all (value, lo, hi);
  read_all (early_entry, lo, hi);

  /* 3. The dictionary's own framing offsets: the table at its end. */
  {
    guint8 junk[64];

    memset (junk, 0xee, sizeof junk);
    overwrite (path, (goffset) size - 7, junk, 7);
    read_all (value, lo, hi);
    overwrite (path, (goffset) size - 400, junk, sizeof junk);
    read_all (value, lo, hi);
    read_all (early_entry, lo, hi);
    read_all (early_child, lo, hi);
  }

  /* 4. Random bytes anywhere in the payload, read after each batch. */
  rand = g_rand_new_with_seed (ckpt_test_seed ());
  for (i = 0; i < 40; i++)
    {
      gsize k;

      for (k = 0; k < 64; k++)
        {
          guint8 byte = (guint8) g_rand_int_range (rand, 0, 256);
          gsize at = header_size + (gsize) g_rand_int_range (rand, 0, (gint32) (size - header_size));

          overwrite (path, (goffset) at, &byte, 1);
        }
      read_all (value, lo, hi);
      read_all (early_entry, lo, hi);
      read_all (early_child, lo, hi);
    }
  g_rand_free (rand);
}

/* A file in the other byte order is copied before it is checked and
 * swapped: changing the file changes nothing of the value. A state of
 * strings only has no bytes to swap, which GLib's byteswap takes for a
 * reason to return the value itself. */
static void
check_byteswapped (Fixture    *f,
                   GVariant   *state,
                   gboolean    verify)
{
  g_autofree char *path = write_checkpoint (f, state, 3, TRUE, NULL);
  g_autoptr(GVariant) value = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *junk = NULL;
  gsize size = file_size (path);

  g_assert_cmpuint (size, >=, MAPPED_SIZE);
  ckpt_manager_set_verify (f->manager, verify);
  value = ckpt_manager_load (f->manager, g_variant_get_type (state), 3, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_equal (value, state));

  /* Everything after the fixed header. */
  junk = g_malloc (size - CKPT_FORMAT_FIXED_HEADER_SIZE);
  memset (junk, 'Z', size - CKPT_FORMAT_FIXED_HEADER_SIZE);
  overwrite (path, CKPT_FORMAT_FIXED_HEADER_SIZE, junk, size - CKPT_FORMAT_FIXED_HEADER_SIZE);

  g_assert_true (g_variant_equal (value, state));
  read_all (value, NULL, NULL);
}

static GVariant *
make_strings (gsize n)
{
  GVariantBuilder builder;
  gsize i;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_STRING_ARRAY);
  for (i = 0; i < n; i++)
    g_variant_builder_add (&builder, "s", "a string of a byteswapped checkpoint");
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static void
test_byteswapped (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GVariant) strings = NULL, mixed = NULL, dict = NULL;

  if (!in_child ())
    return;

  strings = make_strings (3000);
  check_byteswapped (f, strings, TRUE);
  check_byteswapped (f, strings, FALSE);

  dict = make_dict (1000);
  mixed = g_variant_ref_sink (g_variant_new ("(x@a{sv})", G_GINT64_CONSTANT (-5), dict));
  check_byteswapped (f, mixed, TRUE);
  check_byteswapped (f, mixed, FALSE);
}

/* Small files are read into memory: the value is a private copy, which a
 * change of the file does not reach. */
static void
test_small_private (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GVariant) state = NULL, value = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  gsize size;

  if (!in_child ())
    return;

  state = make_dict (20);
  path = write_checkpoint (f, state, 2, FALSE, NULL);
  size = file_size (path);
  g_assert_cmpuint (size, <, 64 * 1024);
  value = ckpt_manager_load (f->manager, G_VARIANT_TYPE_VARDICT, 2, NULL, &error);
  g_assert_no_error (error);
  overwrite (path, (goffset) size - 100, "0123456789", 10);
  g_assert_true (g_variant_equal (value, state));
}

/* The storage says which reads are mappings, and a mapping is followed by
 * readable zeros up to at least a page past the file's end; mappings of
 * 2 MiB or more are 2 MiB aligned. */
static void
test_storage_shared (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *text = NULL;
  g_autoptr(GVariant) big = NULL, small = NULL;
  g_autoptr(GFile) root = NULL;
  g_autofree char *big_path = NULL, *small_path = NULL;
  CkptStorage *storage;
  g_autoptr(GError) error = NULL;
  gsize sizes[] = { 17, 20, 1030 }, k;

  if (!in_child ())
    return;

  root = g_file_new_for_path (f->tmp_path);
  storage = ckpt_storage_new (root, ckpt_manager_get_prefix (f->manager), CKPT_STORAGE_FLAGS_NONE);

  for (k = 0; k < G_N_ELEMENTS (sizes); k++)
    {
      g_autoptr(GBytes) bytes = NULL;
      g_autofree char *path = NULL;
      gboolean shared = FALSE;
      const guint8 *p;
      gsize size, end, i;

      g_clear_pointer (&big, g_variant_unref);
      g_clear_pointer (&text, g_free);
      big = string_filling_pages (sizes[k], &text);
      path = write_checkpoint (f, big, 1, FALSE, NULL);
      /* Not a whole number of pages: the file's last page is partly zeros. */
      if (k == 0)
        g_assert_cmpint (truncate (path, (off_t) (file_size (path) - 1000)), ==, 0);

      bytes = ckpt_storage_read_full (storage, 1, CKPT_STORAGE_READ_NONE, &shared, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (shared);
      p = g_bytes_get_data (bytes, &size);
      g_assert_cmpuint (size, ==, file_size (path));
      end = ((size + page_size () - 1) / page_size () + 1) * page_size ();
      for (i = size; i < end; i++)
        g_assert_cmpint (p[i], ==, 0);
      /* Large files start on a 2 MiB boundary, where the kernel can map
       * the page cache's large folios whole. */
      if (size >= 2 * 1024 * 1024)
        g_assert_cmpuint ((guintptr) p % (2 * 1024 * 1024), ==, 0);
      g_unlink (path);
    }

  small = make_dict (5);
  small_path = write_checkpoint (f, small, 2, FALSE, NULL);
  {
    g_autoptr(GBytes) bytes = NULL;
    gboolean shared = TRUE;

    bytes = ckpt_storage_read_full (storage, 2, CKPT_STORAGE_READ_PREFAULT, &shared, NULL, &error);
    g_assert_no_error (error);
    g_assert_false (shared);
  }

  ckpt_storage_free (storage);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/ckpt/mapping/string-at-end", test_string_at_end);
  ADD ("/ckpt/mapping/string-at-end-unverified", test_string_at_end_unverified);
  ADD ("/ckpt/mapping/dict-framing", test_dict_framing);
  ADD ("/ckpt/mapping/byteswapped", test_byteswapped);
  ADD ("/ckpt/mapping/small-private", test_small_private);
  ADD ("/ckpt/mapping/storage-shared", test_storage_shared);

  return g_test_run ();
}
