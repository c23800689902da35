"""Generated leaderboards and the README block: deterministic, and --check catches drift."""

from __future__ import annotations

from pathlib import Path

import pytest

from avu import leaderboard
from avu.errors import AvuInputError
from avu.results.load import OursResult, ReferenceResults

from .conftest import PROVENANCE


def args(root: Path, *extra: str) -> list[str]:
    base = root.parent
    return ["--root", str(root), "--out", str(base / "leaderboards"), "--readme", str(base / "README.md"), *extra]


def test_committed_leaderboards_are_current():
    assert leaderboard.main(["--check"]) == 0, "run python -m avu.leaderboard"


def test_check_detects_a_changed_published_number(ref_copy: Path, capsys):
    assert leaderboard.main(args(ref_copy, "--check")) == 0
    path = ref_copy / "published" / "ave.yaml"
    # CMBS 79.3 -> 79.4: changes the AVE leaderboard only (the README shows AV-Unified and the best number)
    path.write_text(path.read_text().replace("value: '79.3'", "value: '79.4'").replace("value_percent: 79.3", "value_percent: 79.4"))
    assert leaderboard.main(args(ref_copy, "--check")) == 1
    err = capsys.readouterr().err
    assert "leaderboards/ave.md" in err and "README.md" not in err
    before = (ref_copy.parent / "leaderboards" / "ave.md").read_text()
    assert leaderboard.main(args(ref_copy)) == 0  # regenerate
    assert (ref_copy.parent / "leaderboards" / "ave.md").read_text() != before
    assert leaderboard.main(args(ref_copy, "--check")) == 0


def test_check_detects_hand_edits_and_writes_nothing(ref_copy: Path):
    board = ref_copy.parent / "leaderboards" / "vggss.md"
    board.write_text(board.read_text() + "hand edit\n")
    readme = ref_copy.parent / "README.md"
    readme.write_text(readme.read_text().replace("| AVE (test) | Acc |", "| AVE | Acc |"))
    snapshot = (board.read_text(), readme.read_text())
    assert leaderboard.main(args(ref_copy, "--check")) == 1
    assert (board.read_text(), readme.read_text()) == snapshot
    assert leaderboard.main(args(ref_copy)) == 0
    assert leaderboard.main(args(ref_copy, "--check")) == 0
    assert "hand edit" not in board.read_text()


def test_pinned_runs_appear_and_real_ones_are_ranked(ref_copy: Path):
    refs = ReferenceResults(ref_copy)
    for data, value in (("real", 90.0), ("generated", 99.0)):
        refs.save_ours(OursResult.from_seed_runs(
            "ave", "joint", {0: {"accuracy": value}, 1: {"accuracy": value + 1}}, protocol="ave_argmax.v1",
            annotation_version="official", provenance={**PROVENANCE, "data": data}))
    assert leaderboard.main(args(ref_copy, "--check")) == 1
    text = leaderboard.render_benchmark(refs, "ave")
    ranked_rows = text.split("## Published methods and avu (real data)")[1].split("## avu on the generated suite")[0]
    first = [line for line in ranked_rows.splitlines() if line.startswith("| 1 |")]
    assert first and "avu (joint)" in first[0] and "90.50 ± 0.71" in first[0]
    generated = text.split("## avu on the generated suite")[1].split("##")[0]
    assert "99.50 ± 0.71" in generated and "99.50" not in ranked_rows
    block = leaderboard.render_readme_block(refs)
    assert "| 90.50 ± 0.71 (avu (joint)) |" in block


def test_sorting_by_primary_metric(refs):
    text = leaderboard.render_benchmark(refs, "avs_s4")
    ranks = [line.split(" | ")[4] for line in text.splitlines() if line.startswith("| ") and line[2].isdigit()]
    values = [float(v.rstrip("†")) for v in ranks]
    assert values == sorted(values, reverse=True) and len(values) > 20


def test_output_is_deterministic(refs):
    assert leaderboard.render_benchmark(refs, "avqa") == leaderboard.render_benchmark(refs, "avqa")
    assert leaderboard.render_readme_block(refs) == leaderboard.render_readme_block(refs)


def test_readme_markers_are_required(tmp_path: Path):
    with pytest.raises(AvuInputError, match="leaderboard:start"):
        leaderboard.inject("# no markers\n", "x", tmp_path / "README.md")
    twice = f"{leaderboard.START}\n{leaderboard.END}\n{leaderboard.START}\n{leaderboard.END}\n"
    with pytest.raises(AvuInputError):
        leaderboard.inject(twice, "x")
    assert leaderboard.inject(f"a\n{leaderboard.START}\nold\n{leaderboard.END}\nb\n", "NEW") == "a\nNEW\nb\n"


def test_missing_readme_is_exit_2(ref_copy: Path, capsys):
    (ref_copy.parent / "README.md").unlink()
    assert leaderboard.main(args(ref_copy, "--check")) == 2
    assert capsys.readouterr().err.startswith("avu: error: ")


def test_transfer_pair_runs_are_not_listed_but_counted(ref_copy: Path):
    for pair in ref_copy.rglob("pair_*.json"):  # only the three pinned below
        pair.unlink()
    refs = ReferenceResults(ref_copy)
    before = leaderboard.render_benchmark(refs, "ave")
    for config, data in (("pair_ave__llp", "generated"), ("pair_ave__avqa", "generated"), ("pair_ave__llp", "real")):
        refs.save_ours(OursResult.from_seed_runs(
            "ave", config, {0: {"accuracy": 99.0}}, protocol="ave_argmax.v1", annotation_version="official",
            provenance={**PROVENANCE, "data": data}))
    text = leaderboard.render_benchmark(refs, "ave")
    new_lines = [line for line in text.splitlines() if line not in before.splitlines()]
    assert len(new_lines) == 1 and new_lines[0].startswith("Not listed: 3 pinned inter-task transfer run(s)")
    assert "99.00" not in leaderboard.render_readme_block(refs)  # a real pair run is no avu model either
