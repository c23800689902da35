"""Slow MUSIC-AVQA oracle: ``net_grd_avst/main_avst.py::test`` re-expressed question by question.

The official loop runs with batch size 1: for question i it compares the predicted label
with the GT label, appends the 0/1 outcome to the list of the question's type (parsed
from ``samples[i]['type']`` with ``ast.literal_eval``), and finally prints each type's
mean, each modality's pooled mean and the overall mean, all ×100. Here answers are
compared as strings (equal strings <=> equal vocabulary labels for vocabulary answers).

``type_rows`` is the list whose i-th row gives question i's type (the official code's
hard-coded ``samples``); by default the evaluated rows themselves.
"""

from __future__ import annotations

import ast
from typing import Any, Sequence


def official_test(rows: Sequence[dict[str, Any]], pred_answers: Sequence[str],
                  type_rows: Sequence[dict[str, Any]] | None = None) -> dict[str, float]:
    """The 13 printed accuracies (percent) keyed by avu's metric names; empty groups omitted."""
    type_rows = rows if type_rows is None else type_rows
    a_count, a_cmp, v_count, v_loc = [], [], [], []
    av_ext, av_count, av_loc, av_cmp, av_temp = [], [], [], [], []
    total = correct = 0
    for i, (row, pred) in enumerate(zip(rows, pred_answers)):
        hit = int(pred == row["anser"])
        total += 1
        correct += hit
        modality, kind = ast.literal_eval(type_rows[i]["type"])
        if modality == "Audio":
            if kind == "Counting":
                a_count.append(hit)
            elif kind == "Comparative":
                a_cmp.append(hit)
        elif modality == "Visual":
            if kind == "Counting":
                v_count.append(hit)
            elif kind == "Location":
                v_loc.append(hit)
        elif modality == "Audio-Visual":
            if kind == "Existential":
                av_ext.append(hit)
            elif kind == "Counting":
                av_count.append(hit)
            elif kind == "Location":
                av_loc.append(hit)
            elif kind == "Comparative":
                av_cmp.append(hit)
            elif kind == "Temporal":
                av_temp.append(hit)

    out: dict[str, float] = {}

    def put(name: str, *groups: list[int]) -> None:
        n = sum(len(g) for g in groups)
        if n:
            out[name] = 100 * sum(sum(g) for g in groups) / n

    put("audio_counting", a_count)
    put("audio_comparative", a_cmp)
    put("audio", a_count, a_cmp)
    put("visual_counting", v_count)
    put("visual_location", v_loc)
    put("visual", v_count, v_loc)
    put("av_existential", av_ext)
    put("av_counting", av_count)
    put("av_location", av_loc)
    put("av_comparative", av_cmp)
    put("av_temporal", av_temp)
    put("av", av_ext, av_count, av_loc, av_cmp, av_temp)
    if total:
        out["overall"] = 100 * correct / total
    return out
