"""Where this process sits in a multi-process job, as its launcher describes it.

- torchrun (or anyone setting ``WORLD_SIZE``): ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``; the process
  group meets at ``MASTER_ADDR:MASTER_PORT`` (torch's ``env://``). These win over SLURM's, so
  ``torchrun`` inside a SLURM job, or ``WORLD_SIZE=1``, behaves as without SLURM.
- SLURM (``srun``, the Hydra submitit launcher with ``nodes x tasks_per_node > 1``): every task is
  one rank: ``SLURM_PROCID``, ``SLURM_NTASKS``, ``SLURM_LOCALID``. The group meets on the first host
  of the step's node list, on a port derived from ``SLURM_JOB_ID`` (the same in every task; distinct
  for neighbouring jobs) unless ``MASTER_PORT`` is set. Inside a submitit job, submitit's own
  ``TorchDistributedEnvironment`` reads these variables instead (when submitit is installed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zlib
from dataclasses import dataclass
from typing import Mapping

from avu.errors import AvuInputError

#: ports derived from a job id: PORT_BASE + id mod PORT_SPAN (clear of the privileged range)
PORT_BASE, PORT_SPAN = 20000, 40000


@dataclass(frozen=True)
class Launch:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    #: where the process group meets; None: torch's env:// (MASTER_ADDR / MASTER_PORT)
    init_method: str | None = None
    #: "single", "torchrun", "slurm" or "submitit"
    source: str = "single"


def detect() -> Launch:
    """The launch of this process, from its environment (see the module docstring)."""
    env = os.environ
    if "WORLD_SIZE" in env:
        return from_torchrun(env)
    if "SLURM_PROCID" in env and "SLURM_NTASKS" in env:
        if env.get("SUBMITIT_EXECUTOR") == "slurm":
            found = from_submitit()
            if found is not None:
                return found
        return from_slurm(env)
    return Launch()


def from_torchrun(env: Mapping[str, str]) -> Launch:
    return _checked(_int(env, "RANK", 0), _int(env, "WORLD_SIZE", 1), _int(env, "LOCAL_RANK", 0), None, "torchrun",
                    "RANK/WORLD_SIZE")


def from_slurm(env: Mapping[str, str]) -> Launch:
    rank, world, local = _int(env, "SLURM_PROCID", 0), _int(env, "SLURM_NTASKS", 1), _int(env, "SLURM_LOCALID", 0)
    if world <= 1:
        return _checked(rank, world, local, None, "slurm", "SLURM_PROCID/SLURM_NTASKS")
    key = next((k for k in ("SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST", "SLURM_NODELIST") if env.get(k)), None)
    if key is None:
        raise AvuInputError(None, "SLURM_JOB_NODELIST", f"not set, but SLURM_NTASKS is {world}: no host to meet on")
    try:
        host = first_host(env[key])
    except ValueError as exc:
        raise AvuInputError(None, key, str(exc)) from None
    port = _int(env, "MASTER_PORT", 0) if env.get("MASTER_PORT") else job_port(env.get("SLURM_JOB_ID", ""))
    return _checked(rank, world, local, f"tcp://{host}:{port}", "slurm", "SLURM_PROCID/SLURM_NTASKS")


def from_submitit() -> Launch | None:
    """submitit's reading of a SLURM task (None when submitit is not installed)."""
    try:
        from submitit.helpers import TorchDistributedEnvironment
    except ImportError:
        return None
    found = TorchDistributedEnvironment()  # reads the job's SLURM variables; exports nothing
    return _checked(found.rank, found.world_size, found.local_rank,
                    f"tcp://{found.master_addr}:{found.master_port}", "submitit", "SLURM_PROCID/SLURM_NTASKS")


def job_port(job_id: str) -> int:
    """The rendezvous port of a job: every task computes the same one."""
    number = int(job_id) if job_id.isdigit() else zlib.crc32(job_id.encode())
    return PORT_BASE + number % PORT_SPAN


def first_host(nodelist: str) -> str:
    """The first host of a SLURM node list, by ``scontrol show hostnames`` where it exists, else parsed."""
    if shutil.which("scontrol"):
        try:
            out = subprocess.run(["scontrol", "show", "hostnames", nodelist], capture_output=True, text=True,
                                 timeout=30, check=True).stdout.split()
            if out:
                return out[0]
        except (OSError, subprocess.SubprocessError):
            pass  # fall back to parsing
    return parse_first_host(nodelist)


def parse_first_host(nodelist: str) -> str:
    """``"gpu[07-09,12],cpu1"`` -> ``"gpu07"``; ``"rack[2-3]-n[1-4]"`` -> ``"rack2-n1"``; ``"a,b"`` -> ``"a"``.

    The first host is the first name of the first group, each bracket contributing its first
    number (zero padding kept), so the ranges never need expanding."""
    host, i = [], 0
    while i < len(nodelist) and nodelist[i] != ",":
        if nodelist[i] == "[":
            end = nodelist.find("]", i)
            first = nodelist[i + 1:end].split(",")[0].split("-")[0] if end > i else ""
            if not first.isdigit():
                raise ValueError(f"cannot read the node list {nodelist!r}")
            host.append(first)
            i = end + 1
        elif nodelist[i] == "]":
            raise ValueError(f"cannot read the node list {nodelist!r}")
        else:
            host.append(nodelist[i])
            i += 1
    if not host:
        raise ValueError(f"cannot read the node list {nodelist!r}")
    return "".join(host)


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    value = env.get(key)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise AvuInputError(None, key, f"environment variable is {value!r}, not an integer") from None


def _checked(rank: int, world: int, local: int, init_method: str | None, source: str, keys: str) -> Launch:
    if world < 1 or not 0 <= rank < world or local < 0:
        raise AvuInputError(None, keys, f"rank {rank} (local {local}) in a world of {world} processes is impossible")
    return Launch(rank, world, local, init_method, source)
