"""Named crash points for the crash-consistency tests.

``MILTON_CRASH_AT=after_claim`` (a comma-separated list) makes the process kill
itself with SIGKILL when it reaches that point, exactly as a power cut or an OOM
kill would. Unset (always, outside the fault suite) it costs one dict lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "MILTON_CRASH_AT"
POINTS = (
    "after_claim",
    "before_commit",
    "after_journal",
    # the results writer holds journaled results, none committed yet
    "results_queued",
    # a thread's part N (0: the main post): sent and not recorded yet; recorded, and
    # the next not sent
    "part_N_sent",
    "after_part_N",
)


def crash_point(name: str) -> None:
    wanted = os.environ.get(ENV)
    if wanted and name in wanted.split(","):
        os.kill(os.getpid(), signal.SIGKILL)
