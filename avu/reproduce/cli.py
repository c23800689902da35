"""``python -m avu.reproduce --table main|ablation|avqa|llp|regression|transfer``.

Runs what a table needs (reusing cached runs), compares with the published and pinned
numbers under the tolerance tiers, writes markdown, JSON and LaTeX plus pictures to
``--out/<table>/``, and exits 1 when a checked cell is out of tolerance (2 on bad input).
``--check`` compares the pinned results without running anything and writes nothing, unless
``--output DIR`` asks for its tables there (never over the last run's report). ``--pin`` stores a
run's results as pinned (``reference_results/ours``), the transfer table's pair runs included.
``--html`` also writes the explorer site (``avu explore``) into the report folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from avu import BENCHMARK_IDS, fileio, provenance
from avu.errors import AvuInputError
from avu.reproduce import plan, reference_points, report
from avu.reproduce.runner import RunOutcome, Settings, compose_config, config_hash, execute, rescore, stop_with_parent
from avu.results.catalog import TRANSFER_BASELINE

TABLES = ("main", "ablation", "avqa", "llp", "regression", "transfer")


def build_parser() -> argparse.ArgumentParser:
    from avu.cli import OneLineParser

    p = OneLineParser(prog="python -m avu.reproduce", description=__doc__.splitlines()[0])
    p.add_argument("--table", choices=TABLES, default="main")
    p.add_argument("--data-root", type=Path, help="real data (one folder per dataset); default: the generated suite")
    p.add_argument("--size", choices=["small", "tiny"], help="generated suite size (default: small; tiny for --table regression)")
    p.add_argument("--suite", type=Path, help="where the generated suite lives (default: data/generated/<size>)")
    p.add_argument("--seeds", default="0", help="comma-separated training seeds (default: 0)")
    p.add_argument("--runs-dir", type=Path, default=Path("runs/reproduce"), help="cache of training runs")
    p.add_argument("--out", type=Path, default=Path("reports"), help="report folder (a subfolder per table)")
    p.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                   help="extra Hydra override for every run, e.g. train.steps=600 (repeatable)")
    p.add_argument("--check", action="store_true",
                   help="compare the pinned results without running anything; prints only, unless --output")
    p.add_argument("--output", type=Path, help="with --check: write its tables (and report.md) into this folder")
    p.add_argument("--html", action="store_true",
                   help="also write the explorer site (index.html + explore/) beside the report")
    p.add_argument("--pin", action="store_true", help="store these results as pinned (reference_results/ours)")
    p.add_argument("--bootstrap", type=int, default=1000, help="paired-bootstrap resamples (ablation, transfer)")
    p.add_argument("--no-figures", action="store_true", help="skip the pictures")
    p.add_argument("--configurations", default=None, metavar="A,B",
                   help="ablation tables: only these columns (default: all; the baseline is always run)")
    p.add_argument("--jobs", type=int, default=1,
                   help="training runs side by side (processes; each uses train.threads threads)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _main(args)
    except AvuInputError as exc:
        print(f"avu.reproduce: error: {exc}", file=sys.stderr)
        return 2


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise AvuInputError(None, "--seeds", f"expected comma-separated integers, got {text!r}") from None
    if not seeds:
        raise AvuInputError(None, "--seeds", "no seed given")
    return seeds


def _settings(args: argparse.Namespace) -> Settings:
    size = args.size or ("tiny" if args.table == "regression" else "small")
    if args.data_root is not None and not args.data_root.is_dir():
        raise AvuInputError(args.data_root, "--data-root", "not a folder")
    suite = args.suite or Path("data/generated") / size
    return Settings(args.data_root, suite, size, args.runs_dir, tuple(args.override))


def ensure_suite(settings: Settings) -> None:
    """Generate the embedded suite on first use (never for real data)."""
    if settings.data_root is not None:
        return
    from avu.data.annotations.common import SUITE_MARKER
    from avu.data.synth.generate import generate, stale_reason

    stale = stale_reason(settings.suite)
    if (settings.suite / SUITE_MARKER).is_file() and stale is None:
        return
    why = f" again ({stale})" if stale else " (once)"
    print(f"avu.reproduce: generating the {settings.size} suite at {settings.suite}{why}", flush=True)
    t0 = time.perf_counter()
    generate(settings.suite, size=settings.size, seed=0)
    print(f"avu.reproduce: suite ready in {time.perf_counter() - t0:.0f} s", flush=True)


def prepare(specs: list[plan.RunSpec], settings: Settings) -> None:
    """Compose a run's config (a bad ``--override`` fails now, in one line), then the suite."""
    if specs:
        compose_config(specs[0], settings)
    ensure_suite(settings)


