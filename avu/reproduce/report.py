"""The reproducer's outputs: tables in three formats, pictures, and a report page."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from avu import fileio
from avu.benchmarks import dataset_dir, get_spec
from avu.reproduce import figures
from avu.reproduce.runner import RunOutcome, Settings, rescore

N_EXAMPLES = 4


def write_tables(out: Path, name: str, markdown: str, latex: str, json_text: str) -> list[Path]:
    paths = [out / f"{name}.md", out / f"{name}.tex", out / f"{name}.json"]
    for path, text in zip(paths, (markdown, latex, json_text)):
        fileio.write_text(path, text)
    return paths


def _frames(benchmark: str, root: Path, index: int):
    from avu.data.datasets import build_dataset

    ds = build_dataset(benchmark, root, "test", frame_size=128, cache=False, progress=False)
    return ds[index]


def localisation_figure(outcome: RunOutcome, settings: Settings, path: Path) -> Path | None:
    """Predicted heatmaps over the first test frames, with the GT boxes and each cIoU."""
    evaluator = rescore(outcome, "vggss", settings)
    spec = get_spec("vggss")
    refs = evaluator.references
    pred_path = Path(outcome.doc["results"]["vggss"]["predictions"]["path"])
    ids, payload = spec.read_predictions(pred_path, refs)
    position = {sid: i for i, sid in enumerate(ids)}
    ciou = dict(zip(evaluator.last_ids, evaluator.last_records))
    examples = []
    for k, sid in enumerate(refs.ids[:N_EXAMPLES]):
        item = _frames("vggss", settings.root, k)
        examples.append({
            "sample_id": sid,
            "frame": item["frames"][0].numpy(),
            "heatmap": np.asarray(payload["heatmaps"][position[sid]], dtype=np.float32),
            "boxes": item["target"]["boxes"].numpy(),
            "ciou": float(np.asarray(ciou[sid]).ravel()[0]) if sid in ciou else None,
        })
    return figures.localisation_examples(examples, path)


def segmentation_figure(outcome: RunOutcome, settings: Settings, benchmark: str, path: Path) -> Path:
    """Ground-truth and predicted masks over the frames of the first test videos."""
    spec = get_spec(benchmark)
    refs = spec.load_references(dataset_dir(settings.root, benchmark), split="test",
                                version=spec.default_annotation_version)
    pred_path = Path(outcome.doc["results"][benchmark]["predictions"]["path"])
    ids, payload = spec.read_predictions(pred_path, refs)
    position = {sid: i for i, sid in enumerate(ids)}
    semantic = benchmark == "avss"
    examples = []
    for k, sid in enumerate(refs.ids[:2]):
        item = _frames(benchmark, settings.root, k)
        target = item["target"]
        gt = np.asarray(target["labels"] if semantic else target["masks"], dtype=np.uint8)
        i = position[sid]
        if semantic:
            pred = np.asarray(payload["labels"][i], dtype=np.uint8)
        elif "logits" in payload:
            pred = (np.asarray(payload["logits"][i]) > 0).astype(np.uint8)
        elif "probs" in payload:
            pred = (np.asarray(payload["probs"][i]) > 0.5).astype(np.uint8)
        else:
            pred = (np.asarray(payload["levels"][i]) > 127).astype(np.uint8)
        frames = item["frames"].numpy()
        t = min(len(frames), len(gt), len(pred))
        examples.append({"sample_id": sid, "frames": frames[:t], "gt": gt[:t], "pred": pred[:t], "semantic": semantic})
    return figures.segmentation_examples(examples, path, title=f"{benchmark}: ground truth and prediction")


def report_page(title: str, sections: list[tuple[str, str]], pictures: Mapping[str, Path], out: Path) -> Path:
    lines = [f"# {title}", ""]
    for heading, body in sections:
        lines += [f"## {heading}", "", body.strip(), ""]
    if pictures:
        lines += ["## Pictures", ""]
        for caption, pic in pictures.items():
            lines += [f"### {caption}", "", f"![{caption}]({pic.relative_to(out).as_posix()})", ""]
    path = out / "report.md"
    fileio.write_text(path, "\n".join(lines))
    return path


def runs_index(outcomes: list[RunOutcome]) -> list[dict[str, Any]]:
    return [{
        "configuration": o.spec.configuration, "experiment": o.spec.experiment, "seed": o.spec.seed,
        "overrides": list(o.spec.overrides), "run_dir": str(o.run_dir), "config_hash": o.config_hash,
        "reused": o.reused, "seconds": round(o.seconds, 1),
        "metrics": {b: o.metrics(b) for b in o.spec.benchmarks},
    } for o in outcomes]
