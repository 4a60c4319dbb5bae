"""Layers of reglens.engine.model and reglens.nn against the semantics of src/engine/model.ts."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from reglens.engine.model import BatchNorm, ImageShape, ModelShapeError, build_model
from reglens.nn import NestedDropout, nested_cdf


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def dense(units: int, **kw):
    return {"type": "dense", "units": units, "useBias": kw.get("useBias", True), "init": kw.get("init", "glorot"), **({"initStd": kw["initStd"]} if "initStd" in kw else {})}


IMG = ImageShape(6, 5, 2)


def conv_layers():
    return [
        {"type": "conv2d", "filters": 3, "kernelSize": 3, "strides": 2, "padding": "same", "useBias": True},
        {"type": "batchNorm", "momentum": 0.9, "epsilon": 1e-3},
        {"type": "activation", "fn": "relu"},
        {"type": "maxPool", "poolSize": 2},
        {"type": "flatten"},
        dense(4),
    ]


def test_shapes_of_every_layer_type():
    layers = [
        dense(16), {"type": "activation", "fn": "gelu"}, {"type": "dropout", "rate": 0.5},
        {"type": "batchNorm", "momentum": 0.9, "epsilon": 1e-5},
        {"type": "nestedDropout", "distribution": "geometric", "sigma": 10, "rho": 0.9},
        dense(8), {"type": "activation", "fn": "square"}, dense(3),
    ]
    m = build_model(layers, 10, 3, None, gen())
    assert len(m.layers) == len(layers)
    x = torch.randn(7, 10)
    for stop, width in [(1, 16), (5, 16), (6, 8), (8, 3)]:
        assert m.run(x, 0, stop).shape == (7, width)
    assert m.dense_indices() == [0, 5, 7]
    assert m.hidden_layers() == [{"name": "dense_0", "units": 16, "end": 5}, {"name": "dense_1", "units": 8, "end": 7}]
    # started.parameters counts kernels, biases and batch-norm scale/shift, as model.ts does.
    assert m.parameter_count() == (10 * 16 + 16) + 2 * 16 + (16 * 8 + 8) + (8 * 3 + 3)

    c = build_model(conv_layers(), IMG.height * IMG.width * IMG.channels, 4, IMG, gen())
    xi = torch.randn(5, 60)
    # same padding with stride 2: ceil(6/2) x ceil(5/2) = 3 x 3; pool 2 -> 1 x 1 x 3 filters.
    assert c.run(xi, 0, 1).shape == (5, 3, 3, 3)
    assert c.run(xi, 0, 4).shape == (5, 3, 1, 1)
    assert c(xi).shape == (5, 4)


def test_shape_errors_name_the_layer_and_the_fix():
    with pytest.raises(ModelShapeError, match=r"model.layers.0: conv2d needs image input"):
        build_model(conv_layers(), 60, 4, None, gen())
    with pytest.raises(ModelShapeError, match=r"model.layers.1: add a flatten layer"):
        build_model([conv_layers()[0], dense(4)], 60, 4, IMG, gen())
    with pytest.raises(ModelShapeError, match=r"outputs 5 values but the dataset has 3 classes; make the last dense layer 3 units wide"):
        build_model([dense(5)], 4, 3, None, gen())
    with pytest.raises(ModelShapeError, match="at least one dense layer"):
        build_model([{"type": "activation", "fn": "relu"}], 4, 4, None, gen())


def test_activations_match_model_ts_formulas():
    x = torch.linspace(-3, 3, 25)
    for fn, expected in [
        ("relu", torch.clamp(x, min=0)),
        ("square", x * x),
        ("tanh", torch.tanh(x)),
        ("sigmoid", 1 / (1 + torch.exp(-x))),
        # The tanh approximation model.ts writes out (tfjs-core has no gelu).
        ("gelu", 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))),
    ]:
        m = build_model([{"type": "activation", "fn": fn}, dense(25)], 25, 25, None, gen())
        torch.testing.assert_close(m.run(x[None], 0, 1)[0], expected, rtol=1e-6, atol=1e-6)


def test_initialisers():
    fan_in, units = 400, 300
    def kernel(**kw):
        return build_model([dense(units, **kw)], fan_in, units, None, gen(3)).get_weights()["dense_0/kernel"]
    g = kernel(init="glorot")
    limit = math.sqrt(6 / (fan_in + units))
    assert g.shape == (fan_in, units) and np.abs(g).max() <= limit and np.abs(g).max() > 0.99 * limit
    assert abs(g.std() - limit / math.sqrt(3)) < 0.01 * limit  # uniform(-l, l) has std l / sqrt(3)
    assert abs(kernel(init="he").std() - math.sqrt(2 / fan_in)) < 0.02 * math.sqrt(2 / fan_in)
    assert abs(kernel(init="normal", initStd=0.3).std() - 0.3) < 0.006
    assert abs(kernel(init="normal").std() - 1 / math.sqrt(fan_in)) < 0.02 / math.sqrt(fan_in)
    w = build_model([dense(units)], fan_in, units, None, gen(3)).get_weights()
    assert not w["dense_0/bias"].any()
    # The same generator seed gives the same model; another seed another one.
    assert np.array_equal(kernel(init="he"), kernel(init="he"))
    assert not np.array_equal(kernel(), build_model([dense(units)], fan_in, units, None, gen(4)).get_weights()["dense_0/kernel"])


def test_batch_norm_has_tf_semantics():
    torch.manual_seed(1)
    bn = BatchNorm(3, momentum=0.8, epsilon=1e-3)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([1.0, 2.0, 0.5]))
        bn.bias.copy_(torch.tensor([0.0, -1.0, 3.0]))
    x = torch.randn(9, 3) * torch.tensor([1.0, 3.0, 0.2]) + torch.tensor([0.0, 5.0, -2.0])
    mean = x.mean(0)
    var = ((x - mean) ** 2).mean(0)  # the biased variance: TF normalises and tracks with it
    y = bn.train()(x)
    torch.testing.assert_close(y, (x - mean) / torch.sqrt(var + 1e-3) * bn.weight + bn.bias)
    # r <- m r + (1 - m) batch statistic, from the initial 0 / 1.
    torch.testing.assert_close(bn.running_mean, 0.2 * mean)
    torch.testing.assert_close(bn.running_var, 0.8 * 1 + 0.2 * var)
    x2 = torch.randn(4, 3)
    torch.testing.assert_close(bn.eval()(x2), (x2 - bn.running_mean) / torch.sqrt(bn.running_var + 1e-3) * bn.weight + bn.bias)
    # On images the statistics are per channel over batch and pixels.
    img = torch.randn(2, 3, 4, 4)
    bn2 = BatchNorm(3, 0.9, 1e-5).train()
    out = bn2(img)
    m4 = img.mean((0, 2, 3), keepdim=True)
    v4 = ((img - m4) ** 2).mean((0, 2, 3), keepdim=True)
    torch.testing.assert_close(out, (img - m4) / torch.sqrt(v4 + 1e-5))


def test_dropout_keeps_1_minus_rate_and_rescales():
    m = build_model([{"type": "dropout", "rate": 0.3}, dense(4)], 1000, 4, None, gen())
    torch.manual_seed(0)
    x = torch.ones(100, 1000)
    y = m.train().run(x, 0, 1)
    kept = (y != 0).float().mean().item()
    assert abs(kept - 0.7) < 0.005  # 1e5 Bernoulli draws: sd 0.0015
    assert torch.allclose(y[y != 0], torch.full_like(y[y != 0], 1 / 0.7))
    assert torch.equal(m.eval().run(x, 0, 1), x)


@pytest.mark.parametrize("spec", [{"distribution": "halfGaussian", "sigma": 3.0, "rho": 0.9}, {"distribution": "geometric", "sigma": 10.0, "rho": 0.7}])
def test_nested_dropout_k_follows_its_law(spec):
    units = 12
    nd = NestedDropout(spec["distribution"], spec["sigma"], spec["rho"], units=units, generator=gen(5))
    draws = 20000
    counts = np.bincount([nd.sample_k() for _ in range(draws)], minlength=units + 1)[1:]
    k = np.arange(1, units + 1)
    if spec["distribution"] == "geometric":
        p = (1 - spec["rho"]) * spec["rho"] ** (k - 1)
    else:
        p = np.exp(-(((k - 1) / spec["sigma"]) ** 2))
    p = p / p.sum()
    expected = draws * p
    ok = expected >= 5
    chi2 = (((counts - expected) ** 2 / expected)[ok]).sum()
    assert chi2 < 40, (counts, expected)  # df <= 11: p(chi2 > 40) < 1e-4
    assert np.allclose(np.diff(nested_cdf(units, **spec)) > 0, True)


def test_nested_dropout_keeps_a_prefix_and_is_identity_in_eval():
    nd = NestedDropout("halfGaussian", 2.0, units=10, generator=gen(1)).train()
    x = torch.randn(6, 10, requires_grad=True)
    seen = set()
    for _ in range(30):
        y = nd(x)
        nz = (y != 0).all(0).nonzero().flatten().tolist()
        k = len(nz)
        assert nz == list(range(k)) and not y[:, k:].any()
        seen.add(k)
    assert len(seen) > 1
    y.sum().backward()
    assert torch.equal(x.grad[:, k:], torch.zeros_like(x.grad[:, k:]))
    assert torch.equal(nd.eval()(x), x)


def test_conv_same_padding_is_tfs_not_torchs():
    # Stride 2 on an even size: TF pads 1 in total, all after; torch's padding=1 would pad before too.
    m = build_model([{"type": "conv2d", "filters": 1, "kernelSize": 3, "strides": 2, "padding": "same", "useBias": False}, {"type": "flatten"}, dense(1)], 64, 1, ImageShape(8, 8, 1), gen())
    m.set_weights({**m.get_weights(), "conv2d_0/kernel": np.ones((3, 3, 1, 1), np.float32)})
    out = m.run(torch.ones(1, 64), 0, 1)[0, 0]
    assert out.shape == (4, 4)
    assert out[0, 0].item() == 9  # rows/cols 0..2: no padding at the top-left
    assert out[3, 3].item() == 4  # rows/cols 6, 7 and one padded


def test_flatten_gives_hwc_order_and_weights_are_tf_layout():
    im = ImageShape(3, 4, 2)
    layers = [{"type": "maxPool", "poolSize": 1}, {"type": "flatten"}, dense(5)]
    m = build_model(layers, 24, 5, im, gen())
    x = torch.randn(3, 24)
    # The row goes NHWC -> NCHW inside and flatten brings back TF's HWC order.
    torch.testing.assert_close(m.run(x, 0, 2), x)
    w = m.get_weights()
    assert w["dense_0/kernel"].shape == (24, 5)
    torch.testing.assert_close(m(x), x @ torch.from_numpy(w["dense_0/kernel"]) + torch.from_numpy(w["dense_0/bias"]))

    c = build_model([{"type": "conv2d", "filters": 3, "kernelSize": 2, "strides": 1, "padding": "valid", "useBias": True}, {"type": "flatten"}, dense(2)], 24, 2, im, gen())
    cw = c.get_weights()
    k, b = cw["conv2d_0/kernel"], cw["conv2d_0/bias"]
    assert k.shape == (2, 2, 2, 3)
    nhwc = x.reshape(3, 3, 4, 2).numpy()
    # Output pixel (i, j, co) = sum_{di, dj, ci} x[i + di, j + dj, ci] K[di, dj, ci, co] + b[co] (TF's conv2d).
    i, j = 1, 2
    want = np.einsum("nabc,abcd->nd", nhwc[:, i : i + 2, j : j + 2, :], k) + b
    got = c.run(x, 0, 2).reshape(3, 2, 3, 3)[:, i, j, :]  # flatten: HWC of the 2 x 3 x 3 output
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-5, atol=1e-5)


def test_weights_round_trip_in_tf_layout():
    a = build_model(conv_layers(), 60, 4, IMG, gen(1))
    b = build_model(conv_layers(), 60, 4, IMG, gen(2))
    a.train()(torch.randn(8, 60))  # moves batch-norm statistics away from 0 / 1
    wa = a.get_weights()
    assert sorted(wa) == sorted([
        "conv2d_0/kernel", "conv2d_0/bias", "batchNorm_0/gamma", "batchNorm_0/beta", "batchNorm_0/movingMean",
        "batchNorm_0/movingVariance", "dense_0/kernel", "dense_0/bias",
    ])
    assert wa["conv2d_0/kernel"].shape == (3, 3, 2, 3) and wa["dense_0/kernel"].shape == (3, 4)
    b.set_weights(wa)
    x = torch.randn(5, 60)
    torch.testing.assert_close(a.eval()(x), b.eval()(x))
    for name, v in b.get_weights().items():
        assert np.array_equal(v, wa[name]), name
    with pytest.raises(ModelShapeError, match=r"weight dense_0/kernel has shape \[4, 3\], the layer needs \[3, 4\]"):
        b.set_weights({**wa, "dense_0/kernel": wa["dense_0/kernel"].T})
    with pytest.raises(ModelShapeError, match="unknown weight name"):
        b.set_weights({**wa, "dense_7/kernel": wa["dense_0/kernel"]})
    with pytest.raises(ModelShapeError, match="missing weight"):
        b.set_weights({"dense_0/kernel": wa["dense_0/kernel"]})
    b.set_weights({"dense_0/bias": np.ones(4, np.float32)}, strict=False)
    assert np.array_equal(b.get_weights()["dense_0/bias"], np.ones(4))


def test_head_runs_in_eval_mode_like_model_ts():
    layers = [dense(6), {"type": "activation", "fn": "relu"}, dense(3), {"type": "dropout", "rate": 0.9}]
    m = build_model(layers, 4, 3, None, gen()).train()
    f = m.features(torch.randn(5, 4))
    assert f.shape == (5, 6)
    torch.testing.assert_close(m.head(f), F.linear(f, m.layers[2].weight, m.layers[2].bias))
    assert m.layers[3].training  # the mode is put back
