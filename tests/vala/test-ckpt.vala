/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ckpt-glib from Vala, compiled against the generated ckpt-glib-1.0.vapi.
 *
 * Every case runs; each prints "ok N - name" or "not ok N - name" (TAP),
 * and the program exits non-zero if any failed. Every function of the VAPI
 * is called at least once, so that a wrong signature (an array length of
 * the wrong type, an out parameter taken for an in one, an async pair not
 * merged) shows up here rather than in a user's program.
 */

/* ----------------------------------------------------------------- harness */

int n_cases = 0;
int n_failed = 0;
string case_name;
string[] case_failures;

void begin_case (string name) {
    n_cases++;
    case_name = name;
    case_failures = {};
}

void end_case () {
    if (case_failures.length == 0) {
        print ("ok %d - %s\n", n_cases, case_name);
    } else {
        n_failed++;
        print ("not ok %d - %s\n", n_cases, case_name);
        foreach (unowned string failure in case_failures)
            print ("# %s\n", failure);
    }
}

bool check (bool condition, string what) {
    if (!condition)
        case_failures += what;
    return condition;
}

void check_rounds (int64[] got, int64[] expected, string what) {
    var a = new StringBuilder ();
    var b = new StringBuilder ();
    foreach (var r in got)
        a.append_printf ("%s%" + int64.FORMAT, a.len > 0 ? "," : "", r);
    foreach (var r in expected)
        b.append_printf ("%s%" + int64.FORMAT, b.len > 0 ? "," : "", r);
    check (a.str == b.str, "%s: got [%s], expected [%s]".printf (what, a.str, b.str));
}

void unexpected (GLib.Error e, string what) {
    check (false, "%s: unexpected error %s:%d: %s".printf (what, e.domain.to_string (), e.code, e.message));
}

/* ----------------------------------------------------------------- helpers */

string[] tmp_dirs;

string make_tmp_dir () {
    try {
        var dir = DirUtils.make_tmp ("ckpt-vala-XXXXXX");
        tmp_dirs += dir;
        return dir;
    } catch (FileError e) {
        error ("cannot make a temporary directory: %s", e.message);
    }
}

void rm_tree (string path) {
    if (FileUtils.test (path, FileTest.IS_DIR) && !FileUtils.test (path, FileTest.IS_SYMLINK)) {
        try {
            var dir = Dir.open (path);
            unowned string? name;
            while ((name = dir.read_name ()) != null)
                rm_tree (Path.build_filename (path, name));
        } catch (FileError e) {
            warning ("%s", e.message);
        }
        DirUtils.remove (path);
    } else {
        FileUtils.remove (path);
    }
}

/* Every name in @dir, hidden ones included, sorted and joined with spaces. */
string listing (string dir) {
    string[] names = {};
    try {
        var d = Dir.open (dir);
        unowned string? name;
        while ((name = d.read_name ()) != null)
            names += name;
    } catch (FileError e) {
        return "(%s)".printf (e.message);
    }
    qsort_with_data<string> (names, sizeof (string), (a, b) => strcmp (a, b));
    return string.joinv (" ", names);
}

/* Flips one bit in the last byte of a file (in the payload). */
void damage (File file) {
    try {
        uint8[] data;
        FileUtils.get_data (file.get_path (), out data);
        data[data.length - 1] ^= 0x40;
        FileUtils.set_data (file.get_path (), data);
    } catch (FileError e) {
        check (false, "damage: %s".printf (e.message));
    }
}

Variant xd (int64 round_num, double value = 0.5) {
    return new Variant ("(xd)", round_num, value);
}

Variant doubles (double[] values) {
    Variant[] children = {};
    foreach (var v in values)
        children += new Variant.double (v);
    return new Variant.array (VariantType.DOUBLE, children);
}

Variant nested_state (int64 round_num) {
    var opt = new VariantBuilder (VariantType.VARDICT);
    opt.add ("{sv}", "lr", new Variant.double (0.01));
    opt.add ("{sv}", "momentum", doubles ({ 1.5, -2.5 }));

    var state = new VariantBuilder (VariantType.VARDICT);
    state.add ("{sv}", "weights", doubles ({ 0.1, 0.2, (double) round_num }));
    state.add ("{sv}", "round", new Variant.int64 (round_num));
    state.add ("{sv}", "name", new Variant.string ("vala"));
    state.add ("{sv}", "opt", opt.end ());
    return state.end ();
}

/* Records signals as text: "saved 4 <path>; pruned 2 <path>; ...". */
class SignalLog : Object {
    public string[] events = {};
    public int64[] saved = {};
    public int64[] pruned = {};
    public int64[] corrupt = {};
    public GLib.Error? last_corrupt_error = null;

