"""Every experiment (and every ablation with every experiment) composes through Hydra's
compose API, and the composed configs say what they should."""

from __future__ import annotations

from pathlib import Path

import pytest

import avu
from avu import BENCHMARK_IDS

CONF = Path(avu.__file__).parent / "conf"
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))
ABLATIONS = sorted(p.stem for p in (CONF / "ablation").glob("*.yaml"))
MODELS = sorted(p.stem for p in (CONF / "model").glob("*.yaml"))


def test_the_expected_experiments_exist():
    assert set(BENCHMARK_IDS) | {"joint"} <= set(EXPERIMENTS)
    for ablation in ("no_temporal", "no_spatial", "no_prompts", "audio_only", "visual_only"):
        assert ablation in ABLATIONS and f"joint_{ablation}" in EXPERIMENTS


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes(compose_cfg, experiment):
    cfg = compose_cfg(f"experiment={experiment}", hydra_config=True)
    tasks = list(cfg.tasks)
    if experiment in BENCHMARK_IDS:
        assert tasks == [experiment] and cfg.run_name == experiment
    else:
        assert tasks == list(BENCHMARK_IDS)
    assert cfg.hydra.job.chdir is False
    assert cfg.hydra.run.dir == f"runs/{cfg.run_name}/seed0"
    for t in tasks:
        assert cfg.tasks[t].weight > 0 and cfg.tasks[t].loss_weight > 0
    assert cfg.model.d_model > 0 and cfg.train.steps > 0


@pytest.mark.parametrize("ablation", ABLATIONS)
@pytest.mark.parametrize("experiment", ["ave", "avss", "joint"])
def test_ablations_compose_with_experiments(compose_cfg, experiment, ablation):
    cfg = compose_cfg(f"experiment={experiment}", f"ablation={ablation}")
    m = cfg.model
    expected = {
        "none": (True, True, True, ["audio", "visual"]),
        "no_temporal": (False, True, True, ["audio", "visual"]),
        "no_spatial": (True, False, True, ["audio", "visual"]),
        "no_prompts": (True, True, False, ["audio", "visual"]),
        "audio_only": (True, True, True, ["audio"]),
        "visual_only": (True, True, True, ["visual"]),
    }[ablation]
    assert (m.temporal.enabled, m.spatial.enabled, m.prompt.enabled, list(m.modalities)) == expected
    assert cfg.ablation_name == ablation
    assert cfg.run_name == experiment + ("" if ablation == "none" else f"+{ablation}")


@pytest.mark.parametrize("model", MODELS)
def test_model_configs_compose(compose_cfg, model):
    cfg = compose_cfg(f"model={model}")
    assert cfg.model.name == model
    if model.startswith("real"):
        assert cfg.model.d_model % 128 == 0 and cfg.model.decoder.depth >= 4
        assert cfg.model.visual.kind == "torchvision" and cfg.model.visual.input_size == 224


def test_sampling_and_data_options(compose_cfg):
    cfg = compose_cfg("data=tiny", "train=smoke", "data.sampling.mode=weights", "tasks.avqa.weight=0.5")
    assert cfg.data.generate.size == "tiny" and cfg.train.steps < 20
    assert cfg.tasks.avqa.weight == 0.5
    gpu = compose_cfg("train=gpu")
    assert gpu.train.device == "cuda" and gpu.train.compile and gpu.train.amp == "auto"


def test_sweep_callback_and_slurm_launcher_are_configured(compose_cfg):
    cfg = compose_cfg("hydra/launcher=slurm", hydra_config=True)
    assert cfg.hydra.callbacks.aggregate._target_ == "avu.train.sweep.AggregateSweep"
    assert cfg.hydra.launcher._target_.endswith("SlurmLauncher")
    assert cfg.hydra.launcher.gpus_per_node == 1
    plugin = compose_cfg("hydra/launcher=submitit_slurm", hydra_config=True)
    assert plugin.hydra.launcher._target_.endswith("SlurmLauncher")


def test_the_documented_multi_node_launch_composes_without_touching_the_run(compose_cfg):
    """docs/training.md's SLURM recipe scales the launcher alone: the run's config (and identity) stays."""
    from avu.train.loop import config_identity

    scaled = ("hydra.launcher.nodes=2", "hydra.launcher.tasks_per_node=8", "hydra.launcher.gpus_per_node=8")
    base = ("experiment=joint", "model=real", "train=gpu", "hydra/launcher=slurm")
    cfg = compose_cfg(*base, *scaled, hydra_config=True)
    launcher = cfg.hydra.launcher
    assert (launcher.nodes, launcher.tasks_per_node, launcher.gpus_per_node) == (2, 8, 8)
    assert config_identity(compose_cfg(*base, *scaled)) == config_identity(compose_cfg(*base))


def test_settings_that_act_after_training_leave_the_checkpoint_identity_alone(compose_cfg):
    """Decoding and the per-task BatchNorm statistics act on finished weights: a run trained with
    either setting resumes (and re-evaluates) under another; a checkpoint from when the statistics
    still counted as training is accepted; a training setting is another identity."""
    from avu.train.loop import config_identity, identity_matches

    on = compose_cfg("model.task_norm_stats.enabled=true")
    off = compose_cfg("model.task_norm_stats.enabled=false", "model.decode.llp_world_threshold=0.4")
    assert config_identity(on) == config_identity(off)
    legacy = config_identity(off, after_training=("decode",))
    assert legacy != config_identity(off) and identity_matches(off, legacy)
    assert not identity_matches(on, legacy)  # its recorded statistics setting was another one
    assert not identity_matches(compose_cfg("train.lr=0.5"), config_identity(off))
