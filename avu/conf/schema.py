"""The schema of the training config: one dataclass per section, registered in Hydra's
ConfigStore as ``schema``, the first entry of ``config.yaml``'s defaults list.

Every config file and override is merged onto it, so a key it lacks (``train.stesp=5``) or a
value of the wrong type (``train.steps=abc``) stops composition. It holds types only: every
value, default included, lives in the YAML files of the groups (``avu/conf/<group>/``).
Experiments and ablations (``@package _global_``) are checked against `Config` itself.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

# OmegaConf reads the annotations: typing's Dict, List and Optional (no `X | None`, no postponed annotations)


@dataclass
class Mel:
    sample_rate: int = MISSING
    n_fft: int = MISSING
    hop: int = MISSING
    n_mels: int = MISSING


@dataclass
class Audio:
    kind: str = MISSING
    channels: List[int] = MISSING
    norm: str = MISSING
    mel: Mel = field(default_factory=Mel)
    feature_dim: int = MISSING


@dataclass
class Visual:
    kind: str = MISSING
    input_size: int = MISSING
    stem: int = MISSING
    channels: List[int] = MISSING
    norm: str = MISSING
    backbone: str = MISSING
    weights: Optional[str] = MISSING
    freeze: bool = MISSING
    feature_dim: int = MISSING
    grid: int = MISSING


@dataclass
class Spatial:
    enabled: bool = MISSING
    heads: int = MISSING
    key_dim: int = MISSING
    audio_grad: float = MISSING


@dataclass
class Temporal:
    enabled: bool = MISSING
    scales: List[int] = MISSING
    depth: int = MISSING


@dataclass
class Prompt:
    enabled: bool = MISSING
    buckets: int = MISSING
    max_words: int = MISSING
    depth: int = MISSING
    texts: Dict[str, str] = MISSING
    world_words: bool = MISSING


@dataclass
class Memory:
    patch_grid: int = MISSING
    depth: int = MISSING


@dataclass
class Decoder:
    depth: int = MISSING
    max_len: int = MISSING
    vocab_pad_to: int = MISSING
    share_world_classes: bool = MISSING


@dataclass
class MaskHead:
    dim: int = MISSING
    upsample: int = MISSING
    vggss_region: str = MISSING


@dataclass
class Codec:
    """The keys of `avu.codec.CodecSettings` (built from this section)."""

    coord_bins: int = MISSING
    mask_grid: int = MISSING
    mask_form: str = MISSING
    llp_form: str = MISSING
    max_boxes: int = MISSING
    max_spans: int = MISSING
    max_llp_classes: int = MISSING
    max_frame_classes: int = MISSING


@dataclass
class Loss:
    tokens: float = MISSING
    restrict_vocabulary: bool = MISSING
    label_smoothing: float = MISSING
    parsing: float = MISSING
    segment: float = MISSING
    world: float = MISSING
    guide: float = MISSING
    mask: float = MISSING
    mask_frames: int = MISSING
    mask_background_weight: float = MISSING
    avss_mask: str = MISSING
    dice: float = MISSING


@dataclass
class Decode:
    vggss_heatmap: str = MISSING
    llp_global: str = MISSING
    llp_world_threshold: float = MISSING
    mask_gate: List[str] = MISSING
    avss_classes: str = MISSING


@dataclass
class TaskNormStats:
    enabled: bool = MISSING
    clips: int = MISSING
    tasks: List[str] = MISSING


@dataclass
class Model:
    """The ``model`` group (``avu/conf/model/``)."""

    name: str = MISSING
    d_model: int = MISSING
    heads: int = MISSING
    dropout: float = MISSING
    modalities: List[str] = MISSING
    audio: Audio = field(default_factory=Audio)
    visual: Visual = field(default_factory=Visual)
    spatial: Spatial = field(default_factory=Spatial)
    temporal: Temporal = field(default_factory=Temporal)
    prompt: Prompt = field(default_factory=Prompt)
    memory: Memory = field(default_factory=Memory)
    decoder: Decoder = field(default_factory=Decoder)
    mask_head: MaskHead = field(default_factory=MaskHead)
    codec: Codec = field(default_factory=Codec)
    loss: Loss = field(default_factory=Loss)
    decode: Decode = field(default_factory=Decode)
    task_norm_stats: TaskNormStats = field(default_factory=TaskNormStats)


@dataclass
class Generate:
    enabled: bool = MISSING
    size: str = MISSING
    seed: int = MISSING


@dataclass
class Sampling:
    mode: str = MISSING
    temperature: float = MISSING


@dataclass
class Data:
    """The ``data`` group (``avu/conf/data/``)."""

    root: str = MISSING
    generate: Generate = field(default_factory=Generate)
    mode: str = MISSING
    frame_size: int = MISSING
    train_split: str = MISSING
    eval_split: str = MISSING
    sampling: Sampling = field(default_factory=Sampling)


@dataclass
class Train:
    """The ``train`` group (``avu/conf/train/``)."""

    device: str = MISSING
    threads: Optional[int] = MISSING
    batch_size: int = MISSING
    steps: int = MISSING
    lr: float = MISSING
    min_lr_ratio: float = MISSING
    weight_decay: float = MISSING
    warmup_steps: int = MISSING
    grad_clip: float = MISSING
    fused_optimizer: bool = MISSING
    ema_decay: float = MISSING
    grad_mode: str = MISSING
    amp: str = MISSING
    compile: bool = MISSING
    checkpoint_every: int = MISSING
    keep_checkpoints: int = MISSING
    resume: str = MISSING
    eval_batch_size: int = MISSING
    evaluate: bool = MISSING
    write_predictions: bool = MISSING
    progress: bool = MISSING
    log_every: int = MISSING
    deterministic: bool = MISSING
    backend: str = MISSING


@dataclass
class Task:
    """One file of the ``task`` group (``avu/conf/task/``), at ``tasks.<benchmark>``."""

    weight: float = MISSING
    loss_weight: float = MISSING


@dataclass
class Paths:
    runs: str = MISSING
    cache: Optional[str] = MISSING


@dataclass
class Config:
    """The composed config: ``config.yaml``, the groups, and the ``experiment`` and ``ablation``
    files (``@package _global_``), which set keys of this level and below."""

    experiment_name: str = MISSING
    run_name: str = MISSING
    seed: int = MISSING
    ablation_name: str = MISSING
    ablation_suffix: str = MISSING
    paths: Paths = field(default_factory=Paths)
    model: Model = field(default_factory=Model)
    data: Data = field(default_factory=Data)
    train: Train = field(default_factory=Train)
    tasks: Dict[str, Task] = field(default_factory=dict)


ConfigStore.instance().store(name="schema", node=Config)
