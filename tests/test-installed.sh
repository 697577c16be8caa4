#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Installs the build into a scratch DESTDIR and builds a program outside the
# tree against the installed headers and ckpt-glib-1.0.pc, links it against
# the installed library and runs it.
#
# Usage: test-installed.sh SOURCE_ROOT BUILD_ROOT
# Exit status: 0 pass, 1 fail, 77 skip (meson's convention).

set -u

src_root=${1:?usage: $0 SOURCE_ROOT BUILD_ROOT}
build_root=${2:?usage: $0 SOURCE_ROOT BUILD_ROOT}

cc=${CC:-cc}
pkg_config=${PKG_CONFIG:-pkg-config}

echo "1..1"

skip () {
  echo "ok 1 # SKIP $*"
  exit 77
}

fail () {
  echo "not ok 1 - $*"
  exit 1
}

command -v meson >/dev/null 2>&1 || skip "meson not found"
command -v "$cc" >/dev/null 2>&1 || skip "no C compiler ($cc)"
command -v "$pkg_config" >/dev/null 2>&1 || skip "pkg-config not found"
[ -d "$src_root" ] || fail "no source root $src_root"
[ -d "$build_root" ] || fail "no build root $build_root"

work=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-installed-XXXXXX") || fail "mktemp"
trap 'rm -rf "$work"' EXIT
destdir="$work/dest"

# 1. Install into the scratch DESTDIR.
if ! meson install -C "$build_root" --destdir "$destdir" --quiet >"$work/install.log" 2>&1; then
  sed 's/^/# /' "$work/install.log"
  fail "meson install --destdir failed"
fi

# 2. Find the installed .pc and rewrite its prefix into the DESTDIR
#    (--define-prefix does not understand multiarch lib/<triplet>/pkgconfig).
pc=$(find "$destdir" -name 'ckpt-glib-1.0.pc' -print -quit)
[ -n "$pc" ] || fail "ckpt-glib-1.0.pc not installed"
orig_prefix=$(sed -n 's/^prefix=//p' "$pc" | head -n 1)
[ -n "$orig_prefix" ] || fail "no prefix= in $pc"
mkdir -p "$work/pkgconfig"
sed "s|^prefix=.*|prefix=${destdir}${orig_prefix}|" "$pc" >"$work/pkgconfig/ckpt-glib-1.0.pc"

export PKG_CONFIG_PATH="$work/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
cflags=$("$pkg_config" --cflags ckpt-glib-1.0) || fail "pkg-config --cflags ckpt-glib-1.0"
libs=$("$pkg_config" --libs ckpt-glib-1.0) || fail "pkg-config --libs ckpt-glib-1.0"
libdir=$("$pkg_config" --variable=libdir ckpt-glib-1.0) || fail "pkg-config --variable=libdir"
echo "# cflags: $cflags"
echo "# libs: $libs"

case "$cflags" in
  *"$destdir"*) ;;
  *) fail "cflags do not point into the DESTDIR: $cflags" ;;
esac
[ -e "$libdir/libckpt-glib-1.0.so" ] || fail "no libckpt-glib-1.0.so in $libdir"
for h in ckpt-glib.h ckpt-version.h ckpt-enums.h ckpt-error.h ckpt-flags.h ckpt-info.h ckpt-manager.h ckpt-version-macros.h; do
  find "$destdir" -path "*/include/ckpt-glib-1.0/ckpt-glib/$h" | grep -q . \
    || fail "header $h not installed under include/ckpt-glib-1.0/ckpt-glib/"
done
if find "$destdir" -name '*-private.h' | grep -q .; then
  fail "private headers installed: $(find "$destdir" -name '*-private.h')"
fi

# 3. A program written only against the installed API.
cat >"$work/prog.c" <<'EOF'
#define CKPT_VERSION_MIN_REQUIRED CKPT_VERSION_1_0
#define CKPT_VERSION_MAX_ALLOWED CKPT_VERSION_1_0
#include <ckpt-glib/ckpt-glib.h>
#include <string.h>

