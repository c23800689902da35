"""Per-task BatchNorm statistics (model.task_norm_stats, avu/model/norm_stats.py)."""

from __future__ import annotations

import torch
from torch import nn

from avu import BENCHMARK_IDS
from avu.model import norm_stats


def _tiny() -> nn.Module:
    net = nn.Sequential(nn.Conv2d(1, 3, 1), nn.BatchNorm2d(3), nn.ReLU(), nn.BatchNorm2d(3))
    net.eval()
    norm_stats.add_task_rows(net)
    return net


def test_calibrate_gives_the_task_its_own_statistics_and_restores_the_shared_ones():
    torch.manual_seed(0)
    net = _tiny()
    shared = [(m.running_mean.clone(), m.running_var.clone()) for m in norm_stats.batch_norms(net)]
    batches = [torch.randn(4, 1, 5, 5) * 3 + 7 for _ in range(3)]
    norm_stats.calibrate(net, "avs_s4", net, batches)
    i = BENCHMARK_IDS.index("avs_s4")
    first = norm_stats.batch_norms(net)[0]
    # the first layer's row is the equal-weight average of the three batches' statistics
    pre = [net[0](b) for b in batches]
    assert torch.allclose(first.task_mean[i], torch.stack([p.mean(dim=(0, 2, 3)) for p in pre]).mean(0), atol=1e-5)
    assert torch.allclose(first.task_var[i], torch.stack([p.var(dim=(0, 2, 3)) for p in pre]).mean(0), atol=1e-4)
    for m, (mean, var) in zip(norm_stats.batch_norms(net), shared):
        assert torch.equal(m.running_mean, mean) and torch.equal(m.running_var, var)
        assert not m.training and m.momentum == 0.1
    assert norm_stats.ready(net, "avs_s4") and not norm_stats.ready(net, "avqa")


def test_task_statistics_apply_inside_the_block_only_and_only_to_a_ready_task():
    torch.manual_seed(0)
    net = _tiny()
    x = torch.randn(2, 1, 5, 5) * 3 + 7
    plain = net(x)
    norm_stats.calibrate(net, "vggss", net, [x])
    with norm_stats.task_statistics(net, "avqa"):  # not computed: the shared statistics
        assert torch.equal(net(x), plain)
    with norm_stats.task_statistics(net, "vggss"):
        own = net(x)
    assert not torch.allclose(own, plain)
    assert torch.equal(net(x), plain)


def test_the_model_predicts_with_its_tasks_rows_and_trains_as_without_them(model_cfg):
    from avu.model import build_model
    from avu.train.batches import example_batch

    losses = []
    for on in (False, True):
        cfg = model_cfg(f"model.task_norm_stats.enabled={str(on).lower()}")
        torch.manual_seed(0)
        model = build_model(cfg["model"])
        batch = example_batch(cfg, 2, task="avs_s4", model=model)
        losses.append(float(model.training_loss(batch)[0].detach()))
    assert losses[0] == losses[1]  # the rows are bookkeeping: training is unchanged
    model.eval()
    before = model.predict(batch)
    model.calibrate_norm_stats("avs_s4", [batch])
    assert norm_stats.ready(model, "avs_s4")
    after = model.predict(batch)
    assert any(not torch.equal(torch.as_tensor(before[k]), torch.as_tensor(after[k]))
               for k in before if hasattr(before[k], "shape"))


def test_only_the_listed_tasks_predict_with_their_rows(model_cfg):
    from avu.model import build_model
    from avu.train.batches import example_batch

    cfg = model_cfg("model.task_norm_stats.enabled=true", "model.task_norm_stats.tasks=[avs_ms3]")
    torch.manual_seed(0)
    model = build_model(cfg["model"])
    batch = example_batch(cfg, 2, task="avs_s4", model=model)
    model.eval()
    before = model.predict(batch)
    model.calibrate_norm_stats("avs_s4", [batch])  # rows computed, but S4 is not listed
    after = model.predict(batch)
    assert all(torch.equal(torch.as_tensor(before[k]), torch.as_tensor(after[k])) for k in before if hasattr(before[k], "shape"))


def test_an_unknown_task_in_the_list_is_refused(model_cfg):
    import pytest

    from avu.model import build_model

    with pytest.raises(ValueError, match="unknown benchmark 'ave2'"):
        build_model(model_cfg("model.task_norm_stats.enabled=true", "model.task_norm_stats.tasks=[ave,ave2]")["model"])


def test_weights_load_with_or_without_the_rows_and_nothing_else_is_forgiven():
    import pytest

    torch.manual_seed(0)
    plain = nn.Sequential(nn.Conv2d(1, 3, 1), nn.BatchNorm2d(3))
    with_rows = nn.Sequential(nn.Conv2d(1, 3, 1), nn.BatchNorm2d(3))
    norm_stats.add_task_rows(with_rows)
    norm_stats.load_weights(with_rows, plain.state_dict())  # off -> on: rows stay to be computed
    assert torch.equal(with_rows[0].weight, plain[0].weight) and not norm_stats.ready(with_rows, "ave")
    norm_stats.load_weights(plain, with_rows.state_dict())  # on -> off: the rows are dropped
    broken = {k: v for k, v in plain.state_dict().items() if k != "0.weight"}
    with pytest.raises(RuntimeError, match="0.weight"):
        norm_stats.load_weights(with_rows, broken)


def test_calibration_clips_are_spread_over_the_split():
    from avu.train.loop import calibration_indices

    assert calibration_indices(10, 4) == [0, 2, 5, 7]
    assert calibration_indices(3, 128) == [0, 1, 2]
    assert calibration_indices(1472, 128)[-1] > 1400 and len(set(calibration_indices(1472, 128))) == 128
