/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * fedavg-vala: the resumable federated-averaging demo of fedavg.c, in Vala.
 *
 * Four simulated clients hold synthetic data of the linear model
 * y = w·x + b; every round each runs a few minibatch SGD steps from the
 * global weights and the server averages their updates (with server
 * momentum). The whole state is one a{sv} GLib.Variant, saved after every
 * round. Interrupt it and run it again: it resumes from the latest
 * checkpoint.
 *
 * Same state layout, same GLib.Rand seeds and the same arithmetic as
 * fedavg.c (and fedavg.js): the three compute the same numbers and resume
 * each other's checkpoints.
 *
 * Built with the examples: _build/examples/fedavg-vala --rounds 3
 */

const int DIM = 3;
const int N_CLIENTS = 4;
const int N_SAMPLES = 64;
const int LOCAL_STEPS = 5;
const int BATCH_SIZE = 16;
const uint32 DATA_SEED = 20240601;

const double[] TRUE_W = { 2.0, -3.0, 0.5 };
const double TRUE_B = 1.0;

struct ClientData {
    double[,] x;
    double[] y;
}

/* Everything that must survive a restart. */
class Model {
    public int64 round_num = 0;
    public double[] w = new double[DIM];
    public double b = 0.0;
    public double lr = 0.02;
    public double beta = 0.5;
    public double[] momentum = new double[DIM + 1];  /* weights, then bias */
    double[] loss_history = {};  /* loss after rounds 0..round_num */

    /* As in fedavg.c: a{sv} with "round" x, "weights" ad, "bias" d,
     * "optimizer" a{sv} ("lr" d, "beta" d, "momentum" ad), "loss_history" ad. */
    public Variant to_variant () {
        var optimizer = new VariantBuilder (VariantType.VARDICT);
        optimizer.add ("{sv}", "lr", new Variant.double (lr));
        optimizer.add ("{sv}", "beta", new Variant.double (beta));
        optimizer.add ("{sv}", "momentum", doubles (momentum));

        var state = new VariantBuilder (VariantType.VARDICT);
        state.add ("{sv}", "round", new Variant.int64 (round_num));
        state.add ("{sv}", "weights", doubles (w));
        state.add ("{sv}", "bias", new Variant.double (b));
        state.add ("{sv}", "optimizer", optimizer.end ());
        state.add ("{sv}", "loss_history", doubles (loss_history));
        return state.end ();
    }

    public Model.from_variant (Variant state) throws OptionError {
        var optimizer = state.lookup_value ("optimizer", VariantType.VARDICT);
        if (!state.lookup ("round", "x", out round_num) ||
            !state.lookup ("bias", "d", out b) ||
            !lookup_doubles (state, "weights", DIM, out w) ||
            optimizer == null ||
            !optimizer.lookup ("lr", "d", out lr) ||
            !optimizer.lookup ("beta", "d", out beta) ||
            !lookup_doubles (optimizer, "momentum", DIM + 1, out momentum) ||
            !lookup_doubles (state, "loss_history", -1, out loss_history))
            throw new OptionError.FAILED ("the checkpoint does not hold a fedavg state");
    }

    public void add_loss (double loss) {
        loss_history += loss;
    }

    public double last_loss () {
        return loss_history.length > 0 ? loss_history[loss_history.length - 1] : 0.0;
    }
}

Variant doubles (double[] values) {
    Variant[] children = {};
    foreach (var v in values)
        children += new Variant.double (v);
    return new Variant.array (VariantType.DOUBLE, children);
}

bool lookup_doubles (Variant dict, string key, int n_expected, out double[] values) {
    double[] result = {};
    values = result;
    var v = dict.lookup_value (key, new VariantType ("ad"));
    if (v == null || (n_expected >= 0 && v.n_children () != n_expected))
        return false;
    foreach (var child in v)
        result += child.get_double ();
    values = result;
    return true;
}

/* Approximately standard normal (Irwin-Hall), as fedavg.c. */
double rand_normal (Rand rand) {
    double sum = 0.0;
    for (int i = 0; i < 12; i++)
        sum += rand.next_double ();
    return sum - 6.0;
}

/* Non-IID data: client c's inputs are centred on a different point. */
ClientData[] make_data () {
    var rand = new Rand.with_seed (DATA_SEED);
    var clients = new ClientData[N_CLIENTS];
    for (int c = 0; c < N_CLIENTS; c++) {
        double centre = (double) c - 1.5;
        clients[c] = { new double[N_SAMPLES, DIM], new double[N_SAMPLES] };
        for (int i = 0; i < N_SAMPLES; i++) {
            double y = TRUE_B;
            for (int d = 0; d < DIM; d++) {
                clients[c].x[i, d] = centre + rand_normal (rand);
                y += TRUE_W[d] * clients[c].x[i, d];
            }
            clients[c].y[i] = y + 0.1 * rand_normal (rand);
        }
    }
    return clients;
}

double predict (double[] w, double b, double[,] x, int i) {
    double y = b;
    for (int d = 0; d < DIM; d++)
        y += w[d] * x[i, d];
    return y;
}

/* Half the mean squared error over all clients' data. */
double global_loss (Model model, ClientData[] clients) {
    double sum = 0.0;
    foreach (unowned ClientData data in clients)
        for (int i = 0; i < N_SAMPLES; i++) {
            double err = predict (model.w, model.b, data.x, i) - data.y[i];
            sum += 0.5 * err * err;
        }
    return sum / (N_CLIENTS * N_SAMPLES);
}

/* A client's local training from the global weights; the minibatches come
 * from a generator seeded by (round, client). Returns weights, then bias. */
