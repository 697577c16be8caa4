/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * c-tensor: the C counterpart of bench/gjs-typed-arrays.js (see
 * docs/javascript.md): a 64 MiB array of doubles copied into a GBytes,
 * wrapped in a `(satay)` tensor, saved (durable), loaded (verified) and
 * touched (one read per 64 bytes), --repeat times. Prints milliseconds.
 *
 *   c-tensor --dir DIR [--repeat N]
 */
#include <stdlib.h>

#include <glib/gstdio.h>

#include <ckpt-glib/ckpt-glib.h>

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CkptManager) manager = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *root = NULL;
  g_autofree double *values = NULL;
  volatile double sink = 0;
  gsize n = (gsize) 8 << 20, i;
  guint64 shape;
  int repeat = 4, r;
  GOptionEntry entries[] = {
    { "dir", 'd', 0, G_OPTION_ARG_FILENAME, &dir, "Work directory on the disk to measure (required)", "DIR" },
    { "repeat", 'n', 0, G_OPTION_ARG_INT, &repeat, "Samples (default 4)", "N" },
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new ("- a 64 MiB tensor saved and loaded from C");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || dir == NULL)
    {
      g_printerr ("%s\n", error != NULL ? error->message : "--dir is required");
      return 2;
    }

  values = g_new (double, n);
  for (i = 0; i < n; i++)
    values[i] = i / 7.0;
  shape = n;
  root = g_build_filename (dir, "c-tensor-XXXXXX", NULL);
  if (g_mkdtemp (root) == NULL)
    g_error ("Cannot create a directory in %s", dir);
  manager = ckpt_manager_new_for_path (root, NULL, 1, FALSE, &error);
  if (manager == NULL)
    g_error ("%s", error->message);

  for (r = 1; r <= repeat; r++)
    {
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GVariant) tensor = NULL;
      g_autoptr(GVariant) loaded = NULL;
      g_autoptr(GVariant) data = NULL;
      const double *back;
      gsize size;
      double t0, t1, t2, t3;

      t0 = now_ms ();
      bytes = g_bytes_new (values, n * sizeof (double));
      tensor = g_variant_ref_sink (g_variant_new ("(s@at@ay)", "<f8",
                                                  g_variant_new_fixed_array (G_VARIANT_TYPE_UINT64, &shape, 1, sizeof shape),
                                                  g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, bytes, TRUE)));
      t1 = now_ms ();
      if (!ckpt_manager_save (manager, tensor, r, NULL, &error))
        g_error ("save: %s", error->message);
      t2 = now_ms ();
      loaded = ckpt_manager_load (manager, NULL, r, NULL, &error);
      if (loaded == NULL)
        g_error ("load: %s", error->message);
      data = g_variant_get_child_value (loaded, 2);
      back = g_variant_get_fixed_array (data, &size, 1);
      for (i = 0; i < size / sizeof (double); i += 8)
        sink += back[i];
      t3 = now_ms ();
      g_print ("copy %.1f ms  save %.1f ms  load+touch %.1f ms\n", t1 - t0, t2 - t1, t3 - t2);
    }

  if (!ckpt_manager_delete (manager, repeat, NULL, &error))
    g_error ("delete: %s", error->message);
  g_rmdir (root);
  return 0;
}
