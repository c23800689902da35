"""`TokenCodec`: every task's target as one token sequence over one vocabulary, and back.

Sequences start with the task token (``<task:ave>`` ...) and end with ``<eos>``. Bodies:

=========  ==========================================================================
ave        ``(cls t_start t_end)*`` maximal runs of one event class (background = no run)
llp weak   ``cls*`` the video-level label set, ascending class index
llp dense  ``<audio> (cls t_s t_e)* <visual> (cls t_s t_e)*`` per-modality event runs
vggss      ``(<box> x0 y0 x1 y1)*`` box edges on a ``coord_bins`` grid (lossy)
avs (S4,   presence: ``<f:k>*`` frames with a sounding object (pixels come from the mask head);
MS3)       grid: ``(<f:k> (<sounding>|<background> <run:n>)*)*`` RLE of a ``mask_grid`` grid
avss       presence: ``(<f:k> cls+)*`` classes present per frame (pixels: mask head);
           grid: ``(<f:k> (cls|<background> <run:n>)*)*`` RLE of the majority-class grid
avqa       ``ans`` one answer token (answers are matched by string)
=========  ==========================================================================

Time tokens ``<t:k>`` are segment boundaries 0..T (end exclusive); frame tokens ``<f:k>``
index frames (kept apart from boundaries: sharing one token for both meanings made the
tasks interfere in joint training). Decoding never raises
on malformed sequences: incomplete groups are dropped, so any model output decodes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from avu import BENCHMARK_IDS
from avu.codec import primitives as P
from avu.codec.vocab import (
    AUDIO, BACKGROUND, BOS, BOX, EOS, PAD, SOUNDING, UNK, VISUAL, Vocabulary, build_vocabulary,
    class_token, coord_token, frame_token, run_token, task_token, time_token,
)

#: frames (segments) per sample of each benchmark
FRAMES = {"ave": 10, "llp": 10, "vggss": 1, "avs_s4": 5, "avs_ms3": 5, "avss": 10, "avqa": 10}
#: class namespace used by each benchmark's tokens
NAMESPACE = {"ave": "ave", "llp": "llp", "avss": "avss", "avqa": "ans"}
MASK_SIZE = 224


@dataclass(frozen=True)
class CodecSettings:
    """Every lossy or length-capping choice of the codec (``model.codec`` in the configs)."""

    #: box edges are rounded to one of coord_bins + 1 grid lines per axis
    coord_bins: int = 32
    #: side of the coarse grid used by the grid (fully tokenised) mask form
    mask_grid: int = 16
    #: mask form the model emits: "presence" (tokens say which frames/classes, a mask head
    #: gives pixels) or "grid" (RLE tokens carry the pixels; long sequences)
    mask_form: str = "presence"
    #: LLP form the model is trained to emit: "weak" (video labels, all the train split has)
    llp_form: str = "weak"
    max_boxes: int = 4
    max_spans: int = 5
    max_llp_classes: int = 10
    max_frame_classes: int = 4

    def __post_init__(self) -> None:
        if self.mask_form not in ("presence", "grid"):
            raise ValueError(f"codec.mask_form must be presence|grid, got {self.mask_form!r}")
        if self.llp_form not in ("weak", "dense"):
            raise ValueError(f"codec.llp_form must be weak|dense, got {self.llp_form!r}")


@dataclass
class ClassLists:
    """Class names per namespace in benchmark index order (backgrounds excluded)."""

    ave: list[str]
    llp: list[str]
    avss: list[str]
    ans: list[str]
    extra: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, list[str]]:
        return {"ave": self.ave, "llp": self.llp, "avss": self.avss, "ans": self.ans}


def default_class_lists() -> ClassLists:
    """Class lists of the benchmarks, from `avu.data.classes` (official orders)."""
    from avu.data import classes as C

    ave = list(C.AVE_CLASSES)
    avss = list(C.AVSS_CLASSES)
    return ClassLists(ave=ave[:-1], llp=list(C.LLP_CLASSES), avss=avss[1:], ans=list(answer_vocabulary()))


def answer_vocabulary() -> list[str]:
    from avu.data import classes as C

    for name in ("AVQA_ANSWERS", "AVQA_ANSWER_VOCAB"):
        if hasattr(C, name):
            return list(getattr(C, name))
    for name in ("avqa_answers", "answer_vocabulary", "avqa_answer_vocabulary"):
        if hasattr(C, name):
            return list(getattr(C, name)())
    raise ImportError("avu.data.classes exposes no AVQA answer vocabulary")


class TokenCodec:
    """Encode targets to token ids and decode token ids to targets, for all seven tasks."""

    def __init__(self, classes: ClassLists, settings: CodecSettings | None = None) -> None:
        self.settings = settings or CodecSettings()
        self.classes = classes
        s = self.settings
        self.vocab: Vocabulary = build_vocabulary(
            classes.as_dict(), max_time=max(FRAMES.values()), coord_bins=s.coord_bins + 1,
            max_run=s.mask_grid * s.mask_grid,
        )
        v = self.vocab
        self.pad, self.bos, self.eos, self.unk = v.id(PAD), v.id(BOS), v.id(EOS), v.id(UNK)
        self.audio, self.visual, self.box = v.id(AUDIO), v.id(VISUAL), v.id(BOX)
        self.sounding, self.background = v.id(SOUNDING), v.id(BACKGROUND)
        self.time0 = v.ranges["time"].start
        self.frame0 = v.ranges["frame"].start
        self.coord0 = v.ranges["coord"].start
        self.run0 = v.ranges["run"].start - 1  # run_token(n) = run0 + n
        self.class0 = {ns: v.ranges[f"class:{ns}"].start for ns in classes.as_dict()}
        self._answers = {a: i for i, a in enumerate(classes.ans)}

    # -- small helpers ----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.vocab)

    def task_id(self, task: str) -> int:
        return self.vocab.id(task_token(task))

    def class_ids(self, namespace: str) -> range:
        return self.vocab.ranges[f"class:{namespace}"]

    def t(self, k: int) -> int:
        """Time boundary token ``<t:k>`` (k = 0..T: spans run from one boundary to another)."""
        return self.time0 + int(k)

    def f(self, k: int) -> int:
        """Frame index token ``<f:k>`` (k = 0..T-1: which frame a mask entry is about)."""
        return self.frame0 + int(k)

    def describe(self) -> dict[str, Any]:
        return {"settings": asdict(self.settings), "size": len(self.vocab),
                "groups": {k: [r.start, r.stop] for k, r in self.vocab.ranges.items()}}

    def max_length(self, task: str) -> int:
        """Longest sequence (task token and ``<eos>`` included) the model may emit for ``task``."""
        s, T = self.settings, FRAMES[task]
        body = {
            "ave": 3 * s.max_spans,
            "llp": s.max_llp_classes if s.llp_form == "weak" else 2 + 2 * 3 * s.max_spans,
            "vggss": 5 * s.max_boxes,
            "avs_s4": T if s.mask_form == "presence" else T * (1 + 2 * s.mask_grid * s.mask_grid),
            "avs_ms3": T if s.mask_form == "presence" else T * (1 + 2 * s.mask_grid * s.mask_grid),
            "avss": T * (1 + s.max_frame_classes) if s.mask_form == "presence"
            else T * (1 + 2 * s.mask_grid * s.mask_grid),
            "avqa": 1,
        }[task]
        return body + 2

    def form(self, task: str) -> str:
        """The form of ``task``'s target the model emits."""
        if task == "llp":
            return self.settings.llp_form
        if task in ("avs_s4", "avs_ms3", "avss"):
            return self.settings.mask_form
        return "default"

    # -- encoding -------------------------------------------------------------------------------
    def encode(self, task: str, target: Mapping[str, Any], form: str | None = None) -> list[int]:
        """Token ids of ``target`` (a dataset target dict) with task token and ``<eos>``.

        ``form`` picks the LLP form (weak|dense) or mask form (presence|grid); default: the
        form the model emits (`form`), falling back to weak for LLP targets without dense labels.
        """
        if task not in BENCHMARK_IDS:
            raise ValueError(f"unknown task {task!r}")
        form = form or self.form(task)
        body = getattr(self, f"_encode_{task}")(target, form)
        return [self.task_id(task), *body, self.eos]

    def _encode_ave(self, target: Mapping[str, Any], form: str) -> list[int]:
        labels = np.asarray(target["labels"]).reshape(-1)
        background = len(self.classes.ave)
        out: list[int] = []
        for value, s, e in P.runs(labels, background=background)[: self.settings.max_spans]:
            out += [self.class0["ave"] + value, self.t(s), self.t(e)]
        return out

    def _class_runs(self, matrix: np.ndarray) -> list[int]:
        out: list[int] = []
        for c in range(matrix.shape[1]):
            for s, e in P.binary_runs(matrix[:, c]):
                out += [self.class0["llp"] + c, self.t(s), self.t(e)]
        return out

    def _encode_llp(self, target: Mapping[str, Any], form: str) -> list[int]:
        if form == "dense" and "audio" in target:
            audio = np.asarray(target["audio"]) > 0
            visual = np.asarray(target["visual"]) > 0
            return [self.audio, *self._class_runs(audio), self.visual, *self._class_runs(visual)]
        video = np.flatnonzero(np.asarray(target["video_labels"]).reshape(-1) > 0.5)
        return [self.class0["llp"] + int(c) for c in video[: self.settings.max_llp_classes]]

    def _encode_vggss(self, target: Mapping[str, Any], form: str) -> list[int]:
        boxes = np.asarray(target["boxes"], dtype=np.float64).reshape(-1, 4)
        keep = [b for b in boxes if not P.box_is_empty(b, MASK_SIZE)]
        # largest first, so that the cap on boxes drops the smallest
        keep.sort(key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))
        out: list[int] = []
        for box in keep[: self.settings.max_boxes]:
            q = P.quantise_box(box, self.settings.coord_bins)
            out += [self.box, *(self.coord0 + v for v in q)]
        return out

    def _encode_mask_frames(self, frames: np.ndarray, form: str, semantic: bool) -> list[int]:
        out: list[int] = []
        g = self.settings.mask_grid
        for k, frame in enumerate(frames):
            if semantic:
                present = [int(c) for c in np.unique(frame) if 0 < c <= len(self.classes.avss)]
            else:
                present = [1] if np.any(frame > 0) else []
            if not present:
                continue
            if form == "presence":
                out.append(self.f(k))
                if semantic:
                    out += [self.class0["avss"] + c - 1 for c in present[: self.settings.max_frame_classes]]
                continue
            cells = P.label_grid(frame, g, len(self.classes.avss) + 1) if semantic else P.binary_grid(frame, g)
            if not np.any(cells):
                continue
            out.append(self.f(k))
            for value, length in P.rle(cells):
                out += [self._mask_value_token(int(value), semantic), self.run0 + length]
        return out

    def _mask_value_token(self, value: int, semantic: bool) -> int:
        if value == 0:
            return self.background
        return self.class0["avss"] + value - 1 if semantic else self.sounding

    def _encode_avs_s4(self, target: Mapping[str, Any], form: str) -> list[int]:
        return self._encode_mask_frames(np.asarray(target["masks"]), form, semantic=False)

    _encode_avs_ms3 = _encode_avs_s4

    def _encode_avss(self, target: Mapping[str, Any], form: str) -> list[int]:
        return self._encode_mask_frames(np.asarray(target["labels"]), form, semantic=True)

    def _encode_avqa(self, target: Mapping[str, Any], form: str) -> list[int]:
        index = self._answers.get(str(target["answer"]))
        return [self.unk if index is None else self.class0["ans"] + index]

    # -- decoding -------------------------------------------------------------------------------
    def body(self, task: str, ids: Sequence[int]) -> list[int]:
        """The tokens between the task token (or ``<bos>``) and the first ``<eos>``/``<pad>``."""
        ids = [int(i) for i in ids]
        if ids and (ids[0] == self.bos or self.vocab.group_of(ids[0]) == "task"):
            ids = ids[1:]
        out = []
        for i in ids:
            if i in (self.eos, self.pad):
                break
            out.append(i)
        return out

    def decode(self, task: str, ids: Sequence[int], form: str | None = None) -> dict[str, Any]:
        """Structured target from token ids (tolerant of malformed sequences)."""
        form = form or self.form(task)
        if task == "llp" and form != "dense":
            body = self.body(task, ids)
            form = "dense" if body and body[0] == self.audio else "weak"
        return getattr(self, f"_decode_{task}")(self.body(task, ids), form)

    def _time(self, i: int) -> int | None:
        k = i - self.time0
        return k if 0 <= k <= max(FRAMES.values()) else None

    def _cls(self, namespace: str, i: int) -> int | None:
        r = self.class_ids(namespace)
        return i - r.start if i in r else None

    def _decode_span_triples(self, body: list[int], namespace: str, T: int):
        """(class, start, end) triples, scanning greedily; malformed triples are skipped."""
        i = 0
        while i + 2 < len(body):
            c, s, e = self._cls(namespace, body[i]), self._time(body[i + 1]), self._time(body[i + 2])
            if c is None or s is None or e is None:
                i += 1
                continue
            yield c, max(0, min(s, T)), max(0, min(e, T))
            i += 3

    def _decode_ave(self, body: list[int], form: str) -> dict[str, Any]:
        T = FRAMES["ave"]
        labels = np.full(T, len(self.classes.ave), dtype=np.int64)
        for c, s, e in self._decode_span_triples(body, "ave", T):
            labels[s:e] = c
        return {"labels": labels}

    def _decode_llp(self, body: list[int], form: str) -> dict[str, Any]:
        C, T = len(self.classes.llp), FRAMES["llp"]
        if form == "weak":
            video = np.zeros(C, dtype=np.float32)
            for i in body:
                c = self._cls("llp", i)
                if c is not None:
                    video[c] = 1.0
            return {"video_labels": video}
        sections = {"audio": [], "visual": []}
        current = None
        for i in body:
            if i == self.audio:
                current = "audio"
            elif i == self.visual:
                current = "visual"
            elif current is not None:
                sections[current].append(i)
        out = {}
        for name, toks in sections.items():
            m = np.zeros((T, C), dtype=np.uint8)
            for c, s, e in self._decode_span_triples(toks, "llp", T):
                m[s:e, c] = 1
            out[name] = m
        out["video_labels"] = ((out["audio"].max(0) + out["visual"].max(0)) > 0).astype(np.float32)
        return out

    def _decode_vggss(self, body: list[int], form: str) -> dict[str, Any]:
        bins = self.settings.coord_bins
        boxes = []
        i = 0
        while i < len(body):
            if body[i] == self.box and i + 4 < len(body):
                q = [body[i + 1 + j] - self.coord0 for j in range(4)]
                if all(0 <= v <= bins for v in q) and q[2] > q[0] and q[3] > q[1]:
                    boxes.append(P.dequantise_box(tuple(q), bins))
                    i += 5
                    continue
            i += 1
        arr = np.stack(boxes).astype(np.float32) if boxes else np.zeros((0, 4), np.float32)
        return {"boxes": arr}

    def _frame(self, i: int) -> int | None:
        k = i - self.frame0
        return k if 0 <= k < max(FRAMES.values()) else None

    def _split_frames(self, body: list[int], T: int) -> dict[int, list[int]]:
        frames: dict[int, list[int]] = {}
        current = None
        for i in body:
            k = self._frame(i)
            if k is not None:
                current = k if k < T else None
                if current is not None:
                    frames.setdefault(current, [])
            elif current is not None:
                frames[current].append(i)
        return frames

    def _decode_grid(self, toks: list[int], semantic: bool) -> np.ndarray:
        g = self.settings.mask_grid
        pairs = []
        for value_tok, run_tok in zip(toks[0::2], toks[1::2]):
            n = run_tok - self.run0
            if not 1 <= n <= g * g:
                continue
            if value_tok == self.background:
                value = 0
            elif semantic and self._cls("avss", value_tok) is not None:
                value = self._cls("avss", value_tok) + 1
            elif not semantic and value_tok == self.sounding:
                value = 1
            else:
                continue
            pairs.append((value, n))
        return P.upsample_grid(P.unrle(pairs, g * g).reshape(g, g), MASK_SIZE, MASK_SIZE)

    def _decode_masks(self, body: list[int], form: str, task: str, semantic: bool) -> dict[str, Any]:
        T = FRAMES[task]
        frames = self._split_frames(body, T)
        if form == "presence":
            if semantic:
                present = np.zeros((T, len(self.classes.avss) + 1), dtype=bool)
                for k, toks in frames.items():
                    for i in toks:
                        c = self._cls("avss", i)
                        if c is not None:
                            present[k, c + 1] = True
                return {"present": present}
            frames_on = np.zeros(T, dtype=bool)
            frames_on[list(frames)] = True
            return {"frames": frames_on}
        out = np.zeros((T, MASK_SIZE, MASK_SIZE), dtype=np.uint8)
        for k, toks in frames.items():
            out[k] = self._decode_grid(toks, semantic)
        return {"labels": out} if semantic else {"masks": out}

    def _decode_avs_s4(self, body: list[int], form: str) -> dict[str, Any]:
        return self._decode_masks(body, form, "avs_s4", semantic=False)

    def _decode_avs_ms3(self, body: list[int], form: str) -> dict[str, Any]:
        return self._decode_masks(body, form, "avs_ms3", semantic=False)

    def _decode_avss(self, body: list[int], form: str) -> dict[str, Any]:
        return self._decode_masks(body, form, "avss", semantic=True)

    def _decode_avqa(self, body: list[int], form: str) -> dict[str, Any]:
        for i in body:
            c = self._cls("ans", i)
            if c is not None:
                return {"answer": self.classes.ans[c]}
        return {"answer": ""}

    # -- readable form --------------------------------------------------------------------------
    def tokens(self, ids: Sequence[int]) -> list[str]:
        return [self.vocab.token(int(i)) for i in ids]


def build_codec(settings: Mapping[str, Any] | CodecSettings | None = None,
                classes: ClassLists | None = None) -> TokenCodec:
    """The codec for given settings (a mapping such as ``cfg.model.codec``) and class lists."""
    if settings is None or isinstance(settings, CodecSettings):
        s = settings
    else:
        s = CodecSettings(**{k: v for k, v in dict(settings).items()})
    return TokenCodec(classes or default_class_lists(), s)


__all__ = [
    "FRAMES", "NAMESPACE", "MASK_SIZE", "CodecSettings", "ClassLists", "TokenCodec", "build_codec",
    "default_class_lists", "class_token", "coord_token", "frame_token", "run_token", "task_token", "time_token",
]