    public SignalLog (Ckpt.Manager manager) {
        manager.saved.connect ((round_num, file) => {
            saved += round_num;
            events += "saved %s %s".printf (round_num.to_string (), file.get_path ());
        });
        manager.pruned.connect ((round_num, file) => {
            pruned += round_num;
            events += "pruned %s %s".printf (round_num.to_string (), file.get_path ());
        });
        manager.corrupt.connect ((round_num, file, err) => {
            corrupt += round_num;
            last_corrupt_error = err.copy ();
            events += "corrupt %s %s".printf (round_num.to_string (), file.get_path ());
        });
    }

    public string text () {
        return string.joinv ("; ", events);
    }
}

/* ------------------------------------------------------------- sync cases */

void case_construction () throws GLib.Error {
    var dir = make_tmp_dir ();

    var m = new Ckpt.Manager.for_path (dir, null, 3, false);
    check (m is GLib.Initable, "a GLib.Initable");
    check (m.get_root ().get_path () == dir, "get_root");
    check (m.root.get_path () == dir, "root");
    check (m.get_prefix () == Ckpt.MANAGER_DEFAULT_PREFIX && m.prefix == "ckpt_", "prefix");
    check (m.get_keep_total () == 3 && m.keep_total == 3, "keep_total");
    check (!m.get_keep_first () && !m.keep_first, "keep_first");
    check (m.get_durable () && m.durable, "durable default");
    check (m.get_durable_storage () && m.durable_storage, "durable_storage of a local root");
    check (m.get_verify () && m.verify, "verify default");
    check (!m.get_busy () && !m.busy, "busy");

    string notified = "";
    m.notify.connect ((o, pspec) => { notified += pspec.name + " "; });
    m.set_keep_total (7);
    m.set_keep_first (true);
    m.set_durable (false);
    m.set_verify (false);
    m.set_keep_total (7);
    check (m.get_keep_total () == 7 && m.get_keep_first () && !m.get_durable () && !m.get_verify (), "setters");
    check (notified == "keep-total keep-first durable verify ", "notify: " + notified);
    m.keep_total = 2;
    check (m.get_keep_total () == 2, "keep_total property");

    var root = File.new_for_path (dir);
    var m2 = new Ckpt.Manager (root, "state-", Ckpt.MANAGER_DEFAULT_KEEP_TOTAL, true);
    check (m2.get_root ().equal (root), "new: root");
    check (m2.get_prefix () == "state-" && m2.get_keep_total () == 5 && m2.get_keep_first (), "new: properties");
    var file = m2.get_file (12);
    check (file.get_path () == Path.build_filename (dir, "state-12"), "get_file: " + file.get_path ());

    var m3 = (Ckpt.Manager) Object.new (typeof (Ckpt.Manager), "root", root, "prefix", "r", "keep-total", 3);
    m3.init (null);
    check (m3.prefix == "r" && m3.keep_total == 3 && m3.keep_first, "Object.new + init");

    /* Construction never touches the disk. */
    var missing = Path.build_filename (dir, "not", "yet");
    new Ckpt.Manager.for_path (missing, "p_", 0, false);
    check (!FileUtils.test (missing, FileTest.EXISTS), "construction created the root");
}

void case_save_load () throws GLib.Error {
    var dir = make_tmp_dir ();
    var m = new Ckpt.Manager.for_path (dir, null, 0, true);
    var state = nested_state (3);
    check (m.save (state, 3), "save");
    check (listing (dir) == "ckpt_3", "listing: " + listing (dir));

    var any = m.load (null, 3);
    check (any.equal (state), "load(null): " + any.print (true));
    var typed = m.load (VariantType.VARDICT, 3, null);
    check (typed.equal (state), "load(a{sv})");
    check (typed.lookup_value ("name", VariantType.STRING).get_string () == "vala", "lookup");

    int64 big = (int64) 1 << 40;
    m.save (xd (big), big, null);
    int64 r;
    double d;
    m.load (new VariantType ("(xd)"), big, null).get ("(xd)", out r, out d);
    check (r == big && d == 0.5, "large round");
    check_rounds (m.list_rounds (), { 3, big }, "list_rounds");
}

void case_load_latest () throws GLib.Error {
    var dir = make_tmp_dir ();
    var m = new Ckpt.Manager.for_path (Path.build_filename (dir, "missing"), null, 0, true);
    int64 round_num = 42;
    var none = m.load_latest (null, out round_num);
    check (none == null && round_num == -1, "missing root: round %s".printf (round_num.to_string ()));

    foreach (int64 r in new int64[] { 1, 5, 3 })
        m.save (xd (r), r);
    var latest = m.load_latest (new VariantType ("(xd)"), out round_num, null);
    check (latest != null && round_num == 5, "round %s".printf (round_num.to_string ()));
    check (latest.equal (xd (5)), "state");
}

