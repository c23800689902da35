"""The model: every task trains (finite loss, gradients) and predicts payloads of the evaluator
shapes; every ablation builds and runs; geometry matches the tensors; the real configs build."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avu import BENCHMARK_IDS
from avu.model import build_model, count_parameters, model_geometry
from avu.train import example_batch, train_step

PAYLOAD_SHAPES = {
    "ave": {"labels": (3, 10)},
    "llp": {"global_prob": (3, 25), "frame_prob": (3, 10, 2, 25)},
    "vggss": {"heatmaps": (3, 224, 224)},
    "avs_s4": {"logits": (3, 5, 224, 224)},
    "avs_ms3": {"logits": (3, 5, 224, 224)},
    "avss": {"labels": (3, 10, 224, 224)},
    "avqa": {"answers": 3},
}


@pytest.fixture(scope="module")
def tiny_model():
    from avu.conf import compose

    cfg = compose()
    torch.manual_seed(0)
    return cfg, build_model(cfg.model)


@pytest.mark.parametrize("task", BENCHMARK_IDS)
def test_every_task_trains_and_predicts_evaluator_payloads(tiny_model, task):
    cfg, model = tiny_model
    batch = example_batch(cfg, 3, "cpu", task=task, model=model)
    model.train()
    model.zero_grad()
    loss, parts = model.training_loss(batch)
    assert torch.isfinite(loss) and "tokens" in parts
    loss.backward()
    grads = [p.grad for p in model.decoder.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    if task in ("avs_s4", "avs_ms3", "avss"):
        assert "mask" in parts and "guide" in parts
        assert model.mask_head.classes.weight.grad is not None
    if task == "llp":
        assert "parsing" in parts
    model.eval()
    out = model.predict(batch)
    got = {k: (len(v) if isinstance(v, list) else v.shape) for k, v in out.items()}
    assert got == PAYLOAD_SHAPES[task]
    for v in out.values():
        if isinstance(v, np.ndarray) and v.dtype.kind == "f":
            assert np.isfinite(v).all()
    if task == "avss":
        assert out["labels"].dtype == np.uint8 and out["labels"].max() <= 70
    if task == "avqa":
        assert all(a in model.codec.classes.ans for a in out["answers"])


def test_generated_sequences_follow_the_grammar(tiny_model):
    cfg, model = tiny_model
    model.eval()
    for task in BENCHMARK_IDS:
        batch = example_batch(cfg, 4, "cpu", task=task, model=model)
        seqs, _ = model.generate(batch)
        grammar = model.grammar(task)
        for seq in seqs:
            assert seq[0] == model.codec.task_id(task)
            assert len(seq) <= model.codec.max_length(task)
            assert grammar.accepts(model.codec.body(task, seq)), model.codec.tokens(seq)


def test_geometry_matches_the_tensors(tiny_model):
    cfg, model = tiny_model
    geo = model_geometry(cfg.model)
    batch = example_batch(cfg, 2, "cpu", task="avs_s4", model=model)
    model.eval()
    with torch.no_grad():
        enc = model.encode(batch)
        logits = model.mask_logits("avs_s4", enc)
    assert enc.map_logits.shape == (2, 5, geo["grid"], geo["grid"])
    assert logits.shape == (2, 5, 2, geo["mask"], geo["mask"])
    assert batch["frames"].shape[-1] == geo["frame"]


def test_one_train_step_changes_the_weights(tiny_model):
    cfg, _ = tiny_model
    torch.manual_seed(0)
    model = build_model(cfg.model)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    before = model.decoder.embed.weight.detach().clone()
    loss = train_step(model, opt, example_batch(cfg, 2, "cpu", task="ave", model=model))
    assert torch.isfinite(loss)
    assert not torch.equal(before, model.decoder.embed.weight)


@pytest.mark.parametrize("ablation", ["no_temporal", "no_spatial", "no_prompts", "audio_only", "visual_only"])
def test_ablations_build_train_and_predict(model_cfg, ablation):
    cfg = model_cfg(f"ablation={ablation}")
    torch.manual_seed(0)
    model = build_model(cfg.model)
    if ablation == "audio_only":
        assert model.visual_encoder is None
    if ablation == "visual_only":
        assert model.audio_encoder is None and not model.spatial.guided
    if ablation == "no_spatial":
        assert not model.spatial.guided and model.spatial.film is None
    if ablation == "no_temporal":
        assert not model.temporal.enabled
    for task in ("ave", "vggss", "avss", "avqa"):
        batch = example_batch(cfg, 2, "cpu", task=task, model=model)
        model.train()
        loss, _ = model.training_loss(batch)
        loss.backward()
        model.eval()
        model.predict(batch)
    if ablation == "no_prompts":
        assert model.first_token("ave") == model.codec.bos
        words = model.text_ids("ave", None, 1)
        assert int((words != 0).sum()) == 0


def test_no_prompts_keeps_the_avqa_question(model_cfg):
    model = build_model(model_cfg("ablation=no_prompts").model)
    ids = model.text_ids("avqa", ["how many violins are sounding"], 1)
    assert int((ids != 0).sum()) == 5


def test_example_batch_without_a_model(model_cfg):
    cfg = model_cfg()
    batch = example_batch(cfg, 2, "cpu", task="vggss")
    geo = model_geometry(cfg.model)
    assert batch["frames"].shape == (2, 1, 3, geo["frame"], geo["frame"])
    assert batch["audio"].shape[:3] == (2, 1, cfg.model.audio.mel.n_mels)
    assert batch["tokens"][:, 0].eq(build_model(cfg.model).codec.task_id("vggss")).all()


@pytest.mark.parametrize("name", ["real", "real_resnet18"])
def test_real_configs_build_and_run_at_a_small_input(model_cfg, name):
    """The GPU configurations (ViT-B/16 or ResNet-18 at 224) build; run here at 64 px for speed."""
    cfg = model_cfg(f"model={name}", "model.visual.input_size=64")
    torch.manual_seed(0)
    model = build_model(cfg.model)
    assert cfg.model.d_model % 128 == 0 and count_parameters(model) > 30e6
    assert model.decoder.embed.weight.shape[0] % 128 == 0  # vocabulary padded for Hopper tiles
    batch = example_batch(cfg, 1, "cpu", task="vggss", model=model)
    loss, _ = model.training_loss(batch)
    assert torch.isfinite(loss)


def test_features_config_uses_pre_extracted_inputs(model_cfg):
    cfg = model_cfg("model=features")
    model = build_model(cfg.model)
    batch = example_batch(cfg, 2, "cpu", task="ave", model=model)
    assert batch["visual_feat"].shape == (2, 10, 7, 7, 512) and batch["audio_feat"].shape == (2, 10, 128)
    loss, _ = model.training_loss(batch)
    assert torch.isfinite(loss)
    model.eval()
    assert model.predict(batch)["labels"].shape == (2, 10)


def test_missing_local_weights_is_a_one_line_error(model_cfg, tmp_path):
    from avu.errors import AvuInputError

    cfg = model_cfg("model=real_resnet18", f"model.visual.weights={tmp_path / 'missing.pth'}")
    with pytest.raises(AvuInputError, match="never downloaded"):
        build_model(cfg.model)


@pytest.mark.parametrize("form", ["softmax", "factored"])
@pytest.mark.parametrize("source", ["tokens", "segment", "segment_top1", "tokens_top1", "world_top1", "pixels"])
def test_avss_mask_forms_and_class_sources(model_cfg, form, source):
    cfg = model_cfg(f"model.loss.avss_mask={form}", f"model.decode.avss_classes={source}")
    torch.manual_seed(0)
    model = build_model(cfg.model)
    batch = example_batch(cfg, 2, "cpu", task="avss", model=model)
    model.train()
    loss, parts = model.training_loss(batch)
    loss.backward()
    assert torch.isfinite(parts["mask"])
    # factored: the <sounding> token (shared with S4/MS3) is one of the AVSS mask classes
    sounding = model.decoder.embed.weight.grad[model.codec.sounding]
    assert bool(sounding.abs().sum() > 0) == (form == "factored")
    model.eval()
    labels = model.predict(batch)["labels"]
    assert labels.shape == (2, 10, 224, 224) and labels.dtype == np.uint8 and labels.max() <= 70


@pytest.mark.parametrize("region", ["sounding", "box"])
def test_vggss_mask_class_is_its_own_or_the_shared_sounding_one(model_cfg, region):
    """vggss_region=box trains VGG-SS's own <box> mask class and leaves <sounding> to S4/MS3/AVSS."""
    cfg = model_cfg(f"model.mask_head.vggss_region={region}")
    torch.manual_seed(0)
    model = build_model(cfg.model)
    batch = example_batch(cfg, 2, "cpu", task="vggss", model=model)
    model.train()
    model.mask_logits("vggss", model.encode(batch)).sum().backward()
    grad = model.decoder.embed.weight.grad
    trained = {name for name in ("sounding", "box") if grad[getattr(model.codec, name)].abs().sum() > 0}
    assert trained == {region}
    model.eval()
    heat = model.predict(batch)["heatmaps"]
    assert heat.shape[0] == 2 and np.isfinite(heat).all()


