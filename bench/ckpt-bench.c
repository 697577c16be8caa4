/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ckpt-bench: ckpt-glib against the physical limit of the disk and memory.
 * Run by bench/run.sh (see docs/performance.md), which alternates it with
 * bench/peers.py and takes medians; it prints raw samples, one a line:
 *
 *   <rep> TAB <size> TAB <tool> TAB <op> TAB <seconds> TAB <bytes>
 *
 * States (the same data as bench/peers.py builds):
 *   nested-1k  a{sv}: {"meta": {"epoch": int64, "name": s, "lr": d},
 *              "layers": {"l0": {"w": ad[28], "b": ad[4]}, … "l2"}}, ~1 KiB
 *   named-10k  a{sv} of 100 "layer_NNN" → a{sd} of 100 "w_NNN" → double
 *   1m, 64m, 512m  an `ad` of that many MiB, wrapping the program's buffer
 *              with g_variant_new_from_bytes (…, TRUE): no copy
 * Doubles are value_at (k) below: real values, not zeros. Arrays of 4 MiB
 * and more are allocated as numpy allocates them (see program_init ()).
 *
 * Rows, for tool "ckpt" (public API only) and tool "limit" (plain POSIX):
 *   save_durable    ckpt: ckpt_manager_save (durable) of a GVariant freshly
 *                   built from the program's data (built untimed, a new one
 *                   for every sample, not yet serialised: the save pays for
 *                   serialising it, as torch.save pays for pickling the
 *                   dict it is given); limit: write the state's
 *                   serialised bytes to a temp file, fsync, rename, fsync
 *                   the directory; tool "limit-falloc": the same with
 *                   fallocate (FALLOC_FL_KEEP_SIZE) first, as numpy.save does
 *   save_nodurable  the same without fsync (ckpt: durable = FALSE)
 *   load            ckpt: ckpt_manager_load (verify = TRUE) + touch
 *   load_unverified ckpt: ckpt_manager_load (verify = FALSE) + touch
 *   open_unverified ckpt: ckpt_manager_load (verify = FALSE), no touch
 *   open_verified   ckpt: ckpt_manager_load (verify = TRUE), no touch: the
 *                   load itself reads every byte once, for the checksum
 *   load_latest     ckpt: ckpt_manager_load_latest (verify = TRUE) + touch
 *   load_read       limit: open + read() into a fresh g_malloc'd buffer + touch
 *   load_mmap       limit: open + mmap (MAP_POPULATE) + touch: reading every
 *                   byte once at memory speed
 * "touch" means: for a flat byte buffer (arrays, limit rows), read one byte
 * of every 64-byte cache line, so every byte is fetched from memory; for a
 * tree (nested-1k, named-10k, ckpt and peers), walk it and read every value.
 * Freeing what a load returned is not timed, for anyone.
 *
 * Each file is written, loaded and deleted before the next is written, and
 * before every load of an array the process touches and frees memory of the
 * state's size (untimed; see prime_memory ()): on this VM, first touches of
 * pages freed long ago cost ~6x more, and this keeps that cost from falling
 * on whichever row happens to run first. Extra info rows for trees:
 * "build", what building the GVariant from the program's data costs (not in
 * the save rows: the peers too are given a state already built), and
 * "serialise", the part of a ckpt-glib save spent in GLib serialising it.
 *
 * With --kept N,…: durable saves of nested-1k with keep_total = N into a root
 * that already holds N checkpoints, against a plain durable write into a
 * directory of N files that also deletes the file written N rounds earlier
 * (size "kept-N", op "save_durable"; op "first_save" is the first save of a
 * new manager, which lists the directory).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <ckpt-glib/ckpt-glib.h>

typedef enum
{
  KIND_NESTED,
  KIND_NAMED,
  KIND_ARRAY,
} Kind;

typedef struct
{
  const char *name;
  Kind        kind;
  gsize       n_doubles;
} SizeSpec;

