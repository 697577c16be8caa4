#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Installs the build into a scratch DESTDIR and uses the bindings the way
# their users do, with nothing but that tree in the environment:
#   1. a Vala program built with `valac --pkg ckpt-glib-1.0`,
#   2. the same program built by a Meson project with
#      dependency('ckpt-glib-1.0'),
#   3. a GJS script (gi://Ckpt, the installed typelib),
#   4. a Python script through the installed PyGObject override,
#   5. every `[Version (since = ...)]` of the installed VAPI is at most the
#      version of the installed .pc (valac refuses a symbol otherwise).
# Each program runs under `env -i`: no path of the build or source tree is
# visible to it, and each checks that what it loaded is the installed copy.
#
# Usage: test-installed-bindings.sh SOURCE_ROOT BUILD_ROOT [GIR [VAPI]]
# GIR and VAPI are "yes" (the default) when the build makes the typelib and
# the VAPI, "no" when it does not (-Dintrospection=disabled, -Dvapi=disabled):
# the tests that need them are then skipped instead of failing.
# Exit status: 0 pass, 1 fail (TAP on standard output).

set -u

src_root=${1:?usage: $0 SOURCE_ROOT BUILD_ROOT [GIR [VAPI]]}
build_root=${2:?usage: $0 SOURCE_ROOT BUILD_ROOT [GIR [VAPI]]}
built_gir=${3:-yes}
built_vapi=${4:-yes}

pkg_config=${PKG_CONFIG:-pkg-config}
python3=/usr/bin/python3

echo "1..5"

failed=0
ok () { echo "ok $1 - $2"; }
not_ok () { echo "not ok $1 - $2"; failed=1; }
skip () { echo "ok $1 # SKIP $2"; }
# Aborts the whole script (setup failed): every test fails.
bail () {
  echo "Bail out! $*"
  exit 1
}
# The log of a failed step, as TAP comments.
show () { sed 's/^/# /' "$1"; }

command -v meson >/dev/null 2>&1 || bail "meson not found"
command -v "$pkg_config" >/dev/null 2>&1 || bail "pkg-config not found"
[ -d "$src_root" ] || bail "no source root $src_root"
[ -d "$build_root" ] || bail "no build root $build_root"

work=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-installed-bindings-XXXXXX") || bail "mktemp"
trap 'rm -rf "$work"' EXIT
destdir="$work/dest"
mkdir -p "$work/home" "$work/tmp"

# Install into the scratch DESTDIR.
if ! meson install -C "$build_root" --destdir "$destdir" --quiet >"$work/install.log" 2>&1; then
  show "$work/install.log"
  bail "meson install --destdir failed"
fi

# The installed .pc with its prefix rewritten into the DESTDIR, as in
# test-installed.sh.
pc=$(find "$destdir" -name 'ckpt-glib-1.0.pc' -print -quit)
[ -n "$pc" ] || bail "ckpt-glib-1.0.pc not installed"
orig_prefix=$(sed -n 's/^prefix=//p' "$pc" | head -n 1)
[ -n "$orig_prefix" ] || bail "no prefix= in $pc"
prefix="$destdir$orig_prefix"
mkdir -p "$work/pkgconfig"
sed "s|^prefix=.*|prefix=${prefix}|" "$pc" >"$work/pkgconfig/ckpt-glib-1.0.pc"

pc_version=$(PKG_CONFIG_PATH="$work/pkgconfig" "$pkg_config" --modversion ckpt-glib-1.0) \
  || bail "pkg-config --modversion ckpt-glib-1.0"
libdir=$(PKG_CONFIG_PATH="$work/pkgconfig" "$pkg_config" --variable=libdir ckpt-glib-1.0) \
  || bail "pkg-config --variable=libdir ckpt-glib-1.0"
echo "# installed ckpt-glib-1.0 $pc_version under $prefix"

typelib=$(find "$destdir" -name 'Ckpt-1.0.typelib' -print -quit)
vapi=$(find "$destdir" -name 'ckpt-glib-1.0.vapi' -print -quit)
override=$(find "$destdir" -path '*/gi/overrides/Ckpt.py' -print -quit)

# The environment of a user of the prefix, and nothing else: `env -i`, the
# system PATH, and the prefix's directories.
user_env=(
  env -i
  PATH=/usr/local/bin:/usr/bin:/bin
  HOME="$work/home"
  TMPDIR="$work/tmp"
  LANG=C.UTF-8
  GIO_USE_VFS=local
  PKG_CONFIG_PATH="$work/pkgconfig"
  LD_LIBRARY_PATH="$libdir"
  XDG_DATA_DIRS="$prefix/share:/usr/share"
  PYTHONDONTWRITEBYTECODE=1
)
if [ -n "$typelib" ]; then
  user_env+=(GI_TYPELIB_PATH="$(dirname "$typelib")")
