"""Hostile prediction files and arguments, every benchmark: exit code 2, one stderr line naming the
file and the field or sample id, no traceback, no warning line, nothing written (issue 14)."""

from __future__ import annotations

import json
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from PIL import Image

from avu import BENCHMARK_IDS
from avu.benchmarks import get_spec
from tests.helpers import predictions as P
from tests.helpers.cli import run_cli

MASKS = ("avs_s4", "avs_ms3", "avss")


@pytest.fixture(scope="module")
def refs(tiny_suite: Path) -> dict[str, Any]:
    return {b: P.load(b, tiny_suite) for b in BENCHMARK_IDS}


@dataclass
class Ctx:
    benchmark: str
    refs: Any
    tmp: Path

    @property
    def first(self) -> str:
        return self.refs.ids[0]

    def json_with(self, value_text: str, name: str = "p.json", field: str | None = None) -> Path:
        """A valid envelope whose first sample's field holds ``value_text`` (raw JSON)."""
        doc = P.envelope(self.benchmark, self.refs)
        entry = dict(doc["predictions"][self.first])
        entry[field or P.JSON_FIELD[self.benchmark]] = "@VALUE@"
        doc["predictions"][self.first] = entry
        path = self.tmp / name
        path.write_text(json.dumps(doc).replace('"@VALUE@"', value_text))
        return path


#: a case: (ctx) -> (extra argv, predictions path, texts the error line must hold); "{file}" = the path
Case = Callable[[Ctx], tuple[list[str], Path, list[str]]]


def duplicate_id(c: Ctx) -> tuple[list[str], Path, list[str]]:
    doc = P.envelope(c.benchmark, c.refs)
    text = json.dumps(doc)
    entry = json.dumps(doc["predictions"][c.first])
    head = json.dumps(c.first) + ": " + entry
    path = c.tmp / "dup.json"
    path.write_text(text.replace(head, head + ", " + head, 1))  # the same id twice: json.loads would keep the last
    return [], path, ["{file}", repr(c.first), "appears twice"]


def duplicate_field(c: Ctx) -> tuple[list[str], Path, list[str]]:
    field = P.JSON_FIELD[c.benchmark]
    path = c.json_with("null", "dupfield.json")
    text = path.read_text().replace(f'"{field}": null', f'"{field}": null, "{field}": null', 1)
    path.write_text(text)
    return [], path, ["{file}", repr(field), "appears twice"]


def protocol_v2(c: Ctx) -> tuple[list[str], Path, list[str]]:
    default = get_spec(c.benchmark).evaluator(c.refs).protocol
    path = P.write_npz(c.tmp / "p.npz", **P.npz_arrays(c.benchmark, c.refs))
    return ["--protocol", f"{default.name}.v2"], path, ["--protocol", f"'{default.name}.v2'", default.key, "known:"]


def folder(c: Ctx) -> tuple[list[str], Path, list[str]]:
    path = c.tmp / "predictions"
    path.mkdir()
    (path / "readme.txt").write_text("not predictions")
    return [], path, ["{file}"]


def fifo(c: Ctx) -> tuple[list[str], Path, list[str]]:
    path = c.tmp / "pipe.json"
    os.mkfifo(path)  # reading it would block for ever: refused unopened
    return [], path, ["{file}", "not a regular file"]


def deep_list(c: Ctx) -> tuple[list[str], Path, list[str]]:
    return [], c.json_with("[" * 100_000 + "]" * 100_000), ["{file}", "nested too deeply"]


def deep_object(c: Ctx) -> tuple[list[str], Path, list[str]]:
    return [], c.json_with('{"a": ' * 100_000 + "1" + "}" * 100_000), ["{file}", "nested too deeply"]


def _member_data_offset(path: Path, member: str) -> int:
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member)
    raw = path.read_bytes()
    name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
    return info.header_offset + 30 + name_len + extra_len


def corrupt_deflate(c: Ctx) -> tuple[list[str], Path, list[str]]:
    arrays = P.npz_arrays(c.benchmark, c.refs)
    path = P.write_npz(c.tmp / "p.npz", compressed=True, **arrays)
    member = next(k for k in arrays if k != "ids") + ".npy"
    start = _member_data_offset(path, member)
    raw = bytearray(path.read_bytes())
    raw[start:start + 8] = b"\xff" * 8  # block type 11: reserved, so zlib fails on the first byte
    path.write_bytes(bytes(raw))
    return [], path, ["{file}", "npz"]


