"""The user's own torch.nn.Module subclass as an experiment's model (`model.pytorch`).

The class is imported from its file (the file's folder on sys.path, so it may import its
neighbours), built with the experiment's `args` plus the input size / class count where the
constructor asks for them by a known name, and wrapped in a UserModel that gives the trainer
what it needs from an EngineModel (forward on the flat dataset rows, kernels for coupled L2,
features / head for multi-sample dropout). The user's module is never edited: dropout added
by `addDropout` lives in the wrapper and reaches the module's output through a forward hook.

Every user error (missing file, import error, no such class, a constructor that fails, an
output that does not fit the dataset, an unknown module path) is a UserModelError naming the
file, the class and, where it applies, the module path.
"""
from __future__ import annotations

import importlib.util
import inspect
import os
import sys
from types import ModuleType
from typing import Any, Dict, List, Optional, Tuple

import torch
from torch import nn

from reglens.engine.model import ImageShape
from reglens.engine.probes.network import eval_modes
from reglens.engine.seeds import stream_seed

# Constructor parameters filled from the dataset when `args` leaves them out.
INPUT_SIZE_NAMES = ("input_size", "in_features", "input_dim", "in_dim", "n_inputs", "num_inputs", "n_features", "num_features")
CHANNEL_NAMES = ("in_channels", "channels", "input_channels", "n_channels", "num_channels")
CLASS_NAMES = ("num_classes", "n_classes", "classes", "output_size", "out_features", "num_outputs", "n_outputs", "output_dim", "out_dim")


class UserModelError(ValueError):
    """The user's model cannot be loaded, built or probed as asked (reported without a stack)."""


def _where(spec: Dict[str, Any]) -> str:
    return f"model.pytorch ({spec['class']} in {spec['file']})"


def resolve_file(spec: Dict[str, Any], base_dir: Optional[str]) -> str:
    return os.path.abspath(os.path.join(base_dir or os.getcwd(), os.path.expanduser(spec["file"])))


