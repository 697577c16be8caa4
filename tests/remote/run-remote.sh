#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs test-remote against real servers on loopback: OpenSSH's sshd (sftp)
# and lighttpd's mod_webdav (WebDAV), reached through GVfs daemons on a
# private D-Bus session bus, and mounted non-interactively with `gio mount`.
#
#   run-remote.sh [--tap] [--each PREFIX] PROGRAM [ARGS…]
#
# With --each, PROGRAM is a GTest program whose cases under PREFIX run one
# process each (see run_each).
#
# Everything lives in a scratch directory removed on exit: host and client
# keys, server configurations, logs, the served directories, and a private
# HOME and XDG_RUNTIME_DIR (so GVfs, gnome-keyring and ssh touch nothing of
# the real user's). The servers are stopped by their pid files on exit.
#
# ssh reads ~/.ssh/config from the password database, not from $HOME, so
# the host alias `ckpt-test` (port, key, no host key check, BatchMode) is
# given to ssh by a wrapper `ssh` first in PATH that passes `-F` with the
# scratch configuration; gvfsd-sftp runs `ssh` from PATH. With key
# authentication and BatchMode nothing is asked; `gio mount` gets
# /dev/null as stdin, so a question would fail the mount, never hang.
#
# GVfs's FUSE bridge is disabled (CKPT_REMOTE_FUSE=1 enables it, to run the
# tests through it instead).
#
# A missing program is a skip with the reason: with --tap (meson, TAP
# protocol) as a TAP plan `1..0 # SKIP …` and status 0, since meson counts
# a non-zero status of a TAP test as an error; without it, status 77.
# Anything failing once everything is installed is an error.
set -euo pipefail

tap=0
if [ "${1:-}" = "--tap" ]; then
  tap=1
  shift
fi
each=
if [ "${1:-}" = "--each" ]; then
  each=$2
  shift 2
fi

say () {
  echo "run-remote: $*" >&2
}

skip () {
  if [ $tap -eq 1 ]; then
    echo "1..0 # SKIP $*"
    exit 0
  fi
  say "SKIP: $*"
  exit 77
}

fail () {
  say "ERROR: $*"
  if [ $tap -eq 1 ]; then
    echo "Bail out! $*"
  fi
  exit 1
}

# gio mount, non-interactively: the answer to any question is end of file.
mount_all () {
  local uri
  for uri in "$CKPT_REMOTE_SFTP_MOUNT" "$CKPT_REMOTE_DAV_MOUNT"; do
    if ! timeout 60 gio mount "$uri" </dev/null >"$scratch/log/mount.log" 2>&1 &&
       ! grep -q 'already mounted' "$scratch/log/mount.log"; then
      cat "$scratch/log/mount.log" >&2
      fail "gio mount $uri failed (see the logs above)"
    fi
  done
}

unmount_all () {
  local uri
  for uri in "$CKPT_REMOTE_SFTP_MOUNT" "$CKPT_REMOTE_DAV_MOUNT"; do
    # --force: a back end stuck on a request still goes.
    timeout 10 gio mount --force -u "$uri" </dev/null >/dev/null 2>&1 || true
  done
}

# run_each PREFIX PROGRAM [ARGS…]: each GTest case under PREFIX in a process
# of its own and on fresh mounts, so that one that aborts, hangs or breaks
# a mount does not hide the results of the others; their TAP streams become
# one.
run_each () {
  local prefix=$1 n=0 failed=0 case line result bail status
  shift
  local cases
  cases=$("$@" -l -p "$prefix" | grep '^/') || fail "cannot list the tests of $1"
  for case in $cases; do
    n=$((n + 1))
    result=
    bail=
    status=0
    if [ $n -gt 1 ]; then
      unmount_all
      mount_all
    fi
    "$@" -p "$case" >"$scratch/run/case.tap" || status=$?
    while IFS= read -r line; do
      case $line in
        1..*) ;;
        "ok "*|"not ok "*) result=$line ;;
        "Bail out!"*) bail=${line#Bail out! }; echo "# $line" ;;
        "#"*) echo "$line" ;;
        *) echo "# $line" ;;
      esac
    done <"$scratch/run/case.tap"
    if [ -n "$result" ] && [ $status -eq 0 ]; then
      # "ok 1 /path…" → "ok N /path…"
      echo "$result" | sed -E "s/^(not )?ok [0-9]+/\\1ok $n/"
      case $result in "not ok"*) failed=1 ;; esac
    else
      echo "not ok $n $case # ${bail:-exited with status $status}"
      failed=1
    fi
  done
  echo "1..$n"
  return $failed
}