def npy_header_bomb(c: Ctx) -> tuple[list[str], Path, list[str]]:
    arrays = P.npz_arrays(c.benchmark, c.refs)
    key = next(k for k in arrays if k != "ids")
    import io

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})
    path = c.tmp / "p.npz"
    with zipfile.ZipFile(path, "w") as z:
        ids = io.BytesIO()
        np.save(ids, arrays["ids"])
        z.writestr("ids.npy", ids.getvalue())
        z.writestr(f"{key}.npy", header.getvalue() + b"\0" * 64)  # 10^12 elements claimed, 8 present
    return [], path, ["{file}", key, "header declares shape (1000000, 1000000)"]


def huge_int(c: Ctx) -> tuple[list[str], Path, list[str]]:
    """10**30 where an integer goes: past int64, so numpy and pycocotools would overflow."""
    doc = P.envelope(c.benchmark, c.refs)
    preds = doc["predictions"]
    if c.benchmark == "ave":
        preds[c.first] = {"labels": ["@BIG@"] + [0] * 9}
    elif c.benchmark == "llp":  # binary decisions are integers
        rows = [[0] * 25 for _ in range(10)]
        for sid in preds:
            preds[sid] = {"audio": rows, "visual": rows}
        preds[c.first] = {"audio": [["@BIG@"] + [0] * 24] + rows[1:], "visual": rows}
    elif c.benchmark == "avqa":
        doc["ans_vocab"] = ["two", "three"]
        for sid in preds:
            preds[sid] = {"answer_index": 0}
        preds[c.first] = {"answer_index": "@BIG@"}
    else:  # a COCO RLE frame of 10**30 rows
        rle = {"size": ["@BIG@", P.frame_size(c.refs)[1]], "counts": [1]}
        preds[c.first] = {"masks": [{"background": rle} if c.benchmark == "avss" else rle] * c.refs.frames}
    path = c.tmp / "big.json"
    path.write_text(json.dumps(doc).replace('"@BIG@"', str(10**30)))
    return [], path, ["{file}", repr(c.first), str(10**30)]


def negative_rle_run(c: Ctx) -> tuple[list[str], Path, list[str]]:
    h, w = P.frame_size(c.refs)
    rle = {"size": [h, w], "counts": [-5, h * w + 5]}  # sums to the frame, so only the sign is wrong
    frame = {"background": rle} if c.benchmark == "avss" else rle
    doc = P.envelope(c.benchmark, c.refs)
    doc["predictions"][c.first] = {"masks": [frame] * c.refs.frames}
    return [], P.write_json(c.tmp / "neg.json", doc), ["{file}", repr(c.first), "negative length -5"]


def _class_key(key: str) -> Case:
    def case(c: Ctx) -> tuple[list[str], Path, list[str]]:
        h, w = P.frame_size(c.refs)
        doc = P.envelope(c.benchmark, c.refs)
        doc["predictions"][c.first] = {"masks": [{key: P.empty_rle(h, w)}] * c.refs.frames}
        return [], P.write_json(c.tmp / "cls.json", doc), ["{file}", repr(c.first), f"class {key!r}", "unknown class"]

    case.__name__ = f"class_key_{key.encode('unicode_escape').decode()}"
    return case


