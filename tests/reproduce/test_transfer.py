"""``reproduce --table transfer``: ``--pin`` pins every pair run under both of its benchmarks with the
paired-bootstrap interval of (pair - single), ``--check`` gives the run's matrix back from those pins
alone (training nothing, writing nothing unless ``--output``), and fails in one line without them.

The "training" here is the tiny suite's oracle, chance and prior predictions, scored by the
evaluators and planted as finished runs: the reproducer re-scores and bootstraps them as its own.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from avu import BENCHMARK_IDS
from avu.benchmarks import dataset_dir, get_spec
from avu.reproduce import cli, plan
from avu.reproduce.cli import main
from avu.reproduce.runner import RunOutcome, compose_config, config_hash
from avu.results import ReferenceResults
from avu.results.catalog import transfer_pair
from avu.results.validate import validate
from tests.helpers.predictions import write_payload

REPO = Path(__file__).resolve().parents[2]
PAIRS = [p.configuration for p in plan.transfer_runs(list(BENCHMARK_IDS), 0)]


@pytest.fixture(scope="module")
def scored(tiny_suite: Path, tmp_path_factory) -> dict[str, dict[str, dict]]:
    """{benchmark: {kind: the entry a run's results.json has for it}} for the prior, oracle and chance predictions."""
    from avu.data.synth.baselines import predictions

    folder = tmp_path_factory.mktemp("transfer_predictions")
    out: dict[str, dict[str, dict]] = {}
    for b in BENCHMARK_IDS:
        spec = get_spec(b)
        refs = spec.load_references(dataset_dir(tiny_suite, b), split="test", version=spec.default_annotation_version)
        train = spec.load_references(dataset_dir(tiny_suite, b), split="train", version=spec.default_annotation_version)
        out[b] = {}
        for kind in ("prior", "oracle", "chance"):
            payload = predictions(b, kind, refs, train, np.random.default_rng(0))
            path = write_payload(folder / f"{b}-{kind}{'.json' if b == 'avqa' else '.npz'}", b, list(refs.ids),
                                      payload)
            evaluator = spec.evaluator(refs)
            evaluator.update(*spec.read_predictions(path, refs))
            out[b][kind] = {**evaluator.compute().to_dict(), "predictions": {"path": str(path)}}
    return out


def _kind(spec: plan.RunSpec, benchmark_id: str) -> str:
    """Alone: the prior; in a pair: the oracle or chance, by the partner (so the matrix is not one value per column)."""
    if spec.configuration == "single":
        return "prior"
    partner = next(b for b in spec.benchmarks if b != benchmark_id)
    return "oracle" if BENCHMARK_IDS.index(partner) % 2 == 0 else "chance"


def _planted(scored, runs_dir: Path, calls: list[str]):
    def execute(spec: plan.RunSpec, settings, progress: bool = True) -> RunOutcome:
        calls.append(spec.configuration)
        doc = {"run": {"device": "cpu"}, "provenance": {"platform": "test platform"},
               "results": {b: scored[b][_kind(spec, b)] for b in spec.benchmarks}}
        digest = config_hash(compose_config(spec, settings))  # what a real run of today's defaults records
        return RunOutcome(spec, runs_dir / spec.configuration, doc, digest, True, 0.0)

    return execute


def _no_training(*args, **kwargs):
    raise AssertionError("--check trained something")


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _args(tiny_suite: Path, work: Path, *extra: str) -> list[str]:
    return ["--table", "transfer", "--suite", str(tiny_suite), "--size", "tiny", "--runs-dir", str(work / "runs"),
            "--out", str(work / "reports"), "--bootstrap", "20", "--no-figures", *extra]


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """AVSS re-scoring's torch ops on two busy cores are much slower with two threads."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def ref_copy(tmp_path: Path, monkeypatch) -> Path:
    """A private copy of reference_results/ that the reproducer reads and pins into."""
    root = tmp_path / "reference_results"
    shutil.copytree(REPO / "reference_results", root, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("AVU_REFERENCE_RESULTS", str(root))
    return root


@pytest.fixture(scope="module")
def pinned_once(tiny_suite: Path, scored, tmp_path_factory) -> tuple[Path, str]:
    """A folder holding reference_results/ after the transfer run (planted runs) with --pin, and
    that run's report; the console output of the run."""
    import contextlib
    import io

    work = tmp_path_factory.mktemp("transfer_pinned")
    shutil.copytree(REPO / "reference_results", work / "reference_results",
                    ignore=shutil.ignore_patterns("__pycache__"))
    calls: list[str] = []
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(io.StringIO()) as out:
        mp.setenv("AVU_REFERENCE_RESULTS", str(work / "reference_results"))
        mp.setattr(cli, "execute", _planted(scored, work / "runs", calls))
        code = main(_args(tiny_suite, work, "--pin"))
    assert code == 0 and sorted(calls) == sorted(["single"] * 7 + PAIRS)
    return work, out.getvalue()


@pytest.fixture
def pinned(pinned_once, ref_copy: Path, tmp_path: Path) -> str:
    """``ref_copy`` and ``tmp_path/reports`` as the pinning run left them; its console output."""
    work, out = pinned_once
    shutil.rmtree(ref_copy)
    shutil.copytree(work / "reference_results", ref_copy)
    shutil.copytree(work / "reports", tmp_path / "reports")
    return out


def test_pin_writes_both_benchmarks_of_every_pair_with_its_interval(pinned, ref_copy: Path, tmp_path: Path):
    refs = ReferenceResults(ref_copy)
    for config in PAIRS:
        for b in transfer_pair(config):
            result = refs.ours(b, config, "generated")
            assert result is not None and result.seeds == (0,), (b, config)
            interval = result.extras["vs_single"]
            single = refs.ours(b, "single", "generated")
            primary = get_spec(b).evaluator.primary_metric
            delta = result.metrics[primary].values[0] - single.metrics[primary].values[0]
            assert interval["estimate"] == pytest.approx(delta, abs=1e-9)
            assert interval["lo"] <= interval["hi"] and interval["n_resamples"] == 20
    # the committed single pins came from other runs: replaced, and the ablation's interval goes with them
    assert "vs_joint went with the old values" in pinned
    assert validate(ref_copy)[0] == []  # neither the pairs nor the new singles are orphans
    written = json.loads((tmp_path / "reports" / "transfer" / "transfer.json").read_text())
    assert len(written["delta"]) == 42 and len(written["interval"]) == 42 and written["runs"]


def test_check_gives_back_the_runs_table_and_trains_and_writes_nothing(pinned, ref_copy: Path, tiny_suite: Path,
                                                                        tmp_path: Path, monkeypatch, capsys):
    import avu.train.loop

    monkeypatch.setattr(cli, "execute", _no_training)
    monkeypatch.setattr(avu.train.loop, "run", _no_training)
    run_md = (tmp_path / "reports" / "transfer" / "transfer.md").read_text()
    assert "[" in run_md.split("| ave ", 1)[1]  # the run's cells carry their intervals
    before = _snapshot(tmp_path)
    assert main(_args(tiny_suite, tmp_path, "--check")) == 0
    assert _snapshot(tmp_path) == before  # nothing written: not the pins, not the last run's report
    assert run_md.strip() in capsys.readouterr().out

    target = tmp_path / "check"
    assert main(_args(tiny_suite, tmp_path, "--check", "--output", str(target))) == 0
    assert (target / "transfer.md").read_text() == run_md
    run_json = json.loads((tmp_path / "reports" / "transfer" / "transfer.json").read_text())
    check_json = json.loads((target / "transfer.json").read_text())
    assert {k: check_json[k] for k in ("alone", "delta", "interval")} == \
        {k: run_json[k] for k in ("alone", "delta", "interval")}


def test_a_rerun_is_compared_with_the_pins(pinned, ref_copy: Path, tiny_suite: Path, scored, tmp_path: Path,
                                           monkeypatch, capsys):
    # the pairs of AVQA with AVE, VGG-SS and MS3 come out differently this time; the rest as pinned
    changed = {**scored, "avqa": {**scored["avqa"], "oracle": scored["avqa"]["chance"]}}
    monkeypatch.setattr(cli, "execute", _planted(changed, tmp_path / "runs", []))
    assert main(_args(tiny_suite, tmp_path)) == 1
    out = capsys.readouterr().out.split("## Re-run vs pinned (tier: ours)", 1)[1]
    rows = [line for line in out.splitlines() if line.startswith("| ")][2:]
    assert "not pinned" not in out and "config hash" not in out  # one line per metric of each of the 49 results
    failed = [line for line in rows if "| fail |" in line]
    assert sum(line.startswith("| avqa | overall | fail |") for line in failed) == 3
    assert all(line.startswith("| avqa |") and "not reproduced exactly" in line for line in failed)
    assert all("| pass |" in line and "equals the pinned value exactly" in line for line in rows if line not in failed)


def test_pinning_again_keeps_a_single_run_pinned_with_the_same_values(pinned, ref_copy: Path, capsys):
    refs = ReferenceResults(ref_copy)
    single = refs.ours("avss", "single", "generated")
    before = single.path.read_bytes()
    cli._pin_single(single, refs)
    assert "kept" in capsys.readouterr().out and single.path.read_bytes() == before


def test_check_without_the_pins_fails_in_one_line(ref_copy: Path, tiny_suite: Path, tmp_path: Path, monkeypatch,
                                                  capsys):
    monkeypatch.setattr(cli, "execute", _no_training)
    for pair in ref_copy.rglob("pair_*.json"):  # the state before any transfer pin
        pair.unlink()
    before = _snapshot(ref_copy)
    assert main(_args(tiny_suite, tmp_path, "--check")) == 2
    captured = capsys.readouterr()
    assert len(captured.err.splitlines()) == 1 and not captured.out, captured.err
    # the single runs stay pinned (the ablation's), no pair
    assert "pair_ave__llp.generated.json and 41 more" in captured.err and "--table transfer --pin" in captured.err
    assert _snapshot(ref_copy) == before


def test_check_names_the_one_missing_pin(pinned, ref_copy: Path, tiny_suite: Path, tmp_path: Path, capsys):
    gone = ref_copy / "ours" / "avss" / "pair_vggss__avss.generated.json"
    gone.unlink()
    assert main(_args(tiny_suite, tmp_path, "--check")) == 2
    err = capsys.readouterr().err
    assert str(gone) in err and "more" not in err and len(err.splitlines()) == 1


def test_check_refuses_pins_of_other_defaults(pinned, ref_copy: Path, tiny_suite: Path, tmp_path: Path, capsys):
    """A cell subtracts the single-task pin from the pair's: pins of other defaults (the ablation
    re-pinned the single runs, or a default changed) must not be mixed into one matrix."""
    stale = ref_copy / "ours" / "llp" / "pair_ave__llp.generated.json"
    doc = json.loads(stale.read_text())
    doc["provenance"]["config_hash"] = "0" * 64
    stale.write_text(json.dumps(doc))
    before = _snapshot(ref_copy)
    assert main(_args(tiny_suite, tmp_path, "--check")) == 2
    captured = capsys.readouterr()
    assert len(captured.err.splitlines()) == 1 and not captured.out, captured.err
    assert str(stale) in captured.err and "other defaults than today's" in captured.err
    assert "--table transfer --pin" in captured.err and _snapshot(ref_copy) == before