# --- Stage 2: inside the private session bus ------------------------------

if [ "${1:-}" = "--in-session" ]; then
  shift
  scratch=$1
  shift

  mount_all
  say "mounted $CKPT_REMOTE_SFTP_MOUNT and $CKPT_REMOTE_DAV_MOUNT"

  # The roots exist before the tests make theirs under them.
  gio mkdir -p "$CKPT_REMOTE_SFTP_URI" "$CKPT_REMOTE_DAV_URI" </dev/null ||
    fail "cannot create the remote test directories"

  status=0
  if [ -n "$each" ]; then
    run_each "$each" "$@" || status=$?
  else
    "$@" || status=$?
  fi

  unmount_all
  exit $status
fi

# --- Stage 1: servers ------------------------------------------------------

[ $# -ge 1 ] || { say "usage: run-remote.sh [--tap] [--each PREFIX] PROGRAM [ARGS…]"; exit 2; }

find_prog () {
  local name
  for name in "$@"; do
    if [ -x "$name" ]; then
      echo "$name"
      return 0
    fi
    if [[ $name != */* ]] && command -v "$name" >/dev/null 2>&1; then
      command -v "$name"
      return 0
    fi
  done
  return 1
}

sshd=$(find_prog sshd /usr/sbin/sshd) || skip "sshd not found (Debian: openssh-server)"
ssh=$(find_prog ssh /usr/bin/ssh) || skip "ssh not found (Debian: openssh-client)"
ssh_keygen=$(find_prog ssh-keygen) || skip "ssh-keygen not found (Debian: openssh-client)"
lighttpd=$(find_prog lighttpd /usr/sbin/lighttpd) || skip "lighttpd not found (Debian: lighttpd)"
dbus_run_session=$(find_prog dbus-run-session) || skip "dbus-run-session not found (Debian: dbus-bin)"
find_prog dbus-daemon >/dev/null || skip "dbus-daemon not found (Debian: dbus-daemon)"
find_prog gio >/dev/null || skip "gio not found (Debian: libglib2.0-bin)"
find_prog timeout >/dev/null || skip "timeout not found (Debian: coreutils)"
find_prog pgrep >/dev/null || skip "pgrep not found (Debian: procps)"
gvfsd=$(find_prog /usr/libexec/gvfsd /usr/lib/gvfs/gvfsd) ||
  skip "gvfsd not found (Debian: gvfs-daemons)"
gvfs_dir=$(dirname "$gvfsd")
[ -x "$gvfs_dir/gvfsd-sftp" ] || skip "gvfsd-sftp not found (Debian: gvfs-backends)"
[ -x "$gvfs_dir/gvfsd-dav" ] || skip "gvfsd-dav not found (Debian: gvfs-backends)"
gio_modules=$(pkg-config --variable=giomoduledir gio-2.0 2>/dev/null || true)
if [ -n "$gio_modules" ] && [ ! -e "$gio_modules/libgvfsdbus.so" ]; then
  skip "GIO's GVfs module $gio_modules/libgvfsdbus.so not found (Debian: gvfs)"
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-remote-XXXXXX")
chmod 700 "$scratch"
mkdir -p "$scratch"/{etc,log,run,bin,home/.ssh,sftp,dav}
chmod 700 "$scratch/run" "$scratch/home" "$scratch/home/.ssh"

cleanup () {
  local pidfile pid
  for pidfile in "$scratch"/run/*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile" 2>/dev/null || true)
    case $pid in
      ''|*[!0-9]*) continue ;;
    esac
    kill "$pid" 2>/dev/null || true
  done
  # The session processes of sshd have the listener as parent; they end
  # when gvfsd-sftp's ssh goes, but do not wait on it.
  sleep 0.2
  for pidfile in "$scratch"/run/*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile" 2>/dev/null || true)
    case $pid in
      ''|*[!0-9]*) continue ;;
    esac
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ "${CKPT_REMOTE_KEEP:-0}" = 1 ]; then
    say "kept $scratch"
  else
    rm -rf "$scratch"
  fi
}
trap cleanup EXIT

# kill_tree PID: PID and all its descendants, by pid.
kill_tree () {
  local child
  for child in $(pgrep -P "$1" 2>/dev/null); do
    kill_tree "$child"
  done
  kill "$1" 2>/dev/null || true
}

# On SIGTERM (meson's timeout) or ^C: stop the session and its tests, then
# clean up.
session_pid=
on_signal () {
  if [ -n "$session_pid" ]; then
    kill_tree "$session_pid"
  fi
  exit 143
}
trap on_signal TERM INT HUP

user=$(id -un)

# Whether something answers on 127.0.0.1:$1.
port_open () {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A port in 20000–59999 where nothing listens (another run may take it
# before the server does: the caller retries).
pick_port () {
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    port_open $port || { echo $port; return; }
  done
}

# wait_server NAME PID PORT: until PORT answers while PID lives.
wait_server () {
  local i
  for i in $(seq 100); do
    kill -0 "$2" 2>/dev/null || return 1
    port_open "$3" && return 0
    sleep 0.05
  done
  return 1
}

# sshd: a host key and a client key of their own; the client key is the
# only one authorized, for the current user. Root needs sshd's privilege
# separation directory.
"$ssh_keygen" -q -t ed25519 -N '' -f "$scratch/etc/ssh_host_key" </dev/null
"$ssh_keygen" -q -t ed25519 -N '' -f "$scratch/home/.ssh/id_ed25519" </dev/null
cp "$scratch/home/.ssh/id_ed25519.pub" "$scratch/etc/authorized_keys"
if [ "$(id -u)" -eq 0 ] && [ ! -d /run/sshd ]; then
  mkdir -p /run/sshd
  chmod 755 /run/sshd
fi

for attempt in 1 2 3 4 5; do
  ssh_port=$(pick_port)
  cat >"$scratch/etc/sshd_config" <<EOF
Port $ssh_port
ListenAddress 127.0.0.1
HostKey $scratch/etc/ssh_host_key
PidFile $scratch/run/sshd.pid
AuthorizedKeysFile $scratch/etc/authorized_keys
AllowUsers $user
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
PrintMotd no
X11Forwarding no
MaxSessions 64
MaxStartups 64
Subsystem sftp internal-sftp
EOF
  "$sshd" -D -e -f "$scratch/etc/sshd_config" 2>>"$scratch/log/sshd.log" &
  sshd_pid=$!
  echo $sshd_pid >"$scratch/run/sshd-main.pid"
  if wait_server sshd $sshd_pid $ssh_port; then
    break
  fi
  kill $sshd_pid 2>/dev/null || true
  sshd_pid=
done
if [ -z "${sshd_pid:-}" ]; then
  cat "$scratch/log/sshd.log" >&2
  fail "sshd did not start"
fi

cat >"$scratch/etc/ssh_config" <<EOF
Host ckpt-test
  HostName 127.0.0.1
  Port $ssh_port
  User $user
  IdentityFile $scratch/home/.ssh/id_ed25519
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile $scratch/home/.ssh/known_hosts
  GlobalKnownHostsFile /dev/null
  BatchMode yes
  ConnectTimeout 10
EOF
cat >"$scratch/bin/ssh" <<EOF
#!/bin/sh
exec "$ssh" -F "$scratch/etc/ssh_config" "\$@"
EOF
chmod +x "$scratch/bin/ssh"

if ! "$scratch/bin/ssh" ckpt-test true </dev/null 2>>"$scratch/log/ssh.log"; then
  cat "$scratch/log/ssh.log" "$scratch/log/sshd.log" >&2
  fail "ssh with the generated key to 127.0.0.1:$ssh_port failed"
fi

# lighttpd: WebDAV read-write on $scratch/dav. -D keeps it in the
# foreground; its pid file is also what the tests use to stop and restart
# it.
for attempt in 1 2 3 4 5; do
  dav_port=$(pick_port)
  cat >"$scratch/etc/lighttpd.conf" <<EOF
server.document-root = "$scratch/dav"
server.bind = "127.0.0.1"
server.port = $dav_port
server.pid-file = "$scratch/run/lighttpd.pid"
server.errorlog = "$scratch/log/lighttpd.log"
server.modules = ("mod_webdav", "mod_accesslog")
accesslog.filename = "$scratch/log/lighttpd-access.log"
accesslog.format = "%{%s}t %r %>s %b %Dus port=%{remote}p overwrite=%{Overwrite}i if-none-match=%{If-None-Match}i dest=%{Destination}i"
webdav.activate = "enable"
webdav.is-readonly = "disable"
webdav.sqlite-db-name = "$scratch/etc/webdav.sqlite"
\$HTTP["url"] =~ "^/readonly(/|\$)" {
  webdav.is-readonly = "enable"
}
EOF
  if ! "$lighttpd" -tt -f "$scratch/etc/lighttpd.conf" >"$scratch/log/lighttpd-check.log" 2>&1; then
    if grep -q mod_webdav "$scratch/log/lighttpd-check.log"; then
      skip "lighttpd cannot load mod_webdav (Debian: lighttpd-mod-webdav)"
    fi
    cat "$scratch/log/lighttpd-check.log" >&2
    fail "lighttpd rejects its configuration"
  fi
  "$lighttpd" -D -f "$scratch/etc/lighttpd.conf" 2>>"$scratch/log/lighttpd.log" &
  dav_pid=$!
  if wait_server lighttpd $dav_pid $dav_port; then
    break
  fi
  kill $dav_pid 2>/dev/null || true
  dav_pid=
done
if [ -z "${dav_pid:-}" ]; then
  cat "$scratch/log/lighttpd.log" >&2
  fail "lighttpd did not start"
fi
say "sshd on 127.0.0.1:$ssh_port, lighttpd on 127.0.0.1:$dav_port, scratch $scratch"

# The private environment the session bus, GVfs and the tests inherit.
export HOME="$scratch/home"
export XDG_RUNTIME_DIR="$scratch/run"
export XDG_CACHE_HOME="$scratch/home/.cache"
export XDG_CONFIG_HOME="$scratch/home/.config"
export XDG_DATA_HOME="$scratch/home/.local/share"
export PATH="$scratch/bin:$PATH"
export GVFS_REMOTE_VOLUME_MONITOR_IGNORE=1
export GSETTINGS_BACKEND=memory
unset GIO_USE_VFS SSH_AUTH_SOCK SSH_AGENT_PID DBUS_SESSION_BUS_ADDRESS
# With gvfsd-fuse running, g_file_get_path() of an sftp:// or dav:// file
# is a path in its FUSE mount, and ckpt-glib would take the root for a
# local one: the suite tests the GIO path, so no FUSE unless asked for.
if [ "${CKPT_REMOTE_FUSE:-0}" = 1 ]; then
  unset GVFS_DISABLE_FUSE
else
  export GVFS_DISABLE_FUSE=1
fi

export CKPT_REMOTE_SFTP_MOUNT="sftp://ckpt-test$scratch/sftp"
export CKPT_REMOTE_SFTP_URI="sftp://ckpt-test$scratch/sftp/runs"
export CKPT_REMOTE_DAV_MOUNT="dav://127.0.0.1:$dav_port/"
export CKPT_REMOTE_DAV_URI="dav://127.0.0.1:$dav_port/runs"
# The same directory, read-only: lighttpd refuses every change under
# /readonly (a symbolic link to runs on the server).
ln -s runs "$scratch/dav/readonly"
export CKPT_REMOTE_DAV_READONLY_URI="dav://127.0.0.1:$dav_port/readonly"
# For the server-gone tests: stop lighttpd, and start it again (it
# daemonizes and rewrites its pid file); each returns once the port is
# closed, or answers.
cat >"$scratch/bin/dav-stop" <<EOF
#!/bin/bash
pid=\$(cat "$scratch/run/lighttpd.pid") && kill "\$pid" || exit 1
for i in \$(seq 200); do
  (exec 3<>/dev/tcp/127.0.0.1/$dav_port) 2>/dev/null || exit 0
  sleep 0.05
done
exit 1
EOF
cat >"$scratch/bin/dav-start" <<EOF
#!/bin/bash
"$lighttpd" -f "$scratch/etc/lighttpd.conf" 2>>"$scratch/log/lighttpd.log" || exit 1
for i in \$(seq 200); do
  (exec 3<>/dev/tcp/127.0.0.1/$dav_port) 2>/dev/null && exit 0
  sleep 0.05
done
exit 1
EOF
chmod +x "$scratch/bin/dav-stop" "$scratch/bin/dav-start"
export CKPT_REMOTE_DAV_STOP="$scratch/bin/dav-stop"
export CKPT_REMOTE_DAV_START="$scratch/bin/dav-start"

# The same for sshd: the listener and every session it forked (gvfsd-sftp's
# connection among them) go; the listener comes back as a daemon.
cat >"$scratch/bin/sftp-stop" <<EOF
#!/bin/bash
tree () { local c; for c in \$(pgrep -P "\$1"); do tree "\$c"; done; echo "\$1"; }
pid=\$(cat "$scratch/run/sshd.pid") || exit 1
kill \$(tree "\$pid") 2>/dev/null
for i in \$(seq 200); do
  (exec 3<>/dev/tcp/127.0.0.1/$ssh_port) 2>/dev/null || exit 0
  sleep 0.05
done
exit 1
EOF
cat >"$scratch/bin/sftp-start" <<EOF
#!/bin/bash
"$sshd" -f "$scratch/etc/sshd_config" -E "$scratch/log/sshd.log" || exit 1
for i in \$(seq 200); do
  (exec 3<>/dev/tcp/127.0.0.1/$ssh_port) 2>/dev/null && exit 0
  sleep 0.05
done
exit 1
EOF
chmod +x "$scratch/bin/sftp-stop" "$scratch/bin/sftp-start"
export CKPT_REMOTE_SFTP_STOP="$scratch/bin/sftp-stop"
export CKPT_REMOTE_SFTP_START="$scratch/bin/sftp-start"

# In the background, so that a signal is handled at once (`wait` returns).
"$dbus_run_session" --dbus-daemon="$(command -v dbus-daemon)" -- \
  "$0" $([ $tap -eq 1 ] && echo --tap) ${each:+--each "$each"} --in-session "$scratch" "$@" &
session_pid=$!
status=0
wait $session_pid || status=$?
session_pid=

if [ $status -ne 0 ]; then
  for log in "$scratch"/log/*.log; do
    [ -s "$log" ] || continue
    echo "--- $log" >&2
    tail -n 30 "$log" >&2
  done
fi
exit $status
