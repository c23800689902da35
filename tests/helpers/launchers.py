"""Start processes the way torchrun or SLURM would, without either: the environment each rank gets.

``slurm_env`` is what ``srun`` gives one task of a single-node step (node list ``localhost``). Its
job id is chosen so that the port avu derives from it is one that was free a moment ago, so the
derivation itself is exercised; ``spawn_slurm`` starts one process per task with that environment.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
from typing import Sequence

from avu.train.launch import PORT_BASE, PORT_SPAN

#: variables of a launcher that the parent process may carry and a child must not inherit
LAUNCHER_PREFIXES = ("SLURM_", "SUBMITIT_", "TORCHELASTIC_")
LAUNCHER_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
                 "GROUP_RANK", "ROLE_RANK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) without any launcher's variables."""
    env = dict(os.environ if env is None else env)
    return {k: v for k, v in env.items() if k not in LAUNCHER_VARS and not k.startswith(LAUNCHER_PREFIXES)}


def job_for_free_port() -> str:
    """A SLURM job id whose derived rendezvous port is free now."""
    while True:
        port = free_port()
        if PORT_BASE <= port < PORT_BASE + PORT_SPAN:
            return str(7 * PORT_SPAN + port - PORT_BASE)


def torchrun_env(rank: int, world: int, port: int) -> dict[str, str]:
    return {"RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank),
            "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}


def slurm_env(rank: int, world: int, job_id: str, submitit: bool = False) -> dict[str, str]:
    env = {"SLURM_JOB_ID": job_id, "SLURM_PROCID": str(rank), "SLURM_NTASKS": str(world),
           "SLURM_LOCALID": str(rank), "SLURM_NODEID": "0", "SLURM_JOB_NUM_NODES": "1",
           "SLURM_JOB_NODELIST": "localhost", "SLURM_STEP_NODELIST": "localhost", "SLURM_STEP_ID": "0"}
    if submitit:
        env["SUBMITIT_EXECUTOR"] = "slurm"  # what submitit's sbatch script exports
    return env


def spawn_slurm(args: Sequence[str], world: int, extra_env: dict[str, str] | None = None, submitit: bool = False,
                timeout: float = 900) -> list[subprocess.CompletedProcess]:
    """Run ``python ARGS`` as the ``world`` tasks of one SLURM step (this process's environment without
    any launcher's variables, plus ``extra_env``); every task's outcome, in rank order. Output goes to
    files, so that no task blocks on a full pipe while another is waited for."""
    job = job_for_free_port()
    # submitit draws its port from the job id its own way: give it one that is free instead
    extra_env = {**({"MASTER_PORT": str(free_port())} if submitit else {}), **(extra_env or {})}
    with contextlib.ExitStack() as stack:
        logs = [(stack.enter_context(tempfile.TemporaryFile("w+")), stack.enter_context(tempfile.TemporaryFile("w+")))
                for _ in range(world)]
        procs = [subprocess.Popen([sys.executable, *args], stdout=out, stderr=err, text=True,
                                  env={**clean_env(), **slurm_env(rank, world, job, submitit), **extra_env})
                 for rank, (out, err) in enumerate(logs)]
        try:
            for proc in procs:
                proc.wait(timeout=timeout)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        done = []
        for proc, (out, err) in zip(procs, logs):
            out.seek(0)
            err.seek(0)
            done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out.read(), err.read()))
        return done


def spawn_torchrun(args: Sequence[str], world: int, timeout: float = 900) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc_per_node WORLD ARGS`` (``args`` as after ``python``)."""
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={world}"]
    return subprocess.run([*torchrun, *args], capture_output=True, text=True, env=clean_env(), timeout=timeout)
