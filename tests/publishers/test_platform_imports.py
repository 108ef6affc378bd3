"""The window reads every platform's descriptor at start-up: finding them must not
build twittertext's patterns (~20 ms), which only counting a post's text needs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = (
    "import sys\n"
    "from milton_desktop.publishers import registry\n"
    "print(len(registry.platforms()) > 0, 'milton_desktop.domain.twittertext' in sys.modules)\n"
    "from milton_desktop.publishers import threads\n"
    "print(threads.links('see https://example.com/a and https://example.com/a/'))\n"
)


def test_finding_the_platforms_leaves_twittertext_for_later():
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=True,
    )
    assert out.stdout.splitlines() == ["True False", "['https://example.com/a']"]