fi
if [ -n "$override" ]; then
  # <pythondir>/gi/overrides/Ckpt.py: PYTHONPATH=<pythondir> (docs/python.md).
  user_env+=(PYTHONPATH="$(dirname "$(dirname "$(dirname "$override")")")")
fi
if [ -n "${CC:-}" ]; then
  user_env+=(CC="$CC")
fi

# Checks the output of a program: its version line and that every library
# it loaded is the installed one. $1: log file.
check_output () {
  grep -qx "version $pc_version" "$1" || { echo "# no 'version $pc_version' line"; return 1; }
  if grep -v "$destdir" "$1" | grep -q '^loaded '; then
    echo "# something was not loaded from the DESTDIR:"
    grep '^loaded ' "$1" | sed 's/^/#   /'
    return 1
  fi
  if grep -qF "$build_root" "$1" || grep -qF "$src_root/ckpt-glib" "$1"; then
    echo "# the build or source tree is visible:"
    show "$1"
    return 1
  fi
  return 0
}

# The Vala program of tests 1 and 2, written only against the installed VAPI.
cat >"$work/consumer.vala" <<'EOF'
// Exercises the installed VAPI: blocking and async calls, properties.
int failures = 0;

void check (bool ok, string what) {
    if (!ok) {
        printerr ("check failed: %s\n", what);
        failures++;
    }
}

async void exercise (Ckpt.Manager manager) throws GLib.Error {
    yield manager.save_async (new Variant.int64 (5), 5, null);
    int64 round;
    var latest = yield manager.load_latest_async (VariantType.INT64, null, out round);
    check (round == 5 && latest.get_int64 () == 5, "load_latest_async");
    int64[] rounds = yield manager.list_rounds_async (null);
    check (rounds.length == 3 && rounds[0] == 0 && rounds[2] == 5, "list_rounds_async");
}

int main (string[] args) {
    if (args.length != 2)
        return 2;
    print ("version %s\n", Ckpt.VERSION_S);
    try {
        var manager = new Ckpt.Manager.for_path (args[1], null, 3, true);

        int64 round;
        var builder = new VariantBuilder (VariantType.VARDICT);
        builder.add ("{sv}", "round", new Variant.int64 (0));
        var state = manager.load_latest_or_default (builder.end (), out round);
        check (round == 0 && state.lookup_value ("round", null).get_int64 () == 0,
               "load_latest_or_default, first run");
        for (int64 r = 1; r <= 4; r++)
            manager.save (new Variant.int64 (r), r);
        check (manager.load (VariantType.INT64, 3).get_int64 () == 3, "load");
        int64[] rounds = manager.list_rounds ();
        check (rounds.length == 3 && rounds[0] == 0 && rounds[1] == 3 && rounds[2] == 4,
               "retention keeps 0, 3, 4");

        // Made with properties, usable without init ().
        var by_props = (Ckpt.Manager) Object.new (typeof (Ckpt.Manager),
                                                  "root", File.new_for_path (args[1]),
                                                  "keep-total", 3);
        check (by_props.load_latest (null, out round) != null && round == 4,
               "manager made with properties");

        try {
            manager.save (new Variant.int64 (4), 4);
            check (false, "saving round 4 again");
        } catch (Ckpt.Error.EXISTS e) {
        }

        var loop = new MainLoop ();
        GLib.Error? async_error = null;
        exercise.begin (by_props, (obj, res) => {
            try {
                exercise.end (res);
            } catch (GLib.Error e) {
                async_error = e;
            }
            loop.quit ();
        });
        loop.run ();
        if (async_error != null)
            throw async_error;
    } catch (GLib.Error e) {
        printerr ("%s\n", e.message);
        return 1;
    }
    return failures == 0 ? 0 : 1;
}
EOF

# Runs a built Vala program and checks that it uses the installed library.
# $1: test number, $2: program, $3: description.
run_vala_program () {
  local n=$1 prog=$2 what=$3 resolved
  resolved=$("${user_env[@]}" ldd "$prog" 2>/dev/null | grep 'libckpt-glib-1.0')
  case "$resolved" in
    *"$destdir"*) ;;
    *) not_ok "$n" "$what: the program does not use the installed library: $resolved"; return ;;
  esac
  if ! "${user_env[@]}" "$prog" "$work/ckpt-$n" >"$work/run-$n.log" 2>&1; then
    show "$work/run-$n.log"
    not_ok "$n" "$what: the program failed"
    return
  fi
  if ! check_output "$work/run-$n.log"; then
    not_ok "$n" "$what: wrong output"
    return
  fi
  ok "$n" "$what"
}

