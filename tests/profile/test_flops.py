"""FLOP counts checked against analytic counts (2 FLOPs per multiply-add)."""

from __future__ import annotations

import torch
from torch import nn

from avu.profile.flops import count_flops


def _fwd_bwd(module: nn.Module, x: torch.Tensor):
    def run() -> None:
        module(x).sum().backward()
    return run


def test_linear_forward_is_2_b_in_out():
    torch.manual_seed(0)
    b, fin, fout = 6, 20, 12
    layer, x = nn.Linear(fin, fout), torch.randn(b, fin)
    count, y = count_flops(layer, x)
    assert count.total == 2 * b * fin * fout
    assert y.shape == (b, fout)


def test_linear_forward_backward_is_three_times_forward():
    b, fin, fout = 5, 16, 24
    layer, x = nn.Linear(fin, fout), torch.randn(b, fin, requires_grad=True)
    count, _ = count_flops(_fwd_bwd(layer, x))
    # forward, grad w.r.t. input and grad w.r.t. weight: one matmul of the same size each
    assert count.total == 3 * 2 * b * fin * fout
    assert set(count.by_operator) == {"aten.addmm", "aten.mm"}


def test_linear_backward_without_input_grad_skips_input_gradient():
    b, fin, fout = 4, 8, 10
    layer, x = nn.Linear(fin, fout), torch.randn(b, fin)  # a first layer: no grad for x
    count, _ = count_flops(_fwd_bwd(layer, x))
    assert count.total == 2 * 2 * b * fin * fout


def test_conv2d_forward_and_backward():
    b, cin, cout, k, h, w = 2, 3, 8, 3, 10, 12
    conv = nn.Conv2d(cin, cout, k, stride=1, padding=1)
    x = torch.randn(b, cin, h, w, requires_grad=True)
    forward = 2 * b * cout * h * w * cin * k * k  # padding keeps h x w
    count, _ = count_flops(conv, x)
    assert count.total == forward
    assert count.convolution_fraction == 1.0
    count, _ = count_flops(_fwd_bwd(conv, x))
    assert count.total == 3 * forward


def test_strided_grouped_conv_forward():
    b, cin, cout, k, groups = 3, 8, 16, 3, 4
    conv = nn.Conv2d(cin, cout, k, stride=2, padding=0, groups=groups)
    x = torch.randn(b, cin, 11, 9)
    hout, wout = (11 - k) // 2 + 1, (9 - k) // 2 + 1
    count, _ = count_flops(conv, x)
    assert count.total == 2 * b * cout * hout * wout * (cin // groups) * k * k


def test_convolution_fraction():
    model = nn.Sequential(nn.Conv2d(2, 4, 1), nn.Flatten(), nn.Linear(4 * 3 * 3, 5))
    count, _ = count_flops(model, torch.randn(2, 2, 3, 3))
    conv, linear = 2 * 2 * 4 * 9 * 2, 2 * 2 * 36 * 5
    assert count.convolution_fraction == conv / (conv + linear)


def test_matmul_and_bmm():
    m, k, n, batch = 7, 9, 5, 4
    count, _ = count_flops(torch.matmul, torch.randn(m, k), torch.randn(k, n))
    assert count.total == 2 * m * k * n
    count, _ = count_flops(torch.bmm, torch.randn(batch, m, k), torch.randn(batch, k, n))
    assert count.total == 2 * batch * m * k * n


def test_elementwise_work_counts_zero():
    count, _ = count_flops(lambda t: (t.relu() + 1).softmax(-1), torch.randn(32, 32))
    assert count.total == 0 and count.by_operator == {}
