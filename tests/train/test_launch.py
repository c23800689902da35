"""How a process finds its place in a job: torchrun's variables, SLURM's (plain or through submitit),
the node-list parsing, one-line errors for bad values, and real process groups of 2 and 3 gloo
processes started both ways (all_reduce of the ranks)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from avu.errors import AvuInputError
from avu.train import launch as L
from tests.helpers.launchers import clean_env, slurm_env, spawn_slurm, spawn_torchrun


@pytest.fixture
def env(monkeypatch):
    """os.environ without any launcher's variables; returns a setter (None: unset)."""
    for key in set(os.environ) - set(clean_env()):
        monkeypatch.delenv(key)

    def put(**values: str | None) -> None:
        for k, v in values.items():
            if v is None:
                monkeypatch.delenv(k, raising=False)
            else:
                monkeypatch.setenv(k, v)

    return put


@pytest.mark.parametrize("nodelist, first", [
    ("node1", "node1"),
    ("node[1-3]", "node1"),
    ("gpu[07-09,12],cpu1", "gpu07"),
    ("gpu[12,07-09]", "gpu12"),
    ("rack[2-3]-n[1-4]", "rack2-n1"),
    ("a.example.org,b.example.org", "a.example.org"),
    ("n[001-100]x,m[1-2]", "n001x"),
])
def test_first_host_of_a_node_list(nodelist: str, first: str) -> None:
    assert L.parse_first_host(nodelist) == first


@pytest.mark.parametrize("nodelist", ["", "node[1-3", "node]1", "node[]", "node[a-b]", ",node1"])
def test_unreadable_node_lists_are_refused(nodelist: str) -> None:
    with pytest.raises(ValueError, match="cannot read the node list"):
        L.parse_first_host(nodelist)


def _fake_scontrol(folder: Path, body: str) -> None:
    script = folder / "scontrol"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_scontrol_expands_the_node_list_where_it_exists(tmp_path: Path, monkeypatch) -> None:
    _fake_scontrol(tmp_path, 'test "$1 $2" = "show hostnames" && printf "alpha\\nbeta\\n"')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert L.first_host("weird[list]") == "alpha"
    _fake_scontrol(tmp_path, "exit 1")  # a failing scontrol: the list is parsed instead
    assert L.first_host("node[4-5]") == "node4"


def test_the_port_is_the_jobs_in_every_task() -> None:
    ports = [L.job_port(str(j)) for j in range(123456, 123466)]
    assert len(set(ports)) == 10 and all(L.PORT_BASE <= p < L.PORT_BASE + L.PORT_SPAN for p in ports)
    assert L.job_port("123456") == ports[0] and L.PORT_BASE <= L.job_port("77_3") < L.PORT_BASE + L.PORT_SPAN


def test_nothing_set_is_one_process(env) -> None:
    assert L.detect() == L.Launch()


def test_torchrun_variables(env) -> None:
    env(RANK="2", WORLD_SIZE="4", LOCAL_RANK="0", MASTER_ADDR="h", MASTER_PORT="1234")
    assert L.detect() == L.Launch(2, 4, 0, None, "torchrun")  # torch's env:// reads MASTER_*


def test_slurm_variables(env) -> None:
    env(**{**slurm_env(rank=5, world=8, job_id="4242"), "SLURM_LOCALID": "1", "SLURM_STEP_NODELIST": "gpu[03-04]"})
    port = L.PORT_BASE + 4242
    assert L.detect() == L.Launch(5, 8, 1, f"tcp://gpu03:{port}", "slurm")
    env(MASTER_PORT="29555")
    assert L.detect().init_method == "tcp://gpu03:29555"


def test_the_job_node_list_serves_when_the_step_has_none(env) -> None:
    env(**slurm_env(rank=0, world=2, job_id="1"))
    env(SLURM_JOB_NODELIST="n[7-8]", SLURM_STEP_NODELIST=None)
    assert L.detect().init_method == f"tcp://n7:{L.PORT_BASE + 1}"