double[] client_update (Model model, ClientData data, uint32 client) {
    uint32[] seed = { DATA_SEED, (uint32) model.round_num, client };
    var rand = new Rand.with_seed_array (seed, seed.length);
    double[] w = model.w;  /* a copy */
    double b = model.b;

    for (int step = 0; step < LOCAL_STEPS; step++) {
        var grad_w = new double[DIM];
        double grad_b = 0.0;
        for (int k = 0; k < BATCH_SIZE; k++) {
            int i = rand.int_range (0, N_SAMPLES);
            double err = predict (w, b, data.x, i) - data.y[i];
            for (int d = 0; d < DIM; d++)
                grad_w[d] += err * data.x[i, d];
            grad_b += err;
        }
        for (int d = 0; d < DIM; d++)
            w[d] -= model.lr * grad_w[d] / BATCH_SIZE;
        b -= model.lr * grad_b / BATCH_SIZE;
    }
    w += b;
    return w;
}

/* One round of federated averaging with server momentum (FedAvgM). */
void fedavg_round (Model model, ClientData[] clients) {
    var avg = new double[DIM + 1];
    model.round_num++;
    for (int c = 0; c < N_CLIENTS; c++) {
        var update = client_update (model, clients[c], c);
        for (int d = 0; d <= DIM; d++)
            avg[d] += update[d] / N_CLIENTS;
    }
    for (int d = 0; d <= DIM; d++) {
        double current = d < DIM ? model.w[d] : model.b;
        model.momentum[d] = model.beta * model.momentum[d] + (avg[d] - current);
    }
    for (int d = 0; d < DIM; d++)
        model.w[d] += model.momentum[d];
    model.b += model.momentum[DIM];
    model.add_loss (global_loss (model, clients));
}

string? opt_dir = null;
int64 opt_rounds = 20;
int opt_keep = Ckpt.MANAGER_DEFAULT_KEEP_TOTAL;
int opt_delay_ms = 0;
bool opt_verbose = false;

const OptionEntry[] ENTRIES = {
    { "dir", 'd', OptionFlags.NONE, OptionArg.FILENAME, ref opt_dir,
      "Checkpoint directory (default ./fedavg-checkpoints)", "DIR" },
    { "rounds", 'n', OptionFlags.NONE, OptionArg.INT64, ref opt_rounds,
      "Train until this round (default 20)", "N" },
    { "keep", 'k', OptionFlags.NONE, OptionArg.INT, ref opt_keep,
      "Checkpoints to keep, the first one counting among them; 0 keeps all (default 5)", "K" },
    { "delay-ms", 0, OptionFlags.NONE, OptionArg.INT, ref opt_delay_ms,
      "Sleep this long after each round, to leave time for Ctrl-C", "MS" },
    { "verbose", 'v', OptionFlags.NONE, OptionArg.NONE, ref opt_verbose,
      "Report every saved and pruned checkpoint", null },
    { null }
};

int main (string[] args) {
    var context = new OptionContext ("- resumable federated averaging on ckpt-glib");
    context.add_main_entries (ENTRIES, null);
    try {
        context.parse (ref args);
    } catch (OptionError e) {
        printerr ("fedavg: %s\n", e.message);
        return 2;
    }
    if (opt_rounds < 0 || opt_delay_ms < 0) {
        printerr ("fedavg: --rounds and --delay-ms must not be negative\n");
        return 2;
    }
    string dir = opt_dir ?? "./fedavg-checkpoints";

    try {
        var manager = new Ckpt.Manager.for_path (dir, null, opt_keep, true);
        int n_saved = 0;
        manager.saved.connect ((round_num, file) => {
            n_saved++;
            if (opt_verbose)
                print ("  [saved]  round %s -> %s\n", round_num.to_string (), file.get_parse_name ());
        });
        manager.pruned.connect ((round_num, file) => {
            if (opt_verbose)
                print ("  [pruned] round %s (%s)\n", round_num.to_string (), file.get_parse_name ());
        });

        var clients = make_data ();

        /* Round 0: the untrained model. */
        var model = new Model ();
        model.add_loss (global_loss (model, clients));

        /* With no checkpoint in dir, this saves the default state as round 0. */
        int64 resumed_round;
        var state = manager.load_latest_or_default (model.to_variant (), out resumed_round);
        model = new Model.from_variant (state);
        if (model.round_num != resumed_round)
            throw new OptionError.FAILED ("checkpoint %s holds the state of round %s",
                                          resumed_round.to_string (), model.round_num.to_string ());

        if (n_saved > 0)
            print ("Starting fresh in %s (round 0, loss %.6f)\n", dir, model.last_loss ());
        else
            print ("Resumed from round %s (loss %.6f)\n", model.round_num.to_string (), model.last_loss ());
        if (model.round_num >= opt_rounds)
            print ("Nothing to do: already at round %s (asked for %s)\n",
                   model.round_num.to_string (), opt_rounds.to_string ());

        while (model.round_num < opt_rounds) {
            fedavg_round (model, clients);
            manager.save (model.to_variant (), model.round_num);
            var name = Path.build_filename (dir, manager.get_file (model.round_num).get_basename ());
            print ("round %3s  loss %.6f  saved %s\n", model.round_num.to_string (), model.last_loss (), name);
            if (opt_delay_ms > 0)
                Thread.usleep ((ulong) opt_delay_ms * 1000);
        }

        print ("Model after round %s: w = [%.4f, %.4f, %.4f], b = %.4f (true: [%.1f, %.1f, %.1f], %.1f)\n",
               model.round_num.to_string (), model.w[0], model.w[1], model.w[2], model.b,
               TRUE_W[0], TRUE_W[1], TRUE_W[2], TRUE_B);
    } catch (GLib.Error e) {
        printerr ("fedavg: %s: %s\n", dir, e.message);
        return 1;
    }
    return 0;
}
