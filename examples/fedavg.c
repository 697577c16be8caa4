/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * fedavg: a small resumable simulation built on ckpt-glib.
 *
 * Four simulated clients each hold local synthetic data of the linear model
 * y = w·x + b. Every round, each client runs a few minibatch SGD steps from
 * the global weights, and the server averages the clients' updates (with
 * server momentum). The whole training state is one nested GVariant, saved
 * as a checkpoint after every round. Interrupt the program at any moment
 * (Ctrl-C, kill -9) and run it again: it resumes from the latest checkpoint.
 *
 * The data and the minibatch order are derived from fixed seeds and the
 * round number, so an interrupted and resumed run computes exactly the same
 * numbers as an uninterrupted one.
 *
 * Only the public API (<ckpt-glib/ckpt-glib.h>) is used.
 */

#include <string.h>

#include <ckpt-glib/ckpt-glib.h>

#define DIM            3       /* features per sample */
#define N_CLIENTS      4
#define N_SAMPLES      64      /* per client */
#define LOCAL_STEPS    5
#define BATCH_SIZE     16
#define DATA_SEED      20240601
#define DEFAULT_DIR    "./fedavg-checkpoints"
#define DEFAULT_ROUNDS 20

/* The model the clients' data is drawn from. */
static const double true_w[DIM] = { 2.0, -3.0, 0.5 };
static const double true_b = 1.0;

typedef struct
{
  double x[N_SAMPLES][DIM];
  double y[N_SAMPLES];
} ClientData;

/* Everything that must survive a restart. */
typedef struct
{
  gint64  round_num;
  double  w[DIM];
  double  b;
  double  lr;               /* client learning rate */
  double  beta;             /* server momentum coefficient */
  double  momentum[DIM + 1]; /* server momentum buffer: weights, then bias */
  GArray *loss_history;     /* of double: loss after rounds 0..round_num */
} Model;

static gboolean verbose;

/* Approximately standard normal, without libm (Irwin-Hall). */
static double
rand_normal (GRand *rand)
{
  double sum = 0.0;

  for (guint i = 0; i < 12; i++)
    sum += g_rand_double (rand);

  return sum - 6.0;
}

/* Non-IID data: client c's inputs are centred on a different point. */
static void
make_data (ClientData *clients)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (DATA_SEED);

  for (guint c = 0; c < N_CLIENTS; c++)
    {
      double centre = (double) c - 1.5;

      for (guint i = 0; i < N_SAMPLES; i++)
        {
          double y = true_b;

          for (guint d = 0; d < DIM; d++)
            {
              clients[c].x[i][d] = centre + rand_normal (rand);
              y += true_w[d] * clients[c].x[i][d];
            }
          clients[c].y[i] = y + 0.1 * rand_normal (rand);
        }
    }
}

static double
predict (const double *w,
         double        b,
         const double *x)
{
  double y = b;

  for (guint d = 0; d < DIM; d++)
    y += w[d] * x[d];

  return y;
}

/* Half the mean squared error over all clients' data. */
static double
global_loss (const Model      *model,
             const ClientData *clients)
{
  double sum = 0.0;

  for (guint c = 0; c < N_CLIENTS; c++)
    for (guint i = 0; i < N_SAMPLES; i++)
      {
        double err = predict (model->w, model->b, clients[c].x[i]) - clients[c].y[i];
        sum += 0.5 * err * err;
      }

  return sum / (N_CLIENTS * N_SAMPLES);
}

/* A client's local training from the global weights. The minibatches are
 * drawn from a generator seeded by (round, client), so they do not depend on
 * anything that would have to be checkpointed. */
static void
client_update (const Model      *model,
               const ClientData *data,
               guint             client,
               double           *out_w,
               double           *out_b)
{
  guint32 seed[3] = { DATA_SEED, (guint32) model->round_num, client };
  g_autoptr(GRand) rand = g_rand_new_with_seed_array (seed, G_N_ELEMENTS (seed));

  memcpy (out_w, model->w, sizeof model->w);
  *out_b = model->b;

  for (guint step = 0; step < LOCAL_STEPS; step++)
    {
      double grad_w[DIM] = { 0.0, };
      double grad_b = 0.0;

      for (guint k = 0; k < BATCH_SIZE; k++)
        {
          guint i = g_rand_int_range (rand, 0, N_SAMPLES);
          double err = predict (out_w, *out_b, data->x[i]) - data->y[i];

          for (guint d = 0; d < DIM; d++)
            grad_w[d] += err * data->x[i][d];
          grad_b += err;
        }

      for (guint d = 0; d < DIM; d++)
        out_w[d] -= model->lr * grad_w[d] / BATCH_SIZE;
      *out_b -= model->lr * grad_b / BATCH_SIZE;
    }
}

