"""Question words that name a world category carry its shared embedding (model.prompt.world_words)."""

from __future__ import annotations

import pytest
import torch

from avu.codec.text import word_id
from avu.data import world
from avu.model.prompts import world_word_groups


def _category(groups, word: str) -> str | None:
    index = int(groups[word_id(word, 2048)])
    return world.categories()[index] if index >= 0 else None


def test_instrument_words_name_their_category_and_other_words_none():
    groups = world_word_groups(2048)
    assert _category(groups, "cello") == "cello"
    # "acoustic_guitar" is asked about as two words; both name the guitar
    assert _category(groups, "acoustic") == _category(groups, "guitar") == world.category_of("avqa", "acoustic_guitar")
    assert _category(groups, "the") is None and _category(groups, "many") is None


def _question_batch(model, cfg, question: str):
    from avu.train.batches import example_batch

    batch = example_batch(cfg, 2, task="avqa", model=model)
    batch["text"] = model.text_ids("avqa", [question, question], 2)
    return batch


def test_a_named_category_moves_the_question_encoding_only_with_world_words(model_cfg):
    from avu.model import build_model

    for on in (True, False):
        cfg = model_cfg(f"model.prompt.world_words={str(on).lower()}")
        torch.manual_seed(0)
        model = build_model(cfg["model"]).eval()
        batch = _question_batch(model, cfg, "How many cello are in the entire video?")
        before = model.encode(batch).memory
        cello = world.categories().index("cello")
        with torch.no_grad():
            model.decoder.world_embed.weight[cello] += 1.0
        after = model.encode(batch).memory
        # the category row also moves the answer token "ans:cello", which the encoder never reads
        assert bool((before != after).any()) is on


def test_world_words_train_the_category_embedding_from_the_question(model_cfg):
    """The question's own path (not the tied answer tokens, which reach every answer category)
    sends gradient into exactly the categories its words name."""
    from avu.model import build_model

    cfg = model_cfg("model.prompt.world_words=true")
    torch.manual_seed(0)
    model = build_model(cfg["model"])
    batch = _question_batch(model, cfg, "Is the cello more rhythmic than the flute?")
    model._world_words(batch["text"]).sum().backward()
    grad = model.decoder.world_embed.weight.grad
    moved = {world.categories()[i] for i in torch.nonzero(grad.abs().sum(dim=1)).flatten().tolist()}
    assert moved == {"cello", "flute"}


def test_a_checkpoint_without_the_setting_keeps_its_shape(model_cfg):
    from omegaconf import OmegaConf

    from avu.model import build_model

    cfg = OmegaConf.to_container(model_cfg("model.prompt.world_words=true")["model"], resolve=True)
    with_words = build_model(cfg).state_dict()
    del cfg["prompt"]["world_words"]  # a configuration recorded before the setting existed
    model = build_model(cfg)
    assert model.world_word_proj is None
    assert not any(k.startswith("word_world") for k in with_words)  # the word table is not saved
    assert set(model.state_dict()) == {k for k in with_words if not k.startswith("world_word_proj")}


def test_world_words_need_the_shared_class_embeddings(model_cfg):
    from avu.model import build_model

    cfg = model_cfg("model.prompt.world_words=true", "model.decoder.share_world_classes=false", "model.loss.world=0")
    with pytest.raises(ValueError, match="share_world_classes"):
        build_model(cfg["model"])