void case_load_latest_or_default () throws GLib.Error {
    var dir = make_tmp_dir ();
    var m = new Ckpt.Manager.for_path (dir, null, 3, true);
    var log = new SignalLog (m);
    int64 round_num;
    var state = m.load_latest_or_default (xd (0, 1.0), out round_num);
    check (round_num == 0 && state.equal (xd (0, 1.0)), "first run");
    check_rounds (log.saved, { 0 }, "saved");
    m.save (xd (1, 2.0), 1);
    state = m.load_latest_or_default (xd (0, 1.0), out round_num, null);
    check (round_num == 1 && state.equal (xd (1, 2.0)), "resumed");
    check_rounds (log.saved, { 0, 1 }, "no save on resume");
}

void case_list_rounds () throws GLib.Error {
    var dir = make_tmp_dir ();
    var m = new Ckpt.Manager.for_path (dir, null, 0, true);
    int64[] empty = m.list_rounds ();
    check (empty != null && empty.length == 0, "empty root");
    foreach (int64 r in new int64[] { 10, 2, 0, 33 })
        m.save (xd (r), r);
    foreach (unowned string name in new string[] { "ckpt_01", "ckpt_-1", "ckpt_1x", "ckpt_", "other_3" })
        FileUtils.set_contents (Path.build_filename (dir, name), "x");
    int64[] rounds = m.list_rounds ();
    check_rounds (rounds, { 0, 2, 10, 33 }, "rounds");
}

int64[] retention (int keep_total, bool keep_first, int64[] rounds) throws GLib.Error {
    var m = new Ckpt.Manager.for_path (make_tmp_dir (), null, keep_total, keep_first);
    foreach (var r in rounds)
        m.save (xd (r), r);
    return m.list_rounds ();
}

void case_retention () throws GLib.Error {
    check_rounds (retention (3, true, { 1, 2, 3, 4 }), { 1, 3, 4 }, "keep_total=3 keep_first");
    check_rounds (retention (3, false, { 1, 2, 3, 4 }), { 2, 3, 4 }, "keep_total=3");
    check_rounds (retention (0, false, { 1, 2, 3, 4, 5 }), { 1, 2, 3, 4, 5 }, "keep_total=0");
    check_rounds (retention (1, true, { 1, 2, 3 }), { 1, 3 }, "keep_total=1 keep_first");
}

void case_signals () throws GLib.Error {
    var dir = make_tmp_dir ();
    var m = new Ckpt.Manager.for_path (dir, "p", 3, true);
    var log = new SignalLog (m);
    for (int64 r = 1; r <= 3; r++)
        m.save (xd (r), r);
    log.events = {};
    m.save (xd (4), 4);
    var p2 = Path.build_filename (dir, "p2");
    var p4 = Path.build_filename (dir, "p4");
    check (log.text () == "saved 4 %s; pruned 2 %s".printf (p4, p2), "after round 4: " + log.text ());
    check_rounds (log.saved, { 1, 2, 3, 4 }, "saved");
    check_rounds (log.pruned, { 2 }, "pruned");

    /* corrupt: load fails, load_latest falls back. */
    damage (m.get_file (4));
    try {
        m.load (null, 4);
        check (false, "load of a damaged checkpoint succeeded");
    } catch (Ckpt.Error.CORRUPT e) {
        check (e.message.contains (p4), "message lacks the path: " + e.message);
    }
    check_rounds (log.corrupt, { 4 }, "corrupt from load");
    check (log.last_corrupt_error != null &&
           log.last_corrupt_error.matches (Ckpt.Error.quark (), Ckpt.Error.CORRUPT), "corrupt error argument");
    int64 round_num;
    var state = m.load_latest (null, out round_num);
    check (round_num == 3 && state.equal (xd (3)), "load_latest falls back");
    check_rounds (log.corrupt, { 4, 4 }, "corrupt from load_latest");

    /* Without verification the damage goes unnoticed. */
    m.verify = false;
    try {
        m.load (null, 4);
        check (log.corrupt.length == 2, "corrupt emitted without verification");
    } catch (GLib.Error e) {
        unexpected (e, "unverified load");
    }
    m.set_verify (true);

    damage (m.get_file (3));
    damage (m.get_file (1));
    try {
        m.load_latest (null, out round_num);
        check (false, "load_latest with all damaged succeeded");
    } catch (Ckpt.Error e) {
        check (e is Ckpt.Error.CORRUPT, "all damaged: code %d".printf (e.code));
    }
}