def train_all(specs: list[plan.RunSpec], settings: Settings, jobs: int = 1) -> list[RunOutcome]:
    """Run every spec, printing progress and an estimate of the time left; ``jobs`` > 1 trains
    that many runs at a time in separate processes (results are the same: each run is seeded
    and single-process), then collects every outcome from the run cache in spec order."""
    if jobs > 1 and len(specs) > 1:
        return _train_parallel(specs, settings, jobs)
    outcomes: list[RunOutcome] = []
    trained_seconds: list[float] = []
    for i, spec in enumerate(specs, 1):
        left = len(specs) - i + 1
        eta = ""
        if trained_seconds:
            eta = f", about {sum(trained_seconds) / len(trained_seconds) * left / 60:.0f} min left"
        print(f"avu.reproduce: run {i}/{len(specs)}: {spec.label}{eta}", flush=True)
        outcome = execute(spec, settings)
        if outcome.reused:
            print(f"avu.reproduce:   reused {outcome.run_dir}", flush=True)
        elif outcome.weights_from is not None:
            print(f"avu.reproduce:   trained weights of {outcome.weights_from} (same training), "
                  f"after-training steps and evaluation in {outcome.seconds:.0f} s -> {outcome.run_dir}", flush=True)
        else:
            trained_seconds.append(outcome.seconds)
            print(f"avu.reproduce:   trained in {outcome.seconds:.0f} s -> {outcome.run_dir}", flush=True)
        outcomes.append(outcome)
    return outcomes


def _train_parallel(specs: list[plan.RunSpec], settings: Settings, jobs: int) -> list[RunOutcome]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from avu.threads import for_parallel_runs

    print(f"avu.reproduce: {len(specs)} runs, {jobs} at a time", flush=True)
    for_parallel_runs()  # side-by-side runs compete for the cores: their threads sleep while waiting
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn"), initializer=stop_with_parent,
                             initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(execute, spec, settings, False): spec for spec in specs}
        for done, future in enumerate(as_completed(futures), 1):
            outcome = future.result()
            left = (time.perf_counter() - t0) / done * (len(specs) - done) / 60
            how = ("reused" if outcome.reused else f"from the trained weights of {outcome.weights_from}"
                   if outcome.weights_from is not None else f"trained in {outcome.seconds:.0f} s")
            print(f"avu.reproduce: {done}/{len(specs)} {outcome.spec.label}: {how}, about {left:.0f} min left",
                  flush=True)
    return [execute(spec, settings) for spec in specs]  # from the cache, in order


def aggregate(outcomes: list[RunOutcome], settings: Settings):
    """OursResult per (benchmark, configuration), over seeds."""
    from avu.results import OursResult

    grouped: dict[tuple[str, str], list[RunOutcome]] = {}
    for o in outcomes:
        for b in o.spec.benchmarks:
            grouped.setdefault((b, o.spec.configuration), []).append(o)
    commit = provenance.git_commit()
    results = {}
    for (b, config), runs in grouped.items():
        first = runs[0].doc["results"][b]
        hashes = sorted({o.config_hash for o in runs})
        results[(b, config)] = OursResult.from_seed_runs(
            b, config, {o.spec.seed: o.metrics(b) for o in runs},
            protocol=first["protocol"]["key"], annotation_version=first["annotation_version"],
            provenance={"commit": commit["commit"], "dirty": commit["dirty"],
                        "config_hash": hashes[0] if len(hashes) == 1 else ",".join(hashes),
                        "data_manifest_hash": first["manifest_hash"],
                        "device": runs[0].doc["run"]["device"],
                        "platform": runs[0].doc["provenance"].get("platform"), "data": settings.data_kind},
            split=first["split"],
        )
    return results


