"""How many cores this process may use: what `serve` starts one worker per.

`os.cpu_count()` reports the machine's cores, not the ones a process is given: a container
started with `--cpus 2` on a 32-core host, or a process pinned with `taskset`, would start
32 workers that the kernel then throttles or crowds onto two cores. So: the process's CPU
affinity, capped by the least CPU quota of its cgroup and the cgroups above it (cgroup v2
`cpu.max`, v1 `cpu.cfs_quota_us` over `cpu.cfs_period_us`), rounded down as Go's
automaxprocs does (a quota of 1.5 cores gives one worker, not two throttled ones), and
never below one.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
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
    """The CPU quota over this process in cores, or None: no quota, or none found.

    A quota binds every cgroup below the one that sets it (a pod's limit over each of its
    containers, a slice's over each service), so it is the least quota on the way from the
    process's own cgroup up to the root: its own cgroup saying `max` does not lift its
    parent's. cgroup v2 where its `cpu.max` files are, v1 (`cpu.cfs_quota_us` over
    `cpu.cfs_period_us` in the cpu controller's tree) otherwise."""
    v2 = [_read(path / "cpu.max") for path in _upwards(root, _own_path(proc_cgroup, None))]
    if any(v2):
        return _least(_v2_quota(text) for text in v2)
    v1 = root / "cpu"
    return _least(
        _v1_quota(_read(path / "cpu.cfs_quota_us"), _read(path / "cpu.cfs_period_us"))
        for path in _upwards(v1, _own_path(proc_cgroup, "cpu"))
    )


def _own_path(proc_cgroup: Path, controller: str | None) -> str:
    """This process's cgroup path from `/proc/self/cgroup`: in the v2 hierarchy
    (`0::/path`) when `controller` is None, else in the v1 hierarchy that holds it
    (`4:cpu,cpuacct:/docker/abc`); "/" (the root: its own inside a container's cgroup
    namespace) if there is no such line."""
    for line in _read(proc_cgroup).splitlines():
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        number, controllers, path = fields
        if controller is None:
            wanted = number == "0" and not controllers
        else:
            wanted = controller in controllers.split(",")
        if wanted:
            return path.strip() or "/"
    return "/"


def _upwards(root: Path, own: str) -> list[Path]:
    """The cgroup directories from `own` (a path under `root`) up to `root` itself."""
    parts = [part for part in own.split("/") if part and part not in (".", "..")]
    return [root.joinpath(*parts[:depth]) for depth in range(len(parts), -1, -1)]


def _least(quotas: Iterable[float | None]) -> float | None:
    found = [quota for quota in quotas if quota is not None]
    return min(found) if found else None


def _v2_quota(text: str) -> float | None:
    fields = text.split()
    if len(fields) != 2 or fields[0] == "max":
        return None
    return _ratio(fields[0], fields[1])


def _v1_quota(quota: str, period: str) -> float | None:
    if not quota or not period or quota.startswith("-"):
        return None
    return _ratio(quota, period)


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
