"""model.pytorch: the user's own nn.Module subclass imported, built, hooked, trained and
probed; every way it can be wrong is an error naming the file, the class and the path."""
from __future__ import annotations

import os
import textwrap
import threading
from typing import Any, Dict, List

import numpy as np
import pytest
import torch
from torch import nn

from datasets import experiment, start_command, write_images, write_modular
from reglens.engine.model import ImageShape
from reglens.engine.probes.network import inference
from reglens import hooks
from reglens.engine.probes.ablation import EvalData
from reglens.engine.train import train
from reglens.engine.user_model import UserModelError, build_user_model

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(REPO, "examples", "pytorch")
IMAGE = ImageShape(8, 8, 1)


def spec(cls: str, file: str = "models.py", **extra: Any) -> Dict[str, Any]:
    return {"file": file, "class": cls, "args": extra.pop("args", {}), **extra}


def user_file(tmp_path, body: str, name: str = "user_models.py") -> str:
    path = tmp_path / name
    path.write_text("import torch\nfrom torch import nn\n\n" + textwrap.dedent(body))
    return str(tmp_path)


def pytorch_experiment(model: Dict[str, Any], dataset: Dict[str, Any], **training: Any) -> Dict[str, Any]:
    exp = experiment([], dataset, **training)
    exp["model"] = {"layers": [], "pytorch": model}
    return exp


def events_of(cmd: Dict[str, Any]) -> List[Dict[str, Any]]:
    events: List[Dict[str, Any]] = []
    code = train(cmd, events.append, threading.Event())
    assert code == (1 if events[-1]["type"] == "failed" else 0)
    return events


@pytest.fixture(scope="module")
def images_dir(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("images"))
    write_images(d, n_train=96, n_test=48)
    return d


# ---- import and build ----


def test_the_dataset_sizes_fill_the_constructor_and_images_go_in_as_nchw():
    m = build_user_model(spec("ResidualCNN", args={"width": 4, "hidden": 8}), EXAMPLES, 64, 4, IMAGE, 0)
    assert m.layout == "image" and m.net.fc.out_features == 4 and m.net.stem[0].in_channels == 1
    assert m(torch.zeros(3, 64)).shape == (3, 4)
    flat = build_user_model(spec("ResidualMLP"), EXAMPLES, 64, 4, IMAGE, 0)
    # A Linear(64) model cannot take [N, 1, 8, 8]: it gets the flat rows.
    assert flat.layout == "flat" and flat.net.fc1.in_features == 64 and flat.net.fc.out_features == 4


def test_building_is_seeded_and_leaves_the_global_rng_alone():
    before = torch.get_rng_state()
    a = build_user_model(spec("ResidualMLP"), EXAMPLES, 22, 11, None, 3)
    b = build_user_model(spec("ResidualMLP"), EXAMPLES, 22, 11, None, 3)
    c = build_user_model(spec("ResidualMLP"), EXAMPLES, 22, 11, None, 4)
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.equal(a.net.fc1.weight, b.net.fc1.weight) and not torch.equal(a.net.fc1.weight, c.net.fc1.weight)
    # The layout check ran in eval mode; the model comes back training.
    assert all(m.training for m in a.modules())