static const SizeSpec size_specs[] = {
  { "nested-1k", KIND_NESTED, 0 },
  { "named-10k", KIND_NAMED, 10000 },
  { "1m", KIND_ARRAY, (gsize) 1 << 17 },
  { "64m", KIND_ARRAY, (gsize) 64 << 17 },
  { "512m", KIND_ARRAY, (gsize) 512 << 17 },
};

#define NESTED_LAYERS 3
#define NESTED_W      28
#define NESTED_B      4
#define NAMED_GROUPS  100
#define NAMED_EACH    100

/* Keeps the compiler from dropping the reads of a touch. */
static volatile double sink;

static double
value_at (guint64 k)
{
  return (double) ((k * G_GUINT64_CONSTANT (2654435761)) % 1000003) / 7.0 - 50000.0;
}

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
emit (int         rep,
      const char *size,
      const char *tool,
      const char *op,
      double      seconds,
      gsize       bytes)
{
  g_print ("%d\t%s\t%s\t%s\t%.9f\t%" G_GSIZE_FORMAT "\n", rep, size, tool, op, seconds, bytes);
}

/* One byte of every 64-byte cache line. */
static double
touch_bytes (const guint8 *p,
             gsize         n)
{
  guint64 sum = 0;
  gsize i;

  for (i = 0; i < n; i += 64)
    sum += p[i];
  return (double) sum;
}

/* Every value of a tree; the same walk as walk() in peers.py. */
static double
walk (GVariant *v)
{
  double sum = 0;

  if (g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE))
    return g_variant_get_double (v);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT64))
    return (double) g_variant_get_int64 (v);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_STRING))
    return (double) strlen (g_variant_get_string (v, NULL));
  if (g_variant_is_of_type (v, G_VARIANT_TYPE ("ad")))
    {
      gsize n = 0, i;
      const double *d = g_variant_get_fixed_array (v, &n, sizeof (double));

      for (i = 0; i < n; i++)
        sum += d[i];
      return sum;
    }
  if (g_variant_is_container (v))
    {
      GVariantIter iter;
      GVariant *child;

      g_variant_iter_init (&iter, v);
      while ((child = g_variant_iter_next_value (&iter)) != NULL)
        {
          sum += walk (child);
          g_variant_unref (child);
        }
    }
  return sum;
}

/* The program's own data, from which it builds a state each round. */
typedef struct
{
  const SizeSpec *spec;
  double         *doubles;      /* KIND_ARRAY, KIND_NAMED, KIND_NESTED */
  GBytes         *doubles_bytes;
  char          **names;        /* KIND_NAMED: NAMED_GROUPS + groups × each */
  GBytes         *serialised;   /* the state's bytes, for the limit rows */
} Program;

static GVariant *
ad_from (const double *d,
         gsize         n)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, d, n, sizeof (double));
}

/* A new state (full reference), as a program would build one each round. */
static GVariant *
program_build (Program *p)
{
  GVariantBuilder builder;
  gsize i, j;

  switch (p->spec->kind)
    {
    case KIND_ARRAY:
      return g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE ("ad"),
                                                           p->doubles_bytes, TRUE));
    case KIND_NESTED:
      {
        GVariantBuilder meta, layers;

        g_variant_builder_init (&meta, G_VARIANT_TYPE_VARDICT);
        g_variant_builder_add (&meta, "{sv}", "epoch", g_variant_new_int64 (7));
        g_variant_builder_add (&meta, "{sv}", "name", g_variant_new_string ("ckpt-bench"));
        g_variant_builder_add (&meta, "{sv}", "lr", g_variant_new_double (0.001));
        g_variant_builder_init (&layers, G_VARIANT_TYPE_VARDICT);
        for (i = 0; i < NESTED_LAYERS; i++)
          {
            GVariantBuilder layer;
            char key[8];

            g_variant_builder_init (&layer, G_VARIANT_TYPE_VARDICT);
            g_variant_builder_add (&layer, "{sv}", "w", ad_from (p->doubles + i * 100, NESTED_W));
            g_variant_builder_add (&layer, "{sv}", "b", ad_from (p->doubles + i * 100 + 50, NESTED_B));
            g_snprintf (key, sizeof key, "l%" G_GSIZE_FORMAT, i);
            g_variant_builder_add (&layers, "{sv}", key, g_variant_builder_end (&layer));
          }
        g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
        g_variant_builder_add (&builder, "{sv}", "meta", g_variant_builder_end (&meta));
        g_variant_builder_add (&builder, "{sv}", "layers", g_variant_builder_end (&layers));
        return g_variant_ref_sink (g_variant_builder_end (&builder));
      }
    case KIND_NAMED:
      g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
      for (i = 0; i < NAMED_GROUPS; i++)
        {
          GVariantBuilder group;

          g_variant_builder_init (&group, G_VARIANT_TYPE ("a{sd}"));
          for (j = 0; j < NAMED_EACH; j++)
            g_variant_builder_add (&group, "{sd}", p->names[NAMED_GROUPS + i * NAMED_EACH + j],
                                   p->doubles[i * NAMED_EACH + j]);
          g_variant_builder_add (&builder, "{sv}", p->names[i], g_variant_builder_end (&group));
        }
      return g_variant_ref_sink (g_variant_builder_end (&builder));
    default:
      g_assert_not_reached ();
    }
}