def config_drift(results, refs) -> list:
    """A failing comparison for every pinned result whose config hash differs from the re-run's.

    Catches a changed model or training default even when its effect hides inside the
    tolerance: pinned numbers must be refreshed (``--pin``) together with such a change.
    """
    from avu.results import Cell, Comparison, Status

    out = []
    for (b, config), run in results.items():
        pinned = refs.ours(b, config, run.data)
        if pinned is None:
            continue
        mine, theirs = run.provenance.get("config_hash"), pinned.provenance.get("config_hash")
        if mine != theirs:
            out.append(Comparison(Cell(b, "config", "ours", None), Status.FAIL,
                                  reason=f"config hash {mine[:12]} differs from the pinned {str(theirs)[:12]}: "
                                         "a default changed; re-pin with --pin"))
        if run.provenance.get("data_manifest_hash") != pinned.provenance.get("data_manifest_hash"):
            out.append(Comparison(Cell(b, "data", "ours", None), Status.FAIL,
                                  reason="data manifest differs from the pinned one: the suite or annotations changed"))
    return out


def _main(args: argparse.Namespace) -> int:
    from avu.results import ReferenceResults, any_failed, check_against_pinned, compare_table, render

    refs = ReferenceResults()
    out = args.out / args.table
    if args.table == "transfer":
        return _transfer(args, refs, out)
    table = refs.table(args.table)
    benchmarks = [b for b in BENCHMARK_IDS if b in {r.benchmark for r in table.rows}]
    data_kind = "real" if args.data_root is not None else "generated"
    if args.check:
        return _check(args, refs, table, data_kind)
    if args.output is not None:
        raise AvuInputError(None, "--output", "only with --check (a run writes its report to --out/<table>)")

    configurations = _configurations(args, table)
    seeds = _seeds(args.seeds)
    settings = _settings(args)
    specs = plan.runs_for(configurations, benchmarks, seeds)
    prepare(specs, settings)
    outcomes = train_all(specs, settings, args.jobs)
    results = aggregate(outcomes, settings)
    fileio.write_json(out / "runs.json", report.runs_index(outcomes))

    regressions = check_against_pinned(results.values(), refs) + config_drift(results, refs)
    pictures: dict[str, Path] = {}
    points_md = None
    intervals = {}
    if table.kind == "ablation":
        intervals = _intervals(table, outcomes, settings, args.bootstrap)
        grid = render.ablation_grid(table, results, {k: (v.lo, v.hi) for k, v in intervals.items()})
        md = render.render_ablation_markdown(table, grid)
        report.write_tables(out, args.table, md, render.render_ablation_latex(table, grid),
                            render.render_ablation_json(table, grid))
        if not args.no_figures:
            pictures["Single-task vs joint"] = _single_vs_joint_figure(results, intervals, benchmarks, out)
        comparisons = []
    else:
        comparisons = compare_table(table, refs, runs=results, data=settings.data_kind)
        md = render.render_markdown(table, comparisons)
        report.write_tables(out, args.table, md, render.render_latex(table, comparisons),
                            render.render_json(table, comparisons))
        points = _reference_points(benchmarks, settings) if settings.data_kind == "generated" else None
        if points is not None:
            reference_points.write(out / reference_points.FILE, points, settings.root)
            points_md = reference_points.markdown(_ours_rows(comparisons), points)
        if not args.no_figures and args.table == "main":
            pictures.update(_main_figures(outcomes, settings, benchmarks, out, points))
    sections = [("Results", md)]
    if points_md is not None:
        sections.append((POINTS_HEADING, points_md))
    sections.append(("Re-run vs pinned (tier: ours)", _regression_text(regressions)))
    _print_sections(sections)
    page = report.report_page(table.title, sections, pictures, out)
    print(f"avu.reproduce: wrote {page} ({len(pictures)} picture(s))")
    if args.html:
        _write_site(out, settings.data_root)
    if args.pin:
        for key, result in results.items():
            if table.kind == "ablation" and key in intervals:  # the interval against the baseline travels along
                result = replace(result, extras={**result.extras, f"vs_{table.baseline}": intervals[key].as_dict()})
            print(f"avu.reproduce: pinned {refs.save_ours(merge_with_pinned(result, refs))}")
        print("avu.reproduce: run `python -m avu.leaderboard` to refresh the leaderboards")
        return 0
    return 1 if any_failed(comparisons + regressions) else 0