@pytest.mark.parametrize(
    "make, expect",
    [
        (lambda t: (spec("ResidualMLP", file="nowhere.py"), EXAMPLES), ["nowhere.py", "does not exist", "ResidualMLP"]),
        (lambda t: (spec("Missing"), EXAMPLES), ["Missing", "does not exist", "models.py", "ResidualCNN, ResidualMLP"]),
        (lambda t: (spec("broken", file="user_models.py"), user_file(t, "def broken():\n    pass\n")), ["broken is not a torch.nn.Module subclass", "user_models.py"]),
        (lambda t: (spec("Net", file="user_models.py"), user_file(t, "import not_a_module_anywhere\n")), ["importing", "user_models.py", "ModuleNotFoundError", "not_a_module_anywhere"]),
        (
            lambda t: (spec("Net", file="user_models.py"), user_file(t, "class Net(nn.Module):\n    def __init__(self, depth):\n        super().__init__()\n")),
            ["Net in user_models.py", "the constructor needs depth", "model.pytorch.args"],
        ),
        (
            lambda t: (spec("Net", file="user_models.py", args={"depth": -1}), user_file(t, "class Net(nn.Module):\n    def __init__(self, depth):\n        super().__init__()\n        raise ValueError('depth must be positive')\n")),
            ["Net(depth=-1) raised ValueError: depth must be positive", "user_models.py"],
        ),
        (lambda t: (spec("ResidualMLP", args={"input_size": 10}), EXAMPLES), ["ResidualMLP in models.py", "forward pass fails", "[2, 22]"]),
        (lambda t: (spec("ResidualMLP", args={"num_classes": 3}), EXAMPLES), ["ResidualMLP in models.py", "returns [2, 3]", "11 classes"]),
        (lambda t: (spec("ResidualMLP", addDropout={"after": "fc9", "rate": 0.5}), EXAMPLES), ['"fc9"', "model.pytorch.addDropout.after", "fc1, res, fc", "ResidualMLP in models.py"]),
    ],
)
def test_user_errors_name_the_file_the_class_and_the_path(tmp_path, make, expect):
    s, base = make(tmp_path)
    with pytest.raises(UserModelError) as err:
        build_user_model(s, base, 22, 11, None, 0)
    for text in expect:
        assert text in str(err.value)


def test_a_relative_file_resolves_against_the_base_dir(tmp_path):
    (tmp_path / "sub").mkdir()
    user_file(tmp_path / "sub", "from helper import WIDTH\n\nclass Net(nn.Module):\n    def __init__(self, n_features, n_classes):\n        super().__init__()\n        self.fc = nn.Linear(n_features, n_classes * WIDTH)\n    def forward(self, x):\n        return self.fc(x)\n")
    (tmp_path / "sub" / "helper.py").write_text("WIDTH = 1\n")
    m = build_user_model(spec("Net", file="sub/user_models.py"), str(tmp_path), 22, 11, None, 0)
    assert m.net.fc.in_features == 22 and m.net.fc.out_features == 11  # a neighbour import works


# ---- hooks ----


def test_added_dropout_acts_on_the_module_output_while_training_only_and_its_hook_is_removed():
    m = build_user_model(spec("ResidualMLP", addDropout={"after": "fc1", "rate": 0.5}), EXAMPLES, 22, 11, None, 0)
    seen: List[torch.Tensor] = []
    probe = m.net.res.register_forward_pre_hook(lambda _m, inp: seen.append(inp[0]))
    x = torch.randn(200, 22)
    torch.manual_seed(0)
    m.train()
    m(x)
    zeros = float((seen[-1] == 0).float().mean())
    m.eval()
    with torch.no_grad():
        out_eval = m(x)
        plain = m.net.fc(torch.relu(torch.relu(m.net.fc1(x)) + m.net.res(torch.relu(m.net.fc1(x)))))
    probe.remove()
    # ReLU zeros about half; dropout 0.5 on top makes about 3/4.
    assert 0.65 < zeros < 0.85
    assert torch.allclose(out_eval, plain)
    assert len(m.net.fc1._forward_hooks) == 1
    m.close()
    assert len(m.net.fc1._forward_hooks) == 0


def test_mc_dropout_on_the_users_model_samples_the_added_dropout_only_and_restores_every_mode():
    m = build_user_model(spec("ResidualCNN", args={"width": 4, "hidden": 8}, addDropout={"after": "fc1", "rate": 0.5}), EXAMPLES, 64, 4, IMAGE, 0)
    modes: List[bool] = []
    bn = m.net.block.bn1.register_forward_hook(lambda mod, _i, _o: modes.append(mod.training))
    m.train()
    x = torch.randn(30, 64)
    data = EvalData.build(x[:20], x[20:], np.zeros(20), np.zeros(20), np.zeros(10))
    before = torch.get_rng_state()
    try:
        payload = hooks.mc_dropout_probe(m, data, 4, 30, 0, 0)
    finally:
        bn.remove()
    assert torch.equal(torch.get_rng_state(), before)
    assert modes and not any(modes), "batch norm stays in eval mode during MC passes"
    assert all(mod.training for mod in m.modules())
    assert payload["examples"] == 30 and "unavailable" not in payload
    assert max(v for v in payload["summary"]["meanMutualInformation"].values() if v is not None) > 0, "the passes differ: the hooked dropout acts"


