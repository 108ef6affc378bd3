#!/usr/bin/env bash
# Render every view and dialog, at 1440x900 and 1024x640, light and dark, into
# docs/screenshots/ (or the folder given), under Xvfb so dialogs and menus are real
# windows. Needs `scripts/setup.sh --dev` first.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/screenshots}
mkdir -p "$OUT"
for size in 1440x900 1024x640; do
  for theme in light dark; do
    flag=(); [ "$theme" = dark ] && flag=(--dark)
    for script in render_shots render_calendar_shots render_editor_shots render_settle_shots; do
      xvfb-run -a -s "-screen 0 ${size}x24" .venv/bin/python "bench/$script.py" "$OUT" \
        --size "$size" "${flag[@]}" >/dev/null
    done
  done
done
ls "$OUT"/*.png | wc -l
