"""Generate reference_results/published/<benchmark>.yaml from ../shared/published/published.csv.

    python -m avu.results.import_published            # (re)write the seven files
    python -m avu.results.import_published --check    # exit 1 if the committed files differ

Every number is copied as printed (``value``, a string); ``value_percent`` and
``reported_decimals`` are computed here, never typed by hand. The few things the CSV
does not carry are curated below, each citing where it comes from: the source keys
(parsed from the "Source keys" table of published.md), metric-name mapping, the scale of
0-1 numbers, protocols and annotation versions where they are known, and caveats.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import re
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from avu import BENCHMARK_IDS, fileio
from avu.errors import AvuInputError
from avu.results import catalog
from avu.results.paths import checkout_root, default_root

GENERATOR = "python -m avu.results.import_published"

#: benchmark column of published.csv -> benchmark id
BENCHMARKS = {
    "AVE": "ave",
    "LLP (AVVP)": "llp",
    "VGG-SS": "vggss",
    "AVSBench-S4": "avs_s4",
    "AVSBench-MS3": "avs_ms3",
    "AVSBench-AVSS": "avss",
    "MUSIC-AVQA": "avqa",
}

_LLP_LEVELS = {"Seg": "segment", "Evt": "event"}
_LLP_KINDS = {"Audio": "audio", "Visual": "visual", "Audio-Visual": "av", "Type@AV": "type_av", "Event@AV": "event_av"}

#: benchmark id -> metric label in the CSV -> avu metric name (None: no avu metric matches)
METRIC_NAMES: dict[str, dict[str, str | None]] = {
    "ave": {"accuracy": "accuracy"},
    "llp": {
        **{f"{lk} {kk}": f"{lv}_{kv}" for lk, lv in _LLP_LEVELS.items() for kk, kv in _LLP_KINDS.items()},
        # Crab prints one "Segment-level" and one "Event-level" number without naming the sub-metric
        "Seg (single number, Crab protocol)": None,
        "Evt (single number, Crab protocol)": None,
    },
    "vggss": {"cIoU": "ciou_ap50", "AUC": "auc"},
    **{b: {"mIoU": "miou", "F-score": "fscore"} for b in ("avs_s4", "avs_ms3", "avss")},
    "avqa": {
        "Audio Counting": "audio_counting",
        "Audio Comparative": "audio_comparative",
        "Audio Avg": "audio",
        "Visual Counting": "visual_counting",
        "Visual Location": "visual_location",
        "Visual Avg": "visual",
        "AV Existential": "av_existential",
        "AV Location": "av_location",
        "AV Counting": "av_counting",
        "AV Comparative": "av_comparative",
        "AV Temporal": "av_temporal",
        "AV Avg": "av",
        "Overall Avg": "overall",
    },
}

_UNMAPPED_NOTE = ("the source prints a single segment-/event-level number without naming the sub-metric "
                  "(published.md section 2), so it matches no avu metric")

#: CSV source texts that differ from the published.md "Source keys" table (same source, reworded)
SOURCE_ALIASES = {
    "AV-Unified published benchmark summary for arXiv 2603.06530 (not verified against the PDF)": "BRIEF",
}

_OWN_CODE = ("the method's own released code is what this avu protocol reproduces "
             "(see the protocol's source in avu/evaluators/{module}.py)")

#: (benchmark, method) -> (avu protocol, why it is known). Everything else: "unknown".
#: Only methods whose own released code an avu protocol reproduces are listed.
KNOWN_PROTOCOLS: dict[tuple[str, str], tuple[str, str]] = {
    # AVE-ECCV18 supervised_main.compute_acc and PSP measure.compute_acc: argmax over 29 scores
    ("ave", "AVEL (audio-visual, no att.)"): ("ave_argmax", _OWN_CODE.format(module="ave")),
    ("ave", "AVEL (audio-visual + att.)"): ("ave_argmax", _OWN_CODE.format(module="ave")),
    ("ave", "PSP"): ("ave_argmax", _OWN_CODE.format(module="ave")),
    # CMRAN / CMBS supv_main.compute_accuracy_supervised: event gate (supervised rows)
    ("ave", "CMRAN"): ("ave_event_gate", _OWN_CODE.format(module="ave")),
    ("ave", "CMBS"): ("ave_event_gate", _OWN_CODE.format(module="ave")),
    # EZ-VSL's README model zoo numbers come from its own test.validate (the ezvsl protocol's source)
    ("vggss", "EZ-VSL"): ("ezvsl", _OWN_CODE.format(module="vggss")),
    ("vggss", "EZ-VSL (VGG-Sound 10k)"): ("ezvsl", _OWN_CODE.format(module="vggss")),
    ("vggss", "EZ-VSL (VGG-Sound full)"): ("ezvsl", _OWN_CODE.format(module="vggss")),
    # HAN is the model of the AVVP-ECCV20 paper, whose eval_metrics.py defines the benchmark
    ("llp", "HAN"): ("avvp_official", _OWN_CODE.format(module="llp")),
    # ST-AVQA (AVST) is the model of the MUSIC-AVQA paper; its test() reads types from the original json
    ("avqa", "ST-AVQA (AVST)"): (
        "avqa_legacy_json_types",
        _OWN_CODE.format(module="avqa") + "; identical to avqa_pooled when evaluated on the original json",
    ),
}

#: benchmarks with a single annotation release: every published number used it
SINGLE_RELEASE = {b: "official" for b in ("ave", "vggss", "avs_s4", "avs_ms3", "avss")}

_PROTOCOL_UNKNOWN = "the source does not state the evaluation protocol (code, thresholds, batching)"

#: LLP: the audio eval CSV changed on 2024-04-16 (design/evaluators.md, LLP); numbers published
#: up to 2023 can only have used the 2020 file.
LLP_FIX_YEAR = 2024

#: (benchmark, method) -> caveats, from the notes of published.md (section given in each)
NOTES: dict[tuple[str, str], list[str]] = {
    ("ave", "AV-Unified"): [
        (
            "AV-Unified numbers come from wizwand's 'Related benchmarks' page; the paper's tables were not "
            "readable (published.md section 8)"
        ),
    ],
    ("llp", "AV-Unified"): [
        (
            "only the 'Audio Segment Score' is available, from wizwand; the paper's tables were not readable "
            "(published.md sections 2 and 8)"
        ),
    ],
    ("vggss", "AV-Unified"): [
        (
            "unconfirmed: identical to SSL-Alignment's README value 39.16 (self-supervised pretrained encoders); "
            "possibly a wizwand extraction of a baseline row - treat with caution (published.md section 3)"
        ),
    ],
    **{
        (b, "AV-Unified"): [
            "from the AV-Unified benchmark summary only, not verified against the paper's PDF (published.md section 8)",
        ]
        for b in ("avs_s4", "avs_ms3", "avss", "avqa")
    },
    ("vggss", "SSL-Alignment (self-sup. pretrained enc.)"): [
        "the same value (39.16) is listed for AV-Unified on wizwand (published.md section 3)",
    ],
    ("vggss", "Crab (ARIG, VGG-SS?)"): [
        (
            "'ARIG' task of Crab Table 1; the image does not name the test set, so this is not guaranteed to be "
            "the VGG-SS protocol (published.md section 3)"
        ),
    ],
    ("vggss", "GroundingGPT (ARIG)"): [
        (
            "'ARIG' task of Crab Table 1; the test set is not named, not guaranteed to be the VGG-SS protocol "
            "(published.md section 3)"
        ),
    ],
    ("avss", "AVSegFormer (ResNet-50)"): [
        "Crab Table 5 lists AVSegFormer AVSS 24.90 - discrepancy kept as is (published.md section 4c)",
    ],
    ("avss", "Crab"): ["Crab Table 5 prints 26.59 (published.md section 4c)"],
    ("avqa", "APL"): ["AV Avg is printed as '0.96' in the source (typo) and omitted (published.md section 5)"],
    ("avqa", "ST-AVQA [Crab table]"): [
        "differs from the original paper's 74.06/74.00/69.54/71.52 (published.md section 5)",
    ],
}


#: source key -> caveats for every number taken from it
SOURCE_NOTES: dict[str, list[str]] = {
    "CAVP": [
        (
            "CAVP's README re-evaluates with per-image mIoU / per-video F-score, not the official AVSBench batch "
            "protocol (published.md section 4 notes)"
        ),
    ],
}


def shared_dir() -> Path:
    """``$AVU_SHARED``, else ``../shared`` beside the checkout (a maintainer's tool: it rewrites the checkout's files)."""
    env = os.environ.get("AVU_SHARED")
    if env:
        return Path(env)
    checkout = checkout_root()
    if checkout is None:
        raise AvuInputError(None, "--published", "not in a source checkout: pass --published or set AVU_SHARED")
    return checkout.parent / "shared"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def parse_source_keys(markdown: str, path: Path) -> dict[str, str]:
    """Source text -> key, from the "Source keys" table of published.md."""
    section = markdown.split("## Source keys", 1)
    if len(section) != 2:
        raise AvuInputError(path, "Source keys", "section not found")
    keys: dict[str, str] = {}
    for line in section[1].split("\n## ", 1)[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and re.fullmatch(r"[A-Z][A-Z0-9_]*", cells[0]):
            keys[cells[1]] = cells[0]
    if not keys:
        raise AvuInputError(path, "Source keys", "no key rows found")
    return keys


def scale_of(metric: str | None, printed: str) -> str:
    """Sources print F-score and AUC either x100 or on 0-1 (published.md, scale conventions)."""
    if metric in catalog.FRACTION_PRINTABLE and Decimal(printed) <= 1:
        return "fraction"
    return "percent"


def percent(printed: str, scale: str) -> float:
    value = Decimal(printed) * (100 if scale == "fraction" else 1)
    return float(value)


def decimals(printed: str) -> int:
    return len(printed.split(".", 1)[1]) if "." in printed else 0


def build_entry(row: dict[str, str], benchmark: str, source_keys: dict[str, str], csv_path: Path, line: int) -> dict[str, Any]:
    label = row["metric"]
    names = METRIC_NAMES[benchmark]
    if label not in names:
        raise AvuInputError(csv_path, f"line {line}: metric", f"unmapped metric label {label!r} for {benchmark}")
    metric = names[label]
    if metric is not None and metric not in catalog.METRICS[benchmark]:
        raise AvuInputError(csv_path, f"line {line}: metric", f"{metric!r} is not a catalogued {benchmark} metric")
    printed = row["value"].strip()
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", printed):
        raise AvuInputError(csv_path, f"line {line}: value", f"not a plain number: {printed!r}")
    scale = scale_of(metric, printed)
    if scale == "percent" and Decimal(printed) <= 1:
        raise AvuInputError(csv_path, f"line {line}: value", f"{printed} <= 1 for {label}: a 0-1 number on an unexpected metric")
    text = row["source"].strip()
    key = source_keys.get(text) or SOURCE_ALIASES.get(text)
    if key is None:
        raise AvuInputError(csv_path, f"line {line}: source", f"source not in the published.md key table: {text!r}")
    method = row["method"].strip()
    entry: dict[str, Any] = {
        "id": f"{slug(method)}/{metric or slug(label)}",
        "method": method,
        "venue": row["venue"].strip(),
        "year": int(row["year"]),
        "metric": metric,
        "metric_label": label,
        "value": printed,
        "scale": scale,
        "value_percent": percent(printed, scale),
        "reported_decimals": decimals(printed),
        "setting": row["setting"].strip(),
        "source": {"key": key, "text": text},
        "confidence": row["confidence"].strip(),
    }
    protocol, why = KNOWN_PROTOCOLS.get((benchmark, method), ("unknown", _PROTOCOL_UNKNOWN))
    entry["protocol"] = protocol
    entry["protocol_note"] = why
    entry["annotation_version"] = None
    if benchmark in SINGLE_RELEASE:
        entry["annotation_version"] = SINGLE_RELEASE[benchmark]
        entry["annotation_note"] = "the benchmark has a single annotation release"
    elif benchmark == "llp" and entry["year"] < LLP_FIX_YEAR:
        entry["annotation_version"] = "2020"
        entry["annotation_note"] = (
            f"inferred: published in {entry['year']}, before the 2024-04-16 fix of AVVP_eval_audio.csv "
            "(design/evaluators.md, LLP)"
        )
    else:
        entry["annotation_note"] = "not stated by the source"
    notes = list(NOTES.get((benchmark, method), [])) + list(SOURCE_NOTES.get(key, []))
    if metric is None:
        notes.append(_UNMAPPED_NOTE)
    entry["notes"] = notes
    return entry


def build(csv_path: Path, md_path: Path) -> dict[str, dict[str, Any]]:
    """benchmark id -> the content of published/<benchmark>.yaml."""
    source_keys = parse_source_keys(md_path.read_text(encoding="utf-8"), md_path)
    raw = csv_path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    files: dict[str, dict[str, Any]] = {
        b: {
            "schema_version": 1,
            "benchmark": b,
            "title": catalog.TITLES[b],
            "split": "test",
            "primary_metric": catalog.PRIMARY_METRIC[b],
            "generated_from": {"file": f"published/{csv_path.name}", "sha256": sha, "generator": GENERATOR},
            "entries": [],
        }
        for b in BENCHMARK_IDS
    }
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8")))
    for line, row in enumerate(reader, start=2):
        if row["benchmark"] not in BENCHMARKS:
            raise AvuInputError(csv_path, f"line {line}: benchmark", f"unknown benchmark {row['benchmark']!r}")
        benchmark = BENCHMARKS[row["benchmark"]]
        if row["split"] != "test":
            raise AvuInputError(csv_path, f"line {line}: split", f"only test numbers are imported, got {row['split']!r}")
        entry = build_entry(row, benchmark, source_keys, csv_path, line)
        entries = files[benchmark]["entries"]
        if any(e["id"] == entry["id"] for e in entries):
            raise AvuInputError(csv_path, f"line {line}", f"duplicate entry {entry['id']!r} for {benchmark}")
        entries.append(entry)
    return files


def render(content: dict[str, Any]) -> str:
    header = (
        f"# Published {content['title']} numbers. GENERATED by `{GENERATOR}` from\n"
        f"# ../shared/{content['generated_from']['file']}; do not edit by hand (docs/results.md).\n"
    )
    return header + yaml.safe_dump(content, sort_keys=False, allow_unicode=True, width=120)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m avu.results.import_published", description=__doc__.split("\n\n")[0])
    parser.add_argument("--published", type=Path, default=None, help="folder with published.csv and published.md (default: $AVU_SHARED/published, else ../shared/published beside the checkout)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: reference_results/published)")
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if any file differs")
    args = parser.parse_args(argv)
    try:
        src = args.published or shared_dir() / "published"
        out = args.out or default_root() / "published"
        files = build(src / "published.csv", src / "published.md")
    except AvuInputError as exc:
        print(f"avu: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"avu: error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    drift = []
    for benchmark, content in files.items():
        path = out / f"{benchmark}.yaml"
        text = render(content)
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                drift.append(str(path))
        else:
            fileio.write_text(path, text)
            print(f"wrote {path} ({len(content['entries'])} entries)")
    for path in drift:
        print(f"drift: {path} differs from the importer's output", file=sys.stderr)
    return 1 if drift else 0


if __name__ == "__main__":
    raise SystemExit(main())
