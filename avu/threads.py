"""CPU threading that holds up on a shared machine.

OpenMP's default wait policy lets a thread that finished its share of a parallel region spin
for a while before it sleeps. On a machine whose cores are also busy with other work, the
spinning threads take the time slices the lagging thread needs, and each of the thousands of
small parallel regions of a training step waits for the slowest thread: training slows far more
than the load explains. A passive wait policy (threads sleep at once) removes that cost and
costs next to nothing on idle cores (docs/training.md, measured). It must be set before the
OpenMP runtime starts, i.e. before torch is imported, so the entry points call
`prefer_passive_wait` first; an explicit ``OMP_WAIT_POLICY`` in the environment wins.
"""

from __future__ import annotations

import os
import sys


def prefer_passive_wait() -> None:
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


__all__ = ["prefer_passive_wait"]
