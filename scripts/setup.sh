#!/usr/bin/env bash
# Set up everything Milton Desktop needs on Debian/Ubuntu: the system libraries Qt
# uses (and, with --dev, Xvfb, a tray host and a keyring for the tests), then a
# virtual environment in .venv with the app installed. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
[ "${1:-}" = "--dev" ] && DEV=1

RUNTIME_DEBS="libgl1 libegl1 libfontconfig1 libxkbcommon0 libxkbcommon-x11-0 libdbus-1-3 libglib2.0-0
  fonts-dejavu-core libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
  libxcb-shape0 libxcb-randr0 libxcb-xinerama0 libxcb-xkb1 python3-venv dbus"
DEV_DEBS="xvfb xauth xdotool x11-utils imagemagick openbox trayer gnome-keyring libsecret-tools faketime postgresql"

want="$RUNTIME_DEBS"
[ "$DEV" = 1 ] && want="$want $DEV_DEBS"
missing=""
for pkg in $want; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ] && command -v apt-get >/dev/null; then
  echo "== installing Debian packages:$missing"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.milton-installed
extras=""
[ "$DEV" = 1 ] && extras="[dev]"
sig="$(sha256sum pyproject.toml | cut -c1-16)$extras"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sig" ]; then
  echo "== installing Python packages$extras"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip setuptools
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extras"
  echo "$sig" > "$stamp"
fi
