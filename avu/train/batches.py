"""Collating model-side samples into batches, and `example_batch` for profiling.

A batch holds one task (inputs of different tasks differ in frame count):
``task``, ``ids``, ``text`` (B, L) word ids, ``audio`` (B, T, M, F) log-mel or
``audio_feat``, ``frames`` (B, T, 3, S, S) uint8 or ``visual_feat``; for training also
``tokens`` (B, Ls) and the dense targets of avu.train.targets.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch

from avu.codec import FRAMES
from avu.model.decoder import pad_sequences

#: keys stacked along a new batch axis
DENSE_KEYS = ("audio", "audio_feat", "frames", "visual_feat", "guide", "mask_target", "video_labels", "mask_valid",
              "segment_target", "world_target")


def collate(task: str, samples: Sequence[Mapping[str, Any]], pad: int) -> dict[str, Any]:
    batch: dict[str, Any] = {"task": task, "ids": [s.get("id") for s in samples]}
    for key in DENSE_KEYS:
        if key in samples[0]:
            batch[key] = torch.as_tensor(np.stack([np.asarray(s[key]) for s in samples]))
    if "text" in samples[0]:
        batch["text"] = torch.as_tensor(np.stack([s["text"] for s in samples]))
    if "tokens" in samples[0]:
        batch["tokens"] = pad_sequences([s["tokens"] for s in samples], pad)
    if "question" in samples[0]:
        batch["questions"] = [s["question"] for s in samples]
    return batch


def to_device(batch: Mapping[str, Any], device: torch.device | str) -> dict[str, Any]:
    out = {}
    for k, v in batch.items():
        if isinstance(v, torch.Tensor):
            v = v.to(device, non_blocking=True)
            if k in ("audio", "audio_feat", "visual_feat") and v.dtype == torch.float16:
                v = v.float()
        out[k] = v
    return out


def example_batch(cfg: Mapping[str, Any], batch_size: int, device: torch.device | str = "cpu", task: str = "ave",
                  seed: int = 0, model: Any = None) -> dict[str, Any]:
    """A random training batch of ``task`` with the shapes the model configuration expects.

    ``cfg``: the full config (with ``model``) or the model config itself; ``model``: an
    already built model (avoids building another codec). Inputs are random (log-mel
    features, uint8 frames); targets are random but well-formed codec sequences.
    """
    from avu.model.avunified import model_geometry
    from avu.train.targets import random_target, train_targets

    mcfg = cfg["model"] if "model" in cfg else cfg
    if model is None:
        from avu.codec import build_codec
        from avu.model.prompts import text_ids

        codec = build_codec(dict(mcfg["codec"]))
        pcfg = mcfg["prompt"]

        def texts(questions):
            return text_ids(task, questions, batch_size, texts=dict(pcfg["texts"]), enabled=bool(pcfg["enabled"]),
                            buckets=int(pcfg["buckets"]), max_words=int(pcfg["max_words"]))
    else:
        codec = model.codec

        def texts(questions):
            return model.text_ids(task, questions, batch_size)
    geo = model_geometry(mcfg)
    rng = np.random.default_rng(seed)
    T = FRAMES[task]
    samples = []
    for i in range(batch_size):
        target = random_target(task, codec, rng)
        s = train_targets(task, target, codec, geo)
        s["id"] = f"example{i}"
        if task == "avqa":
            s["question"] = target["question"]
        samples.append(s)
    batch = collate(task, samples, codec.pad)
    batch["text"] = texts(batch.get("questions"))
    gen = torch.Generator().manual_seed(seed)
    if geo["audio_kind"] == "features":
        batch["audio_feat"] = torch.randn(batch_size, T, geo["audio_feature_dim"], generator=gen)
    else:
        mel = geo["mel"]
        clip_seconds = 5 if task in ("avs_s4", "avs_ms3") else 10  # VGG-SS: the whole clip is one segment
        frames_per_segment = int(mel["sample_rate"]) // int(mel["hop"]) * (clip_seconds // T)
        batch["audio"] = torch.randn(batch_size, T, int(mel["n_mels"]), frames_per_segment, generator=gen)
    if geo["visual_kind"] == "features":
        g = geo["grid"]
        batch["visual_feat"] = torch.randn(batch_size, T, g, g, geo["visual_feature_dim"], generator=gen)
    else:
        s = geo["frame"]
        batch["frames"] = torch.randint(0, 256, (batch_size, T, 3, s, s), generator=gen, dtype=torch.uint8)
    return to_device(batch, device)
