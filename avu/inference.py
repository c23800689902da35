"""``avu predict``: a trained checkpoint's predictions, in the documented prediction formats.

The model is rebuilt from the configuration the checkpoint recorded (the one that trained its
weights), on that run's data root or another one in the same layout, and predicted through
training's own evaluation path, so the files are the ones training writes:
``<out>/predictions/<benchmark>-<split>.npz`` (MUSIC-AVQA: ``.json``), which ``avu evaluate``
scores. ``<out>/predict.json`` records the checkpoint, its step and config identity, and each
file with its sha256.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path
from typing import Any

from avu import fileio, provenance
from avu.errors import AvuInputError


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, type=Path, help="a run's checkpoints/last.pt (or the run folder)")
    p.add_argument("--out", required=True, type=Path, help="folder for predictions/ and predict.json")
    p.add_argument("--data-root", type=Path, help="data root (default: the run's data.root)")
    p.add_argument("--split", help="split to predict (default: the run's data.eval_split)")
    p.add_argument("--benchmark", action="append", help="a benchmark of the run (repeatable; default: all of them)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    p.add_argument("--batch-size", type=int, help="prediction batch size (default: the run's train.eval_batch_size)")


def _checkpoint_path(path: Path) -> Path:
    if path.is_dir():
        path = path / "checkpoints" / "last.pt"
    if not path.is_file():
        raise AvuInputError(path, None, "checkpoint not found")
    return path


def recorded_config(path: Path, state: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint's recorded config, after checking it is the one that trained the weights."""
    from avu.train.loop import identity_matches

    cfg = state.get("config")
    if not isinstance(cfg, dict) or "model" not in state:
        raise AvuInputError(path, "config", "not an avu training checkpoint (no recorded config or model)")
    if not identity_matches(cfg, state.get("identity")):
        raise AvuInputError(path, "identity", "the recorded config does not match the checkpoint's identity")
    cfg = copy.deepcopy(cfg)
    # decoding settings act at inference only (outside the identity): one newer than the
    # checkpoint decodes as the code did before the setting existed, else as today's default
    from omegaconf import OmegaConf

    from avu.conf import compose

    cfg["model"]["decode"] = {**OmegaConf.to_container(compose().model.decode), **DECODE_BEFORE_SETTING,
                              **cfg["model"]["decode"]}
    return cfg


#: decoding settings whose default is not what the code did before they existed: a checkpoint
#: that does not record one keeps its old behaviour (AVSS frame classes came from the decoder's
#: tokens until the world-category loss made the segment head's best class the default)
DECODE_BEFORE_SETTING = {"avss_classes": "tokens"}


def predict(args: argparse.Namespace) -> dict[str, Any]:
    from avu.model import build_model
    from avu.train import checkpoint as ckpt
    from avu.train import distributed as D
    from avu.train.loop import _amp_enabled, evaluate_all

    path = _checkpoint_path(args.checkpoint)
    state = ckpt.load(path)
    cfg = recorded_config(path, state)
    tasks = list(cfg["tasks"])
    chosen = args.benchmark or tasks
    unknown = [b for b in chosen if b not in tasks]
    if unknown:
        raise AvuInputError(path, "--benchmark", f"{unknown[0]!r} is not a task of this run; its tasks: {', '.join(tasks)}")
    root = Path(args.data_root or cfg["data"]["root"])
    if not root.is_dir():
        raise AvuInputError(root, "--data-root", "not a folder")
    # predictions/ and predict.json land in --out: never among the data, checked before the model runs
    fileio.check_output_dir(args.out, inputs=[path], input_dirs=[root], option="--out")
    cfg["data"]["root"] = str(root)
    cfg["data"]["eval_split"] = args.split or cfg["data"]["eval_split"]
    cfg["train"].update(evaluate=True, write_predictions=True)
    if args.batch_size:
        cfg["train"]["eval_batch_size"] = args.batch_size

    info = D.setup(args.device)
    try:
        model = build_model(cfg["model"]).to(info.device)
        # the weights training evaluated: their moving average where train.ema_decay kept one
        model.load_state_dict(state["ema"] if "ema" in state else state["model"])
        amp = _amp_enabled(cfg["train"], info.device)  # as training's own evaluation
        docs = evaluate_all(model, cfg, chosen, root, args.out, info, amp, progress=info.main)
    finally:
        D.cleanup()
    if not info.main:  # several processes (torchrun, SLURM): rank 0 writes the files and the record
        return {}
    return {
        "checkpoint": {"path": str(path), "sha256": provenance.sha256_file(path), "step": state.get("step"),
                       "config_identity": state.get("identity")},
        "data_root": str(root),
        "split": cfg["data"]["eval_split"],
        "predictions": {task: doc["predictions"] for task, doc in docs.items()},
        "provenance": provenance.record(),
    }


def run(args: argparse.Namespace) -> int:
    doc = predict(args)
    if not doc:
        return 0
    fileio.write_json(args.out / "predict.json", doc)
    for task, written in doc["predictions"].items():
        print(f"{task}: wrote {written['path']}")
    print(f"wrote {args.out / 'predict.json'}")
    return 0
