"""Pictures for the reproduction report: bars, the transfer matrix and sample overlays.

Every function draws one figure and writes it as a PNG, atomically, to ``path`` and returns
that path. The output depends only on the inputs: matplotlib's default style plus the few
settings in ``_STYLE`` (the user's matplotlibrc is ignored), fixed sizes in pixels, fixed dpi,
and no software/time metadata in the file, so the same inputs give the same bytes. No pyplot
and no global backend switch: figures are plain ``Figure`` objects rendered by Agg.

Inputs come from the reproducer, not from users, so bad input raises ``ValueError``.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
from matplotlib import style
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from avu import BENCHMARK_IDS, fileio

DPI = 100
_STYLE = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "image.interpolation_stage": "data",
}
#: Okabe-Ito colours (colour-blind safe); the first is always "ours" / joint.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")
HEATMAP_ALPHA = 0.5
#: outline colours (RGB 0..255) of ground truth and prediction in every overlay (figures and the
#: explorer): lime and magenta stay apart for the common colour-vision deficiencies, and each
#: outline is drawn over a dark halo so it shows on bright, dark and coloured frames alike
#: what each reference point of the generated suite is, as the bar chart's legend names it
REFERENCE_LABELS = {"oracle": "oracle (ground truth as prediction)", "prior": "prior (training split only)",
                    "chance": "chance (uniform random)"}
GT_OUTLINE = (0, 255, 0)
PRED_OUTLINE = (255, 0, 255)
HALO = (0, 0, 0)
OUTLINE_WIDTH = 2

# Sizes in pixels (figure = these at DPI); tests rely on them.
BARS_SIZE = (1000, 460)
TRANSFER_SIZE = (720, 620)
LOC_CELL = (250, 270)          # one localisation example (image + two-line title)
LOC_COLUMNS = 4
SEG_CELL = 130                 # one frame of the segmentation grid
SEG_LABEL_WIDTH = 60           # room for the row labels on the left
TITLE_HEIGHT = 40
LEGEND_HEIGHT = 60


# ----------------------------------------------------------------------------- shared helpers

@contextlib.contextmanager
def _figure(width_px: int, height_px: int) -> Iterator[Figure]:
    """A figure of exactly ``width_px`` x ``height_px`` pixels drawn under the fixed style."""
    with style.context(["default", _STYLE]):
        yield Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI, layout="constrained")


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    with fileio.atomic_path(path, suffix=".png") as tmp:
        # "Software" is the only metadata matplotlib writes into a PNG by default
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
    return path


def _ordered_benchmarks(keys: Sequence[str], what: str) -> list[str]:
    unknown = sorted(set(keys) - set(BENCHMARK_IDS))
    if unknown:
        raise ValueError(f"{what}: unknown benchmark(s) {unknown}; known: {', '.join(BENCHMARK_IDS)}")
    if not keys:
        raise ValueError(f"{what}: no benchmarks to draw")
    return [b for b in BENCHMARK_IDS if b in keys]


def _primary_metric(benchmark: str, names: Mapping[str, str] | None) -> str:
    if names and benchmark in names:
        return names[benchmark]
    from avu.benchmarks import get_spec

    return get_spec(benchmark).evaluator.primary_metric


def _number(value: Any, what: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: expected a number, got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{what}: expected a finite number, got {value!r}")
    return out


def _interval(value: Any, what: str) -> tuple[float, float, float]:
    """(mean, lo, hi) with lo <= hi, all finite."""
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise ValueError(f"{what}: expected (mean, lo, hi), got {value!r}")
    mean, lo, hi = (_number(v, what) for v in value)
    if lo > hi:
        raise ValueError(f"{what}: interval lower bound {lo} above upper bound {hi}")
    return mean, lo, hi


def _group_offsets(n_bars: int, group_width: float = 0.8) -> tuple[np.ndarray, float]:
    width = group_width / n_bars
    return (np.arange(n_bars) - (n_bars - 1) / 2) * width, width


def _top(values: list[float]) -> float:
    """Upper y limit: room above the highest bar for its label, never far beyond 100 %."""
    return min(max(values, default=1.0) * 1.15 + 2.0, 110.0)


def _as_rgb(frame: Any, what: str) -> np.ndarray:
    """(3,H,W) or (H,W,3), float in [0, 1] or uint8 -> float (H,W,3) in [0, 1]."""
    arr = np.asarray(frame)
    if arr.ndim != 3 or 3 not in (arr.shape[0], arr.shape[-1]):
        raise ValueError(f"{what}: expected a (3,H,W) or (H,W,3) frame, got shape {arr.shape}")
    if arr.shape[-1] != 3:
        arr = np.moveaxis(arr, 0, -1)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"{what}: frame must be float in [0, 1] or uint8, got {arr.dtype}")
    if not np.isfinite(arr).all() or arr.min() < -1e-3 or arr.max() > 1 + 1e-3:
        raise ValueError(f"{what}: float frame must lie in [0, 1] (un-normalised), "
                         f"got range [{np.nanmin(arr):.3g}, {np.nanmax(arr):.3g}]")
    return np.clip(arr.astype(np.float32), 0.0, 1.0)


def _show(ax, image: np.ndarray, **kwargs) -> None:
    """Draw on normalised image coordinates (0..1 both ways, y down), so layers of different
    resolutions (frame, heatmap, mask) line up and boxes can be drawn in normalised xyxy."""
    ax.imshow(image, extent=(0, 1, 1, 0), **kwargs)


def _image_axes(ax, height: int, width: int) -> None:
    ax.set_xlim(0, 1)
    ax.set_ylim(1, 0)
    ax.set_aspect(height / width)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.spines[:].set_visible(False)


def _dilate(mask: np.ndarray, steps: int = 1) -> np.ndarray:
    """4-neighbour binary dilation, ``steps`` times (pure numpy: no scipy needed at view time)."""
    out = np.asarray(mask, dtype=bool).copy()
    for _ in range(steps):
        grown = out.copy()
        grown[1:] |= out[:-1]
        grown[:-1] |= out[1:]
        grown[:, 1:] |= out[:, :-1]
        grown[:, :-1] |= out[:, 1:]
        out = grown
    return out


def outline(mask: np.ndarray, width: int = OUTLINE_WIDTH) -> np.ndarray:
    """(H, W) bool: the pixels within ``width`` of the region's border, inside and out."""
    region = np.asarray(mask, dtype=bool)
    border = region & ~_erode(region)
    return _dilate(border, width - 1) if width > 1 else border