static const GVariantType *
program_type (Program *p)
{
  return p->spec->kind == KIND_ARRAY ? G_VARIANT_TYPE ("ad") : G_VARIANT_TYPE_VARDICT;
}

static double
touch_variant (Program  *p,
               GVariant *v)
{
  /* An array is read as a program reads one: g_variant_get_fixed_array (),
   * which costs the same for trusted and untrusted values (loads of mapped
   * files are untrusted; see ckpt_format_decode ()). */
  if (p->spec->kind == KIND_ARRAY)
    {
      gsize n = 0;
      const double *d = g_variant_get_fixed_array (v, &n, sizeof (double));

      return touch_bytes ((const guint8 *) d, n * sizeof (double));
    }
  return walk (v);
}

static void
program_init (Program        *p,
              const SizeSpec *spec)
{
  g_autoptr(GVariant) state = NULL;
  gsize n, k, i, j;

  memset (p, 0, sizeof *p);
  p->spec = spec;
  n = spec->kind == KIND_NESTED ? NESTED_LAYERS * 100 : spec->n_doubles;
  if (n * sizeof (double) >= 4 * 1024 * 1024)
    {
      void *mem = NULL;

      /* As numpy allocates its arrays (>= 4 MiB: 2 MiB-aligned, huge pages
       * asked for), so that every tool writes from the same kind of memory.
       * On this VM, write() from 4 KiB pages is measurably slower. */
      if (posix_memalign (&mem, 2 * 1024 * 1024, n * sizeof (double)) != 0)
        g_error ("out of memory");
      madvise (mem, n * sizeof (double), MADV_HUGEPAGE);
      p->doubles = mem;
    }
  else
    p->doubles = g_new (double, n);
  for (k = 0; k < n; k++)
    p->doubles[k] = value_at (k);
  p->doubles_bytes = g_bytes_new_static (p->doubles, n * sizeof (double));

  if (spec->kind == KIND_NAMED)
    {
      p->names = g_new0 (char *, NAMED_GROUPS + NAMED_GROUPS * NAMED_EACH + 1);
      for (i = 0; i < NAMED_GROUPS; i++)
        {
          p->names[i] = g_strdup_printf ("layer_%03" G_GSIZE_FORMAT, i);
          for (j = 0; j < NAMED_EACH; j++)
            p->names[NAMED_GROUPS + i * NAMED_EACH + j] = g_strdup_printf ("w_%03" G_GSIZE_FORMAT, j);
        }
    }

  state = program_build (p);
  p->serialised = g_variant_get_data_as_bytes (state);
}

static void
program_clear (Program *p)
{
  g_clear_pointer (&p->serialised, g_bytes_unref);
  g_clear_pointer (&p->doubles_bytes, g_bytes_unref);
  g_clear_pointer (&p->doubles, g_free);
  g_clear_pointer (&p->names, g_strfreev);
}

/* Plain POSIX: the physical limit. */