void case_errors () throws GLib.Error {
    var dir = make_tmp_dir ();
    var m = new Ckpt.Manager.for_path (dir, null, 0, true);

    try {
        m.load (null, 1);
        check (false, "NOT_FOUND not raised");
    } catch (Ckpt.Error.NOT_FOUND e) {
    }

    m.save (xd (1, 1.0), 1);
    try {
        m.save (xd (1, 9.0), 1);
        check (false, "EXISTS not raised");
    } catch (Ckpt.Error e) {
        check (e is Ckpt.Error.EXISTS, "EXISTS: code %d".printf (e.code));
        /* Ckpt.error_quark () is the same C function, deprecated in Vala in
         * favour of Ckpt.Error.quark () (a warning, fatal here). */
        check (e.domain == Ckpt.Error.quark (), "domain");
        check (e.matches (Ckpt.Error.quark (), Ckpt.Error.EXISTS), "matches");
        check (e.code == 1, "EXISTS == 1");
    }
    check (m.load (null, 1).equal (xd (1, 1.0)), "not replaced");

    try {
        m.load (new VariantType ("s"), 1);
        check (false, "TYPE_MISMATCH not raised");
    } catch (Ckpt.Error.TYPE_MISMATCH e) {
        check (e.message.contains ("(xd)"), "message: " + e.message);
    }
    try {
        int64 round_num;
        m.load_latest_or_default (new Variant.string ("x"), out round_num);
        check (false, "TYPE_MISMATCH not raised by load_latest_or_default");
    } catch (Ckpt.Error.TYPE_MISMATCH e) {
    }

    foreach (unowned string prefix in new string[] { "", "a/b", ".hidden", "run2" }) {
        try {
            new Ckpt.Manager.for_path (dir, prefix, 3, true);
            check (false, "prefix '%s' accepted".printf (prefix));
        } catch (Ckpt.Error.INVALID_ARGUMENT e) {
        }
    }
    try {
        m.save (xd (-1), -1);
        check (false, "negative round accepted");
    } catch (Ckpt.Error.INVALID_ARGUMENT e) {
    }

    /* A root that is a regular file: a GIO error naming it. */
    var path = Path.build_filename (dir, "ckpt_1");
    var bad = new Ckpt.Manager.for_path (path, null, 3, true);
    try {
        bad.save (xd (1), 1);
        check (false, "save into a regular file succeeded");
    } catch (IOError e) {
        check (e.message.contains (path), "message: " + e.message);
    }

    var c = new Cancellable ();
    c.cancel ();
    try {
        m.save (xd (2), 2, c);
        check (false, "cancelled save succeeded");
    } catch (IOError.CANCELLED e) {
    }
    check (listing (dir) == "ckpt_1", "listing: " + listing (dir));
}

void case_constants () {
    check (Ckpt.MANAGER_DEFAULT_PREFIX == "ckpt_", "MANAGER_DEFAULT_PREFIX");
    check (Ckpt.MANAGER_DEFAULT_KEEP_TOTAL == 5, "MANAGER_DEFAULT_KEEP_TOTAL");
    check (Ckpt.VERSION_S == "%d.%d.%d".printf (Ckpt.MAJOR_VERSION, Ckpt.MINOR_VERSION, Ckpt.MICRO_VERSION),
           "VERSION_S");
    check (Ckpt.Error.quark ().to_string () == "ckpt-error-quark", "quark");
    check (Ckpt.get_major_version () == Ckpt.MAJOR_VERSION &&
           Ckpt.get_minor_version () == Ckpt.MINOR_VERSION &&
           Ckpt.get_micro_version () == Ckpt.MICRO_VERSION, "run-time version");
    var failed = new Ckpt.Error.FAILED ("failed");
    check (failed.domain == Ckpt.Error.quark () && failed.code == 8, "Error.FAILED");
    check (typeof (Ckpt.QueryFlags).is_flags () && typeof (Ckpt.PruneFlags).is_flags (), "flags types");
    check (Ckpt.QueryFlags.NONE == 0 && Ckpt.PruneFlags.NONE == 0, "NONE flags");
}

/* The (satay) tensor encoding of the Python override: numpy's dtype string,
 * the shape, and the raw elements in C order. */
