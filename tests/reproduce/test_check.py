"""``reproduce --check`` runs nothing and writes nothing unless ``--output`` asks; its console shows
the report's headings; a generated-suite number at the prior is flagged in the text and on the page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from avu.reproduce.cli import main


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def last_run(tmp_path: Path) -> Path:
    """A report folder as the last real run left it (its numbers differ from the pinned ones)."""
    folder = tmp_path / "reports" / "main"
    folder.mkdir(parents=True)
    for name, text in {"main.md": "| AVE | Acc | 74.17 |\n", "main.json": '{"rows": []}\n', "main.tex": "74.17\n",
                       "report.md": "# Main\n74.17\n", "runs.json": "[]\n"}.items():
        (folder / name).write_text(text)
    return tmp_path


def test_check_leaves_the_last_run_unchanged(last_run, monkeypatch, capsys):
    monkeypatch.chdir(last_run)  # no generated suite here: nothing to compute the reference points on
    before = _snapshot(last_run)
    code = main(["--table", "main", "--check", "--out", str(last_run / "reports")])
    assert code in (0, 1)
    assert _snapshot(last_run) == before  # no file changed, none added
    out = capsys.readouterr().out
    assert "## Pinned results (nothing run)" in out and "## Ours beside the suite's oracle, prior and chance" in out


def test_check_output_writes_only_there(last_run, monkeypatch):
    monkeypatch.chdir(last_run)
    before = _snapshot(last_run / "reports")
    target = last_run / "check"
    main(["--table", "main", "--check", "--out", str(last_run / "reports"), "--output", str(target)])
    assert {p.name for p in target.iterdir()} == {"main.md", "main.json", "main.tex", "report.md"}
    assert _snapshot(last_run / "reports") == before
    assert "(pinned, nothing run)" in (target / "report.md").read_text()


def test_check_output_over_the_last_run_is_refused(last_run, monkeypatch, capsys):
    monkeypatch.chdir(last_run)
    before = _snapshot(last_run)
    code = main(["--table", "main", "--check", "--out", str(last_run / "reports"),
                 "--output", str(last_run / "reports" / "main")])
    assert code == 2 and "--output" in capsys.readouterr().err
    assert _snapshot(last_run) == before


def test_a_result_at_the_prior_is_flagged_in_the_text_and_on_the_page(tiny_suite, tmp_path, capsys):
    target = tmp_path / "check"
    main(["--table", "regression", "--check", "--suite", str(tiny_suite), "--size", "tiny",
          "--output", str(target), "--html"])
    out = capsys.readouterr().out
    points = json.loads((target / "baselines.json").read_text())["benchmarks"]
    pinned = json.loads((target / "regression.json").read_text())["rows"]
    avss = next(r for r in pinned if r["benchmark"] == "avss" and r["metric"] == "miou")
    prior = points["avss"]["prior"]["miou"]
    assert avss["ours"]["value"] < prior + 2.0  # the pinned AVSS result sits at the all-background prior
    line = next(ln for ln in out.splitlines() if ln.startswith("| avss | miou |"))
    assert "AT PRIOR" in line
    html = (target / "index.html").read_text()
    row = re.search(r'<tr data-benchmark="avss" data-metric="miou" class="flagged">.*?</tr>', html, re.S)
    assert row and "at prior" in row.group(0)
    clear = [r for r in pinned if r["ours"] and r["ours"]["value"] >= points[r["benchmark"]]["prior"][r["metric"]] + 50]
    for r in clear:  # far above the prior: not flagged
        assert f'<tr data-benchmark="{r["benchmark"]}" data-metric="{r["metric"]}" class="">' in html


def test_check_output_among_its_inputs_or_on_a_file_is_refused(tiny_suite, tmp_path, capsys):
    """The suite it reads the reference points from is an input: --output may not lie inside it."""
    (tmp_path / "notes.txt").write_text("keep")
    for target, expected in ((tiny_suite / "check", "lies inside the input folder"),
                             (tmp_path / "notes.txt", "exists and is not a folder")):
        code = main(["--table", "regression", "--check", "--suite", str(tiny_suite), "--size", "tiny",
                     "--output", str(target)])
        captured = capsys.readouterr()
        assert code == 2 and expected in captured.err and len(captured.err.splitlines()) == 1, captured.err
        assert not captured.out  # refused before comparing anything
    assert not (tiny_suite / "check").exists() and (tmp_path / "notes.txt").read_text() == "keep"