static void
die_errno (const char *what,
           const char *path)
{
  g_printerr ("ckpt-bench: %s ‘%s’: %s\n", what, path, g_strerror (errno));
  exit (1);
}

/* write() in chunks of 8 MiB: on this kernel one write() of 512 MiB is
 * ~20 ms slower than chunks of 1 to 64 MiB (ckpt-glib writes 64 MiB). */
#define PLAIN_CHUNK (8 * 1024 * 1024)

static void
write_full (int           fd,
            const guint8 *data,
            gsize         size,
            const char   *path)
{
  while (size > 0)
    {
      ssize_t n = write (fd, data, MIN (size, PLAIN_CHUNK));

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        die_errno ("Cannot write", path);
      data += n;
      size -= (gsize) n;
    }
}

static void
fsync_dir (const char *dir)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0 || fsync (fd) != 0)
    die_errno ("Cannot fsync", dir);
  close (fd);
}

/* temp file, [fallocate], write, [fsync], rename, [fsync the directory] */
static void
plain_write_full (const char *dir,
                  const char *name,
                  GBytes     *bytes,
                  gboolean    durable,
                  gboolean    preallocate)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *tmp = g_strconcat (path, ".tmp", NULL);
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  int fd;

  fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    die_errno ("Cannot create", tmp);
  /* As numpy.save does (numpy's tofile() calls fallocate first). */
  if (preallocate && size > 0 && fallocate (fd, FALLOC_FL_KEEP_SIZE, 0, (off_t) size) != 0)
    die_errno ("Cannot fallocate", tmp);
  write_full (fd, data, size, tmp);
  if (durable && fsync (fd) != 0)
    die_errno ("Cannot fsync", tmp);
  if (close (fd) != 0)
    die_errno ("Cannot close", tmp);
  if (rename (tmp, path) != 0)
    die_errno ("Cannot rename", tmp);
  if (durable)
    fsync_dir (dir);
}

static void
plain_write (const char *dir,
             const char *name,
             GBytes     *bytes,
             gboolean    durable)
{
  plain_write_full (dir, name, bytes, durable, FALSE);
}

static double
plain_read (const char *path)
{
  struct stat st;
  guint8 *buf;
  gsize done = 0;
  double t0, t1;
  int fd;

  t0 = now ();
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) != 0)
    die_errno ("Cannot open", path);
  buf = g_malloc ((gsize) st.st_size);
  while (done < (gsize) st.st_size)
    {
      ssize_t n = read (fd, buf + done, (gsize) st.st_size - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        die_errno ("Cannot read", path);
      done += (gsize) n;
    }
  close (fd);
  sink = touch_bytes (buf, done);
  t1 = now ();
  g_free (buf);
  return t1 - t0;
}

static double
plain_mmap (const char *path)
{
  struct stat st;
  void *map;
  double t0, t1;
  int fd;

  t0 = now ();
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) != 0)
    die_errno ("Cannot open", path);
  map = mmap (NULL, (gsize) st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  if (map == MAP_FAILED)
    die_errno ("Cannot map", path);
  close (fd);
  sink = touch_bytes (map, (gsize) st.st_size);
  t1 = now ();
  munmap (map, (gsize) st.st_size);
  return t1 - t0;
}

/* One state size, one process: a manager and a plain directory. */
typedef struct
{
  Program      program;
  CkptManager *manager;
  char        *ckpt_dir;
  char        *plain_dir;
  gint64       round;     /* the durable save's round; round + 1 the other */
  int          rep;
} Bench;

typedef double (*OpFunc) (Bench *b);

typedef struct
{
  const char *tool;
  const char *op;
  OpFunc      func;
} Op;

static double
op_ckpt_save (Bench    *b,
              gint64    round_num,
              gboolean  durable)
{
  g_autoptr(GError) error = NULL;
  GVariant *state;
  double t0, t1;

  ckpt_manager_set_durable (b->manager, durable);
  state = program_build (&b->program);
  t0 = now ();
  if (!ckpt_manager_save (b->manager, state, round_num, NULL, &error))
    g_error ("save: %s", error->message);
  t1 = now ();
  g_variant_unref (state);
  return t1 - t0;
}