void case_tensor () throws GLib.Error {
    float[] values = { 1.5f, -2.0f, 3.25f, 0.0f, 1e-3f, 7.0f };
    unowned uint8[] raw = (uint8[]) values;
    raw.length = values.length * (int) sizeof (float);
    var tensor = new Variant.tuple ({
        new Variant.string ("<f4"),
        new Variant.array (VariantType.UINT64, { new Variant.uint64 (2), new Variant.uint64 (3) }),
        new Variant.from_bytes (VariantType.BYTESTRING, new Bytes (raw), true)
    });
    var state = new VariantBuilder (VariantType.VARDICT);
    state.add ("{sv}", "w", tensor);
    var m = new Ckpt.Manager.for_path (make_tmp_dir (), null, 3, true);
    m.save (state.end (), 1);

    var loaded = m.load (VariantType.VARDICT, 1).lookup_value ("w", new VariantType ("(satay)"));
    if (!check (loaded != null, "no tensor"))
        return;
    string dtype;
    Variant shape;
    Variant data;
    loaded.get ("(s@at@ay)", out dtype, out shape, out data);
    check (dtype == "<f4", "dtype " + dtype);
    check (shape.n_children () == 2 && shape.get_child_value (0).get_uint64 () == 2 &&
           shape.get_child_value (1).get_uint64 () == 3, "shape " + shape.print (false));
    var bytes = data.get_data_as_bytes ();
    var back = new float[bytes.get_size () / sizeof (float)];
    Memory.copy (back, bytes.get_data (), bytes.get_size ());
    check (back.length == 6, "length %d".printf (back.length));
    for (int i = 0; i < back.length && i < values.length; i++)
        check (back[i] == values[i], "element %d: %g".printf (i, back[i]));
}

/* ------------------------------------------------------------ async cases */

async void case_async_save_load () throws GLib.Error {
    var dir = make_tmp_dir ();
    var m = new Ckpt.Manager.for_path (Path.build_filename (dir, "sub"), null, 3, true);
    var log = new SignalLog (m);

    int64 round_num = 42;
    var none = yield m.load_latest_async (null, null, out round_num);
    check (none == null && round_num == -1, "load_latest_async, missing root");

    var state = yield m.load_latest_or_default_async (xd (0, 7.0), null, out round_num);
    check (round_num == 0 && state.equal (xd (0, 7.0)), "load_latest_or_default_async: default");
    check_rounds (log.saved, { 0 }, "saved for the default");

    var ok = yield m.save_async (nested_state (1), 1, null);
    check (ok, "save_async");
    check_rounds (log.saved, { 0, 1 }, "saved before the callback");

    var loaded = yield m.load_async (null, 1, null);
    check (loaded.equal (nested_state (1)), "load_async");

    yield m.save_async (xd (2, 8.0), 2, null);
    var latest = yield m.load_latest_async (new VariantType ("(xd)"), null, out round_num);
    check (round_num == 2 && latest != null && latest.equal (xd (2, 8.0)), "load_latest_async");
    state = yield m.load_latest_or_default_async (xd (0, 7.0), null, out round_num);
    check (round_num == 2 && state.equal (xd (2, 8.0)), "load_latest_or_default_async resumes");

    int64[] rounds = yield m.list_rounds_async (null);
    check_rounds (rounds, { 0, 1, 2 }, "list_rounds_async");
    /* keep_total=3, keep_first: 0, 1, 2 then 3 prunes 1. */
    yield m.save_async (xd (3), 3, null);
    rounds = yield m.list_rounds_async (null);
    check_rounds (rounds, { 0, 2, 3 }, "list_rounds_async after pruning");
}

async void case_async_overlapping () throws GLib.Error {
    var dir = make_tmp_dir ();
    var m = new Ckpt.Manager.for_path (dir, null, 3, true);
    var log = new SignalLog (m);
    int64[] order = {};
    int pending = 6;
    SourceFunc resume = case_async_overlapping.callback;

    for (int64 i = 1; i <= 6; i++) {
        int64 r = i;
        m.save_async.begin (xd (r), r, null, (obj, res) => {
            try {
                if (((Ckpt.Manager) obj).save_async.end (res))
                    order += r;
            } catch (GLib.Error e) {
                unexpected (e, "save_async %s".printf (r.to_string ()));
            }
            if (--pending == 0)
                resume ();
        });
    }
    check (m.busy, "busy while saves are queued");
    yield;

    check_rounds (order, { 1, 2, 3, 4, 5, 6 }, "callback order");
    check_rounds (log.saved, { 1, 2, 3, 4, 5, 6 }, "saved order");
    check_rounds (log.pruned, { 2, 3, 4 }, "pruned order");
    check (listing (dir) == "ckpt_1 ckpt_5 ckpt_6", "listing: " + listing (dir));
}

