"""AV-Unified: one model, one token interface, seven tasks.

Data flow for a batch of one task (shapes for B clips of T one-second segments):

  audio (log-mel or features) -> AudioCNN ------------------------------> a (B, T, d)
  frames (or features) -> visual encoder -> patch grid v (B, T, h, w, d)
  spatial: a queries v -> guided token g (B,T,d), guidance map (B,T,h,w), location (B,T,d),
           audio-conditioned patches (mask head)
  temporal: multi-scale over [a; g] -> a', g'
  prompt (+ AVQA question) -> text tokens p (B, L, d)
  memory = [p; a' + time; g' + time; location + time]
  decoder: task token, then codec tokens (teacher-forced in training; greedy under the task
           grammar at inference)
  heads: MaskHead (pixels of mask tasks), ParsingHead (LLP segment-level probabilities)

`training_loss(batch)` returns the summed loss and its parts; `predict(batch)` returns the
evaluator payload of the batch's task (avu.codec.payloads formats).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from avu import BENCHMARK_IDS
from avu.codec import FRAMES, MASK_SIZE, TokenCodec
from avu.codec import payloads as codec_payloads
from avu.codec import primitives as P
from avu.codec.grammar import Grammar, task_vocabulary
from avu.model.audio import build_audio
from avu.model.decoder import TokenDecoder
from avu.model.heads import MaskHead, ParsingHead
from avu.model import norm_stats
from avu.model.layers import Block, count_parameters, grad_scale  # count_parameters: re-exported
from avu.model.prompts import PromptEncoder, text_ids, world_word_groups
from avu.model.spatial import AudioGuidedSpatial
from avu.model.temporal import MultiScaleTemporal
from avu.model.visual import VisualEncoder
from avu.model.world_classes import world_token_groups

MASK_TASKS = ("avs_s4", "avs_ms3", "avss")
#: tasks whose mask head is trained (VGG-SS: the box union as a sounding-object mask)
MASK_HEAD_TASKS = ("vggss", "avs_s4", "avs_ms3", "avss")
#: tasks with a per-segment class target for the auxiliary segment classifier
SEGMENT_TASKS = ("ave", "avss")
GUIDED_TASKS = ("vggss", "avs_s4", "avs_ms3", "avss")


@dataclass
class Encoded:
    memory: torch.Tensor
    memory_padding: torch.Tensor
    audio: torch.Tensor          # (B, T, d) after temporal perception
    visual: torch.Tensor         # (B, T, d) after temporal perception
    patches: torch.Tensor        # (B, T, h, w, d)
    map_logits: torch.Tensor     # (B, T, h, w)
    skip: torch.Tensor | None    # (B*T, C, H', W')


def model_geometry(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Input frame size, patch grid side and mask-head output side of a model configuration."""
    vcfg, acfg = cfg["visual"], cfg["audio"]
    kind = vcfg["kind"]
    size = int(vcfg["input_size"])
    up = int(cfg["mask_head"]["upsample"])
    if kind == "cnn":
        n = len(vcfg["channels"])
        stem = int(vcfg["stem"])
        grid = size // (stem * 2 ** (n - 1))
        mask = size // (stem * 2 ** max(n - 2, 0))
    elif kind == "torchvision" and str(vcfg["backbone"]).startswith("vit"):
        grid = size // 16
        mask = grid * up
    elif kind == "torchvision":
        grid, mask = -(-size // 32), -(-size // 8)
    else:
        grid = int(vcfg["grid"])
        mask = grid * up
    return {"frame": size, "grid": grid, "mask": mask, "mel": dict(acfg["mel"]),
            "audio_kind": acfg["kind"], "visual_kind": kind, "audio_feature_dim": int(acfg["feature_dim"]),
            "visual_feature_dim": int(vcfg["feature_dim"])}


class AVUnified(nn.Module):
    def __init__(self, cfg: Mapping[str, Any], codec: TokenCodec) -> None:
        super().__init__()
        self.cfg = cfg
        self.codec = codec
        d = int(cfg["d_model"])
        heads = int(cfg["heads"])
        dropout = float(cfg["dropout"])
        self.d_model = d
        self.modalities = tuple(cfg["modalities"])
        self.use_audio = "audio" in self.modalities
        self.use_visual = "visual" in self.modalities
        if not (self.use_audio or self.use_visual):
            raise ValueError("model.modalities needs audio and/or visual")

        acfg, vcfg = cfg["audio"], cfg["visual"]
        # the log-mel front end has no weights; it exists even without audio so that the
        # cached encoder inputs are the same for every ablation
        audio_encoder, self.audio_frontend = build_audio(acfg, d)
        self.audio_encoder = audio_encoder if self.use_audio else None
        self.visual_encoder = VisualEncoder(vcfg, d) if self.use_visual else None
        self.no_audio = nn.Parameter(torch.zeros(d)) if not self.use_audio else None
        self.no_visual = nn.Parameter(torch.zeros(d)) if not self.use_visual else None

        scfg, tcfg, pcfg, dcfg = cfg["spatial"], cfg["temporal"], cfg["prompt"], cfg["decoder"]
        self.spatial = AudioGuidedSpatial(
            d, int(scfg["heads"]), guided=bool(scfg["enabled"]) and self.use_audio, key_dim=int(scfg["key_dim"]),
        )
        #: gradient from the spatial module (guidance map, mask head) into the audio encoder
        self.audio_grad_to_spatial = float(scfg["audio_grad"])
        self.temporal = MultiScaleTemporal(
            d, heads, tuple(tcfg["scales"]), int(tcfg["depth"]), dropout=dropout, enabled=bool(tcfg["enabled"]),
        )
        self.prompts_enabled = bool(pcfg["enabled"])
        self.prompt_texts = dict(pcfg["texts"])
        self.buckets = int(pcfg["buckets"])
        self.max_words = int(pcfg["max_words"])
        self.prompt = PromptEncoder(self.buckets, d, heads, int(pcfg["depth"]), self.max_words)
        # a checkpoint from before the setting had no world words
        world_words = bool(pcfg.get("world_words", False))
        self.world_word_proj: nn.Module | None = None
        if world_words:
            if not bool(cfg["decoder"]["share_world_classes"]):
                raise ValueError("model.prompt.world_words needs model.decoder.share_world_classes: true")
            # the category embedding lives in the decoder's token space; map it into the words'
            self.world_word_proj = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, d))
        memcfg = cfg["memory"]
        #: side of the time-averaged patch grid added to the memory (0: none)
        self.patch_grid = int(memcfg["patch_grid"])
        self.fusion = nn.ModuleList([Block(d, heads, dropout=dropout) for _ in range(int(memcfg["depth"]))])
        self.time = nn.Parameter(torch.zeros(max(FRAMES.values()), d))
        self.kind = nn.Parameter(torch.zeros(4, d))  # audio, visual, location, patch memory tokens
        self.patch_pos = nn.Parameter(torch.zeros(max(self.patch_grid, 1) ** 2, d))
        nn.init.normal_(self.patch_pos, std=0.02)
        nn.init.normal_(self.time, std=0.02)
        nn.init.normal_(self.kind, std=0.02)
        self.memory_norm = nn.LayerNorm(d)
        self.decoder = TokenDecoder(
            len(codec), d, heads, int(dcfg["depth"]), int(dcfg["max_len"]), dropout=dropout,
            pad_to=int(dcfg["vocab_pad_to"]),
            shared_groups=world_token_groups(codec) if bool(dcfg["share_world_classes"]) else None,
        )
        if world_words:  # recomputed from the world table, not saved: checkpoints keep their shape
            groups = torch.from_numpy(world_word_groups(self.buckets))
            rows = self.decoder.world_embed.num_embeddings
            self.register_buffer("word_world", torch.where(groups < rows, groups, -1), persistent=False)
        geo = self.geometry()
        skip_channels = self.visual_encoder.skip_channels if self.visual_encoder is not None else 0
        self.mask_head = MaskHead(d, skip_channels, int(cfg["mask_head"]["dim"]), norm=vcfg["norm"])
        # a checkpoint from before the setting trained VGG-SS on the shared <sounding> class
        self.vggss_region = str(cfg["mask_head"].get("vggss_region", "sounding"))
        if self.vggss_region not in ("sounding", "box"):
            raise ValueError(f"model.mask_head.vggss_region must be sounding|box, got {self.vggss_region!r}")
        self.mask_size = geo["mask"]
        self.parsing = ParsingHead(d, len(codec.classes.llp))
        self.segment_head = nn.Sequential(nn.LayerNorm(2 * d), nn.Linear(2 * d, d))
        # a checkpoint from before the setting shared one set of statistics
        tn = cfg.get("task_norm_stats") or {}
        enabled = bool(tn.get("enabled", False))
        #: the tasks that predict with their own rows (the others with the shared statistics)
        self.task_norm_tasks = tuple(tn.get("tasks", BENCHMARK_IDS)) if enabled else ()
        unknown = sorted(set(self.task_norm_tasks) - set(BENCHMARK_IDS))
        if unknown:
            raise ValueError(f"model.task_norm_stats.tasks: unknown benchmark {unknown[0]!r} "
                             f"(known: {', '.join(BENCHMARK_IDS)})")
        if enabled:
            norm_stats.add_task_rows(self)
        self.loss_cfg = dict(cfg["loss"])
        self.decode_cfg = dict(cfg["decode"])
        self._grammars: dict[str, Grammar] = {}
        self._vocab_masks: dict[tuple, torch.Tensor] = {}

    # -- geometry ---------------------------------------------------------------------------
    def geometry(self) -> dict[str, Any]:
        return model_geometry(self.cfg)

    # -- inputs -----------------------------------------------------------------------------------
    def text_ids(self, task: str, questions: list[str] | None, batch: int) -> torch.Tensor:
        """(B, L) word ids of prompt (+ question), cut to the longest text of the batch (CPU)."""
        ids = text_ids(task, questions, batch, texts=self.prompt_texts, enabled=self.prompts_enabled,
                       buckets=self.buckets, max_words=self.max_words)
        longest = max(int((ids != 0).sum(dim=1).max()), 1)
        return ids[:, :longest]

    def first_token(self, task: str) -> int:
        return self.codec.task_id(task) if self.prompts_enabled else self.codec.bos

    def _task_vocabulary(self, task: str, size: int, device: torch.device) -> torch.Tensor:
        key = (task, size, str(device))
        if key not in self._vocab_masks:
            mask = torch.zeros(size, dtype=torch.bool)
            mask[: len(self.codec)] = torch.from_numpy(task_vocabulary(self.codec, task))
            self._vocab_masks[key] = mask.to(device)
        return self._vocab_masks[key]

    def grammar(self, task: str) -> Grammar:
        if task not in self._grammars:
            self._grammars[task] = Grammar(self.codec, task)
        return self._grammars[task]

    def _audio_tokens(self, batch: Mapping[str, Any], b: int, t: int, device) -> torch.Tensor:
        if not self.use_audio:
            return self.no_audio.expand(b, t, -1)
        if "audio_feat" in batch:
            return self.audio_encoder(batch["audio_feat"])
        mel = batch.get("audio")
        if mel is None:
            mel = self.audio_frontend(batch["audio_wave"], segments=t)
        return self.audio_encoder(mel)

    def _visual_grid(self, batch: Mapping[str, Any], b: int, t: int):
        if not self.use_visual:
            g = self.geometry()["grid"]
            return self.no_visual.expand(b, t, g, g, -1), None
        if "visual_feat" in batch:
            return self.visual_encoder(batch["visual_feat"])
        return self.visual_encoder(batch["frames"])

    def encode(self, batch: Mapping[str, Any]) -> Encoded:
        task = batch["task"]
        t = FRAMES[task]
        text = batch["text"]
        b, device = text.shape[0], text.device
        a = self._audio_tokens(batch, b, t, device)
        grid, skip = self._visual_grid(batch, b, t)
        sp = self.spatial(grad_scale(a, self.audio_grad_to_spatial), grid)
        a2, v2 = self.temporal(a, sp.pooled)
        p, p_pad = self.prompt(text, self._world_words(text))
        time = self.time[:t]
        parts = [a2 + time + self.kind[0], v2 + time + self.kind[1], sp.location + time + self.kind[2]]
        if self.patch_grid:
            parts.append(self._patch_tokens(sp.patches) + self.kind[3])
        mem = torch.cat(parts, dim=1)
        memory = torch.cat([p, mem], dim=1)
        padding = torch.cat([p_pad, torch.zeros(b, mem.shape[1], dtype=torch.bool, device=device)], dim=1)
        safe = padding.clone()
        safe[:, 0] = False
        for block in self.fusion:  # text and audio-visual tokens attend to each other
            memory = block(memory, key_padding=safe)
        memory = self.memory_norm(memory)
        return Encoded(memory, padding, a2, v2, sp.patches, sp.map_logits, skip)

    def _world_words(self, text: torch.Tensor) -> torch.Tensor | None:
        """(B, L, d): for each word naming a world category, that category's shared embedding
        (mapped into the word space); zero for the other words. None when the setting is off."""
        if self.world_word_proj is None:
            return None
        groups = self.word_world[text]
        named = (groups >= 0).unsqueeze(-1)
        if not bool(named.any()):
            return None
        world = self.decoder.world_embed.weight[groups.clamp_min(0)]
        return self.world_word_proj(world) * named

    def _patch_tokens(self, patches: torch.Tensor) -> torch.Tensor:
        """Audio-conditioned patches averaged over time and pooled to patch_grid^2 tokens."""
        b, t, h, w, d = patches.shape
        x = patches.mean(dim=1).permute(0, 3, 1, 2)
        if h != self.patch_grid or w != self.patch_grid:
            x = F.adaptive_avg_pool2d(x, self.patch_grid)
        return x.flatten(2).transpose(1, 2) + self.patch_pos

    def mask_logits(self, task: str, enc: Encoded, frames: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, K, H', W') logits over the task's mask classes; ``frames`` (T',): only those frames."""
        patches, maps, skip, t = enc.patches, enc.map_logits, enc.skip, FRAMES[task]
        if frames is not None:
            patches, maps = patches[:, frames], maps[:, frames]
            if skip is not None:
                skip = skip.view(patches.shape[0], t, *skip.shape[1:])[:, frames].flatten(0, 1)
            t = len(frames)
        pixels = self.mask_head.pixel_embeddings(patches, maps, skip)
        if pixels.shape[-1] != self.mask_size:
            pixels = F.interpolate(pixels, size=(self.mask_size, self.mask_size), mode="bilinear", align_corners=False)
        ids = self._mask_class_ids(task)
        emb = self.decoder.weight()[ids]
        return self.mask_head(pixels, emb, t)

    def _avss_factored(self) -> bool:
        form = self.loss_cfg["avss_mask"]
        if form not in ("softmax", "factored"):
            raise ValueError(f"model.loss.avss_mask must be softmax|factored, got {form!r}")
        return form == "factored"

    def _mask_class_ids(self, task: str) -> torch.Tensor:
        """Mask-head classes: S4/MS3 ``<background>, <sounding>``; VGG-SS the same, or its own
        ``<background>, <box>`` (``model.mask_head.vggss_region``); AVSS ``<background>``, the 70
        classes (softmax), with ``<sounding>`` between them when factored."""
        c = self.codec
        if task == "vggss" and self.vggss_region == "box":
            ids = [c.background, c.box]
        elif task != "avss":
            ids = [c.background, c.sounding]
        elif self._avss_factored():
            ids = [c.background, c.sounding, *c.class_ids("avss")]
        else:
            ids = [c.background, *c.class_ids("avss")]
        return torch.tensor(ids, device=self.decoder.embed.weight.device)

    # -- training -----------------------------------------------------------------------------
    def forward(self, batch: Mapping[str, Any]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Same as `training_loss` (so that torch.compile and wrappers see a forward)."""
        return self.training_loss(batch)

    def training_loss(self, batch: Mapping[str, Any]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Summed loss of a one-task batch and its detached parts."""
        task = batch["task"]
        lc = self.loss_cfg
        enc = self.encode(batch)
        tokens = batch["tokens"].clone()
        tokens[:, 0] = self.first_token(task)
        logits = self.decoder(tokens[:, :-1], enc.memory, enc.memory_padding)
        if lc["restrict_vocabulary"]:  # softmax over the task's own tokens only
            logits = logits.masked_fill(~self._task_vocabulary(task, logits.shape[-1], logits.device), float("-inf"))
        target = tokens[:, 1:]
        token_loss = F.cross_entropy(
            logits.float().reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=self.codec.pad,
            label_smoothing=float(lc["label_smoothing"]), reduction="sum",
        ) / (target != self.codec.pad).sum().clamp_min(1)  # 0 (not NaN) when no sample has tokens
        parts = {"tokens": token_loss}
        total = float(lc["tokens"]) * token_loss
        if task == "llp" and float(lc["parsing"]) > 0:
            _, global_prob = self.parsing(enc.audio, enc.visual)
            parsing = F.binary_cross_entropy(global_prob, batch["video_labels"].float())
            parts["parsing"] = parsing
            total = total + float(lc["parsing"]) * parsing
        if task in GUIDED_TASKS and "guide" in batch and float(lc["guide"]) > 0:
            guide = F.binary_cross_entropy_with_logits(enc.map_logits.float(), batch["guide"].float(),
                                                       reduction="none").mean(dim=(2, 3))
            valid = batch.get("mask_valid")
            guide = guide.mean() if valid is None else (guide * valid).sum() / valid.sum().clamp_min(1)
            parts["guide"] = guide
            total = total + float(lc["guide"]) * guide
        if task in SEGMENT_TASKS and "segment_target" in batch and float(lc["segment"]) > 0:
            seg = self._segment_loss(task, enc, batch)
            parts["segment"] = seg
            total = total + float(lc["segment"]) * seg
        if "world_target" in batch and float(lc["world"]) > 0:
            world_loss = self._world_loss(enc, batch)
            parts["world"] = world_loss
            total = total + float(lc["world"]) * world_loss
        if task in MASK_HEAD_TASKS and "mask_target" in batch and float(lc["mask"]) > 0:
            mask_loss = self._mask_loss(task, enc, batch)
            parts["mask"] = mask_loss
            total = total + float(lc["mask"]) * mask_loss
        # detached tensors, not floats: no device synchronisation inside the step
        return total, {k: v.detach() for k, v in parts.items()}

    def segment_logits(self, task: str, enc: Encoded) -> torch.Tensor:
        """(B, T, K) scores of each segment against the task's class tokens (AVE: + background)."""
        c = self.codec
        ids = [*c.class_ids("ave"), c.background] if task == "ave" else list(c.class_ids("avss"))
        emb = self.decoder.weight()[torch.tensor(ids, device=enc.audio.device)]
        feats = self.segment_head(torch.cat([enc.audio, enc.visual], dim=-1))
        return feats @ emb.t() / math.sqrt(self.d_model)

    def _segment_loss(self, task: str, enc: Encoded, batch: Mapping[str, Any]) -> torch.Tensor:
        logits = self.segment_logits(task, enc).float()
        target = batch["segment_target"]
        if task == "ave":  # one class per segment (28 = background)
            return F.cross_entropy(logits.flatten(0, 1), target.flatten().long())
        return F.binary_cross_entropy_with_logits(logits, target.float())  # AVSS: classes present per frame

    def world_logits(self, enc: Encoded) -> torch.Tensor:
        """(B, T, W) scores of each segment against the world-category embeddings (the part
        of a class token's embedding that every benchmark naming the category shares)."""
        if self.decoder.world_embed is None:
            raise ValueError("model.loss.world needs model.decoder.share_world_classes: true")
        feats = self.segment_head(torch.cat([enc.audio, enc.visual], dim=-1))
        return feats @ self.decoder.world_embed.weight.t() / math.sqrt(self.d_model)

    def _world_loss(self, enc: Encoded, batch: Mapping[str, Any]) -> torch.Tensor:
        """Cross-entropy of each labelled segment over the world categories, the target spread
        evenly over the segment's categories; segments naming none (background, silence) are
        left out. A softmax, not per-category BCE: with about 90 categories and one or two
        positives, BCE's gradient would be almost all "absent" (a design choice, not measured)."""
        logits = self.world_logits(enc).float()
        # the embedding has rows up to the last category a class token names (VGG-SS-only
        # categories have no token, so nothing to share)
        target = batch["world_target"].float()[..., : logits.shape[-1]]
        if batch["task"] == "llp":  # weak labels: one clip-level decision, max over time
            logits, target = logits.amax(dim=1, keepdim=True), target[:, :1]
        count = target.sum(dim=-1)
        labelled = count > 0
        if not bool(labelled.any()):
            return logits.sum() * 0.0
        soft = target[labelled] / count[labelled, None]
        return -(soft * F.log_softmax(logits[labelled], dim=-1)).sum(dim=-1).mean()

    def _mask_loss(self, task: str, enc: Encoded, batch: Mapping[str, Any]) -> torch.Tensor:
        target = batch["mask_target"]
        valid = batch.get("mask_valid")
        frames = None
        n = int(self.loss_cfg["mask_frames"])
        if 0 < n < target.shape[1]:
            # the dense head is the most expensive part of a mask step; a clip's frames are alike,
            # so a random subset per step trains it at a fraction of the cost (seeded: torch's RNG)
            frames = torch.randperm(target.shape[1])[:n].sort().values.to(target.device)
            target = target[:, frames]
            valid = None if valid is None else valid[:, frames]
        logits = self.mask_logits(task, enc, frames).float()
        if task == "avss" and self._avss_factored():
            # where: the sounding-vs-background score S4 and MS3 train too; what: the class,
            # learned on the sounding pixels only (not drowned by the background majority)
            per_frame = self._binary_mask_loss(logits[:, :, :2], target > 0)
            fg = target > 0
            ce = F.cross_entropy(logits[:, :, 2:].flatten(0, 1), (target.flatten(0, 1).long() - 1).clamp_min(0),
                                 reduction="none").view(fg.shape)
            per_frame = per_frame + (ce * fg).sum(dim=(2, 3)) / fg.sum(dim=(2, 3)).clamp_min(1)
        elif task == "avss":
            weight = torch.ones(logits.shape[2], device=logits.device)
            weight[0] = float(self.loss_cfg["mask_background_weight"])
            loss = F.cross_entropy(logits.flatten(0, 1), target.flatten(0, 1).long(), weight=weight, reduction="none")
            per_frame = loss.mean(dim=(1, 2)).view(target.shape[:2])
        else:
            per_frame = self._binary_mask_loss(logits, target)
        if valid is None:
            return per_frame.mean()
        valid = valid.float()
        return (per_frame * valid).sum() / valid.sum().clamp_min(1.0)

    def _binary_mask_loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(B, T) BCE + dice of ``<sounding>`` vs ``<background>`` (logits[:, :, 1] vs [:, :, 0])."""
        binary = logits[:, :, 1] - logits[:, :, 0]
        tgt = target.float()
        bce = F.binary_cross_entropy_with_logits(binary, tgt, reduction="none").mean(dim=(2, 3))
        prob = torch.sigmoid(binary)
        inter = (prob * tgt).sum(dim=(2, 3))
        dice = 1 - (2 * inter + 1) / (prob.sum(dim=(2, 3)) + tgt.sum(dim=(2, 3)) + 1)
        return bce + float(self.loss_cfg["dice"]) * dice

    # -- inference ------------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, batch: Mapping[str, Any], enc: Encoded | None = None) -> tuple[list[list[int]], Encoded]:
        task = batch["task"]
        enc = enc or self.encode(batch)
        b = enc.memory.shape[0]
        first = torch.full((b,), self.first_token(task), dtype=torch.long, device=enc.memory.device)
        tokens, _ = self.decoder.greedy(first, enc.memory, enc.memory_padding, self.grammar(task),
                                        self.codec.max_length(task))
        return tokens.tolist(), enc

    def calibrate_norm_stats(self, task: str, batches) -> None:
        """This task's BatchNorm statistics (model.task_norm_stats) from ``batches`` of its training clips."""

        def forward(batch: Mapping[str, Any]) -> None:
            enc = self.encode(batch)
            if task in MASK_HEAD_TASKS:  # the mask head's layers too
                self.mask_logits(task, enc)

        norm_stats.calibrate(self, task, forward, batches)

    @torch.no_grad()
    def predict(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        """The evaluator payload of the batch's task (numpy arrays / list of strings)."""
        task = batch["task"]
        own = norm_stats.task_statistics(self, task) if task in self.task_norm_tasks else contextlib.nullcontext()
        with own:
            return self._predict(batch)

    def _predict(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        task = batch["task"]
        seqs, enc = self.generate(batch)
        decoded = [self.codec.decode(task, s) for s in seqs]
        dc = self.decode_cfg
        if task in ("ave", "avqa"):
            return codec_payloads.payload(task, decoded)
        if task == "llp":
            frame_prob, head_global = self.parsing(enc.audio, enc.visual)
            out = codec_payloads.llp_payload(decoded, frame_prob.float().cpu().numpy())
            mode = dc["llp_global"]
            head = head_global.float().cpu().numpy()
            if mode == "head":
                out["global_prob"] = head
            elif mode == "union":  # a class is on when the decoder names it or the head scores it >= 0.5
                out["global_prob"] = np.maximum(out["global_prob"], head)
            elif mode == "head_or_world":  # ... or the world-category head names its category
                named = self._llp_world_probs(enc) >= float(dc["llp_world_threshold"])
                out["global_prob"] = np.maximum(head, named.astype(np.float32))
            elif mode != "tokens":
                raise ValueError(f"model.decode.llp_global must be tokens|head|union|head_or_world, got {mode!r}")
            return out
        if task == "vggss":
            return {"heatmaps": self._vggss_heatmaps(decoded, enc)}
        logits = self.mask_logits(task, enc).float()
        if task == "avss":
            return {"labels": self._avss_labels(decoded, enc, logits)}
        binary = logits[:, :, 1] - logits[:, :, 0]
        up = F.interpolate(binary, size=(MASK_SIZE, MASK_SIZE), mode="bilinear", align_corners=False)
        if task in self._gated():
            on = torch.from_numpy(np.stack([d["frames"] for d in decoded])).to(up.device)
            up = torch.where(on[:, :, None, None], up, torch.full_like(up, -codec_payloads.BINARY_LOGIT))
        return {"logits": up.cpu().numpy().astype(np.float32)}

    def _gated(self) -> tuple[str, ...]:
        return tuple(self.decode_cfg["mask_gate"])

    def _vggss_heatmaps(self, decoded: list[dict[str, Any]], enc: Encoded) -> np.ndarray:
        mode = self.decode_cfg["vggss_heatmap"]
        prob = torch.sigmoid(enc.map_logits[:, 0].float())[:, None]
        attention = F.interpolate(prob, size=(MASK_SIZE, MASK_SIZE), mode="bilinear", align_corners=False)[:, 0]
        attention = attention.cpu().numpy()
        if mode == "map":
            return attention.astype(np.float32)
        if mode == "mask":  # the sounding-object mask head, ties broken by the guidance map
            logits = self.mask_logits("vggss", enc).float()
            binary = (logits[:, :, 1] - logits[:, :, 0])[:, :1]
            up = F.interpolate(torch.sigmoid(binary), size=(MASK_SIZE, MASK_SIZE), mode="bilinear",
                               align_corners=False)[:, 0].cpu().numpy()
            return (up + 1e-3 * attention).astype(np.float32)
        boxes = np.stack([P.boxes_to_heatmap(d["boxes"], MASK_SIZE) for d in decoded])
        if mode == "boxes":
            return boxes.astype(np.float32)
        return (boxes + 0.5 * attention).astype(np.float32)

    def _avss_presence(self, decoded: list[dict[str, Any]], enc: Encoded) -> np.ndarray | None:
        """(B, T, K) classes allowed in each frame (index 0 = background), or None: every class
        the mask head's own per-pixel argmax names (``model.decode.avss_classes``)."""
        source = self.decode_cfg["avss_classes"]
        if source == "tokens":  # the classes the decoder names per frame
            return np.stack([d["present"] for d in decoded]).astype(bool)
        if source == "world_top1":  # the world-category head's best category among AVSS's classes
            scores = self._avss_world_scores(enc).cpu().numpy()
            present = np.zeros((*scores.shape[:2], scores.shape[2] + 1), dtype=bool)
            np.put_along_axis(present[..., 1:], scores.argmax(axis=2)[..., None], True, axis=2)
            return present
        if source in ("segment", "segment_top1", "tokens_top1"):  # the per-frame class head (the segment loss)
            prob = torch.sigmoid(self.segment_logits("avss", enc).float()).cpu().numpy()
            present = np.zeros((*prob.shape[:2], prob.shape[2] + 1), dtype=bool)
            if source == "segment":
                present[..., 1:] = prob >= 0.5
            else:  # its most probable class: every sounding pixel of the frame takes it
                np.put_along_axis(present[..., 1:], prob.argmax(axis=2)[..., None], True, axis=2)
            if source == "tokens_top1":  # ... in the frames the decoder names (any class) only
                named = np.stack([d["present"] for d in decoded]).astype(bool)[..., 1:].any(axis=2)
                present &= named[..., None]
            return present
        if source == "pixels":
            return None
        raise ValueError(f"model.decode.avss_classes must be tokens|segment|segment_top1|tokens_top1|world_top1|pixels, "
                         f"got {source!r}")

    def _world_columns(self, benchmark: str) -> list[int]:
        """For each class of the benchmark (codec order), the index of its world category."""
        from avu.data import world

        cats, names = world.categories(), world.class_map(benchmark)
        return [cats.index(names[c]) for c in getattr(self.codec.classes, benchmark)]

    def _llp_world_probs(self, enc: Encoded) -> np.ndarray:
        """(B, 25) probability of each LLP class's world category in the clip: the softmax over all
        categories of the world head's scores, maximum over time first (as its LLP loss)."""
        prob = self.world_logits(enc).float().amax(dim=1).softmax(dim=-1)
        return prob[:, self._world_columns("llp")].cpu().numpy()

    def _avss_world_scores(self, enc: Encoded) -> torch.Tensor:
        """(B, T, 70) world-category scores of each frame, one column per AVSS class (its category's)."""
        return self.world_logits(enc).float()[..., self._world_columns("avss")]

    def _avss_labels(self, decoded: list[dict[str, Any]], enc: Encoded, logits: torch.Tensor) -> np.ndarray:
        """(B, T, 224, 224) AVSS labels. Softmax form: per pixel, the argmax over background and
        the frame's allowed classes. Factored form: the sounding pixels (``<sounding>`` score
        above ``<background>``) take the argmax of the allowed classes, the rest is background."""
        b, t = logits.shape[:2]
        present = self._avss_presence(decoded, enc) if "avss" in self._gated() else None
        if self._avss_factored():
            binary = logits[:, :, 1] - logits[:, :, 0]
            sounding = F.interpolate(binary, size=(MASK_SIZE, MASK_SIZE), mode="bilinear", align_corners=False) > 0
            # label-aligned scores: index 0 (background) is decided by ``sounding``, never by argmax
            scores = torch.cat([torch.full_like(logits[:, :, :1], float("-inf")), logits[:, :, 2:]], dim=2)
            candidates = scores.argmax(dim=2)
        else:
            sounding, scores, candidates = None, logits, logits.argmax(dim=2)
        out = np.zeros((b, t, MASK_SIZE, MASK_SIZE), dtype=np.uint8)
        for n in range(b):
            for f in range(t):
                if present is not None:
                    allowed = np.flatnonzero(present[n, f][1:]) + 1
                else:  # the classes the low-resolution argmax names
                    allowed = [c for c in candidates[n, f].unique().tolist() if c > 0]
                if len(allowed) == 0 or (sounding is not None and not bool(sounding[n, f].any())):
                    continue
                sel = torch.tensor([0, *allowed] if sounding is None else list(allowed), device=logits.device)
                up = F.interpolate(scores[n, f, sel][None], size=(MASK_SIZE, MASK_SIZE), mode="bilinear",
                                   align_corners=False)[0]
                label = sel[up.argmax(dim=0)]
                if sounding is not None:
                    label = torch.where(sounding[n, f], label, torch.zeros_like(label))
                out[n, f] = label.cpu().numpy().astype(np.uint8)
        return out


def build_model(model_cfg: Mapping[str, Any], codec: TokenCodec | None = None) -> AVUnified:
    """The model for ``cfg.model`` (a mapping, e.g. an OmegaConf node); the codec from
    ``model_cfg.codec`` and the benchmarks' class lists unless given."""
    from omegaconf import DictConfig, OmegaConf

    if isinstance(model_cfg, DictConfig):
        model_cfg = OmegaConf.to_container(model_cfg, resolve=True)
    if codec is None:
        from avu.codec import build_codec

        codec = build_codec(model_cfg["codec"])
    return AVUnified(model_cfg, codec)


__all__ = ["AVUnified", "Encoded", "build_model", "model_geometry", "count_parameters", "MASK_TASKS", "GUIDED_TASKS",
           "MASK_HEAD_TASKS", "SEGMENT_TASKS"]