def _erode(mask: np.ndarray) -> np.ndarray:
    """4-neighbour erosion; outside the image counts as background, so a region touching the
    frame's edge is outlined along it."""
    padded = np.pad(mask, 1, constant_values=False)
    return ~_dilate(~padded)[1:-1, 1:-1]


def draw_outline(rgb: np.ndarray, mask: np.ndarray, colour: Sequence[int], width: int = OUTLINE_WIDTH,
                 dash: int = 0) -> np.ndarray:
    """``rgb`` (H, W, 3) uint8 with the outline of ``mask`` in ``colour`` over a 1-pixel dark halo
    (in place, returned). The halo keeps the line visible on a frame of the same colour; with
    ``dash`` > 0 the line alternates ``colour`` and white every ``dash`` pixels, for colours that
    may equal the object's own (AVSS palette colours on the generated shapes)."""
    line = outline(mask, width)
    rgb[_dilate(line) & ~line] = HALO
    rgb[line] = colour
    if dash > 0:
        yy, xx = np.nonzero(line)
        white = ((yy + xx) // dash) % 2 == 1
        rgb[yy[white], xx[white]] = (255, 255, 255)
    return rgb


SEMANTIC_DASH = 4


def draw_label_outlines(rgb: np.ndarray, labels: np.ndarray, palette: np.ndarray,
                        width: int = OUTLINE_WIDTH) -> np.ndarray:
    """Outline every non-background class of a label map in its palette colour, dashed (in place)."""
    for c in np.unique(labels):
        if c > 0:
            draw_outline(rgb, labels == c, tuple(int(v) for v in palette[c]), width, dash=SEMANTIC_DASH)
    return rgb


def _short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ----------------------------------------------------------------------------- bar charts

def bars_single_vs_joint(values: Mapping[str, Mapping[str, Any]], path: str | Path,
                         title: str = "Single-task vs joint training",
                         metric_names: Mapping[str, str] | None = None) -> Path:
    """Grouped bars per benchmark: single-task and joint model on each one's primary metric.

    ``values[benchmark]`` = ``{"single": (mean, lo, hi) or None, "joint": (mean, lo, hi)}``,
    optionally ``"baseline": float`` (drawn as a black line across the group) and
    ``"delta": (mean, lo, hi)`` (joint - single with its paired-bootstrap interval, printed
    under the benchmark name). Numbers are in percent; (lo, hi) become the error bars.
    ``metric_names`` overrides the primary metric names read from the benchmark registry.
    """
    benchmarks = _ordered_benchmarks(list(values), "bars_single_vs_joint")
    offsets, width = _group_offsets(2)
    tops: list[float] = []
    with _figure(*BARS_SIZE) as fig:
        ax = fig.add_subplot()
        labels = []
        for x, b in enumerate(benchmarks):
            entry = values[b]
            if not isinstance(entry, Mapping) or "joint" not in entry:
                raise ValueError(f"bars_single_vs_joint: {b}: expected a dict with 'joint', got {entry!r}")
            for k, (key, colour) in enumerate((("single", COLOURS[1]), ("joint", COLOURS[0]))):
                if entry.get(key) is None:
                    if key == "joint":
                        raise ValueError(f"bars_single_vs_joint: {b}: 'joint' is missing")
                    ax.text(x + offsets[k], 1, "n/a", ha="center", va="bottom", fontsize=7, color="0.4")
                    continue
                mean, lo, hi = _interval(entry[key], f"bars_single_vs_joint: {b}.{key}")
                err = [[max(mean - lo, 0.0)], [max(hi - mean, 0.0)]]
                ax.bar(x + offsets[k], mean, width, yerr=err, color=colour, capsize=3,
                       error_kw={"elinewidth": 1}, label=f"{key}-task" if key == "single" else key)
                ax.text(x + offsets[k], max(hi, mean), f"{mean:.1f}", ha="center", va="bottom", fontsize=7)
                tops.append(max(hi, mean))
            if entry.get("baseline") is not None:
                base = _number(entry["baseline"], f"bars_single_vs_joint: {b}.baseline")
                ax.hlines(base, x - 0.45, x + 0.45, colors="black", linestyles="--", linewidth=1.2,
                          label="baseline")
                tops.append(base)
            label = f"{b}\n{_primary_metric(b, metric_names)}"
            if entry.get("delta") is not None:
                d, dlo, dhi = _interval(entry["delta"], f"bars_single_vs_joint: {b}.delta")
                label += f"\nΔ joint {d:+.1f}\n[{dlo:+.1f}, {dhi:+.1f}]"
            labels.append(label)
        ax.set_xticks(range(len(benchmarks)), labels)
        ax.set_ylim(0, _top(tops))
        ax.set_ylabel("primary metric (%)")
        ax.set_title(title)
        _dedup_legend(ax, ("single-task", "joint", "baseline"))
        return _save(fig, path)


def main_table_bars(values: Mapping[str, Mapping[str, Any]], path: str | Path,
                    title: str = "Ours vs reference points",
                    metric_names: Mapping[str, str] | None = None) -> Path:
    """Grouped bars per benchmark: our number beside reference points (baselines or published).

    ``values[benchmark]`` = ``{"ours": float, "baselines": {name: float}}`` in percent; a
    reference missing for a benchmark leaves its slot empty. Reference names keep the order
    in which they first appear.
    """
    benchmarks = _ordered_benchmarks(list(values), "main_table_bars")
    names: list[str] = []
    for b in benchmarks:
        refs = values[b].get("baselines", {}) if isinstance(values[b], Mapping) else None
        if not isinstance(refs, Mapping):
            raise ValueError(f"main_table_bars: {b}: 'baselines' must be a dict of name -> number")
        names += [n for n in refs if n not in names]
    series = ["ours", *names]
    if len(series) > len(COLOURS):
        raise ValueError(f"main_table_bars: at most {len(COLOURS) - 1} reference names, got {len(names)}")
    offsets, width = _group_offsets(len(series))
    tops: list[float] = []
    with _figure(*BARS_SIZE) as fig:
        ax = fig.add_subplot()
        for x, b in enumerate(benchmarks):
            if "ours" not in values[b]:
                raise ValueError(f"main_table_bars: {b}: 'ours' is missing")
            points = {"ours": values[b]["ours"], **values[b].get("baselines", {})}
            for k, name in enumerate(series):
                if points.get(name) is None:
                    continue
                v = _number(points[name], f"main_table_bars: {b}.{name}")
                ax.bar(x + offsets[k], v, width, color=COLOURS[k], label=name)
                if name == "ours" or len(series) <= 3:
                    ax.text(x + offsets[k], v, f"{v:.1f}", ha="center", va="bottom", fontsize=7)
                tops.append(v)
        ax.set_xticks(range(len(benchmarks)), [f"{b}\n{_primary_metric(b, metric_names)}" for b in benchmarks])
        ax.set_ylim(0, _top(tops))
        ax.set_ylabel("primary metric (%)")
        ax.set_title(title)
        _dedup_legend(ax, series)
        return _save(fig, path)


def _dedup_legend(ax, order: Sequence[str] = ()) -> None:
    """One legend entry per label, labels in ``order`` first, above the axes."""
    found: dict[str, Any] = {}
    for handle, label in zip(*ax.get_legend_handles_labels()):
        found.setdefault(label, handle)
    handles = {k: found[k] for k in order if k in found} | found
    if handles:
        ax.figure.legend(handles.values(), handles.keys(), loc="outside upper right", ncols=len(handles), fontsize=8)


# ----------------------------------------------------------------------------- transfer matrix

def _task_order(tasks: set[str]) -> list[str]:
    known = [t for t in BENCHMARK_IDS if t in tasks]
    return known + sorted(tasks - set(known))


def transfer_matrix(matrix: Mapping[tuple[str, str], Any], path: str | Path,
                    title: str = "Inter-task transfer (points)") -> Path:
    """Heatmap of ``matrix[(a, b)]`` = change of b's primary metric, in points, when a's data is
    added to b's training. Rows: a ("trained together with"); columns: b ("evaluated on").
    Diverging colours centred on 0; NaN, None and absent pairs are left blank (light grey, no number).
    """
    if not matrix:
        raise ValueError("transfer_matrix: no entries")
    cells: dict[tuple[str, str], float] = {}
    for key, value in matrix.items():
        if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, str) for k in key)):
            raise ValueError(f"transfer_matrix: keys must be (source_task, target_task), got {key!r}")
        if value is None or (isinstance(value, float) and math.isnan(value)):
            cells[key] = math.nan
        else:
            cells[key] = _number(value, f"transfer_matrix: {key}")
    tasks = _task_order({t for key in cells for t in key})
    grid = np.full((len(tasks), len(tasks)), np.nan)
    for (a, b), v in cells.items():
        grid[tasks.index(a), tasks.index(b)] = v
    finite = grid[np.isfinite(grid)]
    limit = float(np.abs(finite).max()) if finite.size and np.abs(finite).max() > 0 else 1.0
    with _figure(*TRANSFER_SIZE) as fig:
        ax = fig.add_subplot()
        ax.spines[:].set_visible(False)
        cmap = _diverging_cmap()
        image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, interpolation="nearest",
                          norm=TwoSlopeNorm(0.0, -limit, limit))
        for i, j in zip(*np.nonzero(np.isfinite(grid))):
            v = grid[i, j]
            ax.text(j, i, f"{v:+.1f}", ha="center", va="center", fontsize=8,
                    color="white" if abs(v) > 0.6 * limit else "black")
        ax.set_xticks(range(len(tasks)), tasks, rotation=30, ha="right")
        ax.set_yticks(range(len(tasks)), tasks)
        ax.set_xticks(np.arange(len(tasks) + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(len(tasks) + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="0.85", linewidth=0.8)
        ax.tick_params(which="minor", length=0)
        ax.set_xlabel("evaluated on")
        ax.set_ylabel("trained together with")
        ax.set_title(title)
        fig.colorbar(image, ax=ax, shrink=0.8, label="change of primary metric (points)")
        return _save(fig, path)


def _diverging_cmap():
    from matplotlib import colormaps

    # red = worse, blue = better; not measured: light grey, no number (0 itself is white)
    return colormaps["RdBu"].with_extremes(bad="0.93")


# ----------------------------------------------------------------------------- sample overlays

def localisation_examples(examples: Sequence[Mapping[str, Any]], path: str | Path,
                          title: str = "Sound-source localisation examples") -> Path:
    """Grid of frames with the predicted heatmap overlaid and the ground-truth boxes drawn.

    Each example: ``{"sample_id", "frame": (3,H,W) float in [0,1] or (H,W,3) uint8,
    "heatmap": (h,w) float of any size, "boxes": (K,4) normalised xyxy, "ciou": float or None}``.
    The heatmap is min-max normalised per sample and upsampled bilinearly for display.
    """
    if not examples:
        raise ValueError("localisation_examples: no examples")
    cols = min(len(examples), LOC_COLUMNS)
    rows = math.ceil(len(examples) / cols)
    with _figure(cols * LOC_CELL[0], rows * LOC_CELL[1] + TITLE_HEIGHT + LEGEND_HEIGHT) as fig:
        axes = fig.subplots(rows, cols, squeeze=False)
        for ax in axes.flat[len(examples):]:
            ax.set_axis_off()
        for ax, ex in zip(axes.flat, examples):
            sid = str(ex.get("sample_id", "?"))
            what = f"localisation_examples: {sid}"
            frame = _as_rgb(ex.get("frame"), what)
            heat = _heatmap(ex.get("heatmap"), what)
            boxes = _boxes(ex.get("boxes", np.zeros((0, 4))), what)
            _show(ax, frame, interpolation="bilinear")
            _show(ax, heat, cmap="jet", alpha=HEATMAP_ALPHA, vmin=0.0, vmax=1.0, interpolation="bilinear")
            for x0, y0, x1, y1 in boxes:
                ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="lime", linewidth=1.5,
                                       path_effects=_halo()))
            _image_axes(ax, *frame.shape[:2])
            ciou = ex.get("ciou")
            score = "cIoU n/a" if ciou is None else f"cIoU {_number(ciou, what + '.ciou'):.2f}"
            ax.set_title(f"{_short(sid)}\n{score}", fontsize=8)
        fig.suptitle(title, fontsize=9)
        _localisation_legend(fig, cols)
        return _save(fig, path)


