"""Train the runs a table needs (or reuse cached ones) and re-score their predictions.

A run's cache key is the hash of its composed config without machine-specific paths,
plus the data fingerprint (the generated suite's file hash, or the real data root), so
the same run on another checkout or machine reuses nothing stale and recomputes nothing
needlessly. Training itself resumes from its last checkpoint if a run was interrupted.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from avu.benchmarks import dataset_dir, get_spec
from avu.evaluators.base import Evaluator
from avu.provenance import sha256_json
from avu.reproduce.plan import SINGLE_TASK_STEPS_SMALL, RunSpec

RESULTS = "results.json"


@dataclass(frozen=True)
class Settings:
    #: real data root (None: the generated suite)
    data_root: Path | None
    #: where the generated suite lives (generated on first use)
    suite: Path
    #: generated suite size: data config group (small | tiny)
    size: str
    runs_dir: Path
    overrides: tuple[str, ...] = ()

    @property
    def data_kind(self) -> str:
        return "real" if self.data_root is not None else "generated"

    @property
    def root(self) -> Path:
        return self.data_root if self.data_root is not None else self.suite


@dataclass
class RunOutcome:
    spec: RunSpec
    run_dir: Path
    doc: dict[str, Any]
    config_hash: str
    reused: bool
    seconds: float
    evaluators: dict[str, Evaluator] = field(default_factory=dict)
    #: the finished run whose trained weights this run started from (`trained_weights`), if any
    weights_from: Path | None = None

    def metrics(self, benchmark: str) -> dict[str, float]:
        return dict(self.doc["results"][benchmark]["metrics"])


def compose_config(spec: RunSpec, settings: Settings) -> DictConfig:
    from avu.conf import compose

    data = ["data=real", f"data.root={settings.data_root}"] if settings.data_root is not None else \
        [f"data={settings.size}", f"data.root={settings.suite}"]
    matched = []
    if settings.data_root is None and settings.size == "small" and (
            spec.configuration == "single" or spec.configuration.startswith("pair_")):
        # single: its task's share of the joint run; a transfer pair: the sum of its two tasks'
        # shares, so each task of the pair gets about as many updates as when trained alone
        matched = [f"train.steps={sum(SINGLE_TASK_STEPS_SMALL[b] for b in spec.benchmarks)}"]
    overrides = [f"experiment={spec.experiment}", f"seed={spec.seed}", *data, *matched, *spec.overrides,
                 *settings.overrides]
    return compose(overrides, where="--override")  # AvuInputError: one line naming the key


#: settings added after runs were pinned, with the test of the value that does what the code did
#: before the setting existed: at that value the setting is left out of the hash, so the pins of
#: those runs stay valid (any other value changes the hash, and the check asks for a re-pin)
SETTINGS_BEFORE_THEIR_TIME = {
    ("model", "task_norm_stats"): lambda value: not value["enabled"],
}


def config_hash(cfg: DictConfig) -> str:
    """Hash of what defines a run's numbers: the composed config minus machine-specific paths."""
    c = OmegaConf.to_container(cfg, resolve=True)
    c.pop("paths")
    c.pop("seed")  # one configuration, several seeds: the seed is recorded beside the hash
    c["data"].pop("root")
    c["train"].pop("progress")
    for (group, key), as_before in SETTINGS_BEFORE_THEIR_TIME.items():
        if key in c.get(group, {}) and as_before(c[group][key]):
            del c[group][key]
    return sha256_json(c)


def run_dir_for(spec: RunSpec, settings: Settings, digest: str) -> Path:
    from avu.train.data import suite_fingerprint

    key = sha256_json({"config": digest, "seed": spec.seed, "data": suite_fingerprint(settings.root)})[:12]
    return settings.runs_dir / f"{spec.experiment}-{key}" / f"seed{spec.seed}"


