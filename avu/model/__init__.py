"""The AV-Unified model: encoders, multi-scale temporal and audio-guided spatial perception,
task prompts, a token decoder and dense heads (see docs/design.md).

Public API: `build_model(model_cfg)` -> `AVUnified` with `training_loss(batch)` and
`predict(batch)`; `avu.train.example_batch` makes a batch of the right shapes.
"""

from avu.model.avunified import AVUnified, Encoded, build_model, count_parameters, model_geometry

__all__ = ["AVUnified", "Encoded", "build_model", "count_parameters", "model_geometry"]
