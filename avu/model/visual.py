"""Visual encoders that keep a patch grid: a small CNN (CPU config), a torchvision backbone
(resnet18 / vit_b_16, optional LOCAL weights file, never downloaded), or pre-extracted features.

Output: ``grid`` (B, T, h, w, d) patch tokens, and ``skip`` (B*T, C, H', W') a finer feature
map for the mask head (None when the encoder has none).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from avu.errors import AvuInputError
from avu.model.layers import conv_block

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class _Normalise(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        if frames.dtype == torch.uint8:
            frames = frames.float() / 255.0
        return (frames.float() - self.mean) / self.std


class SmallCNN(nn.Module):
    """A patchify stem (``stem`` x ``stem`` conv with the same stride), a 3x3 block, then
    one stride-2 stage per further channel count. The grid is the last stage; the skip (mask
    features) the stage before. Cheap on CPU: no full-resolution activations."""

    def __init__(self, d_model: int, channels: tuple[int, ...] = (32, 64), norm: str = "bn", stem: int = 4) -> None:
        super().__init__()
        self.norm = _Normalise()
        norm_layer = nn.BatchNorm2d(channels[0]) if norm == "bn" else nn.GroupNorm(min(8, channels[0]), channels[0])
        stages = [nn.Sequential(nn.Conv2d(3, channels[0], stem, stem, bias=False), norm_layer, nn.ReLU(inplace=True),
                                conv_block(channels[0], channels[0], norm=norm))]
        for cin, c in zip(channels[:-1], channels[1:]):
            stages.append(nn.Sequential(conv_block(cin, c, stride=2, norm=norm), conv_block(c, c, norm=norm)))
        self.stages = nn.ModuleList(stages)
        self.proj = nn.Conv2d(channels[-1], d_model, 1)
        self.skip_channels = channels[-2] if len(channels) > 1 else channels[-1]
        self.stride = stem * 2 ** (len(channels) - 1)

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.norm(frames)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        skip = feats[-2] if len(feats) > 1 else feats[-1]
        return self.proj(x), skip


def _load_local_weights(module: nn.Module, path: str | None) -> None:
    if not path:
        return
    p = Path(path).expanduser()
    if not p.is_file():
        raise AvuInputError(p, "model.visual.weights", "backbone weights file not found (weights are never downloaded)")
    state = torch.load(p, map_location="cpu", weights_only=True)
    state = state.get("state_dict", state) if isinstance(state, dict) else state
    missing, unexpected = module.load_state_dict(state, strict=False)
    bad = [k for k in missing if not k.startswith(("fc.", "heads."))]
    if bad:
        raise AvuInputError(p, "model.visual.weights", f"{len(bad)} backbone parameters missing, e.g. {bad[0]}")


class ResNetBackbone(nn.Module):
    """torchvision ResNet (no classifier): grid from layer4 (stride 32), skip from layer2."""

    def __init__(self, name: str, d_model: int, weights: str | None = None) -> None:
        super().__init__()
        import torchvision

        net = getattr(torchvision.models, name)(weights=None)
        _load_local_weights(net, weights)
        self.norm = _Normalise()
        self.stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2)
        self.tail = nn.Sequential(net.layer3, net.layer4)
        out = net.fc.in_features
        self.proj = nn.Conv2d(out, d_model, 1)
        last = net.layer2[-1]
        self.skip_channels = (last.conv3 if hasattr(last, "conv3") else last.conv2).out_channels
        self.stride = 32

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.norm(frames)
        if x.is_cuda:
            x = x.contiguous(memory_format=torch.channels_last)
        skip = self.stem(x)
        return self.proj(self.tail(skip)), skip


class ViTBackbone(nn.Module):
    """torchvision VisionTransformer patch tokens (class token dropped) as a grid; no skip."""

    def __init__(self, name: str, d_model: int, image_size: int, weights: str | None = None) -> None:
        super().__init__()
        import torchvision

        net = getattr(torchvision.models, name)(weights=None, image_size=image_size)
        _load_local_weights(net, weights)
        self.net = net
        self.norm = _Normalise()
        self.proj = nn.Identity() if net.hidden_dim == d_model else nn.Linear(net.hidden_dim, d_model)
        self.skip_channels = 0
        self.stride = net.patch_size

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, None]:
        x = self.net._process_input(self.norm(frames))
        cls = self.net.class_token.expand(x.shape[0], -1, -1).to(x.dtype)
        enc = self.net.encoder
        # torchvision's Encoder adds its fp32 position embedding, which turns the residual stream
        # into fp32 under autocast; cast it so the stream stays in the compute dtype (bf16 on GPU:
        # half the memory traffic of the fused residual / LayerNorm kernels)
        x = torch.cat([cls, x], dim=1) + enc.pos_embedding.to(x.dtype)
        x = enc.ln(enc.layers(enc.dropout(x)))[:, 1:]
        n = frames.shape[-1] // self.stride
        x = self.proj(x)
        return x.transpose(1, 2).reshape(x.shape[0], -1, frames.shape[-2] // self.stride, n), None


class VisualFeatureProjector(nn.Module):
    """Pre-extracted features (B*T, Dv) or (B*T, h, w, Dv) -> a (d, h, w) grid."""

    def __init__(self, in_dim: int, d_model: int) -> None:
        super().__init__()
        self.proj = nn.Sequential(nn.LayerNorm(in_dim), nn.Linear(in_dim, d_model))
        self.skip_channels = 0
        self.stride = 1

    def forward(self, feats: torch.Tensor) -> tuple[torch.Tensor, None]:
        if feats.dim() == 2:
            feats = feats[:, None, None, :]
        return self.proj(feats.float()).permute(0, 3, 1, 2), None


class VisualEncoder(nn.Module):
    """Frames (B, T, 3, H, W) or features -> grid (B, T, h, w, d) and skip (B*T, C, H', W')."""

    def __init__(self, cfg: Mapping[str, Any], d_model: int) -> None:
        super().__init__()
        kind = cfg["kind"]
        self.kind = kind
        if kind == "cnn":
            self.backbone = SmallCNN(d_model, tuple(cfg["channels"]), cfg["norm"], int(cfg["stem"]))
        elif kind == "torchvision":
            name = cfg["backbone"]
            if name.startswith("vit"):
                self.backbone = ViTBackbone(name, d_model, int(cfg["input_size"]), cfg["weights"])
            else:
                self.backbone = ResNetBackbone(name, d_model, cfg["weights"])
        elif kind == "features":
            self.backbone = VisualFeatureProjector(int(cfg["feature_dim"]), d_model)
        else:
            raise ValueError(f"model.visual.kind must be cnn|torchvision|features, got {kind!r}")
        self.skip_channels = self.backbone.skip_channels
        self.frozen = bool(cfg["freeze"])
        if self.frozen:
            for p in self.backbone.parameters():
                p.requires_grad_(False)

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        b, t = frames.shape[:2]
        flat = frames.reshape(b * t, *frames.shape[2:])
        grid, skip = self.backbone(flat)
        d, h, w = grid.shape[1:]
        return grid.permute(0, 2, 3, 1).reshape(b, t, h, w, d), skip


def resize_frames(frames: torch.Tensor, size: int) -> torch.Tensor:
    """(N, T, 3, H, W) -> (N, T, 3, size, size), area-averaged down / bilinear up."""
    n, t = frames.shape[:2]
    x = frames.reshape(n * t, *frames.shape[2:]).float()
    if x.shape[-1] == size and x.shape[-2] == size:
        return frames
    mode = "area" if x.shape[-1] > size else "bilinear"
    x = F.interpolate(x, size=(size, size), mode=mode, **({} if mode == "area" else {"align_corners": False}))
    return x.reshape(n, t, 3, size, size)
