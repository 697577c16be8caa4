/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Scaffolding shared by the C tests: see ckpt-test-util.h.
 */
#include "ckpt-test-util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <xxhash.h>

#include "ckpt-format-private.h"

/* ---- Files and directories -------------------------------------------- */

void
ckpt_test_rm_rf (const char *path)
{
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    return;

  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) dir = NULL;
      const char *name;

      g_chmod (path, 0700);
      dir = g_dir_open (path, 0, NULL);
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          ckpt_test_rm_rf (child);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

int
ckpt_test_strptr_cmp (gconstpointer a,
                      gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The sorted names in @path, or NULL when it cannot be opened. */
static GPtrArray *
list_dir_or_null (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  GPtrArray *names;
  const char *name;

  if (dir == NULL)
    return NULL;
  names = g_ptr_array_new_with_free_func (g_free);
  /* g_dir_read_name() skips "." and ".." but shows hidden files. */
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, ckpt_test_strptr_cmp);
  return names;
}

GPtrArray *
ckpt_test_list_dir (const char *path)
{
  GPtrArray *names = list_dir_or_null (path);

  return names != NULL ? names : g_ptr_array_new_with_free_func (g_free);
}

char *
ckpt_test_dir_listing (const char *path)
{
  g_autoptr(GPtrArray) names = list_dir_or_null (path);

  if (names == NULL)
    return g_strdup ("<missing>");
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

void
ckpt_test_assert_listing_strv (const char         *path,
                               const char * const *expected)
{
  g_autoptr(GPtrArray) actual = ckpt_test_list_dir (path);
  g_autoptr(GPtrArray) want = g_ptr_array_new ();
  g_autofree char *actual_str = NULL;
  g_autofree char *want_str = NULL;
  gsize i;

  for (i = 0; expected[i] != NULL; i++)
    g_ptr_array_add (want, (gpointer) expected[i]);
  g_ptr_array_sort (want, ckpt_test_strptr_cmp);

  g_ptr_array_add (actual, NULL);
  g_ptr_array_add (want, NULL);
  actual_str = g_strjoinv (" ", (char **) actual->pdata);
  want_str = g_strjoinv (" ", (char **) want->pdata);
  g_assert_cmpstr (actual_str, ==, want_str);
}

GBytes *
ckpt_test_read_bytes (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

void
ckpt_test_write_file (const char    *path,
                      gconstpointer  data,
                      gsize          len)
{
  const guint8 *p = data;
  int fd;

  fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  g_assert_cmpint (fd, >=, 0);
  while (len > 0)
    {
      gssize n = write (fd, p, len);

      if (n < 0 && errno == EINTR)
        continue;
      g_assert_cmpint (n, >, 0);
      p += n;
      len -= (gsize) n;
    }
  g_assert_true (g_close (fd, NULL));
}

/* ---- Checkpoint files ------------------------------------------------- */

guint64
ckpt_test_checksum (const guint8 *buf,
                    gsize         len)
{
  XXH3_state_t *state = XXH3_createState ();
  guint64 hash;

  g_assert_cmpuint (len, >=, CKPT_FORMAT_PERMANENT_SIZE);
  XXH3_64bits_reset_withSeed (state, CKPT_FORMAT_CHECKSUM_SEED);
  XXH3_64bits_update (state, buf, CKPT_FORMAT_OFFSET_CHECKSUM);
  XXH3_64bits_update (state, buf + CKPT_FORMAT_OFFSET_CHECKSUM + 8,
                      len - CKPT_FORMAT_OFFSET_CHECKSUM - 8);
  hash = XXH3_64bits_digest (state);
  XXH3_freeState (state);
  return hash;
}

void
ckpt_test_reseal (guint8 *buf,
                  gsize   len)
{
  ckpt_test_put_le64 (buf + CKPT_FORMAT_OFFSET_CHECKSUM, ckpt_test_checksum (buf, len));
}

/* ---- Little-endian fields (unaligned) --------------------------------- */

guint32
ckpt_test_get_le32 (const guint8 *p)
{
  guint32 v;

  memcpy (&v, p, sizeof v);
  return GUINT32_FROM_LE (v);
}

guint64
ckpt_test_get_le64 (const guint8 *p)
{
  guint64 v;

  memcpy (&v, p, sizeof v);
  return GUINT64_FROM_LE (v);
}

void
ckpt_test_put_le32 (guint8  *p,
                    guint32  v)
{
  v = GUINT32_TO_LE (v);
  memcpy (p, &v, sizeof v);
}

void
ckpt_test_put_le64 (guint8  *p,
                    guint64  v)
{
  v = GUINT64_TO_LE (v);
  memcpy (p, &v, sizeof v);
}

/* ---- Environment ------------------------------------------------------ */

guint32
ckpt_test_seed (void)
{
  const char *env = g_getenv ("CKPT_TEST_SEED");

  if (env != NULL)
    return (guint32) g_ascii_strtoull (env, NULL, 10);
  return (guint32) g_test_rand_int ();
}

guint
ckpt_test_env_count (const char *name,
                     guint       fallback)
{
  const char *env = g_getenv (name);
  guint64 n = env != NULL ? g_ascii_strtoull (env, NULL, 10) : 0;

  return n > 0 ? (guint) n : fallback;
}

/* ---- Child processes -------------------------------------------------- */

char *
ckpt_test_self_exe (void)
{
  g_autoptr(GError) error = NULL;
  char *path = g_file_read_link ("/proc/self/exe", &error);

  g_assert_no_error (error);
  return path;
}

GPid
ckpt_test_spawn_child (char **argv,
                       int   *out_stdin,
                       int   *out_stdout)
{
  g_autoptr(GError) error = NULL;
  GPid pid = 0;

  g_spawn_async_with_pipes (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                            NULL, NULL, &pid, out_stdin, out_stdout, NULL, &error);
  g_assert_no_error (error);
  return pid;
}

char *
ckpt_test_read_all (int fd)
{
  GString *out = g_string_new (NULL);
  char buf[4096];

  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);

      if (n < 0 && errno == EINTR)
        continue;
      g_assert_cmpint (n, >=, 0);
      if (n == 0)
        break;
      g_string_append_len (out, buf, n);
    }
  return g_string_free (out, FALSE);
}

char *
ckpt_test_rounds_string (const gint64 *rounds,
                         gsize         n_rounds)
{
  GString *s = g_string_new (NULL);
  gsize i;

  for (i = 0; i < n_rounds; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i > 0 ? " " : "", rounds[i]);
  return g_string_free (s, FALSE);
}