static double
op_ckpt_save_durable (Bench *b)
{
  return op_ckpt_save (b, b->round, TRUE);
}

static double
op_ckpt_save_nodurable (Bench *b)
{
  return op_ckpt_save (b, b->round + 1, FALSE);
}

static double
op_ckpt_load_with (Bench    *b,
                   gboolean  verify,
                   gboolean  touch,
                   gboolean  latest)
{
  g_autoptr(GError) error = NULL;
  GVariant *v;
  double t0, t1;

  ckpt_manager_set_verify (b->manager, verify);
  t0 = now ();
  if (latest)
    v = ckpt_manager_load_latest (b->manager, program_type (&b->program), NULL, NULL, &error);
  else
    v = ckpt_manager_load (b->manager, program_type (&b->program), b->round, NULL, &error);
  if (v == NULL)
    g_error ("load: %s", error->message);
  if (touch)
    sink = touch_variant (&b->program, v);
  t1 = now ();
  g_variant_unref (v);
  ckpt_manager_set_verify (b->manager, TRUE);
  return t1 - t0;
}

static double
op_ckpt_load (Bench *b)
{
  return op_ckpt_load_with (b, TRUE, TRUE, FALSE);
}

static double
op_ckpt_load_unverified (Bench *b)
{
  return op_ckpt_load_with (b, FALSE, TRUE, FALSE);
}

static double
op_ckpt_open_unverified (Bench *b)
{
  return op_ckpt_load_with (b, FALSE, FALSE, FALSE);
}

static double
op_ckpt_open_verified (Bench *b)
{
  return op_ckpt_load_with (b, TRUE, FALSE, FALSE);
}

static double
op_ckpt_load_latest (Bench *b)
{
  return op_ckpt_load_with (b, TRUE, TRUE, TRUE);
}

static double
op_limit_save (Bench    *b,
               gboolean  durable)
{
  double t0 = now ();

  plain_write (b->plain_dir, durable ? "durable.bin" : "nodurable.bin",
               b->program.serialised, durable);
  return now () - t0;
}

static double
op_limit_save_durable (Bench *b)
{
  return op_limit_save (b, TRUE);
}

static double
op_limit_save_nodurable (Bench *b)
{
  return op_limit_save (b, FALSE);
}

static double
op_limit_save_falloc (Bench *b)
{
  double t0 = now ();

  plain_write_full (b->plain_dir, "falloc.bin", b->program.serialised, TRUE, TRUE);
  return now () - t0;
}

static double
op_limit_read (Bench *b)
{
  g_autofree char *path = g_build_filename (b->plain_dir, "durable.bin", NULL);

  return plain_read (path);
}

static double
op_limit_mmap (Bench *b)
{
  g_autofree char *path = g_build_filename (b->plain_dir, "durable.bin", NULL);

  return plain_mmap (path);
}

/* A unit writes one file, runs the loads that read it, then deletes it
 * (not timed). Deleting at once matters on this VM: a write into page-cache
 * pages that the guest freed long ago (and reported to the host) costs ~9 us
 * a page more than one into pages freed just before, so each writer gets
 * the pages its predecessor just freed, whatever the order. */
typedef struct
{
  Op          save;
  Op          loads[5];
  gboolean    is_ckpt;
  gint64      round_offset;
  const char *plain_name;
} Unit;

static const Unit units[] = {
  { { "ckpt", "save_durable", op_ckpt_save_durable },
    { { "ckpt", "load", op_ckpt_load },
      { "ckpt", "load_unverified", op_ckpt_load_unverified },
      { "ckpt", "open_unverified", op_ckpt_open_unverified },
      { "ckpt", "open_verified", op_ckpt_open_verified },
      { "ckpt", "load_latest", op_ckpt_load_latest } },
    TRUE, 0, NULL },
  { { "limit", "save_durable", op_limit_save_durable },
    { { "limit", "load_mmap", op_limit_mmap },
      { "limit", "load_read", op_limit_read } },
    FALSE, 0, "durable.bin" },
  { { "limit-falloc", "save_durable", op_limit_save_falloc },
    { { NULL } },
    FALSE, 0, "falloc.bin" },
  { { "ckpt", "save_nodurable", op_ckpt_save_nodurable },
    { { NULL } },
    TRUE, 1, NULL },
  { { "limit", "save_nodurable", op_limit_save_nodurable },
    { { NULL } },
    FALSE, 0, "nodurable.bin" },
};