def _module_name(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    return stem if stem.isidentifier() else "reglens_user_model"


def import_file(path: str, spec: Dict[str, Any]) -> ModuleType:
    """Imports the file as a module named after it (registered in sys.modules, so pickling and
    relative imports of its neighbours work); its folder goes first on sys.path."""
    if not os.path.isfile(path):
        raise UserModelError(f"{_where(spec)}: the file {path} does not exist (model.pytorch.file is relative to the experiment file's folder)")
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = _module_name(path)
    loader_spec = importlib.util.spec_from_file_location(name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise UserModelError(f"{_where(spec)}: {path} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[name] = module
    try:
        loader_spec.loader.exec_module(module)
    except Exception as e:  # noqa: BLE001 - any import failure is the user's file
        sys.modules.pop(name, None)
        raise UserModelError(f"{_where(spec)}: importing {path} failed: {type(e).__name__}: {e}") from e
    return module


def load_class(path: str, spec: Dict[str, Any]) -> type:
    module = import_file(path, spec)
    cls = getattr(module, spec["class"], None)
    if not (inspect.isclass(cls) and issubclass(cls, nn.Module)):
        found = sorted(n for n, v in vars(module).items() if inspect.isclass(v) and issubclass(v, nn.Module) and v.__module__ == module.__name__)
        what = "is not a torch.nn.Module subclass" if cls is not None else "does not exist"
        raise UserModelError(f"{_where(spec)}: {spec['class']} {what} in {path}; nn.Module subclasses there: {', '.join(found) or 'none'}")
    return cls


def constructor_args(cls: type, args: Dict[str, Any], input_size: int, classes: int, image: Optional[ImageShape], spec: Dict[str, Any]) -> Dict[str, Any]:
    """`args`, plus the dataset's sizes for constructor parameters named as above."""
    try:
        params = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return dict(args)
    out = dict(args)
    fills: List[Tuple[Tuple[str, ...], Optional[int]]] = [
        (INPUT_SIZE_NAMES, input_size),
        (CHANNEL_NAMES, image.channels if image is not None else None),
        (CLASS_NAMES, classes),
    ]
    for names, value in fills:
        if value is None:
            continue
        for name in names:
            if name in params and name not in out:
                out[name] = value
    missing = [
        n
        for n, p in list(params.items())[1:]
        if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n not in out
    ]
    if missing:
        raise UserModelError(f"{_where(spec)}: the constructor needs {', '.join(missing)}; give them in model.pytorch.args")
    return out


def submodule(root: nn.Module, path: str, spec: Dict[str, Any], field: str) -> nn.Module:
    """The module at a dotted path, or an error listing the paths there are."""
    modules = dict(root.named_modules())
    if path in modules and path != "":
        return modules[path]
    known = [n for n in modules if n]
    shown = ", ".join(known[:40]) + (f", ... ({len(known)} in all)" if len(known) > 40 else "")
    raise UserModelError(f'{_where(spec)}: {field} names module "{path}", which the model does not have; its modules: {shown or "none"}')


class UserModel(nn.Module):
    """The user's module on the engine's flat rows: images go in as [N, C, H, W] when the
    module takes that (layout "image"), else as the flat rows (layout "flat")."""

    def __init__(self, net: nn.Module, layout: str, image: Optional[ImageShape], spec: Dict[str, Any]) -> None:
        super().__init__()
        self.net = net
        self.layout = layout
        self.image = image
        self.spec = spec
        self.added_dropout: Optional[nn.Dropout] = None
        self._hooks: List[Any] = []
        add = spec.get("addDropout")
        if add:
            target = submodule(net, add["after"], spec, "model.pytorch.addDropout.after")
            self.added_dropout = nn.Dropout(float(add["rate"]))
            dropout = self.added_dropout
            self._hooks.append(target.register_forward_hook(lambda _m, _i, out: dropout(out)))
        self._last_linear: Optional[nn.Linear] = None

    def close(self) -> None:
        """Removes the hooks this wrapper put on the user's module."""
        for h in self._hooks:
            h.remove()
        self._hooks.clear()

    def shaped(self, x: torch.Tensor) -> torch.Tensor:
        if self.layout == "image" and self.image is not None and x.dim() == 2:
            im = self.image
            return x.reshape(-1, im.height, im.width, im.channels).permute(0, 3, 1, 2)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.shaped(x))

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def kernels(self) -> List[torch.Tensor]:
        """Linear and conv weights: what coupled L2 penalises (biases and norms excluded)."""
        return [m.weight for m in self.net.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)) and m.weight is not None]

    # ---- multi-sample dropout: the trunk before the last nn.Linear, and that Linear ----

    def require_linear_head(self, sample: torch.Tensor) -> None:
        """Multi-sample dropout needs the output to be the last nn.Linear's output; checked
        on a sample batch, else an error saying so."""
        linears = [m for m in self.net.modules() if isinstance(m, nn.Linear)]
        if not linears:
            raise UserModelError(f"{_where(self.spec)}: training.regularizers.multiSampleDropout needs an nn.Linear producing the output; the model has none")
        last = linears[-1]
        seen: List[torch.Tensor] = []
        h = last.register_forward_hook(lambda _m, inp, out: seen.append(out))
        try:
            with torch.no_grad(), eval_modes(self):
                out = self(sample)
        finally:
            h.remove()
        if not seen or seen[-1].shape != out.shape or not torch.equal(seen[-1], out):
            raise UserModelError(
                f"{_where(self.spec)}: training.regularizers.multiSampleDropout needs the model's output to be its last nn.Linear's output (the shared head); "
                "this model does something after it. Remove multiSampleDropout or end the model with that Linear"
            )
        self._last_linear = last

    def features(self, x: torch.Tensor) -> torch.Tensor:
        assert self._last_linear is not None
        seen: List[torch.Tensor] = []

        def grab(_m: nn.Module, inp: Tuple[torch.Tensor, ...]) -> None:
            seen.append(inp[0])

        h = self._last_linear.register_forward_pre_hook(grab)
        try:
            self(x)
        finally:
            h.remove()
        return seen[-1]

    def head(self, features: torch.Tensor) -> torch.Tensor:
        assert self._last_linear is not None
        return self._last_linear(features)


