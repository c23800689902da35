"""``python -m avu.train experiment=<name> [overrides]``: train, predict, evaluate (Hydra).

Single run: outputs in ``runs/<run_name>/seed<seed>/`` (config.yaml, checkpoints/,
train_log.jsonl, predictions/, results.json); rerunning the same command resumes.
Sweeps: ``-m seed=0,1,2 ...`` (local launcher) or ``-m hydra/launcher=slurm ...``; the
AggregateSweep callback writes ``sweep_summary.json`` / ``.md`` (mean +- std over seeds).
A config that does not compose (a misspelt key, a wrong type: ``avu.conf.schema``) is one line
on stderr and exit status 2, as every bad input.
"""

from __future__ import annotations

import os
import sys

from avu.threads import choose_wait_policy

choose_wait_policy()  # before torch is imported (avu.threads)

import hydra  # noqa: E402
from hydra.core.hydra_config import HydraConfig  # noqa: E402
from hydra.errors import HydraException  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from avu.conf import CONFIG_NAME, VERSION_BASE, check, config_error  # noqa: E402
from avu.errors import EXIT_BAD_INPUT, AvuInputError  # noqa: E402


@hydra.main(config_path="../conf", config_name=CONFIG_NAME, version_base=VERSION_BASE)
def main(cfg: DictConfig) -> None:
    from avu.train.loop import run

    run_dir = HydraConfig.get().runtime.output_dir
    try:
        check(cfg)
        doc = run(cfg, run_dir)
    except AvuInputError as exc:
        print(f"avu: error: {exc}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    results = doc.get("results") or {}
    if results:
        from avu.train.report import summary_table

        print(summary_table(doc))


def cli() -> None:
    # Hydra prints its own errors and exits with 1 unless HYDRA_FULL_ERROR=1, when it raises them
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        main()
    except HydraException as exc:  # composition: an unknown key or option, a wrong type, a bad override
        print(f"avu: error: {config_error(exc)}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


if __name__ == "__main__":
    cli()