def _localisation_legend(fig: Figure, cols: int) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color="lime", linewidth=2, path_effects=_halo(), label="ground-truth box"),
               Patch(color=(0.0, 0.0, 0.5), label="heatmap low"),
               Patch(color=(0.5, 0.0, 0.0), label="heatmap high (jet, normalised per sample)")]
    fig.legend(handles=handles, loc="outside lower center", ncols=3 if cols > 1 else 1, fontsize=7)


def _heatmap(value: Any, what: str) -> np.ndarray:
    heat = np.asarray(value, dtype=np.float64)
    if heat.ndim != 2 or heat.size == 0:
        raise ValueError(f"{what}: heatmap must be a non-empty (h, w) array, got shape {heat.shape}")
    if not np.isfinite(heat).all():
        raise ValueError(f"{what}: heatmap holds NaN or inf")
    span = heat.max() - heat.min()
    return (heat - heat.min()) / span if span > 0 else np.zeros_like(heat)


def _boxes(value: Any, what: str) -> np.ndarray:
    boxes = np.asarray(value, dtype=np.float64)
    if boxes.size % 4:
        raise ValueError(f"{what}: boxes must be (K, 4) normalised xyxy, got shape {boxes.shape}")
    boxes = boxes.reshape(-1, 4)
    if boxes.size and (not np.isfinite(boxes).all() or boxes.min() < 0 or boxes.max() > 1
                       or (boxes[:, 2] < boxes[:, 0]).any() or (boxes[:, 3] < boxes[:, 1]).any()):
        raise ValueError(f"{what}: boxes must be normalised xyxy in [0, 1] with x0 <= x1, y0 <= y1")
    return boxes


