"""The CPU line a manifest records beside a training time (training.machine)."""

from __future__ import annotations

import os

import pytest

from training.machine import core_count, cpu_summary

CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
flags\t\t: fpu sse2 {flags}

processor\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse2 {flags}
"""


@pytest.mark.parametrize(
    ("flags", "widest"),
    [
        ("avx avx2 fma avx512f avx512bw", "AVX-512"),
        ("avx avx2 fma", "AVX2"),
        ("avx", "AVX"),
        ("ssse3", "no AVX"),
    ],
)
def test_the_widest_vector_extension_is_named(flags: str, widest: str) -> None:
    assert cpu_summary(CPUINFO.format(flags=flags)) == f"AMD EPYC, {widest}"


def test_a_flag_that_only_starts_like_avx512f_is_not_taken_for_it() -> None:
    assert cpu_summary(CPUINFO.format(flags="avx2 avx512_bf16x")) == "AMD EPYC, AVX2"


def test_core_count_is_what_this_process_may_use() -> None:
    assert 1 <= core_count() <= (os.cpu_count() or 1)
