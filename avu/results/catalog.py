"""What reference results may name: benchmark titles, metric names and labels, primary metrics.

The evaluators (``avu.evaluators.<benchmark>``) are the authority on metric names; this
catalog is the subset that reference results, tables and leaderboards use, with the
labels printed in tables. ``tests/results`` checks it against each evaluator's
``metrics`` and ``primary_metric`` whenever the evaluator module imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from avu import BENCHMARK_IDS
from avu.benchmarks import check_ids

#: benchmark id -> title printed in tables
TITLES: Mapping[str, str] = MappingProxyType({
    "ave": "AVE (test)",
    "llp": "LLP / AVVP (test)",
    "vggss": "VGG-SS (test)",
    "avs_s4": "AVSBench-object S4 (test)",
    "avs_ms3": "AVSBench-object MS3 (test)",
    "avss": "AVSBench-semantic AVSS (test)",
    "avqa": "MUSIC-AVQA (test)",
})

#: benchmark id -> metric name -> short label (column order = table order)
METRICS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "ave": {"accuracy": "Acc"},
    "llp": {
        "segment_audio": "Seg A",
        "segment_visual": "Seg V",
        "segment_av": "Seg AV",
        "segment_type_av": "Seg Type@AV",
        "segment_event_av": "Seg Event@AV",
        "event_audio": "Evt A",
        "event_visual": "Evt V",
        "event_av": "Evt AV",
        "event_type_av": "Evt Type@AV",
        "event_event_av": "Evt Event@AV",
    },
    "vggss": {"ciou_ap50": "cIoU@0.5", "auc": "AUC"},
    "avs_s4": {"miou": "mIoU", "fscore": "F-score"},
    "avs_ms3": {"miou": "mIoU", "fscore": "F-score"},
    "avss": {"miou": "mIoU", "fscore": "F-score"},
    "avqa": {
        "audio_counting": "A-Cnt",
        "audio_comparative": "A-Cmp",
        "audio": "A-Avg",
        "visual_counting": "V-Cnt",
        "visual_location": "V-Loc",
        "visual": "V-Avg",
        "av_existential": "AV-Ext",
        "av_location": "AV-Loc",
        "av_counting": "AV-Cnt",
        "av_comparative": "AV-Cmp",
        "av_temporal": "AV-Tmp",
        "av": "AV-Avg",
        "overall": "All",
    },
})

#: the metric each benchmark's leaderboard is sorted by (the evaluator's primary metric)
PRIMARY_METRIC: Mapping[str, str] = MappingProxyType({
    "ave": "accuracy",
    "llp": "segment_audio",
    "vggss": "ciou_ap50",
    "avs_s4": "miou",
    "avs_ms3": "miou",
    "avss": "miou",
    "avqa": "overall",
})

#: metrics some sources print on a 0-1 scale (every other metric is printed in percent)
FRACTION_PRINTABLE = frozenset({"fscore", "auc"})

for _name, _table in (("TITLES", TITLES), ("METRICS", METRICS), ("PRIMARY_METRIC", PRIMARY_METRIC)):
    check_ids(_table, f"avu.results.catalog.{_name}")
for _b in BENCHMARK_IDS:
    if PRIMARY_METRIC[_b] not in METRICS[_b]:
        raise RuntimeError(f"avu.results.catalog: the primary metric of {_b}, {PRIMARY_METRIC[_b]!r}, is not in its METRICS")


def metric_label(benchmark: str, metric: str) -> str:
    """The short column label of a metric (the name itself when unknown)."""
    return METRICS.get(benchmark, {}).get(metric, metric)


def evaluator_metrics(benchmark: str) -> tuple[tuple[str, ...], str] | None:
    """(metric names, primary metric) of the benchmark's evaluator, or None if it does not import.

    Used to cross-check the catalog; reference results never need the evaluators to load.
    """
    try:
        from avu.benchmarks import get_spec

        evaluator = get_spec(benchmark).evaluator
        return tuple(evaluator.metrics), str(evaluator.primary_metric)
    except (ImportError, AttributeError):
        return None


#: the inter-task transfer table (``python -m avu.reproduce --table transfer``) has no table file:
#: its configurations are the ``single`` runs and one joint run per unordered pair of benchmarks,
#: ``pair_<a>__<b>`` (a before b in BENCHMARK_IDS order), pinned under both of its benchmarks
TRANSFER_PREFIX = "pair_"
#: what each pair is compared with (its extras hold ``vs_single``, as an ablation's ``vs_joint``)
TRANSFER_BASELINE = "single"


def transfer_configuration(a: str, b: str) -> str:
    """The configuration id of the transfer pair {a, b} (``pair_<a>__<b>``, canonical order)."""
    a, b = sorted((a, b), key=BENCHMARK_IDS.index)
    return f"{TRANSFER_PREFIX}{a}__{b}"


def transfer_pair(configuration: str) -> tuple[str, str] | None:
    """(a, b) of a transfer configuration ``pair_<a>__<b>``, or None when it is not one
    (two distinct benchmarks in BENCHMARK_IDS order)."""
    if not configuration.startswith(TRANSFER_PREFIX):
        return None
    a, sep, b = configuration[len(TRANSFER_PREFIX):].partition("__")
    if not sep or a not in BENCHMARK_IDS or b not in BENCHMARK_IDS:
        return None
    if BENCHMARK_IDS.index(a) >= BENCHMARK_IDS.index(b):
        return None
    return a, b
