/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Scaffolding shared by the C tests (tests/, tests/reliability/, tests/cli/):
 * files and directories, checkpoint checksums, little-endian fields, and
 * child processes. Test code only: every helper asserts (g_assert_*()) on
 * what it does not expect, so a failing helper fails the calling test.
 *
 * Built as a static library (tests/meson.build, ckpt_test_util_dep) that
 * needs only GLib and xxHash, not the library itself: it reads the
 * format's constants from ckpt-glib/ckpt-format-private.h.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* ---- Files and directories -------------------------------------------- */

/* Removes @path and everything below it, like `rm -rf`: symbolic links are
 * removed, not followed; directories are made writable (0700) first, so
 * that a test that took permissions away cleans up after itself. A missing
 * @path is fine; failures are ignored. */
void        ckpt_test_rm_rf               (const char         *path);

/* A GCompareFunc for g_ptr_array_sort() of an array of strings: strcmp()
 * of the strings its arguments point to. */
int         ckpt_test_strptr_cmp          (gconstpointer       a,
                                           gconstpointer       b);

/* The names in the directory @path (not "." and ".."), sorted with
 * strcmp(); an empty array when @path cannot be opened. Free with
 * g_ptr_array_unref(). */
GPtrArray  *ckpt_test_list_dir            (const char         *path);

/* The names in the directory @path, sorted, joined with single spaces:
 * "" for an empty directory, "<missing>" when @path cannot be opened. */
char       *ckpt_test_dir_listing         (const char         *path);

/* Asserts that the directory @path holds exactly the names of the
 * NULL-terminated @expected, in any order (a missing directory counts as
 * empty). The failure message shows both listings, sorted. */
void        ckpt_test_assert_listing_strv (const char         *path,
                                           const char * const *expected);

/* ckpt_test_assert_listing (path, "a", "b");
 * ckpt_test_assert_listing (path, NULL) for an empty or missing directory. */
#define ckpt_test_assert_listing(path, ...) \
  ckpt_test_assert_listing_strv ((path), (const char * const []) { __VA_ARGS__, NULL })

/* The whole contents of @path (asserts that it can be read). */
GBytes     *ckpt_test_read_bytes          (const char         *path);

/* Writes @len bytes of @data to @path in place: the file is created (0644)
 * or truncated, keeping its inode, and not synced. (g_file_set_contents()
 * replaces the file instead; g_file_set_contents_full() with
 * G_FILE_SET_CONTENTS_NONE does not truncate, so it cannot shorten one.) */
void        ckpt_test_write_file          (const char         *path,
                                           gconstpointer       data,
                                           gsize               len);

/* ---- Checkpoint files ------------------------------------------------- */

/* The format's checksum of the checkpoint file @buf of @len bytes:
 * seeded XXH3-64 over every byte except the checksum field, i.e. [0, 40)
 * then [48, @len) (docs/file-format.md), the rule of every format
 * version. @len is at least 48 (CKPT_FORMAT_PERMANENT_SIZE). */
guint64     ckpt_test_checksum            (const guint8       *buf,
                                           gsize               len);

/* Rewrites the checksum field of the checkpoint file @buf after a test
 * changed it, as a hostile writer would, so that only the structural
 * checks can reject it. */
void        ckpt_test_reseal              (guint8             *buf,
                                           gsize               len);

/* ---- Little-endian fields (unaligned) --------------------------------- */

guint32     ckpt_test_get_le32            (const guint8       *p);
guint64     ckpt_test_get_le64            (const guint8       *p);
void        ckpt_test_put_le32            (guint8             *p,
                                           guint32             v);
void        ckpt_test_put_le64            (guint8             *p,
                                           guint64             v);

/* ---- Environment ------------------------------------------------------ */

/* The seed for a test's random samples: $CKPT_TEST_SEED if set, else a
 * value of g_test_rand_int() (print it, so that a failure can be
 * reproduced). */
guint32     ckpt_test_seed                (void);

/* The positive integer in the environment variable @name, or @fallback
 * when it is unset, zero or not a number. */
guint       ckpt_test_env_count           (const char         *name,
                                           guint               fallback);

/* ---- Child processes -------------------------------------------------- */

/* The path of the running test program (/proc/self/exe), for tests that
 * run themselves as child processes. */
char       *ckpt_test_self_exe            (void);

/* Spawns @argv (argv[0] a path) with G_SPAWN_DO_NOT_REAP_CHILD: the caller
 * waits for it with waitpid() and calls g_spawn_close_pid(). With
 * @out_stdin non-NULL, the child's stdin is a pipe whose write end is
 * returned there; with @out_stdout non-NULL, its stdout is a pipe whose read
 * end is returned there. The caller closes the descriptors. */
GPid        ckpt_test_spawn_child         (char              **argv,
                                           int                *out_stdin,
                                           int                *out_stdout);

/* @rounds as decimal numbers separated by single spaces ("" for none),
 * for assertions and messages that show a listing. */
char       *ckpt_test_rounds_string       (const gint64       *rounds,
                                           gsize               n_rounds);

/* Everything that can be read from @fd until end of file (retrying on
 * EINTR), as a string. */
char       *ckpt_test_read_all            (int                 fd);

G_END_DECLS