def test_multi_sample_dropout_needs_the_last_linear_to_give_the_output(tmp_path):
    ok = build_user_model(spec("ResidualMLP"), EXAMPLES, 22, 11, None, 0)
    ok.require_linear_head(torch.randn(2, 22))
    x = torch.randn(5, 22)
    assert torch.allclose(ok.head(ok.features(x)), ok(x))
    base = user_file(tmp_path, "class Net(nn.Module):\n    def __init__(self, input_size, num_classes):\n        super().__init__()\n        self.fc = nn.Linear(input_size, num_classes)\n    def forward(self, x):\n        return 2 * self.fc(x)\n")
    bad = build_user_model(spec("Net", file="user_models.py"), base, 22, 11, None, 0)
    with pytest.raises(UserModelError, match="multiSampleDropout needs the model's output to be its last nn.Linear's output"):
        bad.require_linear_head(torch.randn(2, 22))


# ---- training through the engine ----


def test_the_engine_trains_the_user_class_with_its_regularizers(images_dir, command_validator, event_validator):
    model = spec("ResidualCNN", args={"width": 8, "hidden": 16}, addDropout={"after": "fc1", "rate": 0.2})
    exp = pytorch_experiment(
        model,
        {"kind": "mnist", "train": 96, "test": 48},
        epochs=12,
        batchSize=16,
        regularizers={"labelSmoothing": 0.05, "l2": 1e-4, "cutmix": {"prob": 0.5, "beta": 1.0}},
        optimizer={"weightDecay": 1e-3},
    )
    exp["probes"] = {"mcDropout": {"passes": 5, "examples": 40}, "dynamics": {"every": 4}, "memorization": {"every": 100, "method": "auto", "layer": "fc1"}}
    cmd = start_command(exp, images_dir)
    cmd["baseDir"] = EXAMPLES
    command_validator.validate(cmd)
    events = events_of(cmd)
    for e in events:
        event_validator.validate(e)
    started = events[0]
    net = build_user_model(model, EXAMPLES, 64, 4, IMAGE, 0)
    assert started["type"] == "started" and started["parameters"] == sum(p.numel() for p in net.parameters())
    epochs = [e for e in events if e["type"] == "epoch"]
    assert len(epochs) == 12 and epochs[-1]["accuracy"]["test"] > 0.8 and epochs[-1]["loss"] < epochs[0]["loss"]
    kinds = [e["probe"]["kind"] for e in events if e["type"] == "probe"]
    assert kinds.count("dynamics") == 2 + 1 and kinds.count("mcDropout") == 1
    mc = next(e["probe"] for e in events if e["type"] == "probe" and e["probe"]["kind"] == "mcDropout")
    assert mc["examples"] == 40 and "unavailable" not in mc
    scores = [e["probe"] for e in events if e["type"] == "probe" and e["probe"]["kind"] == "neuronScores"]
    assert [p["layer"] for p in scores] == ["fc1"] and len(scores[0]["scores"]) == 16 and scores[0]["method"] == "ablation"
    assert not [e for e in events if e["type"] == "log" and e["level"] == "warning"]
    assert events[-1]["type"] == "finished"