/* Object (root: ...), no init (): works; a bad prefix is an error. */
async void case_object_new () throws GLib.Error {
    var dir = make_tmp_dir ();
    Ckpt.Manager m = Object.new (typeof (Ckpt.Manager), "root", File.new_for_path (dir),
                                 "keep-total", 0, "durable", false) as Ckpt.Manager;
    check (m.durable_storage, "durable-storage");
    check (yield m.save_async (xd (1), 1, null), "save_async");
    int64 round_num;
    var latest = yield m.load_latest_async (null, null, out round_num);
    check (round_num == 1 && latest != null && latest.equal (xd (1)), "load_latest_async");

    var bad = (Ckpt.Manager) Object.new (typeof (Ckpt.Manager), "root", File.new_for_path (dir),
                                         "prefix", ".hidden");
    check (bad.get_file (1) == null, "get_file of a bad manager");
    try {
        yield bad.save_async (xd (2), 2, null);
        check (false, "save_async with a bad prefix succeeded");
    } catch (Ckpt.Error.INVALID_ARGUMENT e) {
    }
    try {
        bad.init (null);
        check (false, "init with a bad prefix succeeded");
    } catch (Ckpt.Error.INVALID_ARGUMENT e) {
    }
    check (listing (dir) == "ckpt_1", "listing: " + listing (dir));
}

/* A damaged newest round: fall back, then delete it. */
async void case_recovery () throws GLib.Error {
    var dir = make_tmp_dir ();
    var m = new Ckpt.Manager.for_path (dir, null, 0, true);
    m.durable = false;
    var log = new SignalLog (m);
    for (int64 r = 0; r <= 2; r++)
        m.save (xd (r), r);
    damage (m.get_file (2));
    int64 round_num;
    m.load_latest_or_default (xd (0), out round_num);
    check (round_num == 1, "falls back to round 1");
    try {
        m.save (xd (2), 2);
        check (false, "save over a damaged round succeeded");
    } catch (Ckpt.Error.EXISTS e) {
        check ("is damaged" in e.message, "message: " + e.message);
    }
    check (m.delete (2), "delete");
    check_rounds (log.pruned, { 2 }, "pruned");
    m.save (xd (2), 2);
    check (yield m.delete_async (2, null), "delete_async");
    try {
        yield m.delete_async (2, null);
        check (false, "delete_async of a missing round succeeded");
    } catch (Ckpt.Error.NOT_FOUND e) {
    }
    check (listing (dir) == "ckpt_0 ckpt_1", "listing: " + listing (dir));
}

async void case_async_errors () throws GLib.Error {
    var dir = make_tmp_dir ();
    var m = new Ckpt.Manager.for_path (dir, null, 3, true);
    yield m.save_async (xd (1), 1, null);

    try {
        yield m.save_async (xd (1), 1, null);
        check (false, "save_async: EXISTS not raised");
    } catch (Ckpt.Error.EXISTS e) {
    }
    try {
        yield m.load_async (null, 2, null);
        check (false, "load_async: NOT_FOUND not raised");
    } catch (Ckpt.Error.NOT_FOUND e) {
    }
    try {
        int64 round_num;
        yield m.load_latest_async (new VariantType ("s"), null, out round_num);
        check (false, "load_latest_async: TYPE_MISMATCH not raised");
    } catch (Ckpt.Error.TYPE_MISMATCH e) {
    }
    try {
        yield m.save_async (xd (0), -1, null);
        check (false, "save_async: INVALID_ARGUMENT not raised");
    } catch (Ckpt.Error.INVALID_ARGUMENT e) {
    }

    var c = new Cancellable ();
    c.cancel ();
    try {
        yield m.save_async (xd (2), 2, c);
        check (false, "save_async: not cancelled");
    } catch (IOError.CANCELLED e) {
    }
    try {
        yield m.list_rounds_async (c);
        check (false, "list_rounds_async: not cancelled");
    } catch (IOError.CANCELLED e) {
    }
    try {
        yield m.load_async (null, 1, c);
        check (false, "load_async: not cancelled");
    } catch (GLib.Error e) {
        check (e is IOError.CANCELLED, "load_async: %s".printf (e.message));
    }
    check (listing (dir) == "ckpt_1", "disk as before: " + listing (dir));
}

async void case_async_busy () throws GLib.Error {
    var dir = make_tmp_dir ();
    var m = new Ckpt.Manager.for_path (dir, null, 3, true);
    string seen = "";
    m.notify["busy"].connect (() => { seen += m.get_busy () ? "T" : "F"; });
    yield m.save_async (xd (1), 1, null);
    Idle.add (case_async_busy.callback, Priority.LOW);
    yield;
    check (seen == "TF", "notify::busy: " + seen);
    check (!m.get_busy (), "idle again");
}

