#!/usr/bin/env bash
# Set up and run the whole test suite, as CI does:
#  1. everything but the tray tests, offscreen, inside a private D-Bus session with an
#     unlocked GNOME Keyring, so credential tests use a real Secret Service backend;
#  2. the tray and real-window tests on Xvfb with a tray host (trayer).
# Extra arguments go to pytest (e.g. scripts/test.sh -k engine).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev

OUT=${OUT:-$PWD/.ci-out}
rm -rf "$OUT"; mkdir -p "$OUT"
export XDG_DATA_HOME="$OUT/xdg-data" XDG_RUNTIME_DIR="$OUT/xdg-run" XDG_CONFIG_HOME="$OUT/xdg-config"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_RUNTIME_DIR"; chmod 700 "$XDG_RUNTIME_DIR"
PYTEST=(.venv/bin/python -m pytest -q -rs -p no:cacheprovider)

# A real PostgreSQL server for the team-database tests, on loopback, removed on exit.
PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/milton-pg.XXXXXX")
TRAY_PID= XVFB_PID=
cleanup() {
  kill ${TRAY_PID:-} ${XVFB_PID:-} 2>/dev/null || true
  scripts/test-postgres.sh stop "$PG_DIR" || true
}
trap cleanup EXIT
eval "$(scripts/test-postgres.sh start "$PG_DIR")"

echo "== lint"
.venv/bin/ruff check milton_desktop tests bench
.venv/bin/ruff format --check milton_desktop tests bench

echo "== layers (import-linter) and types (mypy)"
.venv/bin/lint-imports --no-cache
.venv/bin/mypy

echo "== tests (offscreen Qt, real keyring in a private D-Bus session)"
# The keyring daemon must be unlocked up front, and DISPLAY unset, or it waits on a GUI prompt.
set +e
env -u DISPLAY QT_QPA_PLATFORM=offscreen timeout 1200 dbus-run-session -- bash -c '
  echo -n "milton-test-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec "$@"' _ "${PYTEST[@]}" -m "not xvfb and not bundle" "$@" 2>&1 | grep -v "Failed to set fd limit" ; rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 0 ] || exit "$rc"

echo "== frozen bundle: build, self-test, end-to-end publish"
.venv/bin/pyinstaller --noconfirm --clean --log-level ERROR --distpath "$OUT/dist" --workpath "$OUT/build" build.spec
set +e
env -u DISPLAY MILTON_BUNDLE="$OUT/dist/milton-desktop" timeout 600 dbus-run-session -- bash -c '
  echo -n "milton-test-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec "$@"' _ "${PYTEST[@]}" -m bundle "$@" 2>&1 | grep -v "Failed to set fd limit" ; rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 0 ] || exit "$rc"

echo "== tray and window tests (Xvfb + tray host)"
Xvfb -displayfd 5 -screen 0 1280x800x24 -nolisten tcp 5>"$OUT/display.txt" 2>"$OUT/xvfb.log" &
XVFB_PID=$!
for _ in $(seq 1 100); do [ -s "$OUT/display.txt" ] && break; sleep 0.1; done
export DISPLAY=":$(cat "$OUT/display.txt")"
trayer --edge top --align right --widthtype pixel --width 200 --height 32 --transparent false \
  --tint 0x333333 >"$OUT/trayer.log" 2>&1 & TRAY_PID=$!
for _ in $(seq 1 50); do timeout 2 xdotool search --classname trayer >/dev/null 2>&1 && break; sleep 0.1; done
set +e
QT_QPA_PLATFORM=xcb timeout 600 "${PYTEST[@]}" -m xvfb "$@"
rc=$?
set -e
[ "$rc" = 5 ] && { echo "(no tray tests selected)"; rc=0; }
exit "$rc"