def _palette() -> np.ndarray:
    from avu.data.annotations.avsbench import AVSS_PALETTE

    return np.asarray(AVSS_PALETTE, dtype=np.float32)


def _frames(value: Any, what: str) -> list[np.ndarray]:
    arr = np.asarray(value)
    if arr.ndim != 4:
        raise ValueError(f"{what}: frames must be (T,3,H,W) or (T,H,W,3), got shape {arr.shape}")
    return [_as_rgb(f, f"{what} frame {t}") for t, f in enumerate(arr)]


def _masks(ex: Mapping[str, Any], key: str, n_frames: int, semantic: bool, what: str) -> np.ndarray:
    mask = np.asarray(ex.get(key))
    if mask.ndim != 3 or len(mask) != n_frames:
        raise ValueError(f"{what}: {key} must be (T,H,W) with T = {n_frames} frames, got shape {mask.shape}")
    if not np.issubdtype(mask.dtype, np.integer):
        raise ValueError(f"{what}: {key} must hold integer labels, got {mask.dtype}")
    n_classes = len(_palette()) if semantic else None
    if mask.size and (mask.min() < 0 or (n_classes is not None and mask.max() >= n_classes)):
        raise ValueError(f"{what}: {key} labels must lie in 0..{(n_classes or 256) - 1}")
    return mask.astype(np.int64)