async void case_save_full () throws GLib.Error {
    var m = new Ckpt.Manager.for_path (make_tmp_dir (), null, 3, true);
    var builder = new VariantBuilder (VariantType.VARDICT);
    builder.add ("{sv}", "python-types", new Variant.string ("nt"));
    var meta = builder.end ();
    check (m.save_full (xd (1), 1, meta), "save_full");
    var info = m.query_info (1, Ckpt.QueryFlags.NONE);
    check (info.get_metadata ().lookup_value ("python-types", VariantType.STRING).get_string () == "nt",
           "save_full: metadata entry");
    check (m.load (null, 1).equal (xd (1)), "save_full: state");
    check (yield m.save_full_async (xd (2), 2, meta, null), "save_full_async");
    info = m.query_info (2, Ckpt.QueryFlags.NONE);
    check (info.get_metadata ().lookup_value ("python-types", VariantType.STRING).get_string () == "nt",
           "save_full_async: metadata entry");
    check (yield m.save_full_async (xd (3), 3, null, null), "save_full_async without metadata");
    check (m.query_info (3, Ckpt.QueryFlags.NONE).get_metadata ().lookup_value ("python-types", null) == null,
           "save_full_async: no metadata entry");
}

void case_query_info_prune () throws GLib.Error {
    var dir = make_tmp_dir ();
    var m = new Ckpt.Manager.for_path (dir, null, 0, true);
    foreach (int64 r in new int64[] { 1, 2, 3, 4 })
        m.save (xd (r), r);

    Ckpt.Info info = m.query_info (3, Ckpt.QueryFlags.VERIFY);
    check (info.get_round () == 3, "round");
    check (info.get_state_type ().dup_string () == "(xd)", "state type");
    check (info.get_state_type_string () == "(xd)", "state type string");
    check (info.get_state_size () == 16 && info.get_size () > 16, "sizes");
    check (info.get_format_version () == 1 && info.get_verified (), "version, verified");
    check (info.get_metadata ().lookup_value ("ckpt-glib-version", VariantType.STRING).get_string ()
           == Ckpt.VERSION_S, "metadata");
    check (new DateTime.now_utc ().difference (info.get_creation_time ()) >= 0, "creation time");
    check_info_properties (info, 3, true);
    check (!m.query_info (3, Ckpt.QueryFlags.NONE).verified, "QueryFlags.NONE does not verify");
    try {
        m.query_info (9, Ckpt.QueryFlags.NONE);
        check (false, "query_info of a missing round");
    } catch (Ckpt.Error.NOT_FOUND e) {
    }

    m.keep_total = 2;
    string pruned = "";
    m.pruned.connect ((r, f) => { pruned += r.to_string () + " "; });
    check_rounds (m.prune (Ckpt.PruneFlags.DRY_RUN), { 2, 3 }, "dry run");
    check (pruned == "" && listing (dir) == "ckpt_1 ckpt_2 ckpt_3 ckpt_4", "dry run deletes nothing");
    check_rounds (m.prune (Ckpt.PruneFlags.NONE), { 2, 3 }, "prune");
    check (pruned == "2 3 " && listing (dir) == "ckpt_1 ckpt_4", "pruned: " + pruned + "; " + listing (dir));
}

/* The properties of a Ckpt.Info, as Vala properties and through
 * GLib.Object.get (), against its getters. */
void check_info_properties (Ckpt.Info info, int64 round, bool verified) {
    check (info.round == round && info.round == info.get_round (), "round property");
    check (info.size == info.get_size () && info.state_size == info.get_state_size (), "size properties");
    check (info.state_type == info.get_state_type ().dup_string (), "state-type property: " + info.state_type);
    check (info.creation_time.equal (info.get_creation_time ()), "creation-time property");
    check (info.creation_time.get_utc_offset () == 0, "creation-time in UTC");
    check (info.metadata.equal (info.get_metadata ()), "metadata property");
    check (info.metadata.is_of_type (VariantType.VARDICT), "metadata a{sv}");
    check (info.format_version == 1, "format-version property");
    check (info.verified == verified, "verified property");

    int64 r = -1;
    string type = null;
    DateTime time = null;
    Variant metadata = null;
    uint64 size = 0;
    bool v = !verified;
    info.get ("round", out r, "state-type", out type, "creation-time", out time,
              "metadata", out metadata, "size", out size, "verified", out v);
    check (r == round && type == info.state_type && time.equal (info.creation_time) &&
           metadata.equal (info.metadata) && size == info.size && v == verified, "Object.get ()");
    var pspec = info.get_class ().find_property ("state-size");
    check (pspec != null && (pspec.flags & ParamFlags.WRITABLE) == 0, "read-only properties");
}