/* One round of federated averaging with server momentum (FedAvgM). */
static void
fedavg_round (Model            *model,
              const ClientData *clients)
{
  double avg[DIM + 1] = { 0.0, };
  double loss;

  model->round_num++;

  for (guint c = 0; c < N_CLIENTS; c++)
    {
      double w[DIM], b;

      client_update (model, &clients[c], c, w, &b);
      for (guint d = 0; d < DIM; d++)
        avg[d] += w[d] / N_CLIENTS;
      avg[DIM] += b / N_CLIENTS;
    }

  for (guint d = 0; d <= DIM; d++)
    {
      double current = d < DIM ? model->w[d] : model->b;

      model->momentum[d] = model->beta * model->momentum[d] + (avg[d] - current);
    }

  for (guint d = 0; d < DIM; d++)
    model->w[d] += model->momentum[d];
  model->b += model->momentum[DIM];

  loss = global_loss (model, clients);
  g_array_append_val (model->loss_history, loss);
}

static GVariant *
doubles (const double *values,
         gsize         n_values)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, values, n_values, sizeof (double));
}

/* The state: a{sv} with "round" x, "weights" ad, "bias" d,
 * "optimizer" a{sv} ("lr" d, "beta" d, "momentum" ad) and "loss_history" ad. */
static GVariant *
model_to_variant (const Model *model)
{
  g_auto(GVariantBuilder) state = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_auto(GVariantBuilder) optimizer = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  g_variant_builder_add (&optimizer, "{sv}", "lr", g_variant_new_double (model->lr));
  g_variant_builder_add (&optimizer, "{sv}", "beta", g_variant_new_double (model->beta));
  g_variant_builder_add (&optimizer, "{sv}", "momentum", doubles (model->momentum, DIM + 1));

  g_variant_builder_add (&state, "{sv}", "round", g_variant_new_int64 (model->round_num));
  g_variant_builder_add (&state, "{sv}", "weights", doubles (model->w, DIM));
  g_variant_builder_add (&state, "{sv}", "bias", g_variant_new_double (model->b));
  g_variant_builder_add (&state, "{sv}", "optimizer", g_variant_builder_end (&optimizer));
  g_variant_builder_add (&state, "{sv}", "loss_history",
                         doubles ((const double *) (gpointer) model->loss_history->data,
                                  model->loss_history->len));

  return g_variant_builder_end (&state);
}

static gboolean
lookup_doubles (GVariant   *dict,
                const char *key,
                double     *out,
                gsize       n_expected)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (dict, key, G_VARIANT_TYPE ("ad"));
  const double *data;
  gsize n;

  if (value == NULL)
    return FALSE;

  data = g_variant_get_fixed_array (value, &n, sizeof (double));
  if (n != n_expected)
    return FALSE;

  memcpy (out, data, n * sizeof (double));
  return TRUE;
}

static gboolean
model_from_variant (Model     *model,
                    GVariant  *state,
                    GError   **error)
{
  g_autoptr(GVariant) optimizer = NULL;
  g_autoptr(GVariant) history = NULL;
  const double *losses;
  gsize n_losses;

  optimizer = g_variant_lookup_value (state, "optimizer", G_VARIANT_TYPE_VARDICT);
  history = g_variant_lookup_value (state, "loss_history", G_VARIANT_TYPE ("ad"));

  if (!g_variant_lookup (state, "round", "x", &model->round_num) ||
      !g_variant_lookup (state, "bias", "d", &model->b) ||
      !lookup_doubles (state, "weights", model->w, DIM) ||
      optimizer == NULL ||
      !g_variant_lookup (optimizer, "lr", "d", &model->lr) ||
      !g_variant_lookup (optimizer, "beta", "d", &model->beta) ||
      !lookup_doubles (optimizer, "momentum", model->momentum, DIM + 1) ||
      history == NULL)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           "the checkpoint does not hold a fedavg state");
      return FALSE;
    }

  losses = g_variant_get_fixed_array (history, &n_losses, sizeof (double));
  g_array_set_size (model->loss_history, 0);
  g_array_append_vals (model->loss_history, losses, n_losses);

  return TRUE;
}

static double
last_loss (const Model *model)
{
  if (model->loss_history->len == 0)
    return 0.0;

  return g_array_index (model->loss_history, double, model->loss_history->len - 1);
}

static void
on_saved (CkptManager *manager,
          gint64       round_num,
          GFile       *file,
          gpointer     user_data)
{
  guint *n_saved = user_data;
  g_autofree char *name = g_file_get_parse_name (file);

  (*n_saved)++;
  if (verbose)
    g_print ("  [saved]  round %" G_GINT64_FORMAT " -> %s\n", round_num, name);
}