def merge_with_pinned(result, refs):
    """``result`` plus the seeds of its pinned counterpart that it did not re-run, when both come
    from the same configuration and data (an ablation pinned with seed 0 keeps the main table's
    seeds 1 and 2 of the shared joint runs); otherwise ``result`` alone replaces the pin."""
    from avu.results.load import OursResult

    pinned = refs.ours(result.benchmark, result.configuration, result.data)
    same = pinned is not None and all(pinned.provenance.get(k) == result.provenance.get(k)
                                      for k in ("config_hash", "data_manifest_hash"))
    if not same or set(pinned.seeds) <= set(result.seeds):
        return result
    runs = {s: {m: pinned.metrics[m].values[i] for m in pinned.metrics} for i, s in enumerate(pinned.seeds)}
    for i, s in enumerate(result.seeds):
        runs[s] = {m: result.metrics[m].values[i] for m in result.metrics}
    return OursResult.from_seed_runs(result.benchmark, result.configuration, runs, protocol=result.protocol,
                                     annotation_version=result.annotation_version, provenance=result.provenance,
                                     split=result.split, notes=result.notes, extras={**pinned.extras, **result.extras})


def _configurations(args: argparse.Namespace, table) -> list[str]:
    if table.kind != "ablation":
        return [table.configuration]
    known = [c.id for c in table.configurations]
    if args.configurations is None:
        return known
    wanted = [c.strip() for c in args.configurations.split(",") if c.strip()]
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise AvuInputError(None, "--configurations", f"unknown {', '.join(unknown)}; known: {', '.join(known)}")
    return [c for c in known if c in wanted or c == table.baseline]


def pinned_intervals(pinned, baseline: str) -> dict:
    """(benchmark, configuration) -> (lo, hi, estimate) of the paired-bootstrap interval pinned beside a result."""
    key = f"vs_{baseline}"
    return {k: (r.extras[key]["lo"], r.extras[key]["hi"], r.extras[key]["estimate"])
            for k, r in pinned.items() if key in r.extras}


POINTS_HEADING = "Ours beside the suite's oracle, prior and chance"


def _print_sections(sections: list[tuple[str, str]]) -> None:
    """The console shows the report's sections under the report's own headings."""
    for heading, body in sections:
        print(f"## {heading}\n\n{body.strip()}\n", flush=True)


def _ours_rows(comparisons) -> list[tuple[str, str, float]]:
    return [(c.cell.benchmark, c.cell.metric, c.cell.ours.value) for c in comparisons
            if c.cell.ours is not None and c.cell.ours.data == "generated"]


def _reference_points(benchmarks: list[str], settings: Settings):
    """Oracle / prior / chance of the generated suite (None when the suite is not there)."""
    from avu.data.annotations.common import SUITE_MARKER

    if not (settings.suite / SUITE_MARKER).is_file():
        return None
    return reference_points.compute(benchmarks, settings.suite)


def _write_site(folder: Path, data_root: Path | None) -> None:
    from avu.explore.cli import report_site

    index = report_site(folder, data_root)
    print(f"avu.reproduce: wrote {index} (open it in a browser)")