# 1. valac --pkg ckpt-glib-1.0, the VAPI found through --vapidir.
if [ "$built_vapi" != yes ]; then
  skip 1 "the build makes no VAPI"
elif ! command -v valac >/dev/null 2>&1; then
  skip 1 "valac not found"
elif [ -z "$vapi" ]; then
  not_ok 1 "valac: ckpt-glib-1.0.vapi not installed"
else
  mkdir -p "$work/valac"
  if ! (cd "$work/valac" && "${user_env[@]}" valac --fatal-warnings \
          --vapidir "$(dirname "$vapi")" --pkg ckpt-glib-1.0 --pkg gio-2.0 \
          -o consumer "$work/consumer.vala") >"$work/valac.log" 2>&1; then
    show "$work/valac.log"
    not_ok 1 "valac --pkg ckpt-glib-1.0 against the installed VAPI failed"
  else
    run_vala_program 1 "$work/valac/consumer" "valac --pkg ckpt-glib-1.0 --pkg gio-2.0"
  fi
fi

# 2. A Meson project with dependency('ckpt-glib-1.0'); valac finds the VAPI
#    through XDG_DATA_DIRS (<prefix>/share/vala/vapi).
if [ "$built_vapi" != yes ]; then
  skip 2 "the build makes no VAPI"
elif ! command -v valac >/dev/null 2>&1; then
  skip 2 "valac not found"
elif [ -z "$vapi" ]; then
  not_ok 2 "meson: ckpt-glib-1.0.vapi not installed"
else
  mkdir -p "$work/project"
  cp "$work/consumer.vala" "$work/project/"
  cat >"$work/project/meson.build" <<'EOF'
project('consumer', 'vala', 'c')
executable('consumer', 'consumer.vala',
  dependencies: [dependency('glib-2.0'), dependency('gobject-2.0'),
                 dependency('gio-2.0'), dependency('ckpt-glib-1.0')],
  vala_args: ['--fatal-warnings'])
EOF
  if ! "${user_env[@]}" meson setup "$work/project/_build" "$work/project" >"$work/meson.log" 2>&1 \
     || ! "${user_env[@]}" meson compile -C "$work/project/_build" >>"$work/meson.log" 2>&1; then
    show "$work/meson.log"
    not_ok 2 "a Meson project with dependency('ckpt-glib-1.0') failed to build"
  else
    run_vala_program 2 "$work/project/_build/consumer" "meson dependency('ckpt-glib-1.0') with Vala"
  fi
fi

# 3. GJS.
if [ "$built_gir" != yes ]; then
  skip 3 "the build makes no typelib"
elif ! command -v gjs >/dev/null 2>&1; then
  skip 3 "gjs not found"
elif [ -z "$typelib" ]; then
  not_ok 3 "gjs: Ckpt-1.0.typelib not installed"
else
  cat >"$work/consumer.js" <<'EOF'
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GIRepository from 'gi://GIRepository';
import Ckpt from 'gi://Ckpt?version=1.0';
import System from 'system';

Gio._promisify(Ckpt.Manager.prototype, 'save_async', 'save_finish');
Gio._promisify(Ckpt.Manager.prototype, 'load_latest_async', 'load_latest_finish');

function check(ok, what) {
    if (!ok)
        throw new Error(`check failed: ${what}`);
}

print(`version ${Ckpt.VERSION_S}`);
print(`loaded ${GIRepository.Repository.get_default().get_typelib_path('Ckpt')}`);

const root = Gio.File.new_for_path(ARGV[0]);
// Properties only, no init().
const manager = new Ckpt.Manager({root, keep_total: 3});

const [first, firstRound] = manager.load_latest_or_default(
    new GLib.Variant('a{sv}', {round: new GLib.Variant('x', 0)}), null);
check(firstRound === 0 && first.recursiveUnpack().round === 0, 'load_latest_or_default');
for (let r = 1; r <= 4; r++)
    manager.save(new GLib.Variant('x', r), r, null);
check(manager.load(new GLib.VariantType('x'), 3, null).unpack() === 3, 'load');
check(JSON.stringify(manager.list_rounds()) === '[0,3,4]', 'list_rounds');