def segmentation_examples(examples: Sequence[Mapping[str, Any]], path: str | Path,
                          title: str = "Segmentation examples", max_frames: int = 10) -> Path:
    """Two rows per sample (ground truth, prediction), one column per frame, masks over frames.

    Each example: ``{"sample_id", "frames": (T,3,H,W) float in [0,1] or (T,H,W,3) uint8,
    "gt": (T,H,W) uint8, "pred": (T,H,W) uint8, "semantic": bool}``; semantic masks hold AVSS
    class ids 0..70 coloured with the official AVSS palette (a legend names the classes shown),
    binary masks are drawn in one colour. Masks may have another resolution than the frames.
    Only the first ``max_frames`` frames are drawn.
    """
    if not examples:
        raise ValueError("segmentation_examples: no examples")
    prepared = []
    for ex in examples:
        sid = str(ex.get("sample_id", "?"))
        what = f"segmentation_examples: {sid}"
        frames = _frames(ex.get("frames"), what)
        semantic = bool(ex.get("semantic", False))
        gt = _masks(ex, "gt", len(frames), semantic, what)
        pred = _masks(ex, "pred", len(frames), semantic, what)
        if gt.shape != pred.shape:
            raise ValueError(f"{what}: gt {gt.shape} and pred {pred.shape} differ in shape")
        prepared.append((sid, frames[:max_frames], gt[:max_frames], pred[:max_frames], semantic))
    cols = max(len(p[1]) for p in prepared)
    # classes named in the legend: every non-background class shown in a semantic example
    shown = [np.unique(np.concatenate([gt.ravel(), pred.ravel()])) for _, _, gt, pred, sem in prepared if sem]
    classes = sorted({int(c) for labels in shown for c in labels} - {0})
    height = 2 * len(prepared) * SEG_CELL + TITLE_HEIGHT + LEGEND_HEIGHT
    with _figure(SEG_LABEL_WIDTH + cols * SEG_CELL, height) as fig:
        axes = fig.subplots(2 * len(prepared), cols, squeeze=False)
        for r, (sid, frames, gt, pred, semantic) in enumerate(prepared):
            for t in range(cols):
                for row, (name, masks) in enumerate((("GT", gt), ("pred", pred))):
                    ax = axes[2 * r + row, t]
                    if t >= len(frames):
                        ax.set_axis_off()
                        continue
                    _show(ax, _outlined(frames[t], masks[t], semantic, GT_OUTLINE if name == "GT" else PRED_OUTLINE),
                          interpolation="nearest")
                    _image_axes(ax, *masks[t].shape)
                    if t == 0:
                        ax.set_ylabel(f"{_short(sid, 14)}\n{name}", fontsize=7)
                    if r == 0 and row == 0:
                        ax.set_title(f"frame {t}", fontsize=7)
        if classes:
            _class_legend(fig, classes)
        else:
            _outline_legend(fig)
        fig.suptitle(title, fontsize=9)
        return _save(fig, path)


