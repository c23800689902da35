"""Which runs a table needs and how each is configured (composition only, nothing trains)."""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from avu import BENCHMARK_IDS
from avu.reproduce.plan import SINGLE_TASK_STEPS_SMALL, runs_for
from avu.reproduce.runner import Settings, compose_config, config_hash


def _settings(size: str = "small", data_root: Path | None = None, overrides: tuple[str, ...] = ()) -> Settings:
    return Settings(data_root=data_root, suite=Path("/data/suite"), size=size, runs_dir=Path("/runs"),
                    overrides=overrides)


def test_single_is_one_run_per_benchmark_and_joint_one_run():
    specs = runs_for(["joint", "single"], list(BENCHMARK_IDS), seeds=[0, 1])
    assert len(specs) == 2 * (1 + len(BENCHMARK_IDS))
    assert {s.experiment for s in specs if s.configuration == "single"} == set(BENCHMARK_IDS)
    assert all(len(s.benchmarks) == 1 for s in specs if s.configuration == "single")


def test_single_runs_on_the_small_suite_get_the_joint_share_of_steps():
    (ave,) = [s for s in runs_for(["single"], ["ave"], [0])]
    cfg = compose_config(ave, _settings())
    assert cfg.train.steps == SINGLE_TASK_STEPS_SMALL["ave"] and list(cfg.tasks) == ["ave"]
    joint = compose_config(runs_for(["joint"], list(BENCHMARK_IDS), [0])[0], _settings())
    assert joint.train.steps == 3200  # the matched numbers are shares of this
    assert abs(sum(SINGLE_TASK_STEPS_SMALL.values()) - joint.train.steps) <= len(BENCHMARK_IDS)  # rounding


def test_user_overrides_win_and_other_data_keep_the_train_config():
    (ave,) = runs_for(["single"], ["ave"], [0])
    assert compose_config(ave, _settings(overrides=("train.steps=7",))).train.steps == 7
    assert compose_config(ave, _settings(size="tiny")).train.steps == 3200
    assert compose_config(ave, _settings(data_root=Path("/real"))).train.steps == 3200


def test_config_hash_ignores_paths_and_seed_not_settings():
    (ave0,) = runs_for(["single"], ["ave"], [0])
    (ave1,) = runs_for(["single"], ["ave"], [1])
    a = compose_config(ave0, _settings())
    b = compose_config(ave1, Settings(None, Path("/elsewhere"), "small", Path("/other")))
    assert config_hash(a) == config_hash(b)
    assert config_hash(a) != config_hash(compose_config(ave0, _settings(overrides=("train.lr=0.002",))))


def test_transfer_pairs_get_the_sum_of_their_tasks_steps():
    from avu.reproduce.plan import transfer_runs

    pairs = transfer_runs(list(BENCHMARK_IDS), seed=0)
    assert len(pairs) == 21 and len({p.benchmarks for p in pairs}) == 21
    ave_llp = next(p for p in pairs if p.benchmarks == ("ave", "llp"))
    cfg = compose_config(ave_llp, _settings())
    assert list(cfg.tasks) == ["ave", "llp"]
    assert cfg.train.steps == SINGLE_TASK_STEPS_SMALL["ave"] + SINGLE_TASK_STEPS_SMALL["llp"]
    assert compose_config(ave_llp, _settings(size="tiny")).train.steps == 3200


def test_transfer_markdown_rows_are_the_partner_and_columns_the_evaluated_task():
    from avu.reproduce.cli import transfer_markdown

    text = transfer_markdown({"ave": 50.0, "llp": 10.0}, {("ave", "llp"): 1.5, ("llp", "ave"): -2.0},
                             {"ave": "accuracy", "llp": "segment_audio"}, "generated")
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:4]]
            for line in text.splitlines() if line.startswith("| ") and "---" not in line}
    assert rows["ave"] == ["", "+1.50"] and rows["llp"] == ["-2.00", ""]
    assert rows["alone"] == ["50.00 (accuracy)", "10.00 (segment_audio)"]


def test_a_setting_at_its_before_value_leaves_the_hash_as_it_was():
    """Task BatchNorm statistics off is what the code did before the setting existed: at off the
    setting is left out of the hash (whatever its clip count), so pins made before it stay valid;
    on, or another clip count while on, is another configuration. The pins match today's default."""
    import json

    from avu.results.paths import default_root

    (joint,) = runs_for(["joint"], list(BENCHMARK_IDS), [0])

    def digest(*overrides: str) -> str:
        return config_hash(compose_config(joint, _settings(overrides=overrides)))

    off, on = digest("model.task_norm_stats.enabled=false"), digest("model.task_norm_stats.enabled=true")
    assert digest("model.task_norm_stats.enabled=false", "model.task_norm_stats.clips=64") == off
    assert len({off, on, digest("model.task_norm_stats.enabled=true", "model.task_norm_stats.clips=64")}) == 3
    # without the setting in the config at all (a config from before it), the hash is the off one
    cfg = compose_config(joint, _settings())
    cfg.model.task_norm_stats.enabled = False
    without = OmegaConf.to_container(cfg, resolve=True)
    del without["model"]["task_norm_stats"]
    assert config_hash(OmegaConf.create(without)) == off
    pinned = json.loads((default_root() / "ours" / "ave" / "joint.generated.json").read_text())
    assert pinned["provenance"]["config_hash"] == digest()
