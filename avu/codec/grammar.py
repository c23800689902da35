"""Constrained decoding: which token may come next, per task form (a small state machine).

Greedy decoding masks every token the grammar forbids, so the model always emits a
well-formed sequence (ordered, non-overlapping spans; boxes with x1 > x0; one answer).
States are small hashable tuples; the allowed-token masks are cached per state.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from avu.codec.codec import FRAMES, NAMESPACE, TokenCodec

DONE = ("done",)


class Grammar:
    """Next-token constraints of one task's emitted form."""

    def __init__(self, codec: TokenCodec, task: str, form: str | None = None) -> None:
        self.codec = codec
        self.task = task
        self.form = form or codec.form(task)
        self.T = FRAMES[task]
        self.V = len(codec)
        self._cache: dict[tuple, np.ndarray] = {}
        c = codec
        self._time = [c.t(k) for k in range(self.T + 1)]
        self._frame = [c.f(k) for k in range(self.T)]
        self._coords = list(c.vocab.ranges["coord"])
        self._runs = list(c.vocab.ranges["run"])
        self._ns = NAMESPACE.get(task)
        self._classes = list(c.class_ids(self._ns)) if self._ns else []

    # -- public -------------------------------------------------------------------------------
    def initial(self) -> tuple:
        return {
            "ave": ("cls", 0, 0),
            "llp": ("cls", -1, 0) if self.form == "weak" else ("open",),
            "vggss": ("box", 0),
            "avs_s4": ("frame", 0), "avs_ms3": ("frame", 0), "avss": ("frame", 0),
            "avqa": ("ans",),
        }[self.task]

    def allowed(self, state: tuple) -> np.ndarray:
        mask = self._cache.get(state)
        if mask is None:
            mask = np.zeros(self.V, dtype=bool)
            mask[list(self._allowed_ids(state))] = True
            self._cache[state] = mask
        return mask

    def step(self, state: tuple, token: int) -> tuple:
        if token == self.codec.eos or state == DONE:
            return DONE
        return self._step(state, int(token))

    def accepts(self, ids: Iterable[int]) -> bool:
        """Whether a body (no task token) followed by ``<eos>`` is allowed by the grammar."""
        state = self.initial()
        for tok in [*ids, self.codec.eos]:
            if not self.allowed(state)[tok]:
                return False
            state = self.step(state, tok)
        return True

    # -- per-task rules -------------------------------------------------------------------------
    def _allowed_ids(self, state: tuple) -> list[int]:
        c, T, s = self.codec, self.T, self.codec.settings
        kind = state[0]
        if state == DONE:
            return [c.pad]
        if self.task == "ave":
            if kind == "cls":
                _, last_end, n = state
                return ([*self._classes] if last_end < T and n < s.max_spans else []) + [c.eos]
            if kind == "start":
                return self._time[state[1]:T]
            if kind == "end":
                return self._time[state[1] + 1:T + 1]
        if self.task == "llp" and self.form == "weak":
            _, last, n = state
            return (self._classes[last + 1:] if n < s.max_llp_classes else []) + [c.eos]
        if self.task == "llp":
            if kind == "open":
                return [c.audio]
            if kind == "cls":
                section = state[1]
                return self._classes + ([c.visual] if section == "audio" else [c.eos])
            if kind == "start":
                return self._time[:T]
            if kind == "end":
                return self._time[state[2] + 1:T + 1]
        if self.task == "vggss":
            if kind == "box":
                n = state[1]
                return ([c.box] if n < s.max_boxes else []) + ([c.eos] if n >= 1 else [])
            bins = s.coord_bins
            if kind in ("x0", "y0"):
                return self._coords[:bins]
            if kind == "x1":
                return self._coords[state[2] + 1:bins + 1]
            if kind == "y1":
                return self._coords[state[3] + 1:bins + 1]
        if self.task in ("avs_s4", "avs_ms3", "avss"):
            return self._mask_allowed(state)
        if self.task == "avqa":
            return self._classes if kind == "ans" else [c.eos]
        raise ValueError(f"no grammar state {state} for {self.task}/{self.form}")

    def _mask_allowed(self, state: tuple) -> list[int]:
        c, T, s = self.codec, self.T, self.codec.settings
        kind = state[0]
        semantic = self.task == "avss"
        if kind == "frame":
            return self._frame[state[1]:T] + [c.eos]
        if self.form == "presence":
            if kind == "first_cls":  # a frame token must be followed by at least one class
                return self._classes
            if kind == "cls":
                _, k, last, n = state
                more = self._classes[last + 1:] if n < s.max_frame_classes else []
                return more + self._frame[k + 1:T] + [c.eos]
        else:
            if kind == "value":
                return [c.background] + (self._classes if semantic else [c.sounding])
            if kind == "run":
                _, k, filled = state
                return self._runs[: s.mask_grid * s.mask_grid - filled]
        raise ValueError(f"no grammar state {state} for {self.task}/{self.form}")

    def _step(self, state: tuple, tok: int) -> tuple:
        c, T = self.codec, self.T
        kind = state[0]
        k = tok - (c.frame0 if self.task in ("avs_s4", "avs_ms3", "avss") else c.time0)
        if self.task == "ave":
            if kind == "cls":
                return ("start", state[1], state[2])
            if kind == "start":
                return ("end", k, state[2])
            return ("cls", k, state[2] + 1)
        if self.task == "llp" and self.form == "weak":
            return ("cls", tok - self._classes[0], state[2] + 1)
        if self.task == "llp":
            if kind == "open":
                return ("cls", "audio")
            if kind == "cls":
                return ("cls", "visual") if tok == c.visual else ("start", state[1])
            if kind == "start":
                return ("end", state[1], k)
            return ("cls", state[1])
        if self.task == "vggss":
            q = tok - c.coord0
            if kind == "box":
                return ("x0", state[1])
            if kind == "x0":
                return ("y0", state[1], q)
            if kind == "y0":
                return ("x1", state[1], state[2], q)
            if kind == "x1":
                return ("y1", state[1], state[2], state[3])
            return ("box", state[1] + 1)
        if self.task in ("avs_s4", "avs_ms3", "avss"):
            g2 = c.settings.mask_grid ** 2
            if self.form == "presence":
                if kind == "frame":
                    return ("first_cls", k) if self.task == "avss" else ("frame", k + 1)
                if kind == "first_cls":
                    return ("cls", state[1], tok - self._classes[0], 1)
                if 0 <= k < T:  # kind == "cls": a new frame
                    return ("first_cls", k)
                return ("cls", state[1], tok - self._classes[0], state[3] + 1)
            if kind == "frame":
                return ("value", k, 0)
            if kind == "value":
                return ("run", state[1], state[2])
            filled = state[2] + (tok - c.run0)
            return ("frame", state[1] + 1) if filled >= g2 else ("value", state[1], filled)
        if self.task == "avqa":
            return ("eos",)
        raise ValueError(f"no grammar step from {state} for {self.task}")


