"""``avu explore``: a static site for a reproducer report, or for one or two ``avu evaluate`` results.

  avu explore reports/main                                   # the report's tables, figures and samples
  avu explore --result a.json [--result b.json] --data-root DIR --out reports/compare

The site is ``<out>/index.html`` plus ``<out>/explore/``; open index.html from the file system.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from avu.errors import AvuInputError


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("report", nargs="?", type=Path, help="a reproducer report folder (reports/<table>)")
    p.add_argument("--result", action="append", type=Path, default=[],
                   help="an `avu evaluate --output` file; twice for side by side (same benchmark)")
    p.add_argument("--label", action="append", default=[], help="name of each --result on the page (default: file name)")
    p.add_argument("--data-root", type=Path, default=os.environ.get("AVU_DATA_ROOT"),
                   help="data the results were scored on (one folder per dataset); a report's runs name theirs")
    p.add_argument("--annotations", type=Path, help="the dataset folder instead of --data-root")
    p.add_argument("--out", type=Path, help="site folder (default: the report folder, or reports/explore-<benchmark>)")
    p.add_argument("--workers", type=int, help="processes drawing the pictures (default: 2 or the CPU count if fewer)")


def run(args: argparse.Namespace) -> int:
    from avu.explore import inputs, site

    t0 = time.perf_counter()
    _single_thread_torch()
    if (args.report is None) == (not args.result):
        raise AvuInputError(None, "report", "give a report folder or --result FILE (once or twice), not both")
    if args.report is not None:
        index = report_site(args.report, args.data_root, args.out, args.workers)
    else:
        runs = inputs.evaluate_results(args.result, args.data_root, args.annotations, args.label)
        out = args.out or Path("reports") / f"explore-{runs[0].benchmark}"
        site.check_outputs(out, args.result + [r.predictions for r in runs])
        title = f"{runs[0].benchmark}: " + " vs ".join(r.label for r in runs)
        index = site.build(out, title, {runs[0].benchmark: runs}, site.results_overview(runs), args.workers)
    print(f"avu explore: wrote {index} in {time.perf_counter() - t0:.1f} s (open it in a browser: {index.resolve().as_uri()})")
    return 0


def report_site(folder: Path, data_root: Path | None = None, out: Path | None = None,
                workers: int | None = None) -> Path:
    """The site of a reproducer report folder (written into it unless ``out``); returns index.html."""
    from avu.explore import inputs, site

    _single_thread_torch()
    rep = inputs.report(folder, data_root)
    out = out or folder
    read = [s.predictions for s in rep.runs.values()] + [folder / f"{rep.table_name}.json", folder / "runs.json",
                                                         folder / "baselines.json"]
    site.check_outputs(out, read + rep.figures)
    title = (rep.table or {}).get("title", rep.table_name)
    return site.build(out, title, {b: [s] for b, s in rep.runs.items()}, site.report_overview(rep, out), workers)


def _single_thread_torch() -> None:
    """The kernels' torch ops run one sample at a time: threads would only contend (here and in
    the forked workers, which inherit this setting)."""
    import torch

    torch.set_num_threads(1)