def test_torchrun_wins_over_slurm(env) -> None:
    env(**slurm_env(rank=1, world=2, job_id="9"), RANK="0", WORLD_SIZE="1")
    assert L.detect() == L.Launch(0, 1, 0, None, "torchrun")


def test_one_slurm_task_is_one_process(env) -> None:
    env(**slurm_env(rank=0, world=1, job_id="9"))
    launch = L.detect()
    assert (launch.world, launch.rank, launch.source) == (1, 0, "slurm")


def test_submitit_reads_the_same_task(env) -> None:
    pytest.importorskip("submitit")
    env(**slurm_env(rank=2, world=3, job_id="31337", submitit=True))
    env(SLURM_JOB_NODELIST="gpu[05-06]", SLURM_STEP_NODELIST="gpu[05-06]", MASTER_PORT="29600")
    assert L.detect() == L.Launch(2, 3, 2, "tcp://gpu05:29600", "submitit")
    env(SUBMITIT_EXECUTOR=None)
    assert L.detect() == L.Launch(2, 3, 2, "tcp://gpu05:29600", "slurm")


@pytest.mark.parametrize("values, key", [
    ({"SLURM_NTASKS": "two"}, "SLURM_NTASKS"),
    ({"SLURM_PROCID": "3"}, "SLURM_PROCID/SLURM_NTASKS"),
    ({"SLURM_STEP_NODELIST": "gpu[1-2"}, "SLURM_STEP_NODELIST"),
    ({"SLURM_STEP_NODELIST": "", "SLURM_JOB_NODELIST": ""}, "SLURM_JOB_NODELIST"),
])
def test_bad_slurm_values_are_one_line_errors(env, values: dict, key: str) -> None:
    env(**{**slurm_env(rank=1, world=2, job_id="5"), **values})
    with pytest.raises(AvuInputError) as caught:
        L.detect()
    assert str(caught.value).startswith(f"{key}: ") and "\n" not in str(caught.value)


def test_bad_torchrun_values_are_one_line_errors(env) -> None:
    env(RANK="2", WORLD_SIZE="2")
    with pytest.raises(AvuInputError, match="^RANK/WORLD_SIZE: rank 2"):
        L.detect()


def test_training_refuses_bad_slurm_variables_with_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "avu.train", f"hydra.run.dir={tmp_path}"], capture_output=True,
                          text=True, env={**clean_env(), **slurm_env(0, 2, "5"), "SLURM_NTASKS": "x"}, timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines()[-1] == \
        "avu: error: SLURM_NTASKS: environment variable is 'x', not an integer"


GROUP = """
import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from avu.train import distributed as D
from avu.train.launch import detect

info = D.setup("cpu")
total = torch.tensor([float(info.rank)])
dist.all_reduce(total)
record = {"rank": info.rank, "world": info.world, "source": detect().source, "sum": total.item()}
Path(sys.argv[1], f"rank{info.rank}.json").write_text(json.dumps(record))
D.cleanup()
"""


@pytest.mark.distributed
@pytest.mark.parametrize("how, world", [("torchrun", 2), ("torchrun", 3), ("slurm", 2), ("slurm", 3), ("submitit", 2)])
def test_the_processes_form_one_group(tmp_path: Path, how: str, world: int) -> None:
    if how == "submitit":
        pytest.importorskip("submitit")
    script = tmp_path / "group.py"
    script.write_text(GROUP)
    args = [str(script), str(tmp_path)]
    if how == "torchrun":
        proc = spawn_torchrun(args, world, timeout=300)
        assert proc.returncode == 0, proc.stderr[-4000:]
    else:
        procs = spawn_slurm(args, world, submitit=how == "submitit", timeout=300)
        assert [p.returncode for p in procs] == [0] * world, [p.stderr[-2000:] for p in procs]
    seen = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(world)]
    assert seen == [{"rank": r, "world": world, "source": how, "sum": float(sum(range(world)))} for r in range(world)]
