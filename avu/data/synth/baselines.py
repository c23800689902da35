"""Solvability of a suite: oracle, prior and chance predictions scored by the real evaluators.

``python -m avu.data.synth.baselines --root DIR [--split test] [--output table.md]``

* oracle: the ground truth written as a prediction (the maximum the protocol allows;
  for VGG-SS under the default EZ-VSL protocol, which selects at least half of the
  pixels, the attainable maximum is below 100 when boxes are small, and is printed);
* prior: what the training split alone predicts without looking at the clip (the
  majority label per segment, class frequencies, the mean training mask, all background,
  the most frequent answer per question template, a centred blob);
* chance: uniform random predictions (seeded).
Works on any data root with train + evaluation splits (the generated suite or real data).
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path
from typing import Any

import numpy as np

from avu import BENCHMARK_IDS
from avu.benchmarks import dataset_dir, get_spec

KINDS = ("oracle", "prior", "chance")


def _refs(benchmark: str, root: Path, split: str):
    spec = get_spec(benchmark)
    return spec.load_references(dataset_dir(root, benchmark), split=split, version=spec.default_annotation_version)


def _masks(refs) -> np.ndarray:
    return np.stack([refs.masks(sid) for sid in refs.ids])


def vggss_max_heatmaps(refs) -> np.ndarray:
    """The best a ">= median" mask can do: the boxes first, then every other pixel ranked by its
    distance to them with no ties (ties at the median would select more than half the pixels)."""
    from scipy.ndimage import distance_transform_edt

    gt = refs.gt_maps(np.arange(len(refs.ids)))
    out = np.empty(gt.shape, np.float32)
    for i, g in enumerate(gt):
        d = distance_transform_edt(~g) if g.any() else np.zeros(g.shape)
        rank = np.empty(g.size, np.float64)
        rank[np.lexsort((np.arange(g.size), d.ravel()))] = np.arange(g.size)
        out[i] = np.where(g, 2.0, 1.0 - rank.reshape(g.shape) / g.size)
    return out


def predictions(benchmark: str, kind: str, refs, train, rng: np.random.Generator,
                protocol: str | None = None) -> dict[str, Any]:
    """The payload of ``kind`` for ``refs`` (``train``: the training split's references)."""
    n = len(refs.ids)
    if benchmark == "ave":
        if kind == "oracle":
            return {"labels": refs.labels}
        if kind == "prior":
            major = np.array([np.bincount(train.labels[:, t], minlength=29).argmax() for t in range(10)])
            return {"labels": np.tile(major, (n, 1))}
        return {"labels": rng.integers(0, 29, (n, 10))}
    if benchmark == "llp":
        if kind == "oracle":
            frame = np.stack([refs.gt_audio.transpose(0, 2, 1), refs.gt_visual.transpose(0, 2, 1)], axis=2)
            return {"global_prob": refs.weak_labels.astype(np.float32), "frame_prob": frame.astype(np.float32)}
        if kind == "prior":
            freq = train.weak_labels.mean(axis=0).astype(np.float32)
            return {"global_prob": np.tile(freq, (n, 1)), "frame_prob": np.tile(freq, (n, 10, 2, 1))}
        return {"global_prob": rng.random((n, 25), dtype=np.float32), "frame_prob": rng.random((n, 10, 2, 25), dtype=np.float32)}
    if benchmark == "vggss":
        if kind == "oracle" and protocol == "lvs":  # strictly above the median: the binary map is exact
            return {"heatmaps": refs.gt_maps(np.arange(n)).astype(np.float32)}
        if kind == "oracle":
            return {"heatmaps": vggss_max_heatmaps(refs)}
        if kind == "prior":  # the mean training GT map: where sources usually are
            prior = train.gt_maps(np.arange(len(train.ids))).mean(axis=0).astype(np.float32)
            return {"heatmaps": np.tile(prior, (n, 1, 1))}
        return {"heatmaps": rng.random((n, 14, 14), dtype=np.float32)}
    if benchmark in ("avs_s4", "avs_ms3"):
        if kind == "oracle":
            return {"logits": (_masks(refs).astype(np.float32) * 2.0 - 1.0) * 10.0}
        if kind == "prior":
            p = np.clip(_masks(train).astype(np.float32).mean(axis=(0, 1)), 1e-4, 1 - 1e-4)
            logit = np.log(p / (1 - p))
            return {"logits": np.tile(logit, (n, refs.frames, 1, 1))}
        return {"logits": rng.standard_normal((n, refs.frames, 224, 224), dtype=np.float32)}
    if benchmark == "avss":
        if kind == "oracle":
            return {"labels": _masks(refs)}
        if kind == "prior":
            return {"labels": np.zeros((n, 10, 224, 224), np.uint8)}
        return {"labels": rng.integers(0, 71, (n, 10, 224, 224), dtype=np.uint8)}
    if benchmark == "avqa":
        from avu.data.classes import AVQA_ANSWERS

        if kind == "oracle":
            return {"answers": list(refs.answers)}
        if kind == "prior":  # the language prior: most frequent training answer of the template
            by_template: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
            overall = collections.Counter(train.answers)
            for q, a in zip(train.question_contents, train.answers):
                by_template[q][a] += 1
            return {"answers": [(by_template.get(q) or overall).most_common(1)[0][0] for q in refs.question_contents]}
        return {"answers": [AVQA_ANSWERS[i] for i in rng.integers(0, len(AVQA_ANSWERS), n)]}
    raise ValueError(benchmark)


def vggss_attainable(refs) -> float:
    """Best possible ciou_ap50 (%) under the >= median rule: a box of B pixels reaches min(1, B / 25088)."""
    gt = refs.gt_maps(np.arange(len(refs.ids)))
    best = np.minimum(1.0, gt.reshape(len(gt), -1).sum(axis=1) / 25088.0)
    return float((best >= 0.5).mean() * 100.0)


def evaluate(benchmark: str, root: Path, split: str = "test", seed: int = 0,
             protocol: str | None = None) -> dict[str, dict[str, float]]:
    """Metrics (percent) of the oracle, prior and chance predictions on ``split``."""
    spec = get_spec(benchmark)
    refs = _refs(benchmark, root, split)
    train = _refs(benchmark, root, "train")
    out = {}
    for kind in KINDS:
        ev = spec.evaluator(refs, protocol)
        ev.update(list(refs.ids), predictions(benchmark, kind, refs, train, np.random.default_rng(seed), protocol))
        res = ev.compute()
        out[kind] = {"primary": res.primary_metric, **res.metrics}
    if benchmark == "vggss" and protocol in (None, "ezvsl"):
        out["oracle"]["attainable_ciou_ap50"] = vggss_attainable(refs)
    return out


def table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    """A markdown table of the primary metric per benchmark and kind."""
    lines = ["| benchmark | metric | oracle | prior | chance |", "|---|---|---|---|---|"]
    for b, r in results.items():
        m = r["oracle"]["primary"]
        extra = f" (attainable {r['oracle']['attainable_ciou_ap50']:.1f})" if "attainable_ciou_ap50" in r["oracle"] else ""
        lines.append(f"| {b} | {m} | {r['oracle'][m]:.1f}{extra} | {r['prior'][m]:.1f} | {r['chance'][m]:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m avu.data.synth.baselines", description=__doc__.split("\n")[0])
    p.add_argument("--root", type=Path, required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--benchmarks", nargs="+", default=list(BENCHMARK_IDS), choices=list(BENCHMARK_IDS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", type=Path, default=None, help="also write the markdown table here")
    args = p.parse_args(argv)
    from avu.errors import AvuInputError

    try:
        results = {b: evaluate(b, args.root, args.split, args.seed) for b in args.benchmarks}
    except AvuInputError as exc:
        print(f"avu: error: {exc}", file=sys.stderr)
        return 2
    text = table(results)
    print(text, end="")
    if args.output:
        from avu import fileio

        fileio.write_text(args.output, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