def _check(args: argparse.Namespace, refs, table, data_kind: str) -> int:
    """Compare the pinned results, run nothing; write only into ``--output`` when given."""
    from avu.results import any_failed, compare_table, render

    benchmarks = [b for b in BENCHMARK_IDS if b in {r.benchmark for r in table.rows}]
    target = _check_output(args, refs)
    if table.kind == "ablation":
        pinned = {(r.benchmark, r.configuration): r for r in refs.all_ours() if r.data == data_kind}
        grid = render.ablation_grid(table, pinned, pinned_intervals(pinned, table.baseline))
        md = render.render_ablation_markdown(table, grid)
        tables = (md, render.render_ablation_latex(table, grid), render.render_ablation_json(table, grid))
        comparisons = []
    else:
        comparisons = compare_table(table, refs, runs=None, data=data_kind)
        md = render.render_markdown(table, comparisons)
        tables = (md, render.render_latex(table, comparisons), render.render_json(table, comparisons))
    sections = [("Pinned results (nothing run)", md)]
    points = None
    if data_kind == "generated" and comparisons:
        points = _reference_points(benchmarks, _settings(args))
        sections.append((POINTS_HEADING, reference_points.markdown(_ours_rows(comparisons), points) if points else
                         "The generated suite is not there: `avu data synth` (or a run) makes it, then its "
                         "oracle, prior and chance are shown here."))
    _print_sections(sections)
    if target is not None:
        report.write_tables(target, args.table, *tables)
        if points:
            reference_points.write(target / reference_points.FILE, points, _settings(args).suite)
        page = report.report_page(f"{table.title} (pinned, nothing run)", sections, {}, target)
        print(f"avu.reproduce: wrote {page} and the {args.table} tables into {target}")
        if args.html:
            _write_site(target, None)
    elif args.html:
        raise AvuInputError(None, "--html", "with --check, give --output DIR for the site")
    return 1 if any_failed(comparisons) else 0


def _check_output(args: argparse.Namespace, refs) -> Path | None:
    """``--output`` of ``--check``: never the last run's report folder, nor among what it reads
    (the pinned results, the data, the suite)."""
    target = args.output
    if target is not None and (target.resolve() == (args.out / args.table).resolve()):
        raise AvuInputError(target, "--output", "is the last run's report folder; --check never writes over it")
    if target is not None:
        settings = _settings(args)
        fileio.check_output_dir(target, input_dirs=[refs.root, settings.data_root, settings.suite], option="--output")
    return target


def _regression_text(regressions) -> str:
    from avu.markdown import markdown_table

    if not regressions:
        return "No pinned results to compare with."
    rows = [[c.cell.benchmark, c.cell.metric, c.status.value,
             "" if c.delta is None else f"{c.delta:+.3f}",
             "" if c.tolerance is None else f"{c.tolerance.value:.3f}", c.reason] for c in regressions]
    return markdown_table(["benchmark", "metric", "status", "delta", "tolerance", "note"], rows)


def _intervals(table, outcomes: list[RunOutcome], settings: Settings, n_resamples: int):
    """Paired-bootstrap 95% intervals of (configuration - baseline) on the first seed."""
    wanted = [(row.benchmark, row.metric, config.id) for row in table.rows for config in table.configurations
              if config.id != table.baseline]
    return paired_intervals(outcomes, table.baseline, wanted, settings, n_resamples)


def paired_intervals(outcomes: list[RunOutcome], baseline: str, wanted, settings: Settings, n_resamples: int):
    """(benchmark, configuration) -> paired-bootstrap 95% interval of (configuration - baseline) on
    ``metric`` over the benchmark's test items, for each (benchmark, metric, configuration) of
    ``wanted`` whose two runs are there; on the first seed of ``outcomes``."""
    from avu.results.stats import paired_bootstrap

    seed = min(o.spec.seed for o in outcomes)
    by_key = {(b, o.spec.configuration): o for o in outcomes if o.spec.seed == seed for b in o.spec.benchmarks}
    intervals = {}
    for benchmark, metric, config in wanted:
        base, other = by_key.get((benchmark, baseline)), by_key.get((benchmark, config))
        if base is None or other is None:
            continue
        intervals[(benchmark, config)] = paired_bootstrap(rescore(base, benchmark, settings),
                                                          rescore(other, benchmark, settings), metric,
                                                          n_resamples, seed=0)
    return intervals


