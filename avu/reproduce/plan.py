"""Which training runs a table needs.

A *configuration* (a column of our results: ``joint``, ``single``, ``no_temporal`` ...)
maps to Hydra experiments: ``single`` is one single-task experiment per benchmark, every
other configuration is one joint experiment covering all benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass

from avu import BENCHMARK_IDS
from avu.results.catalog import transfer_configuration

#: configuration id -> Hydra experiment (``single`` is handled per benchmark)
JOINT_EXPERIMENTS = {
    "joint": "joint",
    "joint_tiny": "joint",
    "no_temporal": "joint_no_temporal",
    "no_spatial": "joint_no_spatial",
    "no_prompts": "joint_no_prompts",
    "audio_only": "joint_audio_only",
    "visual_only": "joint_visual_only",
}


#: extra Hydra overrides that define a configuration (beyond its experiment)
CONFIG_OVERRIDES = {
    # CI's regression run: a short joint run (the tiny suite is chosen by --table regression)
    "joint_tiny": ("train=smoke", "train.steps=30", "train.checkpoint_every=0"),
}


#: single-task runs on the generated small suite (train=cpu) get the updates their task gets in
#: the joint run of seed 0 (results.json: run.steps_per_task of 3,200 joint steps; generator 2.x,
#: where AVSS has 320 training clips), so single vs joint compares the same number of samples of the task
#: and the whole ablation table stays within about 20 minutes on 2 cores. A transfer pair
#: {A, B} gets the sum of A's and B's steps. `--override train.steps=N` still wins; on real
#: data or the tiny suite the train config's steps apply.
SINGLE_TASK_STEPS_SMALL = {
    "ave": 381, "llp": 383, "vggss": 408, "avs_s4": 348, "avs_ms3": 292, "avss": 431, "avqa": 957,
}


@dataclass(frozen=True)
class RunSpec:
    configuration: str
    experiment: str
    #: benchmarks this run reports for this configuration
    benchmarks: tuple[str, ...]
    seed: int
    #: extra Hydra overrides of this run (e.g. the tasks of a transfer pair)
    overrides: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        extra = f" [{' '.join(self.overrides)}]" if self.overrides else ""
        return f"{self.experiment}{extra} seed {self.seed}"


def runs_for(configurations: list[str], benchmarks: list[str], seeds: list[int]) -> list[RunSpec]:
    specs = []
    for seed in seeds:
        for config in configurations:
            if config == "single":
                specs += [RunSpec("single", b, (b,), seed) for b in benchmarks]
            elif config in JOINT_EXPERIMENTS:
                specs.append(RunSpec(config, JOINT_EXPERIMENTS[config], tuple(benchmarks), seed,
                                     CONFIG_OVERRIDES.get(config, ())))
            else:
                raise ValueError(f"no experiment for configuration {config!r}")
    return specs


def transfer_runs(benchmarks: list[str], seed: int) -> list[RunSpec]:
    """One joint run per unordered pair {A, B}: it gives the effect of A's data on B and of B's on A
    (compared with the single-task runs of A and of B)."""
    ordered = [b for b in BENCHMARK_IDS if b in benchmarks]
    return [
        RunSpec(transfer_configuration(a, b), "joint", (a, b), seed,
                (f"task=[{a},{b}]", f"experiment_name={transfer_configuration(a, b)}"))
        for i, a in enumerate(ordered) for b in ordered[i + 1:]
    ]
