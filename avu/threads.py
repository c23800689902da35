"""CPU threading that holds up on a shared machine: the OpenMP wait policy, chosen at start.

A thread that finished its share of an OpenMP parallel region either spins until the next
region (active wait) or sleeps at once (passive). A CPU training step is thousands of small
parallel regions, so on idle cores active waiting is what makes a second thread pay (1.45x
over one thread, measured), while beside other work the spinning threads take the time slices
the lagging thread needs and training slows far more than the load explains (0.72x of one
thread). Passive waiting costs little beside other work and gives up the gain on idle cores
(docs/training.md, "Threads on a shared machine", measured).

So the entry points call `choose_wait_policy` before torch is imported (OpenMP reads the policy
once, when it starts): ``ACTIVE`` when at least two cores are usable and the other processes
used less than a quarter of a core over a short window, else ``PASSIVE``. The policy changes
speed only, never a number: the intra-op thread count (``train.threads``) alone decides how
reductions are split, and it is recorded with the run (`avu.provenance.compute_platform`).
An ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` already in the environment wins. Runs started side
by side (``avu.reproduce --jobs``) compete with each other, so they get ``PASSIVE``
(`for_parallel_runs`).
"""

from __future__ import annotations

import os
import sys
import time

#: set in the environment when avu chose the policy (not the user), so child processes may change it
AUTO_MARK = "AVU_WAIT_POLICY_AUTO"
#: other processes' CPU use (in cores) below which the machine counts as idle
IDLE_CORES = 0.25
#: seconds of /proc/stat sampling behind that decision
SAMPLE_S = 0.25


def _busy_cores(window: float = SAMPLE_S) -> float | None:
    """CPU use of all processes, in cores, over ``window`` seconds (this one sleeps meanwhile); None off Linux."""

    def totals() -> tuple[int, int]:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields[:8]), idle

    try:
        total0, idle0 = totals()
        time.sleep(window)
        total1, idle1 = totals()
    except (OSError, ValueError, IndexError):
        return None
    elapsed = total1 - total0
    if elapsed <= 0:
        return None
    return (elapsed - (idle1 - idle0)) / elapsed * (os.cpu_count() or 1)


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def decide(cores: int, busy: float | None) -> str:
    """The wait policy for ``cores`` usable cores and ``busy`` cores' worth of other work."""
    return "ACTIVE" if cores >= 2 and busy is not None and busy < IDLE_CORES else "PASSIVE"


def choose_wait_policy() -> str | None:
    """Set ``OMP_WAIT_POLICY`` from the machine's state, before torch is imported; returns what was set.

    None (nothing set) when the user's environment already decides, or torch (hence OpenMP) is
    already loaded, where setting it would be a no-op that misreports.
    """
    if "torch" in sys.modules or "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ:
        return None
    policy = decide(usable_cores(), _busy_cores())
    os.environ["OMP_WAIT_POLICY"] = policy
    os.environ[AUTO_MARK] = "1"
    return policy


def for_parallel_runs() -> None:
    """Child processes of side-by-side runs wait passively, unless the user chose the policy."""
    if os.environ.get(AUTO_MARK) == "1":
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"


def wait_policy() -> str:
    """The policy this process runs under, as recorded with a run's timings."""
    if "GOMP_SPINCOUNT" in os.environ:
        return f"GOMP_SPINCOUNT={os.environ['GOMP_SPINCOUNT']}"
    return os.environ.get("OMP_WAIT_POLICY", "default")


__all__ = ["choose_wait_policy", "decide", "for_parallel_runs", "usable_cores", "wait_policy"]
