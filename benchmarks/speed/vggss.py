"""VGG-SS evaluator speed: the fast evaluator vs the slow per-sample oracle (tests/oracles/vggss.py).

Full-size test split: 5,158 random 14x14 heatmaps (seeded) scored against the real boxes of
``../shared/datasets/vggss`` when present (else random boxes of the same count), under both
protocols. The oracle runs the official per-sample loop; it is timed on an evenly spaced
subset (``oracle_subset`` samples) and extrapolated linearly to the full split, which is
fair because its cost is the same for every sample (say so in the row name). Fast and oracle
must agree exactly on that subset. Both sides default to one torch thread (printed;
``--fast-threads N`` changes the fast side, 0 = torch's default): on the shared 2-core dev
machine torch's default of 2 threads made the fast path 14x slower (7.7 s instead of 0.55 s:
the pool spin-waits on the small per-chunk ops of a loaded machine), and a per-sample
``F.interpolate`` through the pool costs the oracle milliseconds per map, which would
inflate the ratio. ``--stages`` also prints per-stage timings of
both sides (where the time goes). Run: ``python benchmarks/speed/vggss.py [--stages]``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # the oracle lives in tests/oracles
    sys.path.insert(0, str(REPO))

N_TEST = 5158
SIDE = 14


def _references(seed: int):
    from avu.data.annotations.vggss import VggssReferences, load_references
    from avu.metrics.vggss import box_pixel_bounds

    shared = Path(os.environ.get("AVU_SHARED", REPO.parent / "shared"))
    folder = shared / "datasets" / "vggss"
    if (folder / "vggss.json").is_file():
        return load_references(folder), "real GT"
    rng = np.random.default_rng(seed + 1)
    lo = rng.random((N_TEST, 1, 2)) * 0.6
    boxes = np.concatenate([lo, lo + 0.1 + rng.random((N_TEST, 1, 2)) * 0.3], axis=2)
    refs = VggssReferences(
        benchmark="vggss", split="test", ids=[f"random{i:05d}_000000" for i in range(N_TEST)],
        annotation_version="random", classes=["random"] * N_TEST, boxes=list(boxes),
        pixel_boxes=box_pixel_bounds(boxes), box_counts=np.ones(N_TEST, dtype=np.int64),
    )
    return refs, "random GT"


def run(seed: int = 0, repeats: int = 3, oracle_subset: int = 516, fast_threads: int | None = 1,
        oracle_threads: int | None = 1) -> list[dict]:
    """Rows of (name, n, fast_s, oracle_s, ratio, threads) per protocol; ``None`` threads: torch's default."""
    import torch

    previous = torch.get_num_threads()
    try:
        return _run(seed, repeats, oracle_subset, fast_threads or previous, oracle_threads or previous)
    finally:
        torch.set_num_threads(previous)


def _run(seed: int, repeats: int, oracle_subset: int, fast_threads: int, oracle_threads: int) -> list[dict]:
    import torch

    from avu.evaluators.vggss import VggssEvaluator
    from tests.oracles import vggss as oracle

    references, gt_kind = _references(seed)
    n = len(references)
    heatmaps = np.random.default_rng(seed).standard_normal((n, SIDE, SIDE)).astype(np.float32)
    payload = {"heatmaps": heatmaps}
    picked = np.linspace(0, n - 1, min(oracle_subset, n)).astype(int)
    rows = []
    for protocol in ("ezvsl", "lvs"):

        def fast() -> VggssEvaluator:
            evaluator = VggssEvaluator(references, protocol=protocol)
            evaluator.update(references.ids, payload)
            evaluator.compute()
            return evaluator

        torch.set_num_threads(fast_threads)
        evaluator = fast()  # warm-up (torch kernels, coefficient tables)
        fast_s = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            evaluator = fast()
            fast_s = min(fast_s, time.perf_counter() - start)

        torch.set_num_threads(oracle_threads)
        start = time.perf_counter()
        slow = oracle.evaluate(heatmaps[picked], [references.boxes[i] for i in picked], protocol)
        oracle_s = (time.perf_counter() - start) * n / len(picked)

        fast_ciou = np.array([evaluator._records[references.ids[i]] for i in picked])
        if not np.array_equal(fast_ciou, slow["ciou"], equal_nan=True):
            raise AssertionError(f"fast and oracle VGG-SS ({protocol}) disagree on the timed subset")
        rows.append({
            "name": f"vggss {protocol} ({gt_kind}; oracle timed on {len(picked)} maps, x{n / len(picked):.1f})",
            "n": n, "fast_s": fast_s, "oracle_s": oracle_s, "ratio": oracle_s / fast_s,
            "threads": f"fast {fast_threads}, oracle {oracle_threads}",
        })
    return rows