#if !CKPT_CHECK_VERSION (1, 0, 0)
# error "CKPT_CHECK_VERSION (1, 0, 0) is false"
#endif
#if CKPT_CHECK_VERSION (CKPT_MAJOR_VERSION, CKPT_MINOR_VERSION, CKPT_MICRO_VERSION + 1)
# error "CKPT_CHECK_VERSION accepts a newer micro version"
#endif

#define CHECK(cond) \
  do { if (!(cond)) { g_printerr ("check failed: %s (line %d)\n", #cond, __LINE__); return 1; } } while (0)
#define CHECK_NO_ERROR(error) \
  do { if ((error) != NULL) { g_printerr ("unexpected error: %s (line %d)\n", (error)->message, __LINE__); return 1; } } while (0)

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CkptManager) mgr = NULL;
  g_autoptr(GVariant) latest = NULL;
  g_autoptr(GEnumClass) error_class = NULL;
  g_autofree gint64 *rounds = NULL;
  gsize n_rounds = 0;
  gint64 round_num = -2;
  gint64 r;

  if (argc != 2)
    return 2;

  mgr = ckpt_manager_new_for_path (argv[1], NULL, 3, TRUE, &error);
  CHECK_NO_ERROR (error);
  CHECK (CKPT_IS_MANAGER (mgr));
  CHECK (strcmp (ckpt_manager_get_prefix (mgr), CKPT_MANAGER_DEFAULT_PREFIX) == 0);

  for (r = 1; r <= 4; r++)
    {
      CHECK (ckpt_manager_save (mgr, g_variant_new ("(xad)", r, NULL), r, NULL, &error));
      CHECK_NO_ERROR (error);
    }

  rounds = ckpt_manager_list_rounds (mgr, &n_rounds, &error);
  CHECK_NO_ERROR (error);
  CHECK (n_rounds == 3);
  CHECK (rounds[0] == 1 && rounds[1] == 3 && rounds[2] == 4);

  latest = ckpt_manager_load_latest (mgr, G_VARIANT_TYPE ("(xad)"), &round_num, NULL, &error);
  CHECK_NO_ERROR (error);
  CHECK (latest != NULL);
  CHECK (round_num == 4);
  {
    gint64 stored = 0;

    g_variant_get_child (latest, 0, "x", &stored);
    CHECK (stored == 4);
  }

  CHECK (!ckpt_manager_save (mgr, g_variant_new ("(xad)", (gint64) 4, NULL), 4, NULL, &error));
  CHECK (g_error_matches (error, CKPT_ERROR, CKPT_ERROR_EXISTS));
  g_clear_error (&error);

  error_class = g_type_class_ref (CKPT_TYPE_ERROR);
  CHECK (g_enum_get_value (error_class, CKPT_ERROR_CORRUPT) != NULL);
  CHECK (g_enum_get_value (error_class, CKPT_ERROR_FAILED) != NULL);

  {
    g_autoptr(CkptInfo) info = ckpt_manager_query_info (mgr, 4, CKPT_QUERY_VERIFY, NULL, &error);
    gint64 info_round = -1;

    CHECK_NO_ERROR (error);
    CHECK (G_IS_OBJECT (info));
    g_object_get (info, "round", &info_round, NULL);
    CHECK (info_round == 4 && ckpt_info_get_verified (info));
  }
  CHECK (G_TYPE_IS_FLAGS (CKPT_TYPE_PRUNE_FLAGS) && G_TYPE_IS_FLAGS (CKPT_TYPE_QUERY_FLAGS));
  CHECK (ckpt_get_major_version () == CKPT_MAJOR_VERSION);
  CHECK (ckpt_get_minor_version () == CKPT_MINOR_VERSION);
  CHECK (ckpt_get_micro_version () == CKPT_MICRO_VERSION);

  CHECK (ckpt_manager_get_keep_first (mgr));
  CHECK (ckpt_manager_get_keep_total (mgr) == 3);

  return 0;
}
EOF

# shellcheck disable=SC2086
if ! "$cc" -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
     -o "$work/prog" "$work/prog.c" $cflags $libs >"$work/cc.log" 2>&1; then
  sed 's/^/# /' "$work/cc.log"
  fail "compiling against the installed headers failed"
fi

# Only <ckpt-glib/ckpt-glib.h> may be included directly.
cat >"$work/direct.c" <<'EOF'
#include <ckpt-glib/ckpt-manager.h>
int main (void) { return 0; }
EOF
# shellcheck disable=SC2086
if "$cc" -c -o "$work/direct.o" "$work/direct.c" $cflags >/dev/null 2>&1; then
  fail "including <ckpt-glib/ckpt-manager.h> directly compiles"
fi

# The version macros: CKPT_VERSION_MAX_ALLOWED older than
# CKPT_VERSION_MIN_REQUIRED, or a CKPT_VERSION_MIN_REQUIRED older than 1.0,
# is an error; a symbol deprecated in 1.0 warns once 1.0 is the minimum,
# and not with CKPT_DISABLE_DEPRECATION_WARNINGS.
cat >"$work/versions.c" <<'EOF'
#include <ckpt-glib/ckpt-glib.h>
CKPT_DEPRECATED_IN_1_0_FOR (ckpt_get_major_version) int old_call (void);
int main (void) { return old_call (); }
EOF
for defs in "-DCKPT_VERSION_MIN_REQUIRED=CKPT_VERSION_1_0 -DCKPT_VERSION_MAX_ALLOWED=0" \
            "-DCKPT_VERSION_MIN_REQUIRED=0"; do
  # shellcheck disable=SC2086
  if "$cc" -std=gnu11 -c -o "$work/versions.o" "$work/versions.c" $defs $cflags >/dev/null 2>&1; then
    fail "the version checks accept $defs"
  fi
done
# shellcheck disable=SC2086
if "$cc" -std=gnu11 -Werror=deprecated-declarations -c -o "$work/versions.o" "$work/versions.c" \
     $cflags >"$work/versions.log" 2>&1; then
  fail "a symbol marked CKPT_DEPRECATED_IN_1_0_FOR does not warn"
fi
grep -q "ckpt_get_major_version" "$work/versions.log" \
  || fail "the deprecation warning does not name the replacement: $(cat "$work/versions.log")"
# shellcheck disable=SC2086
if ! "$cc" -std=gnu11 -Werror=deprecated-declarations -DCKPT_DISABLE_DEPRECATION_WARNINGS \
     -c -o "$work/versions.o" "$work/versions.c" $cflags >"$work/versions.log" 2>&1; then
  sed 's/^/# /' "$work/versions.log"
  fail "CKPT_DISABLE_DEPRECATION_WARNINGS does not silence a deprecation"
fi

# 4. Run it against the installed library.
if command -v ldd >/dev/null 2>&1; then
  resolved=$(LD_LIBRARY_PATH="$libdir" ldd "$work/prog" | grep 'libckpt-glib-1.0')
  case "$resolved" in
    *"$destdir"*) ;;
    *) fail "the program does not use the installed library: $resolved" ;;
  esac
fi

root="$work/checkpoints"
if ! output=$(LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$work/prog" "$root" 2>&1); then
  echo "$output" | sed 's/^/# /'
  fail "the installed-API program failed"
fi

# Nothing but the checkpoints in the directory (no temp or lock files).
listing=$(cd "$root" && LC_ALL=C ls -A | tr '\n' ' ' | sed 's/ $//')
[ "$listing" = "ckpt_1 ckpt_3 ckpt_4" ] || fail "unexpected directory listing: '$listing'"

echo "ok 1 - program built with pkg-config ckpt-glib-1.0 against the installed tree works"
exit 0