def test_co_teaching_trains_two_instances_and_early_stopping_restores(tmp_path):
    d = str(tmp_path / "modular")
    write_modular(d, p=11, train_fraction=0.6, noise=0.25)
    exp = pytorch_experiment(
        spec("ResidualMLP", args={"hidden": 32}),
        {"kind": "modular", "p": 11, "operation": "add", "trainFraction": 0.6},
        epochs=6,
        batchSize=16,
        regularizers={"coTeaching": {"forgetRate": 0.25, "gradualEpochs": 2}, "earlyStopping": {"monitor": "testLoss", "patience": 50, "minDelta": 0.0, "restoreBest": True}},
    )
    cmd = start_command(exp, d)
    cmd["baseDir"] = EXAMPLES
    events = events_of(cmd)
    epochs = [e for e in events if e["type"] == "epoch"]
    assert len(epochs) == 6 and all(0 <= e["labelPrecision"] <= 1 for e in epochs)
    assert events[-1]["type"] == "finished" and events[-1]["earlyStopping"]["bestEpoch"] >= 1


def test_a_bad_model_fails_the_run_with_the_named_error(tmp_path, images_dir):
    exp = pytorch_experiment(spec("ResidualMLP", args={"input_size": 5}), {"kind": "mnist", "train": 96, "test": 48})
    cmd = start_command(exp, images_dir)
    cmd["baseDir"] = EXAMPLES
    events = events_of(cmd)
    assert [e["type"] for e in events] == ["failed"]
    assert "ResidualMLP in models.py" in events[0]["message"] and "stack" not in events[0]


def test_inspect_model_prints_the_constructor_as_its_schema_says(tmp_path):
    from conftest import _schema
    from reglens.engine.jsonschema_lite import Validator
    from reglens.engine.user_model import describe_constructor

    validator = Validator(_schema("model-signature.schema.json"))
    base = user_file(tmp_path, "class Net(nn.Module):\n    def __init__(self, depth, /, in_features, *layers, num_classes=10, act='relu', **kw):\n        super().__init__()\n")
    sig = describe_constructor(os.path.join(base, "user_models.py"), "Net")
    validator.validate(sig)
    assert sig["ok"] and sig["reason"] is None
    assert [(p["name"], p["required"], p["default"], p["fill"], p["positionalOnly"]) for p in sig["parameters"]] == [
        ("depth", True, None, None, True),
        ("in_features", True, None, "inputSize", False),
        ("num_classes", False, "10", "classes", False),
        ("act", False, "'relu'", None, False),
    ]
    missing = describe_constructor(os.path.join(base, "user_models.py"), "Other")
    validator.validate(missing)
    assert not missing["ok"] and "Other does not exist" in missing["reason"] and "Net" in missing["reason"]


def test_ipr_pruning_with_the_pruned_state_dict_and_nested_ordering_on_the_users_module(tmp_path):
    d = str(tmp_path / "modular")
    write_modular(d, p=11, train_fraction=0.6, noise=0.25)
    base = user_file(
        tmp_path,
        "from reglens.nn import NestedDropout\n\nclass Net(nn.Module):\n    def __init__(self, input_size, num_classes, hidden=24):\n        super().__init__()\n"
        "        self.fc1 = nn.Linear(input_size, hidden)\n        self.nested = NestedDropout(units=hidden)\n        self.fc = nn.Linear(hidden, num_classes)\n"
        "    def forward(self, x):\n        return self.fc(self.nested(torch.relu(self.fc1(x))))\n",
    )
    exp = pytorch_experiment(spec("Net", file="user_models.py"), {"kind": "modular", "p": 11, "operation": "add", "trainFraction": 0.6}, epochs=30, batchSize=16)
    exp["probes"] = {"memorization": {"every": 100, "method": "auto", "alsoLayers": ["fc"]}, "pruning": {"steps": 4, "save": True}, "nestedOrdering": {}}
    cmd = start_command(exp, d)
    cmd["baseDir"] = base
    cmd["runDir"] = str(tmp_path / "run")
    os.makedirs(cmd["runDir"])
    events = events_of(cmd)
    assert events[-1]["type"] == "finished", events[-1]
    probes = [e["probe"] for e in events if e["type"] == "probe"]
    ipr = next(p for p in probes if p["kind"] == "neuronScores" and p["layer"] == "fc1")
    assert ipr["method"] == "ipr" and len(ipr["raw"]) == 24  # fc1 reads the one-hot pairs (22 = 2p inputs)
    assert any(p["kind"] == "neuronScores" and p["layer"] == "fc" and p["method"] == "ablation" for p in probes)
    pruning = next(p for p in probes if p["kind"] == "pruning")
    assert pruning["layer"] == "fc1" and pruning["units"] == 24 and pruning["pruned"][0] == 0 and "savedModel" not in pruning
    assert "pruned-model/state_dict.pt" in pruning["saveNote"]
    state = torch.load(os.path.join(cmd["runDir"], "pruned-model", "state_dict.pt"))
    split = pruning["modeSplit"]["pruned"]
    assert int((state["fc1.weight"].abs().sum(1) == 0).sum()) == split and int((state["fc1.bias"] == 0).sum()) >= split
    nested = next(p for p in probes if p["kind"] == "nestedOrdering")
    assert nested["layer"] == "nested" and nested["k"] == list(range(1, 25)) and 1 <= nested["kStar"] <= 24
    assert not [e for e in events if e["type"] == "log" and e["level"] == "warning"]


