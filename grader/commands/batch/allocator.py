"""glibc malloc settings for the batch's processes: keep freed heap memory for the next allocation.

A submission's tests allocate and free the same large buffers over and over (ONNX models parsed and
serialized, torch exports, numpy images). With glibc's defaults every free above 128 KiB at the heap's
top is given back to the kernel and the next allocation faults the same pages in again, zeroed: 11
million page faults for 10 complete submissions, a third of the batch's CPU time spent in the kernel
on this 2-core virtual machine. Keeping the freed memory (a large top pad and trim threshold) and
serving up to 32 MiB from the heap (glibc's largest allowed mmap threshold on 64-bit) cuts Practice 1
and 3's page faults by half to two thirds and their CPU time by about a fifth
(``benchmarks/int8_speed.md``, "Outside the INT8 step"). A worker lives for one submission, so memory
kept is given back when it exits; its peak is unchanged. Transparent huge pages
(``glibc.malloc.hugetlb=1``) were measured too and were slower.

The variables are read by glibc when a program starts, so they go into the environment of every
program the batch starts (the zygote, whose forks inherit the settings, the trusted run, a worker's
subprocesses). Other C libraries ignore them. A variable the instructor set keeps its value.
"""

from __future__ import annotations

from collections.abc import Mapping

# glibc's names (mallopt(3): M_TOP_PAD, M_TRIM_THRESHOLD, M_MMAP_THRESHOLD); values in bytes.
GLIBC_MALLOC = {
    "MALLOC_TOP_PAD_": str(256 << 20),
    "MALLOC_TRIM_THRESHOLD_": str(4 << 30),
    "MALLOC_MMAP_THRESHOLD_": str(32 << 20),  # glibc refuses more than HEAP_MAX_SIZE / 2 = 32 MiB
}


def malloc_environment(current: Mapping[str, str]) -> dict[str, str]:
    """The ``MALLOC_*`` variables for a program's environment: ``current``'s value of each it sets, else ours."""
    return {name: current.get(name, value) for name, value in GLIBC_MALLOC.items()}
