"""Every file under reference_results/ is referenced by a table or a benchmark."""

from __future__ import annotations

import json
from pathlib import Path

from avu.results.load import OursResult, ReferenceResults
from avu.results.validate import validate

from .conftest import PROVENANCE


def _orphans(root: Path) -> list[str]:
    return [p.path for p in validate(root)[0] if "orphan" in p.message]


def test_no_orphans_in_committed_tree(refs):
    assert _orphans(refs.root) == []


def test_stray_files_are_orphans(ref_copy: Path):
    (ref_copy / "published" / "flickr.yaml").write_text("entries: []\n")
    (ref_copy / "notes.txt").write_text("x\n")
    (ref_copy / "tables" / "main.yaml.bak").write_text("x\n")
    (ref_copy / "ours" / "ave").mkdir(parents=True, exist_ok=True)
    (ref_copy / "ours" / "ave" / "joint.json").write_text("{}\n")  # no data kind in the name
    assert sorted(Path(p).name for p in _orphans(ref_copy)) == ["flickr.yaml", "joint.json", "main.yaml.bak", "notes.txt"]


def test_ours_file_needs_a_table(ref_copy: Path):
    refs = ReferenceResults(ref_copy)
    used = OursResult.from_seed_runs("ave", "single", {0: {"accuracy": 70.0}}, protocol="ave_argmax.v1",
                                     annotation_version="official", provenance=PROVENANCE)
    unused = OursResult.from_seed_runs("ave", "bigger_model", {0: {"accuracy": 70.0}}, protocol="ave_argmax.v1",
                                       annotation_version="official", provenance=PROVENANCE)
    refs.save_ours(used)
    path = refs.save_ours(unused)
    problems = validate(ref_copy)[0]
    assert [(p.path, p.message) for p in problems] == [
        (str(path), "orphan: no table uses configuration 'bigger_model' for ave")
    ]
    # once a table names the configuration, it is no longer an orphan
    table = ref_copy / "tables" / "ablation.yaml"
    table.write_text(table.read_text().replace(
        "configurations:\n",
        "configurations:\n  - {id: bigger_model, label: bigger, description: a bigger model}\n"))
    assert validate(ref_copy)[0] == []
    assert json.loads(path.read_text())["configuration"] == "bigger_model"


def test_transfer_pair_runs_belong_to_their_two_benchmarks(ref_copy: Path):
    """``pair_<a>__<b>`` (the transfer table, which has no table file) is used under a and b, nowhere else."""
    refs = ReferenceResults(ref_copy)

    def pin(benchmark_id: str, configuration: str, metric: str, protocol: str) -> Path:
        return refs.save_ours(OursResult.from_seed_runs(
            benchmark_id, configuration, {0: {metric: 50.0}}, protocol=protocol, annotation_version="official",
            provenance=PROVENANCE))

    pin("ave", "pair_ave__vggss", "accuracy", "ave_argmax.v1")
    pin("vggss", "pair_ave__vggss", "ciou_ap50", "ezvsl.v1")
    assert validate(ref_copy)[0] == []
    stray = [pin("ave", "pair_vggss__avqa", "accuracy", "ave_argmax.v1"),  # not one of the pair
             pin("ave", "pair_vggss__ave", "accuracy", "ave_argmax.v1"),  # not the canonical order
             pin("ave", "pair_ave__ave", "accuracy", "ave_argmax.v1")]
    assert sorted(_orphans(ref_copy)) == sorted(str(p) for p in stray)