def _single_vs_joint_figure(results, intervals, benchmarks: list[str], out: Path) -> Path:
    from avu.benchmarks import get_spec
    from avu.reproduce import figures

    values = {}
    for b in benchmarks:
        primary = get_spec(b).evaluator.primary_metric
        joint, single = results.get((b, "joint")), results.get((b, "single"))
        if joint is None:
            continue
        j = joint.metrics[primary]
        entry = {"joint": (j.mean, j.mean - (j.std or 0), j.mean + (j.std or 0))}
        if single is not None:
            s = single.metrics[primary]
            entry["single"] = (s.mean, s.mean - (s.std or 0), s.mean + (s.std or 0))
            iv = intervals.get((b, "single"))
            if iv is not None:  # joint - single = -(single - joint)
                entry["delta"] = (-iv.estimate, -iv.hi, -iv.lo)
        values[b] = entry
    return figures.bars_single_vs_joint(values, out / "figures" / "single_vs_joint.png")


def _main_figures(outcomes: list[RunOutcome], settings: Settings, benchmarks: list[str], out: Path,
                  points=None) -> dict[str, Path]:
    from avu.benchmarks import get_spec
    from avu.reproduce import figures

    pictures: dict[str, Path] = {}
    joint = next(o for o in outcomes if o.spec.configuration == "joint")
    if points is not None:
        values = {}
        for b in benchmarks:
            primary = get_spec(b).evaluator.primary_metric
            values[b] = {"ours": joint.metrics(b)[primary],
                         "baselines": {figures.REFERENCE_LABELS[k]: points[b][k][primary] for k in reference_points.KINDS}}
        pictures["Ours vs the suite's oracle, prior and chance (prior: training split only, no look at the clip)"] = \
            figures.main_table_bars(values, out / "figures" / "ours_vs_baselines.png",
                                    title="Ours vs the generated suite's oracle, prior and chance")
    if "vggss" in benchmarks:
        pictures["Sound-source localisation (VGG-SS)"] = report.localisation_figure(
            joint, settings, out / "figures" / "vggss_localisation.png")
    for b in ("avs_s4", "avs_ms3", "avss"):
        if b in benchmarks:
            pictures[f"Segmentation ({b})"] = report.segmentation_figure(
                joint, settings, b, out / "figures" / f"{b}_masks.png")
    return pictures


def _transfer(args: argparse.Namespace, refs, out: Path) -> int:
    """Inter-task transfer: each pair trained together vs each task alone (effect on each task).

    ``--pin`` pins both benchmarks' results of every pair run (configuration ``pair_<a>__<b>``, the
    paired-bootstrap interval of pair - single in ``extras.vs_single``), and the single-task runs
    unless they are pinned already as they came out (the ablation pins them with its ``vs_joint``);
    ``--check`` shows the matrix of those pins and trains nothing.
    """
    from avu.benchmarks import get_spec
    from avu.results import any_failed, check_against_pinned

    seed = _seeds(args.seeds)[0]
    benchmarks = list(BENCHMARK_IDS)
    primary = {b: get_spec(b).evaluator.primary_metric for b in benchmarks}
    pairs = plan.transfer_runs(benchmarks, seed)
    if args.check:
        return _transfer_check(args, refs, seed, primary, pairs)
    if args.output is not None:
        raise AvuInputError(None, "--output", "only with --check (a run writes its report to --out/<table>)")
    settings = _settings(args)
    specs = plan.runs_for([TRANSFER_BASELINE], benchmarks, [seed]) + pairs
    prepare(specs, settings)
    outcomes = train_all(specs, settings, args.jobs)
    results = aggregate(outcomes, settings)
    wanted = [(b, primary[b], p.configuration) for p in pairs for b in p.benchmarks]
    intervals = paired_intervals(outcomes, TRANSFER_BASELINE, wanted, settings, args.bootstrap)
    alone, matrix, bounds = transfer_view(results, {k: (v.lo, v.hi) for k, v in intervals.items()}, seed,
                                          primary, pairs)
    text = transfer_markdown(alone, matrix, primary, settings.data_kind, bounds)
    written = _write_transfer(out, text, alone, matrix, bounds, report.runs_index(outcomes), not args.no_figures)
    regressions = check_against_pinned(results.values(), refs) + config_drift(results, refs)
    print(text)
    _print_sections([("Re-run vs pinned (tier: ours)", _regression_text(regressions))])
    print(f"avu.reproduce: wrote {' and '.join(str(p) for p in written)}")
    if args.pin:
        for key, result in results.items():
            if key[1] == TRANSFER_BASELINE:
                _pin_single(result, refs)
                continue
            if key in intervals:  # the interval against the single-task run travels along
                result = replace(result, extras={**result.extras,
                                                 f"vs_{TRANSFER_BASELINE}": intervals[key].as_dict()})
            print(f"avu.reproduce: pinned {refs.save_ours(merge_with_pinned(result, refs))}")
        print("avu.reproduce: run `python -m avu.leaderboard` to refresh the leaderboards")
        return 0
    return 1 if any_failed(regressions) else 0


