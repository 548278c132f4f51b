"""What machine a training ran on, written into every manifest beside the time it took.

Training time depends on the host's CPU, not only on its core count: the same 2-core "AMD EPYC" kind
of machine has run the same training 2 to 4 times slower on an AVX2-only, shared host than on earlier
ones (docs/benchmarks.md, "Before a run"). A recorded time is only comparable with the CPU model and its
widest vector extension next to it.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")


def core_count() -> int:
    """The cores this process may run on (a container's or taskset's limit, not the host's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _cpuinfo_field(text: str, name: str) -> str:
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return ""


def cpu_summary(cpuinfo: str) -> str:
    """``"AMD EPYC, AVX2"``: the model name and the widest SIMD extension a ``/proc/cpuinfo`` lists."""
    model = _cpuinfo_field(cpuinfo, "model name") or platform.processor() or "unknown CPU"
    flags = set(_cpuinfo_field(cpuinfo, "flags").split())
    widest = next(
        (name for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX")) if flag in flags),
        "no AVX",
    )
    return f"{model}, {widest}"


def host_cpu() -> str:
    """``cpu_summary`` of this host (no ``/proc/cpuinfo``: the platform's processor name, "no AVX")."""
    return cpu_summary(CPUINFO.read_text() if CPUINFO.exists() else "")


def machine_description() -> str:
    """One line for a manifest: architecture, cores, CPU model and vector extension, TensorFlow."""
    import tensorflow as tf

    return f"{platform.machine()}, {core_count()} cores, {host_cpu()}, TensorFlow {tf.__version__}"