async void case_async_query_info_prune () throws GLib.Error {
    var dir = make_tmp_dir ();
    var m = new Ckpt.Manager.for_path (dir, null, 0, true);
    foreach (int64 r in new int64[] { 1, 2, 3, 4 })
        yield m.save_async (xd (r), r, null);

    var info = yield m.query_info_async (2, Ckpt.QueryFlags.VERIFY, null);
    check_info_properties (info, 2, true);
    info = yield m.query_info_async (2, Ckpt.QueryFlags.NONE, null);
    check (!info.verified, "query_info_async without VERIFY");
    try {
        yield m.query_info_async (9, Ckpt.QueryFlags.NONE, null);
        check (false, "query_info_async of a missing round");
    } catch (Ckpt.Error.NOT_FOUND e) {
    }

    m.keep_total = 2;
    string pruned = "";
    m.pruned.connect ((r, f) => { pruned += r.to_string () + " "; });
    check_rounds (yield m.prune_async (Ckpt.PruneFlags.DRY_RUN, null), { 2, 3 }, "prune_async dry run");
    check (pruned == "" && listing (dir) == "ckpt_1 ckpt_2 ckpt_3 ckpt_4", "async dry run deletes nothing");
    check_rounds (yield m.prune_async (Ckpt.PruneFlags.NONE, null), { 2, 3 }, "prune_async");
    check (pruned == "2 3 " && listing (dir) == "ckpt_1 ckpt_4", "pruned_async: " + pruned + "; " + listing (dir));
}

async void run_cases () {
    begin_case ("query_info and prune");
    try { case_query_info_prune (); } catch (GLib.Error e) { unexpected (e, "query_info/prune"); }
    end_case ();

    begin_case ("construction: Manager.for_path, Manager, Object.new + init");
    try { case_construction (); } catch (GLib.Error e) { unexpected (e, "construction"); }
    end_case ();

    begin_case ("save and load a nested state");
    try { case_save_load (); } catch (GLib.Error e) { unexpected (e, "save/load"); }
    end_case ();

    begin_case ("load_latest with an out round");
    try { case_load_latest (); } catch (GLib.Error e) { unexpected (e, "load_latest"); }
    end_case ();

    begin_case ("load_latest_or_default");
    try { case_load_latest_or_default (); } catch (GLib.Error e) { unexpected (e, "load_latest_or_default"); }
    end_case ();

    begin_case ("list_rounds as int64[]");
    try { case_list_rounds (); } catch (GLib.Error e) { unexpected (e, "list_rounds"); }
    end_case ();

    begin_case ("retention listings");
    try { case_retention (); } catch (GLib.Error e) { unexpected (e, "retention"); }
    end_case ();

    begin_case ("saved, pruned and corrupt signals");
    try { case_signals (); } catch (GLib.Error e) { unexpected (e, "signals"); }
    end_case ();

    begin_case ("errors: Ckpt.Error codes, IOError, cancellation");
    try { case_errors (); } catch (GLib.Error e) { unexpected (e, "errors"); }
    end_case ();

    begin_case ("the (satay) tensor encoding");
    try { case_tensor (); } catch (GLib.Error e) { unexpected (e, "tensor"); }
    end_case ();

    begin_case ("constants and the error quark");
    case_constants ();
    end_case ();

    begin_case ("async: yield save/load/load_latest/load_latest_or_default/list_rounds");
    try { yield case_async_save_load (); } catch (GLib.Error e) { unexpected (e, "async"); }
    end_case ();

    begin_case ("async: overlapping saves complete in call order");
    try { yield case_async_overlapping (); } catch (GLib.Error e) { unexpected (e, "overlapping"); }
    end_case ();

    begin_case ("async: errors and cancellation");
    try { yield case_async_errors (); } catch (GLib.Error e) { unexpected (e, "async errors"); }
    end_case ();

    begin_case ("save_full and save_full_async: metadata in the header");
    try { yield case_save_full (); } catch (GLib.Error e) { unexpected (e, "save_full"); }
    begin_case ("async: query_info_async and prune_async with flags");
    try { yield case_async_query_info_prune (); } catch (GLib.Error e) { unexpected (e, "async query_info/prune"); }
    end_case ();

    begin_case ("Object (root: ...) without init (), and a bad prefix");
    try { yield case_object_new (); } catch (GLib.Error e) { unexpected (e, "object new"); }
    end_case ();

    begin_case ("recovery: delete and delete_async a damaged round");
    try { yield case_recovery (); } catch (GLib.Error e) { unexpected (e, "recovery"); }
    end_case ();

    begin_case ("async: busy notifications");
    try { yield case_async_busy (); } catch (GLib.Error e) { unexpected (e, "busy"); }
    end_case ();
}

int main (string[] args) {
    tmp_dirs = {};
    var loop = new MainLoop (null, false);
    run_cases.begin ((obj, res) => {
        run_cases.end (res);
        loop.quit ();
    });
    loop.run ();

    print ("1..%d\n", n_cases);
    foreach (unowned string dir in tmp_dirs)
        rm_tree (dir);
    if (n_failed > 0)
        print ("# %d of %d failed\n", n_failed, n_cases);
    return n_failed > 0 ? 1 : 0;
}