const loop = new GLib.MainLoop(null, false);
let failure = null;
(async () => {
    await manager.save_async(new GLib.Variant('x', 5), 5, null);
    const [latest, round] = await manager.load_latest_async(null, null);
    check(round === 5 && latest.unpack() === 5, 'load_latest_async');
})().catch(e => {
    failure = e;
}).finally(() => loop.quit());
loop.run();
if (failure) {
    printerr(failure);
    System.exit(1);
}
EOF
  if ! "${user_env[@]}" gjs -m "$work/consumer.js" "$work/ckpt-3" >"$work/run-3.log" 2>&1; then
    show "$work/run-3.log"
    not_ok 3 "the GJS script failed"
  elif ! check_output "$work/run-3.log"; then
    not_ok 3 "GJS: wrong output"
  else
    ok 3 "GJS script against the installed typelib, new Ckpt.Manager({root}) without init()"
  fi
fi

# 4. Python through the installed override.
if [ "$built_gir" != yes ]; then
  skip 4 "the build makes no typelib"
elif [ ! -x "$python3" ]; then
  skip 4 "$python3 not found"
elif ! "$python3" -c 'import gi' >/dev/null 2>&1; then
  skip 4 "python3-gi not installed"
elif [ -z "$typelib" ]; then
  not_ok 4 "python: Ckpt-1.0.typelib not installed"
elif [ -z "$override" ]; then
  not_ok 4 "python: gi/overrides/Ckpt.py not installed"
else
  cat >"$work/consumer.py" <<'EOF'
import sys

import gi
gi.require_version('Ckpt', '1.0')
gi.require_version('GIRepository', '2.0')
from gi.repository import Ckpt, GIRepository, GLib

print('version', Ckpt.VERSION_S)
print('loaded', GIRepository.Repository.get_default().get_typelib_path('Ckpt'))
# The override is in use, and it is the installed file.
assert Ckpt.Manager.__module__ == 'gi.overrides.Ckpt', Ckpt.Manager.__module__
print('loaded', sys.modules['gi.overrides.Ckpt'].__file__)

mgr = Ckpt.Manager(root=sys.argv[1], keep_total=3)
state, round_num = mgr.load_latest_or_default({'round': 0, 'name': 'py'})
assert round_num == 0 and state == {'round': 0, 'name': 'py'}, (state, round_num)
for r in range(1, 5):
    mgr.save({'round': r, 'weights': [0.5, float(r)]}, r)
value = mgr.load(3)
assert value['round'] == 3 and list(value['weights']) == [0.5, 3.0], value
assert mgr.list_rounds() == [0, 3, 4], mgr.list_rounds()

loop = GLib.MainLoop()
result = {}


def done(manager, res):
    try:
        result['value'] = manager.load_latest_finish(res)
    except Exception as e:  # noqa: BLE001 - reported below
        result['error'] = e
    loop.quit()


mgr.load_latest_async(None, None, done)
loop.run()
assert 'error' not in result, result['error']
value, round_num = result['value']
assert round_num == 4 and value['round'] == 4, result
EOF
  if ! "${user_env[@]}" "$python3" "$work/consumer.py" "$work/ckpt-4" >"$work/run-4.log" 2>&1; then
    show "$work/run-4.log"
    not_ok 4 "the Python script failed"
  elif ! check_output "$work/run-4.log"; then
    not_ok 4 "Python: wrong output"
  else
    ok 4 "Python script through the installed override"
  fi
fi

# 5. The VAPI's since versions against the package version.
if [ "$built_vapi" != yes ]; then
  skip 5 "the build makes no VAPI"
elif [ -z "$vapi" ]; then
  not_ok 5 "ckpt-glib-1.0.vapi not installed"
else
  too_new=""
  while read -r since; do
    PKG_CONFIG_PATH="$work/pkgconfig" "$pkg_config" --atleast-version="$since" ckpt-glib-1.0 \
      || too_new="$too_new $since"
  done < <(grep -o 'since = "[^"]*"' "$vapi" | sed 's/since = "\(.*\)"/\1/' | sort -u)
  if [ -n "$too_new" ]; then
    not_ok 5 "the VAPI has symbols since$too_new, newer than the package version $pc_version"
  elif ! grep -q 'since = "' "$vapi"; then
    not_ok 5 "the VAPI has no [Version (since = ...)] at all (Since: annotations lost?)"
  else
    ok 5 "every since version of the VAPI is at most $pc_version"
  fi
fi

exit $failed
