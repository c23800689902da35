"""The small JSON Schema validator, and the schema against the committed files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from avu.results import schema as S
from avu.results.load import read_document
from avu.results.validate import main as validate_main
from avu.results.validate import validate

from .conftest import ROOT

SCHEMA = json.loads((ROOT / "schema.json").read_text())


def errors(instance, definition):
    return S.validate(instance, S.definition(SCHEMA, definition))


def test_keywords_behave_as_json_schema():
    schema = {
        "$defs": {"pos": {"type": "number", "exclusiveMinimum": 0}},
        "type": "object",
        "additionalProperties": False,
        "required": ["a", "b"],
        "properties": {
            "a": {"$ref": "#/$defs/pos"},
            "b": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": ["x", "y"]}},
            "c": {"type": ["string", "null"], "pattern": "^[a-z]+$"},
            "d": {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 10}]},
        },
    }
    assert S.validate({"a": 1, "b": ["x"], "c": None, "d": 3}, schema) == []
    bad = dict(S.validate({"a": 0, "b": ["x", "x", "z"], "c": "A", "d": 12, "e": 1}, schema))
    assert set(bad) == {"/a", "/b", "/b/2", "/c", "/d", "/e"}
    assert "missing required field 'b'" in S.validate({"a": 1}, schema)[0][1]
    assert S.validate(True, {"type": "number"})  # booleans are not numbers


def test_unsupported_keyword_is_refused():
    with pytest.raises(S.SchemaError, match="unsupported"):
        S.validate(1, {"if": {"type": "number"}})


def test_committed_files_are_valid():
    problems, _ = validate(ROOT)
    assert problems == [], "\n".join(map(str, problems))


def test_agrees_with_jsonschema():
    import jsonschema  # in the dev extra
    cases = [(read_document(p), "published_file") for p in sorted((ROOT / "published").glob("*.yaml"))]
    cases += [(read_document(p), "table_file") for p in sorted((ROOT / "tables").glob("*.yaml"))]
    cases += [(read_document(ROOT / "tolerances.yaml"), "tolerances_file")]
    broken = json.loads(json.dumps(cases[0][0]))
    broken["entries"][0]["value"] = 78.7
    del broken["entries"][1]["source"]["text"]
    cases.append((broken, "published_file"))
    for doc, definition in cases:
        schema = S.definition(SCHEMA, definition)
        theirs = sorted(e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(doc))
        assert bool(theirs) == bool(S.validate(doc, schema)), (definition, theirs)


def _first_entry_edit(root: Path, benchmark: str, **changes) -> Path:
    path = root / "published" / f"{benchmark}.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["entries"][0].update(changes)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"value": 71.4}, "/entries/0/value", "expected string"),
        ({"value_percent": 71.0}, "/entries/0", "value_percent"),
        ({"reported_decimals": 2}, "/entries/0", "reported_decimals"),
        ({"scale": "fraction"}, "/entries/0", "scale fraction"),
        ({"source": {"key": "DGSCT_AVE", "text": ""}}, "/entries/0/source/text", "shorter"),
        ({"confidence": "tertiary"}, "/entries/0/confidence", "not one of"),
        ({"metric": "acc"}, "/entries/0", "unknown ave metric"),
        ({"protocol": "psp_magic"}, "/entries/0", "not registered"),
    ],
)
def test_bad_published_entry_is_reported(tmp_path: Path, changes, field, message):
    # a small copy (schema + AVE only) keeps this fast; the other files' absence is reported apart
    root = tmp_path / "reference_results"
    (root / "published").mkdir(parents=True)
    shutil.copy(ROOT / "schema.json", root / "schema.json")
    shutil.copy(ROOT / "published" / "ave.yaml", root / "published" / "ave.yaml")
    path = _first_entry_edit(root, "ave", **changes)
    problems, _ = validate(root)
    if "not registered" in message and not any("protocol" in str(p) for p in problems):
        pytest.skip("ave evaluator does not import here: protocol names cannot be checked")
    assert any(p.path == str(path) and p.where.startswith(field) and message in p.message for p in problems), problems


def test_bad_table_reference_is_reported(ref_copy: Path):
    path = ref_copy / "tables" / "main.yaml"
    path.write_text(path.read_text().replace("published: av-unified/accuracy", "published: av-unified/acuracy"))
    problems, _ = validate(ref_copy)
    assert [p.message for p in problems if p.path == str(path)] == ["no published ave entry 'av-unified/acuracy'"]


def test_table_entry_of_another_method_is_reported(ref_copy: Path):
    path = ref_copy / "tables" / "main.yaml"
    path.write_text(path.read_text().replace("published: av-unified/accuracy", "published: dg-sct/accuracy"))
    problems, _ = validate(ref_copy)
    assert any("is DG-SCT accuracy, not AV-Unified accuracy" in p.message for p in problems)


def test_syntax_error_is_one_line(ref_copy: Path, capsys):
    path = ref_copy / "tables" / "avqa.yaml"
    path.write_text("rows: [unclosed\n")
    assert validate_main(["--root", str(ref_copy), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith(f"avu: error: {path}: line ") and "invalid YAML" in err[0]
    assert err[-1].startswith("1 problem(s)")


def test_validate_cli_ok(capsys):
    assert validate_main(["--root", str(ROOT)]) == 0
    assert capsys.readouterr().out.strip().endswith(": OK")


def test_missing_schema_is_an_error(ref_copy: Path):
    (ref_copy / "schema.json").unlink()
    problems, _ = validate(ref_copy)
    assert problems and "schema" in problems[0].message


def test_missing_published_file_is_an_error(ref_copy: Path):
    (ref_copy / "published" / "avss.yaml").unlink()
    problems, _ = validate(ref_copy)
    assert any(p.path.endswith("avss.yaml") and "missing" in p.message for p in problems)
    shutil.rmtree(ref_copy / "published")
    assert len([p for p in validate(ref_copy)[0] if "missing" in p.message]) == 7
