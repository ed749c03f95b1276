"""A benchmark process's memory, read the same way by every benchmark that runs its measured
work in a child process."""

from __future__ import annotations

import contextlib
import os
import resource


def rss_kb() -> int:
    """The current resident set size (Linux; elsewhere the peak so far)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_kb() -> int:
    """This process's peak resident set size: ``VmHWM`` on Linux, which starts again at ``exec``
    (``ru_maxrss`` carries the parent's peak across it, so a child of a parent that grew larger
    would report the parent's); elsewhere ``ru_maxrss``."""
    with contextlib.suppress(OSError), open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
