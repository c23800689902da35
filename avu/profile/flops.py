"""FLOPs of one call, counted by torch's operator-level counter.

``torch.utils.flop_counter.FlopCounterMode`` counts the FLOPs of matmuls, convolutions
and attention kernels (2 FLOPs per multiply-add) as they are dispatched, forward and
backward alike. Elementwise operators, normalisations and optimizer updates count as
zero, which is the usual convention for *model* FLOPs in MFU.

Count on the eager model: a compiled graph may fuse or reorder kernels, but the model's
FLOPs are the same, and counting under torch.compile is not reliable across versions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from torch.utils.flop_counter import FlopCounterMode


@dataclass
class FlopCount:
    total: int
    #: aten operator name -> FLOPs, largest first
    by_operator: dict[str, int] = field(default_factory=dict)

    @property
    def convolution_fraction(self) -> float:
        """Share of the FLOPs in convolutions (forward and backward)."""
        conv = sum(n for op, n in self.by_operator.items() if "convolution" in op)
        return conv / self.total if self.total else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"total": self.total, "by_operator": dict(self.by_operator)}


def count_flops(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[FlopCount, Any]:
    """Run ``fn(*args, **kwargs)`` once under the FLOP counter; return (count, fn's result)."""
    counter = FlopCounterMode(display=False)
    with counter:
        result = fn(*args, **kwargs)
    per_op = counter.get_flop_counts().get("Global", {})
    by_operator = {str(op): int(n) for op, n in sorted(per_op.items(), key=lambda kv: -kv[1]) if n}
    return FlopCount(int(counter.get_total_flops()), by_operator), result
