"""`graph.cli.cores`: the cores `serve` counts are the process's affinity capped by its
cgroup's CPU quota, rounded down, at least one; cgroup v2 and v1 layouts, files missing or
malformed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from graph.cli import cores
from graph.cli.cores import cgroup_quota, usable_cores


def _v2(root: Path, content: str, *, own: str | None = None) -> Path:
    """A cgroup v2 tree whose `cpu.max` holds `content` (in `own`, the process's cgroup,
    if given), and the /proc/self/cgroup that names it."""
    where = root / own.lstrip("/") if own else root
    where.mkdir(parents=True, exist_ok=True)
    (where / "cpu.max").write_text(content + "\n")
    proc = root / "proc-self-cgroup"
    proc.write_text(f"0::{own or '/'}\n")
    return proc


@pytest.mark.parametrize(
    ("content", "quota"),
    [
        ("max 100000", None),
        ("200000 100000", 2.0),
        ("150000 100000", 1.5),
        ("50000 100000", 0.5),
        ("800000 100000", 8.0),
        ("garbage", None),
        ("0 100000", None),
        ("abc 100000", None),
    ],
)
def test_the_v2_quota_is_read_from_cpu_max(tmp_path: Path, content: str, quota: float | None):
    proc = _v2(tmp_path, content)
    assert cgroup_quota(tmp_path, proc) == quota


def test_the_process_s_own_v2_cgroup_comes_before_the_root(tmp_path: Path):
    (tmp_path / "cpu.max").write_text("max 100000\n")
    proc = _v2(tmp_path, "300000 100000", own="/system.slice/alif-graph.service")
    assert cgroup_quota(tmp_path, proc) == 3.0


@pytest.mark.parametrize(
    ("quota", "period", "expected"),
    [("-1", "100000", None), ("250000", "100000", 2.5), ("", "", None), ("x", "100000", None)],
)
def test_the_v1_quota_is_read_from_cfs_files(
    tmp_path: Path, quota: str, period: str, expected: float | None
):
    v1 = tmp_path / "cpu"
    v1.mkdir()
    (v1 / "cpu.cfs_quota_us").write_text(quota)
    (v1 / "cpu.cfs_period_us").write_text(period)
    assert cgroup_quota(tmp_path, tmp_path / "no-proc-file") == expected


def test_no_cgroup_files_means_no_quota(tmp_path: Path):
    assert cgroup_quota(tmp_path, tmp_path / "missing") is None


@pytest.mark.parametrize(
    ("affinity", "content", "expected"),
    [
        (8, "max 100000", 8),  # no quota: every core the process may run on
        (8, "200000 100000", 2),  # a container's --cpus 2 on an 8-core host
        (8, "150000 100000", 1),  # 1.5 cores: one worker, not two throttled ones
        (8, "50000 100000", 1),  # less than a core: still one
        (2, "800000 100000", 2),  # pinned to 2 cores under a larger quota
        (1, "max 100000", 1),
    ],
)
def test_usable_cores_is_the_affinity_capped_by_the_quota(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, affinity: int, content: str, expected: int
):
    monkeypatch.setattr(cores.os, "sched_getaffinity", lambda pid: set(range(affinity)))
    proc = _v2(tmp_path, content)
    assert usable_cores(tmp_path, proc) == expected


def test_usable_cores_on_this_machine_is_within_what_it_reports():
    assert 1 <= usable_cores() <= (os.cpu_count() or 1)


def _cpu_max(root: Path, path: str, content: str) -> None:
    where = root / path.lstrip("/")
    where.mkdir(parents=True, exist_ok=True)
    (where / "cpu.max").write_text(content + "\n")


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        # A pod's limit over a container that sets none of its own.
        ({"/": "max 100000", "/kubepods": "200000 100000", "/kubepods/pod/c1": "max 100000"}, 2.0),
        # The least on the way up binds, wherever it is.
        ({"/kubepods": "400000 100000", "/kubepods/pod": "150000 100000"}, 1.5),
        ({"/kubepods": "100000 100000", "/kubepods/pod/c1": "300000 100000"}, 1.0),
        # Levels without the file (controller not enabled there) or malformed are skipped.
        ({"/kubepods/pod": "garbage", "/": "250000 100000"}, 2.5),
        ({"/kubepods/pod/c1": "max 100000"}, None),
    ],
)
def test_a_v2_quota_above_the_process_s_cgroup_binds_it(
    tmp_path: Path, levels: dict[str, str], expected: float | None
):
    for path, content in levels.items():
        _cpu_max(tmp_path, path, content)
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text("0::/kubepods/pod/c1\n")
    assert cgroup_quota(tmp_path, proc) == expected


def test_a_v2_cgroup_not_under_the_root_given_is_not_looked_for_outside_it(tmp_path: Path):
    (tmp_path / "cpu.max").write_text("300000 100000\n")
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text("0::/../../etc\n")  # never a path outside the cgroup tree
    assert cgroup_quota(tmp_path, proc) == 3.0


def test_the_v1_quota_of_the_process_s_own_cgroup_and_its_parents(tmp_path: Path):
    for path, quota in (("", "-1"), ("docker", "300000"), ("docker/abc", "-1")):
        where = tmp_path / "cpu" / path
        where.mkdir(parents=True, exist_ok=True)
        (where / "cpu.cfs_quota_us").write_text(quota)
        (where / "cpu.cfs_period_us").write_text("100000")
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text("12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n")
    assert cgroup_quota(tmp_path, proc) == 3.0
