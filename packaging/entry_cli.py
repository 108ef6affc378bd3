"""Frozen entry point of the console executable, for the command line and services."""

import sys

from milton_desktop.__main__ import main

sys.exit(main())