static void
run_op (Bench    *b,
        const Op *op)
{
  double seconds = op->func (b);

  emit (b->rep, b->program.spec->name, op->tool, op->op, seconds,
        g_bytes_get_size (b->program.serialised));
}

/* Not timed, before every load of an array: map, touch and unmap anonymous
 * memory of the state's size, so that a load that allocates its result
 * (read(), and every peer) gets recently freed pages, whatever ran before
 * it. On this VM, a first touch of a page the guest freed long ago (and
 * reported to the host) costs ~9 us, of a recently freed one ~1.5 us. */
static void
prime_memory (Bench *b)
{
  gsize size = g_bytes_get_size (b->program.serialised), i;
  volatile guint8 *p;

  if (b->program.spec->kind != KIND_ARRAY)
    return;
  p = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    die_errno ("Cannot map", "anonymous memory");
  for (i = 0; i < size; i += 4096)
    p[i] = 1;
  munmap ((void *) p, size);
}

static void
run_unit (Bench      *b,
          const Unit *unit,
          gboolean    reverse)
{
  gsize n_loads = 0, i;

  run_op (b, &unit->save);
  while (n_loads < G_N_ELEMENTS (unit->loads) && unit->loads[n_loads].func != NULL)
    n_loads++;
  for (i = 0; i < n_loads; i++)
    {
      prime_memory (b);
      run_op (b, &unit->loads[reverse ? n_loads - 1 - i : i]);
    }

  /* Not timed: delete, and flush the directory so that the delete (and
   * its discard) is over before the next timed operation. */
  if (unit->is_ckpt)
    {
      g_autoptr(GFile) file = ckpt_manager_get_file (b->manager, b->round + unit->round_offset);

      g_file_delete (file, NULL, NULL);
      fsync_dir (b->ckpt_dir);
    }
  else
    {
      g_autofree char *path = g_build_filename (b->plain_dir, unit->plain_name, NULL);

      g_unlink (path);
      fsync_dir (b->plain_dir);
    }
}

/* For trees (info rows): building the GVariant from the program's data
 * (not part of the save rows) and serialising it (part of them: what
 * ckpt_manager_save () spends in GLib before any I/O). */
static void
time_build (Bench *b)
{
  GVariant *state;
  gpointer buffer;
  double t0, t1, t2;
  gsize size = g_bytes_get_size (b->program.serialised);

  t0 = now ();
  state = program_build (&b->program);
  t1 = now ();
  /* As ckpt_manager_save () serialises a tree: into a buffer of its own,
   * leaving the caller's tree as it is. */
  buffer = g_malloc (g_variant_get_size (state));
  g_variant_store (state, buffer);
  t2 = now ();
  g_free (buffer);
  g_variant_unref (state);
  emit (b->rep, b->program.spec->name, "ckpt", "build", t1 - t0, size);
  emit (b->rep, b->program.spec->name, "ckpt", "serialise", t2 - t1, size);
}

/* Not timed: write and delete a file of the state's size, so that the first
 * timed write of this process finds freshly freed pages too. */
static void
prime (Bench *b)
{
  g_autofree char *path = g_build_filename (b->plain_dir, "prime.bin", NULL);

  plain_write (b->plain_dir, "prime.bin", b->program.serialised, FALSE);
  g_unlink (path);
  fsync_dir (b->plain_dir);
}

