#!/usr/bin/env bash
# Build the double-clickable bundle into dist/milton-desktop/ (PyInstaller, onedir).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
.venv/bin/pyinstaller --noconfirm --clean --log-level WARN build.spec
echo "built: dist/milton-desktop/milton-desktop (window) and dist/milton-desktop/milton-desktop-cli (command line)"
