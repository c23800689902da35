"""A `Workload` for the AV-Unified model, composed from its Hydra configs (``avu/conf``).

It runs what training runs, through the trainer's own API: ``avu.model.build_model(cfg.model)``
(an ``AVUnified`` whose forward is ``training_loss(batch) -> (loss, parts)``),
``avu.train.loop.build_optimizer(model, cfg.train)`` (AdamW with the config's groups),
``avu.train.train_step(model, optimizer, batch, amp=..., grad_clip=..., step_fn=...)`` with
``torch.compile(model)`` as ``step_fn`` when compiled (as ``avu.train.loop`` does), and
``avu.train.example_batch(cfg, batch_size, device, task, seed, model)`` for a random batch
of one task with the shapes the configuration expects. Inference runs ``model.predict``
under autocast, as ``avu.train.predict`` does (greedy decoding included).
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from avu.errors import AvuInputError
from avu.profile.workload import Workload, autocast_context, parameter_counts


def compose_config(overrides: Sequence[str], config_name: str | None = None) -> Any:
    """The composed training config (an OmegaConf DictConfig); bad overrides -> AvuInputError."""
    from avu.conf import CONFIG_NAME, compose

    return compose(overrides, config_name=config_name or CONFIG_NAME)


def _model_config(cfg: Any) -> dict[str, Any]:
    from omegaconf import OmegaConf

    # only the model (and train) sections are resolved: the data section may name a data
    # root that this machine lacks, and profiling needs no data
    return {
        "model": OmegaConf.to_container(cfg.model, resolve=True),
        "train": OmegaConf.to_container(cfg.train, resolve=True),
    }


def pick_task(cfg: Any, task: str | None) -> str:
    tasks = list(cfg.tasks)
    if task is None:
        if not tasks:
            raise AvuInputError(None, "tasks", "the config selects no task; pass --task")
        return tasks[0]
    from avu import BENCHMARK_IDS

    if task not in BENCHMARK_IDS:
        raise AvuInputError(None, "--task", f"unknown task {task!r}; one of {', '.join(BENCHMARK_IDS)}")
    return task


def model_workload(
    overrides: Sequence[str] = (),
    *,
    mode: str = "train",
    dtype: str = "fp32",
    device: str | torch.device = "cpu",
    compile: bool = False,
    compile_backend: str = "inductor",
    seed: int = 0,
    config_name: str | None = None,
    task: str | None = None,
) -> Workload:
    """Build the AV-Unified model from ``overrides`` and wrap one step of it.

    ``task`` picks which benchmark's batch is fed (default: the config's first task);
    batches of different tasks differ in frame count and heads used.
    """
    from avu.model import build_model
    from avu.train import example_batch, train_step
    from avu.train.loop import build_optimizer

    device = torch.device(device)
    cfg = compose_config(overrides, config_name)
    task = pick_task(cfg, task)
    resolved = _model_config(cfg)
    train_cfg = resolved["train"]
    torch.manual_seed(seed)
    model = build_model(resolved["model"]).to(device)
    model.train(mode == "train")
    amp = dtype == "bf16"
    grad_clip = float(train_cfg["grad_clip"])

    if mode == "train":
        optimizer = build_optimizer(model, train_cfg)
        compiled = torch.compile(model, backend=compile_backend) if compile else None

        def step(batch: dict[str, Any]) -> torch.Tensor:
            return train_step(model, optimizer, batch, amp=amp, grad_clip=grad_clip, step_fn=compiled)

        def flop_step(batch: dict[str, Any]) -> torch.Tensor:
            return train_step(model, optimizer, batch, amp=amp, grad_clip=grad_clip)

        def forward(batch: dict[str, Any]) -> Any:
            with torch.no_grad(), autocast_context(device, dtype):
                return model(batch)
    else:
        # the model's forward is the training loss; inference is `predict` (encoder + greedy decoder)
        run_predict = torch.compile(model.predict, backend=compile_backend) if compile else model.predict

        def infer_with(predict_of):
            def infer_step(batch: dict[str, Any]) -> Any:
                with torch.no_grad(), autocast_context(device, dtype):
                    return predict_of(batch)
            return infer_step

        step, flop_step = infer_with(run_predict), infer_with(model.predict)
        forward = flop_step

    def make_batch(batch_size: int) -> dict[str, Any]:
        return example_batch(cfg, batch_size, device=device, task=task, seed=seed, model=model)

    return Workload(
        name=f"avu:{resolved['model']['name']}", mode=mode, dtype=dtype, device=device,
        make_batch=make_batch, step=step, forward=forward, flop_step=flop_step,
        clips=lambda batch: int(batch["text"].shape[0]), compiled=compile,
        config={"overrides": list(overrides), "task": task, **resolved, "seed": seed},
        info={
            **parameter_counts(model), "task": task, "overrides": list(overrides),
            "experiment": cfg.experiment_name,
            "compile_backend": compile_backend if compile else None,
        },
    )