static void
run_size (const char     *dir,
          const SizeSpec *spec,
          int             rep,
          int             inner)
{
  g_autoptr(GError) error = NULL;
  Bench b;
  int sample;
  gsize i;

  memset (&b, 0, sizeof b);
  program_init (&b.program, spec);
  b.rep = rep;
  b.ckpt_dir = g_build_filename (dir, "ckpt", spec->name, NULL);
  b.plain_dir = g_build_filename (dir, "plain", spec->name, NULL);
  if (g_mkdir_with_parents (b.plain_dir, 0755) != 0)
    die_errno ("Cannot create", b.plain_dir);
  /* keep_total = 0: nothing is pruned (deleting is timed elsewhere). */
  b.manager = ckpt_manager_new_for_path (b.ckpt_dir, NULL, 0, FALSE, &error);
  if (b.manager == NULL)
    g_error ("%s", error->message);
  prime (&b);

  for (sample = 0; sample < inner; sample++)
    {
      gboolean reverse = (rep + sample) % 2 == 1;

      b.round = 2 * sample + 1;
      if (spec->kind != KIND_ARRAY)
        time_build (&b);
      for (i = 0; i < G_N_ELEMENTS (units); i++)
        run_unit (&b, &units[reverse ? G_N_ELEMENTS (units) - 1 - i : i], reverse);
    }

  g_object_unref (b.manager);
  g_free (b.ckpt_dir);
  g_free (b.plain_dir);
  program_clear (&b.program);
}

/* --kept: save latency with N checkpoints already kept. */

static double
kept_ckpt_save (CkptManager *manager,
                Program     *p,
                gint64       round_num)
{
  g_autoptr(GError) error = NULL;
  GVariant *state;
  double t0, t1;

  state = program_build (p);
  t0 = now ();
  if (!ckpt_manager_save (manager, state, round_num, NULL, &error))
    g_error ("save: %s", error->message);
  t1 = now ();
  g_variant_unref (state);
  return t1 - t0;
}

static double
kept_plain_save (const char *dir,
                 Program    *p,
                 gint64      round_num,
                 int         n_kept)
{
  g_autofree char *name = g_strdup_printf ("p_%" G_GINT64_FORMAT, round_num);
  g_autofree char *old = g_strdup_printf ("%s/p_%" G_GINT64_FORMAT, dir, round_num - n_kept);
  double t0 = now ();

  plain_write (dir, name, p->serialised, TRUE);
  if (g_unlink (old) != 0)
    die_errno ("Cannot delete", old);
  return now () - t0;
}

