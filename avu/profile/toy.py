"""A small built-in audio-visual classifier, so the profiler can be exercised and tested
without the full model: a conv stem over frames, an MLP over audio features, fused.

It is a real workload (convolutions, matmuls, a backward pass, an optimizer), only small.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from avu.profile.workload import Workload, autocast_context, parameter_counts


class ToyAVNet(nn.Module):
    def __init__(self, image_size: int = 32, audio_dim: int = 64, width: int = 32, classes: int = 10):
        super().__init__()
        self.visual = nn.Sequential(
            nn.Conv2d(3, width, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(width, width, 3, stride=2, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.audio = nn.Sequential(nn.Linear(audio_dim, width), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(2 * width, width), nn.ReLU(), nn.Linear(width, classes))
        self.image_size, self.audio_dim, self.classes = image_size, audio_dim, classes

    def forward(self, frames: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([self.visual(frames), self.audio(audio)], dim=1))


def toy_workload(
    mode: str = "train",
    dtype: str = "fp32",
    device: str | torch.device = "cpu",
    compile: bool = False,
    compile_backend: str = "inductor",
    seed: int = 0,
    **model_kwargs: Any,
) -> Workload:
    """A `Workload` around `ToyAVNet` (seeded: same seed, same weights and batches)."""
    device = torch.device(device)
    torch.manual_seed(seed)
    model = ToyAVNet(**model_kwargs).to(device)
    model.train(mode == "train")
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    run_model = torch.compile(model, backend=compile_backend) if compile else model

    def make_batch(batch_size: int) -> dict[str, torch.Tensor]:
        g = torch.Generator().manual_seed(seed + 1)
        return {
            "frames": torch.randn(batch_size, 3, model.image_size, model.image_size, generator=g).to(device),
            "audio": torch.randn(batch_size, model.audio_dim, generator=g).to(device),
            "label": torch.randint(0, model.classes, (batch_size,), generator=g).to(device),
        }

    def make_train_step(net: nn.Module):
        def train_step(batch: dict[str, torch.Tensor]) -> torch.Tensor:
            optimizer.zero_grad(set_to_none=True)
            with autocast_context(device, dtype):
                loss = nn.functional.cross_entropy(net(batch["frames"], batch["audio"]), batch["label"])
            loss.backward()
            optimizer.step()
            return loss.detach()
        return train_step

    def make_forward(net: nn.Module):
        def forward(batch: dict[str, torch.Tensor]) -> torch.Tensor:
            with torch.no_grad(), autocast_context(device, dtype):
                return net(batch["frames"], batch["audio"])
        return forward

    step = make_train_step(run_model) if mode == "train" else make_forward(run_model)
    flop_step = make_train_step(model) if mode == "train" else make_forward(model)
    return Workload(
        name="toy", mode=mode, dtype=dtype, device=device, make_batch=make_batch,
        step=step, forward=make_forward(model), flop_step=flop_step,
        clips=lambda batch: int(batch["frames"].shape[0]), compiled=compile,
        config={"model": "toy", **model_kwargs, "seed": seed},
        info={**parameter_counts(model), "compile_backend": compile_backend if compile else None},
    )
