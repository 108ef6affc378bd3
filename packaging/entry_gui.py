"""Frozen entry point of the windowed executable (no console on Windows and macOS)."""

import sys

from milton_desktop.__main__ import main

sys.exit(main())
