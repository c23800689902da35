"""The OpenMP wait policy the entry points choose (avu.threads): speed only, never a number."""

import os
import subprocess
import sys

import pytest

from avu import threads


@pytest.mark.parametrize("cores, busy, policy", [
    (2, 0.0, "ACTIVE"),      # idle cores: spinning threads make the second thread pay
    (2, 0.9, "PASSIVE"),     # another process is busy: spinning would steal its time slices
    (1, 0.0, "PASSIVE"),     # one usable core: the two threads share it
    (16, None, "PASSIVE"),   # load unknown (no /proc/stat): the safe choice
])
def test_policy_follows_the_machine(cores, busy, policy):
    assert threads.decide(cores, busy) == policy


def _child(env: dict, code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout


def test_the_users_environment_wins_and_parallel_runs_wait_passively():
    code = ("import os, avu.threads as t; r = t.choose_wait_policy(); t.for_parallel_runs(); "
            "print(r, os.environ.get('OMP_WAIT_POLICY'))")
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    assert _child({**base, "OMP_WAIT_POLICY": "ACTIVE"}, code).split() == ["None", "ACTIVE"]
    chosen, after = _child(base, code).split()
    assert chosen in ("ACTIVE", "PASSIVE") and after == "PASSIVE"  # avu's own choice yields to --jobs


def test_nothing_is_set_once_torch_is_loaded(monkeypatch):
    import torch  # noqa: F401  (OpenMP has read its policy by now)

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert threads.choose_wait_policy() is None
    assert "OMP_WAIT_POLICY" not in os.environ