def _png_header(w: int, h: int) -> bytes:
    """A PNG that declares w x h pixels (8-bit grayscale) and holds one tiny IDAT: nothing to decode."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _png_bomb(w: int, h: int, label: str) -> Case:
    def case(c: Ctx) -> tuple[list[str], Path, list[str]]:
        fh, fw = P.frame_size(c.refs)
        root = c.tmp / "pngs"
        for sid in c.refs.ids:
            (root / sid).mkdir(parents=True)
            for k in range(c.refs.frames):
                Image.fromarray(np.zeros((fh, fw), np.uint8)).save(root / sid / f"{k}.png")
        first = sorted(c.refs.ids)[0]
        (root / first / "0.png").write_bytes(_png_header(w, h))
        return [], root, ["{file}", f"sample {first!r}", "refused before decoding"]

    case.__name__ = f"png_{label}"
    return case


def control_char_field(c: Ctx) -> tuple[list[str], Path, list[str]]:
    doc = P.envelope(c.benchmark, c.refs)
    entry = dict(doc["predictions"][c.first])
    entry["evil\nfield\x1b[31m\u2028"] = 1
    doc["predictions"][c.first] = entry
    return [], P.write_json(c.tmp / "ctrl.json", doc), ["{file}", "evil\\nfield\\x1b[31m\\u2028"]


def control_char_npz_key(c: Ctx) -> tuple[list[str], Path, list[str]]:
    arrays = P.npz_arrays(c.benchmark, c.refs)
    arrays["evil\nkey\r"] = np.zeros(len(c.refs.ids))
    return [], P.write_npz(c.tmp / "ctrl.npz", **arrays), ["{file}", "evil\\nkey\\r"]


ALL = (duplicate_id, duplicate_field, protocol_v2, folder, fifo, deep_list, deep_object, corrupt_deflate,
       npy_header_bomb, control_char_field, control_char_npz_key)
#: kind -> benchmarks it applies to (VGG-SS has no integer field; only mask benchmarks take RLE and PNGs)
KINDS: dict[Case, tuple[str, ...]] = {
    **{kind: BENCHMARK_IDS for kind in ALL},
    huge_int: tuple(b for b in BENCHMARK_IDS if b != "vggss"),
    negative_rle_run: MASKS,
    _class_key("²"): ("avss",),
    _class_key("٣"): ("avss",),
    _png_bomb(20_000, 20_000, "bomb_error"): MASKS,  # over twice PIL's limit: DecompressionBombError
    _png_bomb(10_000, 10_000, "bomb_warning"): MASKS,  # over PIL's limit: a DecompressionBombWarning
    _png_bomb(5_000, 5_000, "oversized"): MASKS,  # under PIL's limit, still no mask frame
}
PARAMS = [pytest.param(kind, b, id=f"{b}-{kind.__name__}", marks=getattr(pytest.mark, b))
          for kind, benches in KINDS.items() for b in benches]


@pytest.mark.parametrize("kind, benchmark_id", PARAMS)
def test_hostile_prediction_file(kind: Case, benchmark_id: str, refs, tiny_suite: Path, tmp_path: Path) -> None:
    extra, path, expected = kind(Ctx(benchmark_id, refs[benchmark_id], tmp_path))
    out = tmp_path / "out" / "result.json"
    run = run_cli("evaluate", "--benchmark", benchmark_id, "--predictions", path, "--data-root", tiny_suite,
                  "--output", out, *extra)
    assert run.code == 2, (run.code, run.err)
    line = run.err.strip()
    assert len(run.err.splitlines()) == 1 and line.startswith("avu: error: "), run.err
    assert "Traceback" not in line and "Warning" not in line, line
    for text in expected:
        assert text.replace("{file}", str(path)) in line, line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("benchmark_id", [pytest.param(b, marks=getattr(pytest.mark, b)) for b in BENCHMARK_IDS])
def test_the_same_files_without_the_defect_score(benchmark_id: str, refs, tiny_suite: Path, tmp_path: Path) -> None:
    """The hostile cases start from these files, so only the planted defect can fail them."""
    r = refs[benchmark_id]
    for path in (P.write_json(tmp_path / "p.json", P.envelope(benchmark_id, r)),
                 P.write_npz(tmp_path / "p.npz", **P.npz_arrays(benchmark_id, r))):
        out = tmp_path / f"{path.suffix[1:]}.result.json"
        run = run_cli("evaluate", "--benchmark", benchmark_id, "--predictions", path, "--data-root", tiny_suite,
                      "--output", out)
        assert run.code == 0 and out.is_file(), run.err


@pytest.mark.parametrize("benchmark_id", [pytest.param(b, marks=getattr(pytest.mark, b)) for b in BENCHMARK_IDS])
@pytest.mark.parametrize("argv, expected", [
    ([], "avu evaluate: error: the following arguments are required: --predictions"),
    (["--predictions", "p.json", "--bogus"], "avu evaluate: error: unrecognized arguments: --bogus"),
    (["--predictions", "p.json", "--split"], "avu evaluate: error: argument --split: expected one argument"),
], ids=["missing_required", "unknown_option", "missing_value"])
def test_usage_errors_are_one_line(benchmark_id: str, argv: list[str], expected: str, tiny_suite: Path) -> None:
    run = run_cli("evaluate", "--benchmark", benchmark_id, "--data-root", tiny_suite, *argv)
    assert run.code == 2 and run.err == expected + "\n", run.err
    assert "usage:" not in run.err and not run.out


def test_help_still_shows_the_usage() -> None:
    run = run_cli("evaluate", "--help")
    assert run.code == 0 and run.out.startswith("usage: avu evaluate")
