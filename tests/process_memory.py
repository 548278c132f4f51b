"""Resident memory of a process from /proc (Linux): the current size, the peak, and resetting the peak.

Used by the hostile-input table (this process) and the load benchmark (the server's process). Resetting
the peak (``echo 5 > /proc/PID/clear_refs``, Linux 4.0+) lets one request's own peak be read, whatever
the process did before it.
"""

from __future__ import annotations

from pathlib import Path

MIB = 1024 * 1024


def _status_kib(field: str, pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def rss_mib(pid: int | str = "self") -> float:
    """Resident set size now (VmRSS)."""
    return _status_kib("VmRSS", pid) / 1024


def peak_rss_mib(pid: int | str = "self") -> float:
    """Highest resident set size since the process started or since ``reset_peak`` (VmHWM)."""
    return _status_kib("VmHWM", pid) / 1024


def reset_peak(pid: int | str = "self") -> None:
    """Make VmHWM equal to the current RSS, so the next reading is the peak from now on."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


class PeakRise:
    """``with PeakRise() as peak: ...`` then ``peak.mib``: how far RSS rose above its level at the start."""

    def __init__(self, pid: int | str = "self") -> None:
        self.pid = pid
        self.start = 0.0
        self.mib = 0.0

    def __enter__(self) -> PeakRise:
        reset_peak(self.pid)
        self.start = rss_mib(self.pid)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.mib = peak_rss_mib(self.pid) - self.start