def stages(seed: int = 0, oracle_subset: int = 516, chunk: int | None = None) -> dict[str, dict[str, float]]:
    """Seconds per stage for the full split, fast path (one torch thread) and oracle (extrapolated)."""
    import torch
    import torch.nn.functional as F

    from avu.metrics import vggss as k
    from tests.oracles import vggss as oracle

    references, _ = _references(seed)
    n = len(references)
    heatmaps = np.random.default_rng(seed).standard_normal((n, SIDE, SIDE)).astype(np.float32)
    chunk = chunk or k.DEFAULT_CHUNK
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    out: dict[str, dict[str, float]] = {}
    try:
        for upsampling, rule in (("bilinear_align_corners", "ezvsl"), ("cv2_linear", "lvs")):
            times = dict.fromkeys(("upsample", "normalise", "median", "counts"), 0.0)
            work = k.Workspace(chunk, k.GT_SIZE)
            for start in range(0, n, chunk):
                part = slice(start, min(start + chunk, n))
                t0 = time.perf_counter()
                values = k.upsample(heatmaps[part], upsampling, k.GT_SIZE, work)
                t1 = time.perf_counter()
                pred = k.normalized_maps(values, rule, work)
                t2 = time.perf_counter()
                thr, selected = k.mask_threshold(pred, rule, work)
                t3 = time.perf_counter()
                k.ciou_terms_boxes_scores(pred.reshape(-1, k.GT_SIZE, k.GT_SIZE), thr, selected, rule,
                                          references.pixel_boxes[part], references.box_counts[part])
                t4 = time.perf_counter()
                for name, dt in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                    times[name] += dt
            out[f"fast {rule}"] = times
        picked = np.linspace(0, n - 1, min(oracle_subset, n)).astype(int)
        for rule in ("ezvsl", "lvs"):
            times = dict.fromkeys(("gt map", "upsample", "normalise", "np.sort", "binarise", "cal_CIOU"), 0.0)
            for i in picked:
                boxes = references.boxes[i]
                t0 = time.perf_counter()
                gt = oracle.bbox2gtmap(boxes) if rule == "ezvsl" else oracle.lvs_gt_map(boxes)
                t1 = time.perf_counter()
                if rule == "ezvsl":
                    h = torch.from_numpy(heatmaps[i])[None, None]
                    up = F.interpolate(h, size=(224, 224), mode="bilinear", align_corners=True).numpy()[0, 0]
                else:
                    up = oracle.cv2_resize_linear(heatmaps[i])
                t2 = time.perf_counter()
                pred = oracle.normalize_img(up) if rule == "ezvsl" else 1 - oracle.normalize_img(-up)
                t3 = time.perf_counter()
                thr = np.sort(pred.flatten())[int(pred.shape[0] * pred.shape[1] / 2)]
                t4 = time.perf_counter()
                if rule == "lvs":
                    pred[pred > thr] = 1
                    pred[pred < 1] = 0
                    thr = 0.5
                t5 = time.perf_counter()
                oracle.cal_ciou(pred, gt, thr)
                t6 = time.perf_counter()
                for name, dt in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5)):
                    times[name] += dt * n / len(picked)
            out[f"oracle {rule}"] = times
    finally:
        torch.set_num_threads(previous)
    return out


if __name__ == "__main__":
    threads = int(sys.argv[sys.argv.index("--fast-threads") + 1]) if "--fast-threads" in sys.argv else 1
    for row in run(fast_threads=threads or None):
        print(f"{row['name']}: n={row['n']} fast={row['fast_s']:.3f}s oracle={row['oracle_s']:.2f}s "
              f"ratio={row['ratio']:.1f}x (torch threads: {row['threads']})")
    if "--stages" in sys.argv:
        for side, times in stages().items():
            cells = ", ".join(f"{name} {1e6 * t / N_TEST:.1f}" for name, t in times.items())
            print(f"{side}: {sum(times.values()):.3f}s = {cells} (us per map)")