def stop_with_parent(parent: int) -> None:
    """Worker initializer of side-by-side runs: on Linux, ask the kernel for SIGTERM when the parent
    dies, so a killed ``reproduce --jobs N`` does not leave its runs training on (SIGTERM makes a run
    save a checkpoint and stop). Elsewhere a no-op: the workers end with the pool's shutdown."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request was in place
        os.kill(os.getpid(), signal.SIGTERM)


def trained_weights(spec: RunSpec, settings: Settings, cfg: DictConfig, run_dir: Path) -> Path | None:
    """The final checkpoint of a finished run of this very training, if the runs folder holds one.

    Settings that act after training (`avu.train.loop.AFTER_TRAINING_KEYS`: decoding, the per-task
    normalisation statistics) are part of the config hash, so a run that changes only them gets
    its own folder; it trains exactly what a run with the same training identity, seed and data
    trained already. Such a run's checkpoint is found here by its recorded identity, and the
    run resumes from it at the last step (the loop checks the identity again) and computes only
    what comes after training.
    """
    from avu.train import checkpoint as ckpt
    from avu.train.data import suite_fingerprint
    from avu.train.loop import identity_matches

    fingerprint = suite_fingerprint(settings.root)
    for results in sorted(settings.runs_dir.glob(f"{spec.experiment}-*/seed{spec.seed}/{RESULTS}")):
        donor = results.parent
        if donor == run_dir:
            continue
        try:
            provenance = json.loads(results.read_text())["provenance"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a finished run of this version: train instead
        if (provenance.get("seed") == spec.seed and (provenance.get("data") or {}).get("fingerprint") == fingerprint
                and identity_matches(cfg, provenance.get("config_identity"))):
            found = ckpt.find(donor / "checkpoints")
            if found is not None:
                return found
    return None


def execute(spec: RunSpec, settings: Settings, progress: bool = True) -> RunOutcome:
    """Train and evaluate one run, or load it from the cache (``progress``: the run's own bars).

    A run that differs from a finished one only in after-training settings starts from that
    run's trained weights (`trained_weights`; copied, the other run is left as it is)."""
    import shutil

    from avu.train import checkpoint as ckpt
    from avu.train.loop import run

    cfg = compose_config(spec, settings)
    digest = config_hash(cfg)
    run_dir = run_dir_for(spec, settings, digest)
    results = run_dir / RESULTS
    t0 = time.perf_counter()
    reused = results.is_file()
    weights_from = None
    if reused:
        doc = json.loads(results.read_text())
    else:
        if not progress:
            cfg.train.progress = False
        if ckpt.find(run_dir / "checkpoints") is None:
            donor = trained_weights(spec, settings, cfg, run_dir)
            if donor is not None:
                (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
                shutil.copy2(donor, run_dir / "checkpoints" / donor.name)
                log = donor.parent.parent / "train_log.jsonl"
                if log.is_file():
                    shutil.copy2(log, run_dir / "train_log.jsonl")
                weights_from = donor.parent.parent
        doc = run(cfg, run_dir)
        if "results" not in doc:
            raise RuntimeError(f"training of {spec.label} stopped before the end; rerun to resume")
    return RunOutcome(spec, run_dir, doc, digest, reused, time.perf_counter() - t0, weights_from=weights_from)


def rescore(outcome: RunOutcome, benchmark: str, settings: Settings) -> Evaluator:
    """The evaluator of one benchmark, fed with the run's prediction file (keeps per-sample records)."""
    if benchmark in outcome.evaluators:
        return outcome.evaluators[benchmark]
    result = outcome.doc["results"][benchmark]
    spec = get_spec(benchmark)
    path = Path(result["predictions"]["path"])
    if not path.is_absolute() and not path.exists():
        path = outcome.run_dir / "predictions" / path.name
    references = spec.load_references(dataset_dir(settings.root, benchmark), split=result["split"],
                                      version=spec.default_annotation_version)
    ids, payload = spec.read_predictions(path, references)
    evaluator = spec.evaluator(references, protocol=result["protocol"]["name"])
    evaluator.update(ids, payload)
    rescored = evaluator.compute()
    for name, value in result["metrics"].items():  # the file must reproduce what training reported
        if abs(rescored.metrics[name] - value) > 1e-9:
            raise RuntimeError(f"{path}: re-scoring gives {name}={rescored.metrics[name]} but training reported {value}")
    outcome.evaluators[benchmark] = evaluator
    return evaluator