def test_a_config_from_before_vggss_region_keeps_the_shared_class(model_cfg):
    """A checkpoint recorded before the setting existed trained VGG-SS on <sounding>."""
    from omegaconf import OmegaConf

    cfg = OmegaConf.to_container(model_cfg().model, resolve=True)
    del cfg["mask_head"]["vggss_region"]
    model = build_model(cfg)
    assert model._mask_class_ids("vggss").tolist() == [model.codec.background, model.codec.sounding]


def test_unknown_vggss_region_is_refused(model_cfg):
    cfg = model_cfg("model.mask_head.vggss_region=boxes")
    with pytest.raises(ValueError, match=r"vggss_region must be sounding\|box"):
        build_model(cfg.model)


def test_factored_avss_labels_are_the_sounding_pixels_classes(model_cfg):
    """Sounding pixels take the best allowed class; the rest is background."""
    cfg = model_cfg("model.loss.avss_mask=factored", "model.decode.mask_gate=[]")
    model = build_model(cfg.model)
    h = model.mask_size
    logits = torch.full((1, 1, 72, h, h), -5.0)
    logits[0, 0, 0] = 1.0                      # background everywhere ...
    logits[0, 0, 1, : h // 2] = 3.0            # ... but the top half sounds
    logits[0, 0, 2 + 6] = 2.0                  # class 7 scores best everywhere
    labels = model._avss_labels([{}], None, logits)[0, 0]
    assert set(np.unique(labels[:100])) == {7} and set(np.unique(labels[124:])) == {0}


def test_count_parameters_counts_elements_and_the_trainable_ones():
    layer = torch.nn.Linear(3, 2)
    layer.bias.requires_grad_(False)
    assert count_parameters(layer) == 8 and count_parameters(layer, trainable_only=True) == 6


def test_avss_world_top1_takes_each_frames_best_world_category_among_avss_classes(model_cfg):
    """decode.avss_classes=world_top1: a frame's class is the AVSS class whose world category the
    world-category head (trained by five tasks) scores highest."""
    from avu.data import world

    cfg = model_cfg("model.decode.avss_classes=world_top1")
    torch.manual_seed(0)
    model = build_model(cfg.model).eval()
    batch = example_batch(cfg, 2, "cpu", task="avss", model=model)
    with torch.no_grad():
        enc = model.encode(batch)
        scores = model._avss_world_scores(enc)
        world_logits = model.world_logits(enc)
        present = model._avss_presence([], enc)
    names = list(model.codec.classes.avss)
    dog = world.category_of("avss", "dog")
    assert torch.equal(scores[..., names.index("dog")], world_logits[..., world.categories().index(dog)])
    assert present.shape == (2, 10, 71) and not present[..., 0].any() and (present.sum(axis=2) == 1).all()
    assert (present[..., 1:].argmax(axis=2) == scores.argmax(dim=2).numpy()).all()


def test_llp_head_or_world_adds_the_classes_the_world_head_names(model_cfg):
    """decode.llp_global=head_or_world: the head's video-level probability, with every class whose
    world category the clip softmax of the world head gives >= llp_world_threshold set to 1."""
    def global_prob(*overrides):
        cfg = model_cfg(*overrides)
        torch.manual_seed(0)
        model = build_model(cfg.model).eval()
        batch = example_batch(cfg, 2, "cpu", task="llp", model=model)
        with torch.no_grad():
            return model.predict(batch)["global_prob"], model._llp_world_probs(model.encode(batch))

    head, world_prob = global_prob("model.decode.llp_global=head")
    assert world_prob.shape == head.shape and (world_prob.sum(axis=1) <= 1 + 1e-6).all()
    threshold = float(np.median(world_prob))
    mixed, _ = global_prob("model.decode.llp_global=head_or_world", f"model.decode.llp_world_threshold={threshold}")
    named = world_prob >= threshold
    assert named.any() and (~named).any()
    assert (mixed[named] == 1).all() and np.array_equal(mixed[~named], head[~named])
