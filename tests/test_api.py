"""The Python API (avu.evaluate, avu.get_evaluator) scores as `avu evaluate` does; the docs example runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import avu
from avu.errors import AvuInputError
from tests.conftest import REPO
from tests.helpers.cli import run_cli


@pytest.fixture(scope="module")
def avqa(golden_datasets_dir: Path) -> Path:
    return golden_datasets_dir / "music_avqa"


@pytest.fixture(scope="module")
def answers(avqa: Path) -> dict[str, str]:
    """A fixed random answer per question of the json_update test split."""
    rows = json.loads((avqa / "json_update" / "avqa-test.json").read_text())
    rng = np.random.default_rng(0)
    vocab = sorted({r["anser"] for r in rows})
    return {str(r["question_id"]): vocab[rng.integers(len(vocab))] for r in rows}


def test_evaluate_a_file_equals_the_cli(avqa: Path, answers, tmp_path: Path) -> None:
    preds = tmp_path / "p.json"
    preds.write_text(json.dumps({"benchmark": "avqa", "predictions": answers}))
    out = tmp_path / "r.json"
    assert run_cli("evaluate", "--benchmark", "avqa", "--predictions", preds, "--annotations", avqa, "--output", out).code == 0
    result = avu.evaluate("avqa", preds, avqa)
    assert result.to_dict() == {k: v for k, v in json.loads(out.read_text()).items() if k in result.to_dict()}
    assert result.annotation_version == "json_update" and result.counts["evaluated"] == len(answers)


def test_own_loop_equals_evaluate_at_once(avqa: Path, answers) -> None:
    references = avu.load_references("avqa", avqa)
    ids = list(answers)[::-1]  # any order
    whole = avu.evaluate("avqa", (ids, {"answers": [answers[i] for i in ids]}), references, protocol="avqa_pooled")
    evaluator = avu.get_evaluator("avqa", avqa, protocol="avqa_pooled")
    for start in range(0, len(ids), 7):
        batch = ids[start:start + 7]
        evaluator.update(batch, {"answers": [answers[i] for i in batch]})
    assert evaluator.compute().metrics == whole.metrics
    truth = {r: a for r, a in zip(references.ids, references.answers)}
    assert whole.metrics["overall"] == pytest.approx(100 * np.mean([answers[i] == truth[i] for i in ids]), abs=1e-9)


def test_bad_input_is_one_line(avqa: Path, tmp_path: Path) -> None:
    with pytest.raises(AvuInputError, match="unknown benchmark 'avqq'.*did you mean 'avqa'"):
        avu.get_evaluator("avqq", avqa)
    with pytest.raises(AvuInputError, match="annotation path not found"):
        avu.evaluate("avqa", tmp_path / "p.json", tmp_path / "absent")
    with pytest.raises(AvuInputError, match="references of 'avqa', not 'ave'"):
        avu.get_evaluator("ave", avu.load_references("avqa", avqa))
    with pytest.raises(AvuInputError, match="unknown version 'v9'"):
        avu.load_references("avqa", avqa, annotation_version="v9")


def test_docs_example_runs(avqa: Path, capsys) -> None:
    text = (REPO / "docs" / "api.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    loop = next(b for b in blocks if "get_evaluator" in b)
    exec(loop.replace('"/path/to/music_avqa"', repr(str(avqa))), {})
    assert re.fullmatch(r"overall: \d+\.\d\d\n", capsys.readouterr().out)


def test_typed_package() -> None:
    assert (REPO / "avu" / "py.typed").is_file()
    assert '"py.typed"' in (REPO / "pyproject.toml").read_text()
    assert set(avu.__all__) >= {"evaluate", "get_evaluator", "load_references"}