def task_vocabulary(codec: TokenCodec, task: str, form: str | None = None) -> np.ndarray:
    """Boolean mask of every token the task's emitted form can contain (``<eos>`` included).

    Training can restrict the softmax to it, so a task's loss never pushes down the tokens
    of other tasks (less interference in joint training)."""
    c = codec
    form = form or c.form(task)
    T = FRAMES[task]
    ids: list[int] = [c.eos]
    ns = NAMESPACE.get(task)
    if ns:
        ids += list(c.class_ids(ns))
    if task == "ave" or (task == "llp" and form == "dense"):
        ids += [c.t(k) for k in range(T + 1)]
    if task == "llp" and form == "dense":
        ids += [c.audio, c.visual]
    if task == "vggss":
        ids += [c.box, *c.vocab.ranges["coord"]]
    if task in ("avs_s4", "avs_ms3", "avss"):
        ids += [c.f(k) for k in range(T)]
        if form == "grid":
            ids += [c.background, *c.vocab.ranges["run"]] + ([] if task == "avss" else [c.sounding])
    mask = np.zeros(len(c), dtype=bool)
    mask[ids] = True
    return mask


def grammars(codec: TokenCodec) -> dict[str, Grammar]:
    return {task: Grammar(codec, task) for task in FRAMES}
