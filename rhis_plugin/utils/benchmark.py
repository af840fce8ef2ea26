"""Timing and memory helpers for the benchmark tools: median latency after warm-up, and peak resident memory."""
from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import time
from pathlib import Path
from typing import Any, Callable

__all__ = ['median_latency', 'current_rss_mb', 'peak_rss_mb', 'write_json', 'mean_sd', 'machine_description']


def median_latency(fn: Callable[[], object], warmup: int = 2, repeats: int = 10, max_seconds: float = 30.0,
                   sync: Callable[[], None] | None = None) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeats`` runs after ``warmup`` runs.

    Stops repeating once ``max_seconds`` have been spent (keeping at least 3 timed runs), so a slow contender does
    not stall a benchmark. ``sync`` (e.g. ``torch.cuda.synchronize``) runs before each clock read.
    """
    for _ in range(warmup):
        fn()
    times: list[float] = []
    spent = 0.0
    while len(times) < repeats and (len(times) < 3 or spent < max_seconds):
        if sync:
            sync()
        start = time.perf_counter()
        fn()
        if sync:
            sync()
        times.append(time.perf_counter() - start)
        spent += times[-1]
    return statistics.median(times)


def current_rss_mb() -> float:
    """Resident memory of this process now (Linux)."""
    with open('/proc/self/statm') as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2 ** 20


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_json(path: str | Path, payload: Any) -> Path:
    """Writes ``payload`` as indented JSON, creating the parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2))
    return path


def mean_sd(name: str, values: list[float]) -> dict[str, float]:
    """``{name: mean, name_sd: sample standard deviation}`` over seeds (sd 0 for one value)."""
    return {name: statistics.fmean(values), f'{name}_sd': statistics.stdev(values) if len(values) > 1 else 0.0}


def machine_description() -> str:
    """The CPU model, CPU count and torch version, for the record of a timing (``'x86_64, 2 CPUs, torch 2.14.1'``
    where the CPU model cannot be read)."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(':', 1)[1].strip() for line in Path('/proc/cpuinfo').read_text().splitlines()
                   if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    return f'{cpu}, {os.cpu_count()} CPUs, torch {torch.__version__}'