static void
on_pruned (CkptManager *manager,
           gint64       round_num,
           GFile       *file,
           gpointer     user_data)
{
  g_autofree char *name = g_file_get_parse_name (file);

  if (verbose)
    g_print ("  [pruned] round %" G_GINT64_FORMAT " (%s)\n", round_num, name);
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *dir = NULL;
  gint64 rounds = DEFAULT_ROUNDS;
  int keep = CKPT_MANAGER_DEFAULT_KEEP_TOTAL;
  int delay_ms = 0;
  const GOptionEntry entries[] = {
    { "dir", 'd', 0, G_OPTION_ARG_FILENAME, &dir,
      "Checkpoint directory (default " DEFAULT_DIR ")", "DIR" },
    { "rounds", 'n', 0, G_OPTION_ARG_INT64, &rounds,
      "Train until this round (default 20)", "N" },
    { "keep", 'k', 0, G_OPTION_ARG_INT, &keep,
      "Checkpoints to keep, the first one counting among them; 0 keeps all (default 5)", "K" },
    { "delay-ms", 0, 0, G_OPTION_ARG_INT, &delay_ms,
      "Sleep this long after each round, to leave time for Ctrl-C", "MS" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
      "Report every saved and pruned checkpoint", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CkptManager) manager = NULL;
  g_autoptr(GVariant) default_state = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GArray) loss_history = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree ClientData *clients = g_new0 (ClientData, N_CLIENTS);
  Model model = {
    .round_num = 0,
    .lr = 0.02,
    .beta = 0.5,
    .loss_history = loss_history,
  };
  gint64 resumed_round = -1;
  double initial_loss;
  guint n_saved = 0;

  context = g_option_context_new ("- resumable federated averaging on ckpt-glib");
  g_option_context_set_summary (context,
    "Trains a linear model by federated averaging over 4 simulated clients,\n"
    "saving a checkpoint after every round. Interrupt it at any time and run\n"
    "it again: it resumes from the latest checkpoint.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("fedavg: %s\n", error->message);
      return 2;
    }
  if (rounds < 0 || delay_ms < 0)
    {
      g_printerr ("fedavg: --rounds and --delay-ms must not be negative\n");
      return 2;
    }
  if (dir == NULL)
    dir = g_strdup (DEFAULT_DIR);

  manager = ckpt_manager_new_for_path (dir, NULL, keep, TRUE, &error);
  if (manager == NULL)
    {
      g_printerr ("fedavg: %s\n", error->message);
      return 1;
    }
  g_signal_connect (manager, "saved", G_CALLBACK (on_saved), &n_saved);
  g_signal_connect (manager, "pruned", G_CALLBACK (on_pruned), NULL);

  make_data (clients);

  /* Round 0: the untrained model. */
  initial_loss = global_loss (&model, clients);
  g_array_append_val (model.loss_history, initial_loss);
  default_state = g_variant_ref_sink (model_to_variant (&model));

  /* With no checkpoint in @dir, this saves default_state as round 0. */
  state = ckpt_manager_load_latest_or_default (manager, default_state, &resumed_round,
                                               NULL, &error);
  if (state == NULL || !model_from_variant (&model, state, &error))
    {
      g_printerr ("fedavg: %s: %s\n", dir, error->message);
      return 1;
    }
  if (model.round_num != resumed_round)
    {
      g_printerr ("fedavg: %s: checkpoint %" G_GINT64_FORMAT " holds the state of round %"
                  G_GINT64_FORMAT "\n", dir, resumed_round, model.round_num);
      return 1;
    }

  if (n_saved > 0)
    g_print ("Starting fresh in %s (round 0, loss %.6f)\n", dir, last_loss (&model));
  else
    g_print ("Resumed from round %" G_GINT64_FORMAT " (loss %.6f)\n",
             model.round_num, last_loss (&model));

  if (model.round_num >= rounds)
    g_print ("Nothing to do: already at round %" G_GINT64_FORMAT " (asked for %" G_GINT64_FORMAT ")\n",
             model.round_num, rounds);

  while (model.round_num < rounds)
    {
      g_autoptr(GVariant) next = NULL;
      g_autoptr(GFile) file = NULL;
      g_autofree char *base = NULL;
      g_autofree char *name = NULL;

      fedavg_round (&model, clients);
      next = g_variant_ref_sink (model_to_variant (&model));

      if (!ckpt_manager_save (manager, next, model.round_num, NULL, &error))
        {
          g_printerr ("fedavg: saving round %" G_GINT64_FORMAT ": %s\n",
                      model.round_num, error->message);
          return 1;
        }

      file = ckpt_manager_get_file (manager, model.round_num);
      base = g_file_get_basename (file);
      name = g_build_filename (dir, base, NULL);
      g_print ("round %3" G_GINT64_FORMAT "  loss %.6f  saved %s\n",
               model.round_num, last_loss (&model), name);

      if (delay_ms > 0)
        g_usleep ((gulong) delay_ms * 1000);
    }

  g_print ("Model after round %" G_GINT64_FORMAT ": w = [%.4f, %.4f, %.4f], b = %.4f"
           " (true: [%.1f, %.1f, %.1f], %.1f)\n",
           model.round_num, model.w[0], model.w[1], model.w[2], model.b,
           true_w[0], true_w[1], true_w[2], true_b);

  return 0;
}
