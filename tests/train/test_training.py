"""Training runs on the tiny generated suite: results with provenance, prediction files that
evaluate to the same numbers, bit-identical resume after SIGKILL, and 2 or 3 gloo processes
(started by torchrun or as SLURM tasks) whose schedule and evaluation equal one process."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from avu import BENCHMARK_IDS
from avu.metrics import vggss as kernels_vggss
from avu.train.loop import KILL_AT_STEP_ENV, run
from tests.helpers.launchers import clean_env, spawn_slurm, spawn_torchrun

SMOKE = ("data=tiny", "train=smoke", "train.threads=2")


def _overrides(root: Path, runs: Path, *extra: str) -> list[str]:
    return [*SMOKE, f"data.root={root}", f"paths.runs={runs}", *extra]


def _cli(args: list[str], env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    full_env = {**clean_env(), **(env or {})}  # one process, whatever launched the tests
    proc = subprocess.run([sys.executable, "-m", "avu.train", *args], capture_output=True, text=True,
                          env=full_env, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"avu.train failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return proc


def _metrics(doc: dict) -> dict:
    return {b: r["metrics"] for b, r in doc["results"].items()}


@pytest.fixture(scope="module")
def smoke_run(tiny_root, tmp_path_factory, request):
    """One in-process smoke run of joint training (shared by several tests)."""
    from avu.conf import compose

    runs = tmp_path_factory.mktemp("runs")
    cfg = compose(_overrides(tiny_root, runs))
    run_dir = runs / "joint" / "seed0"
    doc = run(cfg, run_dir)
    return cfg, run_dir, doc


def test_run_writes_results_with_provenance(smoke_run):
    cfg, run_dir, doc = smoke_run
    on_disk = json.loads((run_dir / "results.json").read_text())
    assert on_disk["results"].keys() == set(BENCHMARK_IDS)
    for bench, res in on_disk["results"].items():
        assert res["annotation_version"] == "generated" and res["split"] == "test"
        assert res["counts"]["missing"] == 0 and not res["partial"]
        assert Path(res["predictions"]["path"]).is_file()
    assert on_disk["results"]["vggss"]["provenance"]["opencv"] == kernels_vggss.opencv_version()
    prov = on_disk["provenance"]
    assert prov["seed"] == 0 and prov["config"]["model"]["name"] == "tiny"
    assert "commit" in prov["git"] and prov["data"]["fingerprint"]
    assert set(prov["data"]["manifest_hashes"]) == set(BENCHMARK_IDS)
    assert on_disk["run"]["steps"] == cfg.train.steps and on_disk["run"]["world_size"] == 1
    assert (run_dir / "checkpoints" / "last.pt").is_file() and (run_dir / "config.yaml").is_file()
    assert (run_dir / "train_log.jsonl").read_text().strip()


@pytest.mark.parametrize("bench", [pytest.param(b, marks=getattr(pytest.mark, b)) for b in BENCHMARK_IDS])
def test_prediction_files_evaluate_to_the_same_numbers(smoke_run, tiny_root, bench):
    """The written prediction file, read back by the benchmark's reader, gives the metrics
    the run reported (evaluated in memory while predicting)."""
    from avu.scoring import evaluate_file
    from avu.train.predict import load_references

    _, run_dir, doc = smoke_run
    res = doc["results"][bench]
    references = load_references(bench, tiny_root, "test")
    again = evaluate_file(bench, Path(res["predictions"]["path"]), references)
    assert again.metrics == res["metrics"]


def test_rerun_resumes_and_skips_training(smoke_run):
    cfg, run_dir, doc = smoke_run
    again = run(cfg, run_dir)
    assert again["run"]["resumed_from_step"] == cfg.train.steps
    assert _metrics(again) == _metrics(doc)


def test_changed_config_does_not_resume_silently(smoke_run):
    from avu.errors import AvuInputError

    cfg, run_dir, _ = smoke_run
    changed = cfg.copy()
    changed.train.lr = 0.5
    with pytest.raises(AvuInputError, match="different configuration"):
        run(changed, run_dir)


def test_decode_settings_do_not_block_re_evaluation(smoke_run):
    """Decoding acts at inference only: a finished run is re-evaluated under other settings."""
    cfg, run_dir, _ = smoke_run
    changed = cfg.copy()
    changed.model.decode.llp_global = "tokens"
    again = run(changed, run_dir)
    assert again["run"]["resumed_from_step"] == cfg.train.steps


def test_sigkill_then_resume_equals_an_uninterrupted_run(smoke_run, tiny_root, tmp_path):
    """Killed with SIGKILL after step 5 (last checkpoint: step 3), rerun: identical weights and metrics."""
    cfg, ref_dir, ref_doc = smoke_run
    assert cfg.train.steps == 6 and cfg.train.checkpoint_every == 3
    runs = Path(ref_dir).parent.parent
    args = [*_overrides(tiny_root, runs), f"hydra.run.dir={tmp_path / 'killed'}"]
    killed = _cli(args, env={KILL_AT_STEP_ENV: "5"}, check=False)
    assert killed.returncode == -9, killed.stderr[-2000:]
    state = torch.load(tmp_path / "killed" / "checkpoints" / "last.pt", weights_only=False)
    assert state["step"] == 3 and not (tmp_path / "killed" / "results.json").exists()
    resumed = _cli(args)
    assert "resumed from" in resumed.stdout
    doc = json.loads((tmp_path / "killed" / "results.json").read_text())
    assert doc["run"]["resumed_from_step"] == 3
    assert _metrics(doc) == _metrics(ref_doc)
    final = torch.load(tmp_path / "killed" / "checkpoints" / "last.pt", weights_only=False)["model"]
    reference = torch.load(Path(ref_dir) / "checkpoints" / "last.pt", weights_only=False)["model"]
    assert final.keys() == reference.keys()
    assert all(torch.equal(final[k], reference[k]) for k in final)
    # the log holds each step once, and the running averages continued rather than restarted
    log = [json.loads(x) for x in (tmp_path / "killed" / "train_log.jsonl").read_text().splitlines()]
    ref_log = [json.loads(x) for x in (Path(ref_dir) / "train_log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in log] == [x["step"] for x in ref_log] == [2, 4, 6]
    assert [{k: v for k, v in x.items() if k != "elapsed_s"} for x in log] == \
        [{k: v for k, v in x.items() if k != "elapsed_s"} for x in ref_log]


def _steps_and_rates(run_dir: Path) -> list[tuple[int, float]]:
    return [(x["step"], x["lr"]) for x in map(json.loads, (run_dir / "train_log.jsonl").read_text().splitlines())]


@pytest.mark.distributed
@pytest.mark.parametrize("how, world", [("torchrun", 2), ("torchrun", 3), ("slurm", 2), ("slurm", 3)])
def test_gloo_processes_train_and_evaluate_like_one(smoke_run, tiny_root, tmp_path, how: str, world: int):
    """2 or 3 CPU processes, started by torchrun or as the tasks of a SLURM step (the 2-task step
    read through submitit), form one group and train (gloo): the same steps, tasks and learning
    rates as one process (the schedule is a function of seed and step; the global batch is split
    between them), and the final checkpoint evaluated by one process gives exactly their metrics."""
    _, ref_dir, ref_doc = smoke_run
    run_dir = tmp_path / "run"
    overrides = [*_overrides(tiny_root, tmp_path / "runs"), "train.threads=1", "train.batch_size=6"]
    args = ["-m", "avu.train", *overrides, f"hydra.run.dir={run_dir}"]
    if how == "torchrun":
        outcomes = [spawn_torchrun(args, world)]
    else:
        outcomes = spawn_slurm(args, world, submitit=world == 2 and importlib.util.find_spec("submitit") is not None)
    assert [p.returncode for p in outcomes] == [0] * len(outcomes), [p.stderr[-3000:] for p in outcomes]
    many = json.loads((run_dir / "results.json").read_text())
    assert many["run"]["world_size"] == world and many["run"]["steps"] == ref_doc["run"]["steps"]
    for key in ("steps_per_task", "task_probabilities"):
        assert many["run"][key] == ref_doc["run"][key]
    assert _steps_and_rates(run_dir) == _steps_and_rates(Path(ref_dir))
    shutil.copy(run_dir / "results.json", run_dir / f"results-{world}proc.json")
    one = _cli(args[2:])  # resumes at the final step: evaluation only, one process
    assert "resumed from" in one.stdout
    single = json.loads((run_dir / "results.json").read_text())
    assert single["run"]["world_size"] == 1
    assert _metrics(single) == _metrics(many)


def test_weight_average_warms_up_and_copies_counters():
    """ema_decay 0: no average; otherwise the average tracks a short run (warm-up) instead of
    staying near the initial weights, and integer buffers are copied, not averaged."""
    import torch

    from avu.train.loop import build_weight_average

    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    assert build_weight_average(model, 0.0) is None
    average = build_weight_average(model, 0.998)
    start = model[0].weight.detach().clone()
    for _ in range(50):
        with torch.no_grad():
            model[0].weight.add_(1.0)
        model(torch.randn(4, 3))
        average.update_parameters(model)
    moved = float((average.module[0].weight.detach() - start).mean())
    assert 40 < moved < 50  # a plain 0.998 average would have moved about 5 of the 50
    assert int(average.module[1].num_batches_tracked) == int(model[1].num_batches_tracked) == 50