def test_an_unknown_probe_layer_is_a_warning_naming_the_path_and_the_modules(images_dir):
    exp = pytorch_experiment(spec("ResidualMLP", args={"hidden": 8}), {"kind": "mnist", "train": 96, "test": 48}, epochs=1)
    exp["probes"] = {"memorization": {"every": 10, "method": "auto", "layer": "blocks.0"}}
    cmd = start_command(exp, images_dir)
    cmd["baseDir"] = EXAMPLES
    events = events_of(cmd)
    warnings = [e["message"] for e in events if e["type"] == "log" and e["level"] == "warning"]
    assert events[-1]["type"] == "finished"
    assert len(warnings) == 1 and 'names module "blocks.0"' in warnings[0] and "fc1, res, fc" in warnings[0] and "ResidualMLP in models.py" in warnings[0]


def test_positional_only_parameters_are_passed_by_position(tmp_path):
    base = user_file(tmp_path, "class Net(nn.Module):\n    def __init__(self, hidden, /, input_size, num_classes):\n        super().__init__()\n        self.fc = nn.Sequential(nn.Linear(input_size, hidden), nn.Linear(hidden, num_classes))\n    def forward(self, x):\n        return self.fc(x)\n")
    m = build_user_model(spec("Net", file="user_models.py", args={"hidden": 5}), base, 22, 11, None, 0)
    assert m.net.fc[0].out_features == 5
    with pytest.raises(UserModelError, match="the constructor needs hidden"):
        build_user_model(spec("Net", file="user_models.py"), base, 22, 11, None, 0)


def test_multi_sample_dropout_trains_the_users_model_through_its_last_linear(tmp_path):
    d = str(tmp_path / "modular")
    write_modular(d, p=11, train_fraction=0.6, noise=0.0)
    exp = pytorch_experiment(spec("ResidualMLP", args={"hidden": 32}), {"kind": "modular", "p": 11, "operation": "add", "trainFraction": 0.6}, epochs=40, batchSize=16, regularizers={"multiSampleDropout": {"samples": 4, "rate": 0.3}})
    cmd = start_command(exp, d)
    cmd["baseDir"] = EXAMPLES
    events = events_of(cmd)
    epochs = [e for e in events if e["type"] == "epoch"]
    assert events[-1]["type"] == "finished" and epochs[-1]["loss"] < epochs[0]["loss"] - 0.5
    base = user_file(tmp_path, "class Net(nn.Module):\n    def __init__(self, input_size, num_classes):\n        super().__init__()\n        self.fc = nn.Linear(input_size, num_classes)\n    def forward(self, x):\n        return torch.tanh(self.fc(x))\n")
    exp["model"]["pytorch"] = spec("Net", file="user_models.py")
    cmd = start_command(exp, d)
    cmd["baseDir"] = base
    failed = events_of(cmd)
    assert [e["type"] for e in failed] == ["failed"] and "multiSampleDropout needs the model's output to be its last nn.Linear's output" in failed[0]["message"]
