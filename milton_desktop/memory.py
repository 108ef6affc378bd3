"""Giving memory back to the system once start-up's garbage is gone.

Start-up (imports, the first queries, the first housekeeping) leaves the C heap
with freed blocks that glibc keeps for later; an idle scheduler that may wait days
for its next post has no use for them. ``malloc_trim`` returns them to the system.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import sys

log = logging.getLogger("milton.app")


def release_free_memory() -> None:
    """Collect Python's garbage and hand the heap's free pages back (glibc only)."""
    gc.collect()
    if not sys.platform.startswith("linux"):
        return
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # musl and others have no malloc_trim: nothing to do
        return
    trim.argtypes = [ctypes.c_size_t]
    trim(0)
    log.debug("freed heap memory returned to the system")
