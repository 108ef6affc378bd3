#!/usr/bin/env bash
# Set up (first time only) and start Milton Desktop. Arguments go to the app,
# e.g. `scripts/start.sh --minimized` or `scripts/start.sh run` for the headless scheduler.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/milton-desktop "$@"
