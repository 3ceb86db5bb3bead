"""How many cores this process may use: what `serve` starts one worker per.

`os.cpu_count()` reports the machine's cores, not the ones a process is given: a container
started with `--cpus 2` on a 32-core host, or a process pinned with `taskset`, would start
32 workers that the kernel then throttles or crowds onto two cores. So: the process's CPU
affinity, capped by its cgroup's CPU quota (cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us` over
`cpu.cfs_period_us`), rounded down as Go's automaxprocs does (a quota of 1.5 cores gives one
worker, not two throttled ones), and never below one.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")


def usable_cores(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> int:
    """Cores this process may run on (module doc), at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    quota = cgroup_quota(root, proc_cgroup)
    if quota is not None:
        cores = min(cores, math.floor(quota))
    return max(1, cores)


def cgroup_quota(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> float | None:
    """The CPU quota of this process's cgroup in cores, or None: no quota, or none found."""
    for path in _v2_candidates(root, proc_cgroup):
        fields = _read(path / "cpu.max").split()
        if len(fields) == 2:
            return None if fields[0] == "max" else _ratio(fields[0], fields[1])
    v1 = root / "cpu"
    quota, period = _read(v1 / "cpu.cfs_quota_us"), _read(v1 / "cpu.cfs_period_us")
    if quota and period and not quota.startswith("-"):
        return _ratio(quota, period)
    return None


def _v2_candidates(root: Path, proc_cgroup: Path) -> list[Path]:
    """This process's own cgroup (the `0::/path` line), then the root one, which is its
    own inside a container's cgroup namespace."""
    candidates = []
    for line in _read(proc_cgroup).splitlines():
        if line.startswith("0::"):
            candidates.append(root / line[3:].strip().lstrip("/"))
    candidates.append(root)
    return candidates


def _ratio(quota: str, period: str) -> float | None:
    try:
        value, per = int(quota), int(period)
    except ValueError:
        return None
    return value / per if value > 0 and per > 0 else None


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""
