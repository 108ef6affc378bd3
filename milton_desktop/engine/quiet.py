"""Whether a home is quiet enough to have its database replaced (a restore).

A restore must not happen under a publish: a row claimed by a process that goes on
publishing would come back as it was in the backup, and be published again. So it
waits for every other engine of this home (their worker locks, see ``liveness``)
and for the results kept in the outcome journal that are not in the database yet.
The scheduler's own lock (``runner.SchedulerLock``, Qt) is the caller's to take.
"""

from __future__ import annotations

from pathlib import Path

from milton_desktop.engine import journal, liveness


def restore_blocker(data_dir: Path) -> str | None:
    """Why the database in ``data_dir`` cannot be replaced now, or None when it can."""
    alive = liveness.others_alive(data_dir / liveness.FOLDER)
    if alive:
        return (
            f"{alive} other Milton Desktop process{'es are' if alive != 1 else ' is'} "
            "publishing from this home (a scheduler, `run --once` or `publish-now`); "
            "wait for it to finish or stop it, then restore"
        )
    waiting = journal.Journal(data_dir / journal.FOLDER).entries()
    if waiting:
        return (
            f"{len(waiting)} publish result{'s are' if len(waiting) != 1 else ' is'} still "
            "waiting to be recorded in this home's database: start Milton Desktop once "
            "(or run the scheduler) so it records them, then restore"
        )
    return None
