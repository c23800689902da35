"""The codec's upper bound: metrics of decode(encode(ground truth)) through the real evaluators.

Lossless parts (AVE spans, LLP event runs, AVQA answers) must score the maximum; lossy
parts (VGG-SS boxes on a ``coord_bins`` grid, masks on a ``mask_grid`` grid) show what the
token form costs. ``python -m avu.codec.upper_bound --data-root DIR [--split test]
[--coord-bins 32] [--mask-grid 16] [--output out.json]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Sequence

from tabulate import tabulate

from avu import BENCHMARK_IDS, fileio
from avu.benchmarks import dataset_dir, get_spec
from avu.codec import payloads
from avu.codec.codec import CodecSettings, TokenCodec, build_codec

#: the form whose round trip is measured (the lossless LLP form and the fully tokenised masks)
UPPER_BOUND_FORM = {"llp": "dense", "avs_s4": "grid", "avs_ms3": "grid", "avss": "grid"}


def dataset_targets(benchmark: str, root: str | Path, split: str) -> tuple[list[str], list[dict[str, Any]]]:
    """(ids, targets) of a split through the datasets (targets only; media stay undecoded)."""
    from avu.data.datasets.raw import specs_for

    specs, _, _ = specs_for(benchmark, Path(root), split, None)
    ids, targets = [], []
    for spec in specs:
        target = dict(spec.target)
        for key, load in spec.lazy_target.items():
            target[key] = load()
        ids.append(spec.sample_id)
        targets.append(target)
    return ids, targets


def upper_bound(benchmark: str, root: str | Path, split: str = "test", codec: TokenCodec | None = None,
                batch: int = 64, protocol: str | None = None) -> dict[str, Any]:
    """EvalResult dict of the round-tripped ground truth of one benchmark split."""
    codec = codec or build_codec()
    spec = get_spec(benchmark)
    references = spec.load_references(dataset_dir(root, benchmark), split=split, version=spec.default_annotation_version)
    if benchmark == "vggss":  # boxes straight from the annotations: works without media (real VGG-SS too)
        ids = list(references.ids)
        targets = [{"boxes": references.boxes_of(sid)} for sid in ids]
    else:
        ids, targets = dataset_targets(benchmark, root, split)
    form = UPPER_BOUND_FORM.get(benchmark)
    evaluator = spec.evaluator(references, protocol=protocol)
    lengths = []
    for start in range(0, len(ids), batch):
        decoded = []
        for target in targets[start:start + batch]:
            seq = codec.encode(benchmark, target, form=form)
            lengths.append(len(seq))
            decoded.append(codec.decode(benchmark, seq, form=form))
        evaluator.update(ids[start:start + batch], payloads.payload(benchmark, decoded))
    result = evaluator.compute().to_dict()
    result["sequence_length"] = {"mean": sum(lengths) / len(lengths), "max": max(lengths)}
    result["form"] = form or "default"
    return result


def mask_head_bound(benchmark: str, root: str | Path, split: str, size: int, batch: int = 16) -> dict[str, Any]:
    """Bound of a dense mask head predicting at ``size`` x ``size``: the ground truth's area
    fractions at that size, upsampled bilinearly to 224 (as `AVUnified.predict` does)."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from avu.codec import primitives as P

    spec = get_spec(benchmark)
    references = spec.load_references(dataset_dir(root, benchmark), split=split, version=spec.default_annotation_version)
    ids, targets = dataset_targets(benchmark, root, split)
    evaluator = spec.evaluator(references)
    for start in range(0, len(ids), batch):
        chunk = targets[start:start + batch]
        if benchmark == "avss":
            out = []
            for t in chunk:
                frames = []
                for f in np.asarray(t["labels"]):
                    classes = np.unique(f)
                    frac = np.stack([P.pool_fraction(f == c, size) for c in classes])
                    up = F.interpolate(torch.from_numpy(frac)[None].float(), size=(224, 224), mode="bilinear",
                                       align_corners=False)[0]
                    frames.append(classes[up.argmax(0).numpy()].astype(np.uint8))
                out.append(np.stack(frames))
            payload = {"labels": np.stack(out)}
        else:
            frac = np.stack([[P.pool_fraction(m > 0, size) for m in np.asarray(t["masks"])] for t in chunk])
            up = F.interpolate(torch.from_numpy(frac).float(), size=(224, 224), mode="bilinear", align_corners=False)
            payload = {"logits": ((up - 0.5) * 20.0).numpy()}
        evaluator.update(ids[start:start + batch], payload)
    result = evaluator.compute().to_dict()
    result["form"] = f"mask head {size}x{size}"
    return result


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m avu.codec.upper_bound", description=__doc__.splitlines()[0])
    p.add_argument("--data-root", required=True, type=Path,
                   help="data root (the generated suite; ../shared/datasets gives the real VGG-SS boxes)")
    p.add_argument("--split", default="test")
    p.add_argument("--benchmarks", nargs="*", default=list(BENCHMARK_IDS))
    p.add_argument("--coord-bins", type=int, default=CodecSettings.coord_bins)
    p.add_argument("--mask-grid", type=int, default=CodecSettings.mask_grid)
    p.add_argument("--protocol", help="evaluation protocol (default: each benchmark's primary one)")
    p.add_argument("--mask-head-sizes", type=int, nargs="*", default=[],
                   help="also bound a dense mask head predicting at these sizes")
    p.add_argument("--output", type=Path)
    args = p.parse_args(argv)
    codec = build_codec(CodecSettings(coord_bins=args.coord_bins, mask_grid=args.mask_grid))
    out, rows = {}, []
    for b in args.benchmarks:
        res = upper_bound(b, args.data_root, args.split, codec, protocol=args.protocol)
        out[b] = res
        primary = res["primary_metric"]
        rows.append([b, res["form"], primary, f"{res['metrics'][primary]:.2f}",
                     ", ".join(f"{k} {v:.2f}" for k, v in res["metrics"].items() if k != primary)[:90],
                     f"{res['sequence_length']['mean']:.1f} / {res['sequence_length']['max']}"])
        if b in ("avs_s4", "avs_ms3", "avss"):
            for size in args.mask_head_sizes:
                res = mask_head_bound(b, args.data_root, args.split, size)
                out[f"{b}@head{size}"] = res
                rows.append([b, res["form"], res["primary_metric"], f"{res['metrics'][res['primary_metric']]:.2f}",
                             ", ".join(f"{k} {v:.2f}" for k, v in res["metrics"].items()
                                       if k != res["primary_metric"])[:90], "-"])
    print(tabulate(rows, headers=["benchmark", "form", "metric", "upper bound (%)", "other metrics", "tokens mean/max"]))
    if args.output:
        fileio.write_json(args.output, {"settings": codec.describe()["settings"], "split": args.split, "results": out})
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