def _outlined(frame: np.ndarray, mask: np.ndarray, semantic: bool, colour: Sequence[int]) -> np.ndarray:
    """The frame at the mask's resolution, uint8, with the mask outlined (classes in their colours)."""
    from PIL import Image

    rgb = np.asarray(Image.fromarray((frame * 255).round().astype(np.uint8)).resize(
        (mask.shape[1], mask.shape[0]), Image.BILINEAR)).copy()
    if semantic:
        return draw_label_outlines(rgb, mask, _palette().astype(np.uint8))
    return draw_outline(rgb, mask > 0, colour)


def _outline_legend(fig: Figure) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=np.asarray(c) / 255, linewidth=3, path_effects=_halo(), label=label)
               for c, label in ((GT_OUTLINE, "ground truth (outline)"), (PRED_OUTLINE, "prediction (outline)"))]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=7)


def _halo():
    from matplotlib import patheffects

    return [patheffects.Stroke(linewidth=5, foreground="black"), patheffects.Normal()]


def _class_legend(fig: Figure, classes: list[int], limit: int = 16) -> None:
    from avu.data.annotations.avsbench import AVSS_CLASSES

    palette = _palette() / 255.0
    handles = [Patch(color=tuple(palette[c]), label=AVSS_CLASSES[c]) for c in classes[:limit]]
    if len(classes) > limit:
        handles.append(Patch(color="white", label=f"+{len(classes) - limit} more"))
    handles.append(Patch(color="white", label="(outlines dashed in the class colour)"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 8), fontsize=7)
