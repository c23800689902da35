"""``python -m avu.train experiment=<name> [overrides]``: train, predict, evaluate (Hydra).

Single run: outputs in ``runs/<run_name>/seed<seed>/`` (config.yaml, checkpoints/,
train_log.jsonl, predictions/, results.json); rerunning the same command resumes.
Sweeps: ``-m seed=0,1,2 ...`` (local launcher) or ``-m hydra/launcher=slurm ...``; the
AggregateSweep callback writes ``sweep_summary.json`` / ``.md`` (mean +- std over seeds).
"""

from __future__ import annotations

import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from avu.errors import EXIT_BAD_INPUT, AvuInputError


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