static void
run_kept (const char *dir,
          int         n_kept,
          int         samples,
          int         inner)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CkptManager) filler = NULL;
  g_autoptr(CkptManager) manager = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autofree char *ckpt_dir = NULL;
  g_autofree char *plain_dir = NULL;
  g_autofree char *size = g_strdup_printf ("kept-%d", n_kept);
  Program program;
  gint64 round_num;
  gsize bytes;
  int i, s;

  program_init (&program, &size_specs[0]);
  bytes = g_bytes_get_size (program.serialised);
  ckpt_dir = g_strdup_printf ("%s/kept/%d/ckpt", dir, n_kept);
  plain_dir = g_strdup_printf ("%s/kept/%d/plain", dir, n_kept);
  if (g_mkdir_with_parents (plain_dir, 0755) != 0)
    die_errno ("Cannot create", plain_dir);

  /* Fill both directories (not durable, then one sync). */
  filler = ckpt_manager_new_for_path (ckpt_dir, NULL, 0, FALSE, &error);
  if (filler == NULL)
    g_error ("%s", error->message);
  ckpt_manager_set_durable (filler, FALSE);
  state = program_build (&program);
  for (i = 1; i <= n_kept; i++)
    {
      g_autofree char *name = g_strdup_printf ("p_%d", i);

      if (!ckpt_manager_save (filler, state, i, NULL, &error))
        g_error ("save: %s", error->message);
      plain_write (plain_dir, name, program.serialised, FALSE);
    }
  g_clear_object (&filler);
  sync ();

  /* A new manager, as a program restarting on this root. */
  manager = ckpt_manager_new_for_path (ckpt_dir, NULL, n_kept, FALSE, &error);
  if (manager == NULL)
    g_error ("%s", error->message);
  round_num = n_kept + 1;
  emit (1, size, "ckpt", "first_save", kept_ckpt_save (manager, &program, round_num), bytes);
  emit (0, size, "limit", "save_durable", kept_plain_save (plain_dir, &program, round_num, n_kept), bytes);
  round_num++;

  for (s = 0; s < samples; s++, round_num++)
    {
      int rep = 1 + s / MAX (inner, 1);

      if (s % 2 == 0)
        {
          emit (rep, size, "ckpt", "save_durable", kept_ckpt_save (manager, &program, round_num), bytes);
          emit (rep, size, "limit", "save_durable", kept_plain_save (plain_dir, &program, round_num, n_kept), bytes);
        }
      else
        {
          emit (rep, size, "limit", "save_durable", kept_plain_save (plain_dir, &program, round_num, n_kept), bytes);
          emit (rep, size, "ckpt", "save_durable", kept_ckpt_save (manager, &program, round_num), bytes);
        }
    }

  program_clear (&program);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *sizes_arg = NULL;
  g_autofree char *kept_arg = NULL;
  g_auto(GStrv) names = NULL;
  int rep = 1, inner = 10, inner_large = 2, samples = 50;
  gsize i, j;
  GOptionEntry entries[] = {
    { "dir", 'd', 0, G_OPTION_ARG_FILENAME, &dir, "Work directory on the disk to measure (required)", "DIR" },
    { "rep", 'r', 0, G_OPTION_ARG_INT, &rep, "Repetition number: labels the samples and alternates the order (0 = warm-up)", "N" },
    { "sizes", 's', 0, G_OPTION_ARG_STRING, &sizes_arg, "Comma-separated: nested-1k,named-10k,1m,64m,512m (default: all)", "LIST" },
    { "inner", 'i', 0, G_OPTION_ARG_INT, &inner, "Samples per repetition for nested-1k and 1m (a third for named-10k; default 10)", "N" },
    { "inner-large", 'I', 0, G_OPTION_ARG_INT, &inner_large, "Samples per repetition for 64m and 512m (default 2)", "N" },
    { "kept", 'k', 0, G_OPTION_ARG_STRING, &kept_arg, "Instead: save latency with these many checkpoints kept, e.g. 3,10,10000", "LIST" },
    { "samples", 'n', 0, G_OPTION_ARG_INT, &samples, "With --kept: samples per count (default 50)", "N" },
    { NULL }
  };

  context = g_option_context_new ("- ckpt-glib against the physical limit (see bench/run.sh)");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || dir == NULL)
    {
      g_printerr ("%s\n", error != NULL ? error->message : "--dir is required");
      return 2;
    }

  if (kept_arg != NULL)
    {
      names = g_strsplit (kept_arg, ",", -1);
      for (i = 0; names[i] != NULL; i++)
        run_kept (dir, atoi (names[i]), samples, inner);
      return 0;
    }

  names = g_strsplit (sizes_arg != NULL ? sizes_arg : "nested-1k,named-10k,1m,64m,512m", ",", -1);
  for (i = 0; names[i] != NULL; i++)
    {
      /* Alternate the order of the sizes too. */
      const char *name = names[rep % 2 == 0 ? i : g_strv_length (names) - 1 - i];
      const SizeSpec *spec = NULL;

      for (j = 0; j < G_N_ELEMENTS (size_specs); j++)
        if (g_str_equal (size_specs[j].name, name))
          spec = &size_specs[j];
      if (spec == NULL)
        {
          g_printerr ("Unknown size ‘%s’\n", name);
          return 2;
        }
      /* --inner-large samples per repetition for 64 and 512 MiB; named-10k
       * is slow for some peers (h5py, numpy.savez): a third of --inner. */
      if (spec->kind == KIND_ARRAY && spec->n_doubles > ((gsize) 1 << 17))
        run_size (dir, spec, rep, inner_large);
      else if (spec->kind == KIND_NAMED)
        run_size (dir, spec, rep, MAX (1, inner / 3));
      else
        run_size (dir, spec, rep, inner);
    }

  return 0;
}