def _transfer_check(args: argparse.Namespace, refs, seed: int, primary: dict[str, str], pairs) -> int:
    """The transfer matrix of the pinned results (seed ``seed``), nothing run; written only into ``--output``."""
    data_kind = "real" if args.data_root is not None else "generated"
    target = _check_output(args, refs)
    needed = [(b, TRANSFER_BASELINE) for b in primary] + [(b, p.configuration) for p in pairs for b in p.benchmarks]
    pinned, missing = {}, []
    for b, config in needed:
        result = refs.ours(b, config, data_kind)
        if result is None:
            missing.append(str(refs.ours_path(b, config, data_kind)))
        elif seed not in result.seeds:
            missing.append(f"seed {seed} of {result.path}")
        else:
            pinned[(b, config)] = result
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise AvuInputError(None, "--check", f"no pinned transfer result {missing[0]}{more}; "
                                             "`python -m avu.reproduce --table transfer --pin` pins them")
    _refuse_other_defaults(pinned, plan.runs_for([TRANSFER_BASELINE], list(primary), [seed]) + pairs, _settings(args))
    bounds_pinned = {k: v[:2] for k, v in pinned_intervals(pinned, TRANSFER_BASELINE).items()}
    alone, matrix, bounds = transfer_view(pinned, bounds_pinned, seed, primary, pairs)
    text = transfer_markdown(alone, matrix, primary, data_kind, bounds)
    print(text)
    print("avu.reproduce: the pinned results above; nothing run")
    if target is not None:
        written = _write_transfer(target, text, alone, matrix, bounds, None, not args.no_figures)
        print(f"avu.reproduce: wrote {' and '.join(str(p) for p in written)}")
    return 0


def _refuse_other_defaults(pinned, specs, settings: Settings) -> None:
    """Every cell is a pair's result minus the single-task one: pins of other defaults than today's
    (a re-pin of the single-task runs by the ablation, or a changed default) would be subtracted
    from each other, so the check refuses them instead of printing a mixed matrix."""
    today = {}
    for spec in specs:
        digest = config_hash(compose_config(spec, settings))
        for b in spec.benchmarks:
            today[(b, spec.configuration)] = digest
    stale = [(key, result) for key, result in pinned.items() if result.provenance.get("config_hash") != today[key]]
    if stale:
        (b, config), result = stale[0]
        more = f" (and {len(stale) - 1} more)" if len(stale) > 1 else ""
        raise AvuInputError(result.path, "provenance.config_hash",
                            f"{b} {config} was pinned with other defaults than today's{more} "
                            f"({str(result.provenance.get('config_hash'))[:12]} vs {today[(b, config)][:12]}); "
                            "`python -m avu.reproduce --table transfer --pin` pins them again")


def transfer_view(results, intervals, seed: int, primary: dict[str, str], pairs):
    """(alone, matrix, bounds) of the transfer table, from results keyed by (benchmark, configuration).

    ``alone[b]``: b's primary metric trained alone; ``matrix[(a, b)]``: b's primary metric trained
    together with a, minus alone (points); ``bounds[(a, b)]``: (lo, hi) of that difference where
    ``intervals`` (keyed like ``results``) has it. Every value is that of training seed ``seed``, so
    the pinned results give the same table as the run that pinned them.
    """
    def value(b: str, config: str) -> float:
        result = results[(b, config)]
        return result.metrics[primary[b]].values[result.seeds.index(seed)]

    alone = {b: value(b, TRANSFER_BASELINE) for b in primary}
    matrix, bounds = {}, {}
    for p in pairs:
        a, b = p.benchmarks
        for partner, target in ((a, b), (b, a)):
            matrix[(partner, target)] = value(target, p.configuration) - alone[target]
            if (target, p.configuration) in intervals:
                lo, hi = intervals[(target, p.configuration)][:2]
                bounds[(partner, target)] = (float(lo), float(hi))
    return alone, matrix, bounds


