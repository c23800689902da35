"""Write the site: ``<out>/index.html`` plus ``<out>/explore/`` (script, style, data pages, pictures).

The page works from the file system (``file://``): data pages are scripts that register
themselves (browsers refuse ``fetch`` of local files), pictures are plain ``<img>`` files, and
nothing is loaded from the network. ``explore/`` is built in a temporary folder and moved into
place whole; ``index.html`` is written atomically after it.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from avu import BENCHMARK_IDS, fileio
from avu.errors import AvuInputError
from avu.explore import persample, samples
from avu.explore.inputs import Report, Scored

ASSETS = "explore"
_HERE = Path(__file__).parent


def _js(key: str, payload: Any) -> str:
    """A data page: a script that hands its JSON to the page (``</`` escaped for inline use)."""
    text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return f"AVU.put({json.dumps(key)}, {text});\n"


def _inline_json(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, allow_nan=False).replace("</", "<\\/")


def check_outputs(out: Path, inputs: list[Path]) -> None:
    """Nothing written may land on a file that is read: refuse an output over an input."""
    written = [(out / "index.html").resolve(), (out / ASSETS).resolve()]
    for path in inputs:
        p = path.resolve()
        for w in written:
            if p == w or w in p.parents:
                raise AvuInputError(path, None, f"is inside what avu explore writes ({w}); choose another --out")


def _run_summary(run: Scored) -> dict[str, Any]:
    r = run.result
    return {"label": run.label, "benchmark": run.benchmark, "source": str(run.source), "predictions": str(run.predictions),
            "protocol": r.protocol["key"], "protocol_description": r.protocol.get("description", ""),
            "annotation_version": r.annotation_version, "split": r.split, "counts": r.counts,
            "partial": r.partial, "primary": r.primary_metric, "metrics": r.metrics}


def _benchmark_meta(benchmark: str, runs: list[Scored], n: int) -> dict[str, Any]:
    from avu.benchmarks import get_spec

    m = persample.METRICS[benchmark]
    meta = {"benchmark": benchmark, "title": get_spec(benchmark).title, "count": n,
            "metric": {"name": m.name, "label": m.label, "unit": m.unit, "hit": m.hit, "digits": m.digits},
            "runs": [_run_summary(r) for r in runs]}
    if benchmark == "ave":
        from avu.data.classes import AVE_CLASSES

        meta["classes"] = list(AVE_CLASSES)
    if benchmark == "avss":
        from avu.data.classes import AVSS_CLASSES
        from avu.explore.images import palette

        meta["palette"] = {name: "#%02x%02x%02x" % tuple(int(v) for v in palette()[c])
                           for c, name in enumerate(AVSS_CLASSES)}
    return meta


def _write_benchmark(site: Path, benchmark: str, runs: list[Scored], n_workers: int) -> dict[str, Any]:
    job = samples.prepare(benchmark, runs, site, ASSETS)
    chunks = range(samples.n_chunks(job))
    if n_workers > 1 and len(chunks) > 1:
        # fork: the workers inherit the runs (payloads of hundreds of MB are never pickled)
        with ProcessPoolExecutor(n_workers, mp_context=get_context("fork")) as pool:
            parts = list(pool.map(samples.run_chunk_or_failure, [benchmark] * len(chunks), chunks))
    else:
        parts = [samples.run_chunk_or_failure(benchmark, k) for k in chunks]
    for part in parts:
        if isinstance(part, samples.Failed):
            raise AvuInputError(part.path, part.where, part.reason)
    rows = [row for part, _ in parts for row in part]
    folder = site / "data" / benchmark
    folder.mkdir(parents=True, exist_ok=True)
    for k, (_, details) in enumerate(parts):
        (folder / f"d{k}.js").write_text(_js(f"detail/{benchmark}/{k}", details), encoding="utf-8")
    meta = _benchmark_meta(benchmark, runs, len(rows))
    (folder / "index.js").write_text(_js(f"index/{benchmark}", {**meta, "chunk": samples.CHUNK, "rows": rows}),
                                     encoding="utf-8")
    return meta


def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(_HERE / "templates")),
                              autoescape=jinja2.select_autoescape(["html", "j2"]),
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def build(out: Path, title: str, groups: dict[str, list[Scored]], overview: dict[str, Any],
          n_workers: int | None = None) -> Path:
    """Write the site for ``groups`` (benchmark -> its runs, one or two) and return index.html."""
    n_workers = samples.workers(n_workers)
    benchmarks = [b for b in BENCHMARK_IDS if b in groups]
    metas = {}
    with fileio.atomic_dir(out / ASSETS) as site:
        for name in ("app.js", "style.css"):
            shutil.copyfile(_HERE / "static" / name, site / name)
        for b in benchmarks:
            metas[b] = _write_benchmark(site, b, groups[b], n_workers)
    page = _environment().get_template("index.html.j2").render(
        title=title, assets=ASSETS, benchmarks=[metas[b] for b in benchmarks],
        site_json=_inline_json({"title": title, "benchmarks": {b: {"count": m["count"], "title": m["title"]}
                                                               for b, m in metas.items()}}),
        **overview)
    index = out / "index.html"
    fileio.write_text(index, page)
    return index


# ----------------------------------------------------------------------------- the two sources

def results_overview(runs: list[Scored]) -> dict[str, Any]:
    """Overview of one or two ``avu evaluate`` results: their metrics side by side."""
    names = list(runs[0].result.metrics)
    rows = []
    for name in names:
        values = [r.result.metrics.get(name) for r in runs]
        info = type(runs[0].evaluator).metrics.get(name)
        rows.append({"name": name, "per_run": values, "description": info.description if info else "",
                     "delta": values[1] - values[0] if len(values) == 2 and None not in values else None})
    return {"mode": "results", "runs": [_run_summary(r) for r in runs], "metric_rows": rows,
            "report": None, "figures": [], "baseline_rule": None}


def report_overview(rep: Report, out: Path) -> dict[str, Any]:
    """Overview of a report folder: its table (ours beside published and the reference points)."""
    from avu.reproduce import reference_points

    rows = []
    table = rep.table or {}
    points = (rep.baselines or {}).get("benchmarks", {})
    for row in table.get("rows", []) if table.get("kind") == "comparison" else []:
        ours = row.get("ours") or {}
        p = points.get(row["benchmark"], {})
        value = ours.get("value")
        flag = reference_points.at_prior(value, p, row["metric"]) if value is not None and \
            ours.get("data") == "generated" else None
        rows.append({**row, "points": {k: p.get(k, {}).get(row["metric"]) for k in reference_points.KINDS} if p else None,
                     "at_prior": flag})
    figures = [{"src": f.relative_to(out).as_posix() if out in f.parents else f.as_uri(), "caption": f.stem.replace("_", " ")}
               for f in rep.figures]
    return {"mode": "report", "runs": [_run_summary(rep.runs[b]) for b in BENCHMARK_IDS if b in rep.runs], "metric_rows": [],
            "report": {"name": rep.table_name, "title": table.get("title", rep.table_name), "kind": table.get("kind"),
                       "published_method": table.get("published_method"), "rows": rows,
                       "ablation": table.get("rows") if table.get("kind") == "ablation" else None,
                       "configurations": table.get("configurations"), "run_label": rep.run_label,
                       "has_points": bool(points)},
            "figures": figures,
            "baseline_rule": reference_points.RULE if points else None}
