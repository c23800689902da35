"""The world-category loss: every labelled task's targets name its sounding category in the one
world, and the loss trains the shared category embeddings (avu.train.targets, model.loss.world)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avu.data import world
from avu.train.targets import train_targets, world_categories

def _names(target: np.ndarray) -> list[set[str]]:
    cats = world.categories()
    return [{cats[i] for i in np.flatnonzero(row)} for row in target]


def test_ave_segments_name_their_event_category_and_background_none(codec):
    bark = list(codec.classes.ave).index("Bark")
    labels = np.full(10, len(codec.classes.ave), dtype=np.int64)
    labels[3:6] = bark
    rows = _names(world_categories("ave", {"labels": labels}, codec))
    assert rows[3:6] == [{"dog"}] * 3 and rows[:3] == [set()] * 3 and rows[6:] == [set()] * 4


def test_llp_weak_labels_name_every_segment_and_are_pooled(codec, model_cfg):
    from avu.model import build_model
    from avu.model.avunified import model_geometry
    from avu.train.batches import collate, example_batch

    video = np.zeros(len(codec.classes.llp), dtype=np.float32)
    video[list(codec.classes.llp).index("Dog")] = 1
    video[list(codec.classes.llp).index("Speech")] = 1
    out = train_targets("llp", {"video_labels": video}, codec, model_geometry(model_cfg()["model"]))
    assert _names(out["world_target"]) == [{world.category_of("llp", "Dog"), world.category_of("llp", "Speech")}] * 10
    # the loss pools LLP over time: one clip-level decision on the segments' maximum scores
    cfg = model_cfg()
    torch.manual_seed(0)
    model = build_model(cfg["model"])
    batch = example_batch(cfg, 2, task="llp", model=model)
    batch["world_target"] = collate("llp", [out, out], codec.pad)["world_target"]
    enc = model.encode(batch)
    clip = model.world_logits(enc).float().amax(dim=1)
    target = batch["world_target"][:, 0, : clip.shape[-1]]
    expected = -(target / target.sum(-1, keepdim=True) * torch.log_softmax(clip, -1)).sum(-1).mean()
    assert torch.allclose(model._world_loss(enc, batch), expected)


@pytest.mark.parametrize("task, name", [("vggss", "dog barking"), ("avs_s4", "dog_barking")])
def test_one_class_clips_name_their_category_in_every_segment(codec, task, name):
    rows = _names(world_categories(task, {"class": name}, codec))
    assert rows and all(r == {world.category_of(task, name)} for r in rows)


def test_avss_frames_name_the_categories_of_their_pixels(codec):
    labels = np.zeros((10, 8, 8), dtype=np.uint8)
    dog = list(codec.classes.avss).index("dog") + 1
    labels[2, :4] = dog
    rows = _names(world_categories("avss", {"labels": labels}, codec))
    assert rows[2] == {world.category_of("avss", "dog")} and all(r == set() for k, r in enumerate(rows) if k != 2)


@pytest.mark.parametrize("task", ["avs_ms3", "avqa"])
def test_tasks_naming_no_category_carry_no_world_target(codec, task):
    assert world_categories(task, {}, codec) is None


def test_the_world_loss_trains_the_shared_embeddings_and_switches_off(model_cfg):
    from avu.model import build_model
    from avu.train.batches import example_batch

    cfg = model_cfg()
    assert cfg["model"]["loss"]["world"] > 0, "on by default (docs/design.md)"
    torch.manual_seed(0)
    model = build_model(cfg["model"])
    batch = example_batch(cfg, 2, task="ave", model=model)
    loss, parts = model.training_loss(batch)
    assert "world" in parts and torch.isfinite(parts["world"])
    loss.backward()
    assert model.decoder.world_embed.weight.grad.abs().sum() > 0
    off = model_cfg("model.loss.world=0")
    model = build_model(off["model"])
    assert "world" not in model.training_loss(example_batch(off, 2, task="ave", model=model))[1]


def test_the_world_loss_needs_shared_class_embeddings(model_cfg):
    from avu.model import build_model
    from avu.train.batches import example_batch

    cfg = model_cfg("model.loss.world=1.0", "model.decoder.share_world_classes=false", "model.prompt.world_words=false")
    model = build_model(cfg["model"])
    with pytest.raises(ValueError, match="share_world_classes"):
        model.training_loss(example_batch(cfg, 2, task="ave", model=model))
