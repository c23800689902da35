"""``python -m avu.train experiment=<name> [overrides]``: train, predict, evaluate (Hydra).

Single run: outputs in ``runs/<run_name>/seed<seed>/`` (config.yaml, checkpoints/,
train_log.jsonl, predictions/, results.json); rerunning the same command resumes.
Sweeps: ``-m seed=0,1,2 ...`` (local launcher) or ``-m hydra/launcher=slurm ...``; the
AggregateSweep callback writes ``sweep_summary.json`` / ``.md`` (mean +- std over seeds).
"""

from __future__ import annotations

import sys

from avu.threads import prefer_passive_wait

prefer_passive_wait()  # before torch is imported (avu.threads)

import hydra  # noqa: E402
from hydra.core.hydra_config import HydraConfig  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from avu.errors import EXIT_BAD_INPUT, AvuInputError  # noqa: E402


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    from avu.train.loop import run

    run_dir = HydraConfig.get().runtime.output_dir
    try:
        doc = run(cfg, run_dir)
    except AvuInputError as exc:
        print(f"avu: error: {exc}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    results = doc.get("results") or {}
    if results:
        from avu.train.report import summary_table

        print(summary_table(doc))


if __name__ == "__main__":
    main()