def _write_transfer(folder: Path, text: str, alone, matrix, bounds, runs, figure: bool) -> list[Path]:
    """transfer.json and transfer.md (and the heatmap) into ``folder``; ``runs``: the run index, if any."""
    from avu.reproduce import figures

    doc = {"alone": alone, "delta": {f"{a}->{b}": v for (a, b), v in matrix.items()},
           "interval": {f"{a}->{b}": list(v) for (a, b), v in bounds.items()}}
    if runs is not None:
        doc["runs"] = runs
    written = [folder / "transfer.json", folder / "transfer.md"]
    fileio.write_json(written[0], doc)
    fileio.write_text(written[1], text)
    if figure:
        written.append(figures.transfer_matrix(matrix, folder / "figures" / "transfer_matrix.png"))
    return written


def _pin_single(result, refs) -> None:
    """Pin a single-task run of the transfer table, unless it is pinned already with these values."""
    pinned = refs.ours(result.benchmark, result.configuration, result.data)
    if pinned is not None and _same_values(result, pinned):
        print(f"avu.reproduce: kept {pinned.path} (pinned already: same config, data and values)")
        return
    merged = merge_with_pinned(result, refs)
    print(f"avu.reproduce: pinned {refs.save_ours(merged)}")
    dropped = sorted(set(pinned.extras) - set(merged.extras)) if pinned is not None else []
    if dropped:
        print(f"avu.reproduce:   its {', '.join(dropped)} went with the old values: "
              "`python -m avu.reproduce --table ablation --pin` measures it again")


def _same_values(result, pinned) -> bool:
    """Same config and data hashes, and every seed of ``result`` pinned with exactly its values."""
    if any(result.provenance.get(k) != pinned.provenance.get(k) for k in ("config_hash", "data_manifest_hash")):
        return False
    theirs = {s: i for i, s in enumerate(pinned.seeds)}
    return set(result.metrics) == set(pinned.metrics) and all(
        s in theirs and result.metrics[m].values[i] == pinned.metrics[m].values[theirs[s]]
        for i, s in enumerate(result.seeds) for m in result.metrics)


def transfer_markdown(alone: dict[str, float], matrix: dict[tuple[str, str], float], primary: dict[str, str],
                      data_kind: str, bounds: dict[tuple[str, str], tuple[float, float]] | None = None) -> str:
    """Rows: the task trained together with; columns: the task evaluated; cells: change in points
    (with its paired-bootstrap 95% interval in brackets where ``bounds`` has one)."""
    from tabulate import tabulate

    bounds = bounds or {}

    def cell(a: str, b: str) -> str:
        if a == b:
            return ""
        if (a, b) not in matrix:
            return "n/a"
        text = f"{matrix[(a, b)]:+.2f}"
        if (a, b) in bounds:
            lo, hi = bounds[(a, b)]
            text += f" [{lo:+.2f}, {hi:+.2f}]"
        return text

    tasks = list(alone)
    rows = [[a, *(cell(a, b) for b in tasks)] for a in tasks]
    head = (f"# Inter-task transfer ({data_kind} data)\n\nEach cell: the primary metric of the column's "
            "benchmark when trained together with the row's benchmark, minus trained alone (points)")
    head += (", with the paired-bootstrap 95% interval of that difference over the column benchmark's test "
             "items in brackets.\n\n" if bounds else ".\n\n")
    alone_row = [["alone", *(f"{alone[b]:.2f} ({primary[b]})" for b in tasks)]]
    return head + tabulate(alone_row + rows, headers=["trained with \\ evaluated on", *tasks],
                           tablefmt="github") + "\n"