def _try_layout(model: UserModel, sample: torch.Tensor) -> torch.Tensor:
    with torch.no_grad(), eval_modes(model):
        return model(sample)


def build_user_model(
    spec: Dict[str, Any],
    base_dir: Optional[str],
    input_size: int,
    classes: int,
    image: Optional[ImageShape],
    seed: int,
    stream: str = "init",
    sample: Optional[torch.Tensor] = None,
) -> UserModel:
    """Imports, builds and checks the user's model on the CPU. Its initial weights come from
    torch's global RNG seeded from (seed, stream) inside a fork, so the run is reproducible and
    the caller's RNG state is untouched. sample: a few flat rows of the dataset, used to pick the
    input layout and check the output width (zeros when not given)."""
    path = resolve_file(spec, base_dir)
    cls = load_class(path, spec)
    kwargs = constructor_args(cls, dict(spec.get("args") or {}), input_size, classes, image, spec)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(stream_seed(seed, stream))
        # Positional-only parameters (def __init__(self, depth, /)) cannot be passed by name.
        try:
            positional = [n for n, p in list(inspect.signature(cls.__init__).parameters.items())[1:] if p.kind == p.POSITIONAL_ONLY]
        except (TypeError, ValueError):
            positional = []
        args_in_order = []
        for n in positional:
            if n not in kwargs:
                break
            args_in_order.append(kwargs.pop(n))
        try:
            net = cls(*args_in_order, **kwargs)
        except Exception as e:  # noqa: BLE001 - the user's constructor
            shown = ", ".join([repr(v) for v in args_in_order] + [f"{k}={v!r}" for k, v in kwargs.items()])
            raise UserModelError(f"{_where(spec)}: {spec['class']}({shown}) raised {type(e).__name__}: {e}") from e
    if sample is None:
        sample = torch.zeros(2, input_size)
    sample = sample[:2].to(torch.float32)
    layouts = (["image"] if image is not None else []) + ["flat"]
    errors: List[str] = []
    for layout in layouts:
        model = UserModel(net, layout, image, spec)
        try:
            out = _try_layout(model, sample)
        except Exception as e:  # noqa: BLE001 - a shape mismatch in the user's forward
            model.close()
            shape = list(model.shaped(sample).shape)
            errors.append(f"input {shape}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            continue
        if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[1] != classes:
            model.close()
            got = list(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise UserModelError(
                f"{_where(spec)}: the model returns {got} for a batch of {sample.shape[0]}, but the dataset has {classes} classes: "
                f"it must return logits [batch, {classes}]"
            )
        return model
    raise UserModelError(f"{_where(spec)}: the forward pass fails on the dataset's rows (shape mismatch?): " + "; ".join(errors))



def _fill_of(name: str) -> Optional[str]:
    if name in INPUT_SIZE_NAMES:
        return "inputSize"
    if name in CHANNEL_NAMES:
        return "channels"
    if name in CLASS_NAMES:
        return "classes"
    return None


def describe_constructor(file: str, class_name: str) -> Dict[str, Any]:
    """What `python -m reglens.engine --inspect-model FILE CLASS` prints (model-signature.schema.json):
    the constructor's parameters, which the dataset fills, and which have no default."""
    spec = {"file": file, "class": class_name}
    out: Dict[str, Any] = {"ok": False, "file": file, "class": class_name, "parameters": [], "reason": None}
    try:
        cls = load_class(os.path.abspath(file), spec)
    except UserModelError as e:
        out["reason"] = str(e)
        return out
    try:
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError) as e:
        out["reason"] = f"{_where(spec)}: the constructor's signature cannot be read: {e}"
        return out
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        required = p.default is inspect.Parameter.empty
        out["parameters"].append({
            "name": p.name,
            "required": required,
            "default": None if required else repr(p.default),
            "fill": _fill_of(p.name),
            "positionalOnly": p.kind == p.POSITIONAL_ONLY,
        })
    out["ok"] = True
    return out
