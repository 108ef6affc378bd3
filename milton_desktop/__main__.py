"""Entry point: ``python -m milton_desktop`` is the same as ``milton-desktop``."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from milton_desktop.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
