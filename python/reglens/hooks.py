"""Probes on any nn.Module through forward hooks (issue 13): ablation scores per output
unit / channel, Monte Carlo dropout, nested-dropout ordering.

The engine's probes (reglens.engine.probes) split an EngineModel's layer list; a user's
model has no layer list, so these run the whole model and change one module's output with
a forward hook. The scores and payloads are the engine's (ablation_from_hits,
ablation_payload, mc_payload, nested_ordering_payload), so both define them the same way.

Guarantees, for every function here: the model runs on its own device under no_grad, in
eval mode; every module's train/eval flag is restored afterwards; every hook is removed in
`finally`; no gradient is written; torch's, numpy's and Python's global RNG streams are not
drawn from (MC dropout masks come from a torch.Generator of its own).
"""
from __future__ import annotations

import contextlib
import difflib
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np
import torch
from torch import nn

from reglens.engine.probes.ablation import EvalData, _group_counts, ablation_from_hits, first_argmax_is, hits_of_logits, rank1_hits
from reglens.engine.probes.network import device_generator, eval_modes, floats_per_pass
from reglens.engine.probes.mc_dropout import NO_DROPOUT_MESSAGE, mc_payload
from reglens.engine.probes.payloads import ablation_payload, nested_ordering_payload
from reglens.engine.probes.prng import derive_rng, sample_rows
from reglens.nn import NestedDropout

__all__ = [
    "ModulePathError",
    "resolve_module",
    "eval_data",
    "probe_mode",
    "output_hook",
    "unit_count",
    "masked_hits",
    "ablation_probe",
    "dropout_modules",
    "mc_probabilities",
    "eval_probabilities",
    "mc_dropout_probe",
    "nested_modules",
    "nested_ordering_probe",
    "accuracy",
]

Payload = Dict[str, Any]

class ModulePathError(KeyError):
    """A dotted module path that is not in the model (the message lists close matches)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def resolve_module(model: nn.Module, path: str) -> nn.Module:
    """The submodule at a dotted path as named_modules() spells it ("fc1", "layer4.1.conv2")."""
    modules = dict(model.named_modules())
    if path in modules and path != "":
        return modules[path]
    names = [n for n in modules if n]
    close = difflib.get_close_matches(path, names, n=5, cutoff=0.5)
    hint = f"close matches: {', '.join(close)}" if close else f"the model's modules: {', '.join(names[:20])}{' ...' if len(names) > 20 else ''}"
    raise ModulePathError(f"reglens: module {path!r} is not in {type(model).__name__} ({hint}); name a module by its path in model.named_modules()")


def _device(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    for b in model.buffers():
        return b.device
    return torch.device("cpu")


def eval_data(x_train: torch.Tensor, y_train: Any, corrupted: Any, x_test: torch.Tensor, y_test: Any) -> EvalData:
    """The engine's EvalData (train rows, then test) with x kept in its own dtype and shape
    (token ids stay integers, images stay NCHW), on the CPU."""
    train_labels = np.asarray(_numpy(y_train), dtype=np.int64).reshape(-1)
    test_labels = np.asarray(_numpy(y_test), dtype=np.int64).reshape(-1)
    bad = np.zeros(len(train_labels), bool) if corrupted is None else np.asarray(_numpy(corrupted)).reshape(-1).astype(bool)
    if len(bad) != len(train_labels):
        raise ValueError(f"reglens: corrupted has {len(bad)} entries for {len(train_labels)} training labels")
    if x_train.shape[0] != len(train_labels) or x_test.shape[0] != len(test_labels):
        raise ValueError(
            f"reglens: {x_train.shape[0]} training inputs for {len(train_labels)} labels, {x_test.shape[0]} test inputs for {len(test_labels)} labels"
        )
    group = np.concatenate([np.where(bad, 1, 0), np.full(len(test_labels), 2)]).astype(np.uint8)
    x = torch.cat([x_train.detach().cpu(), x_test.detach().to("cpu", x_train.dtype)], 0)
    return EvalData(x, np.concatenate([train_labels, test_labels]), group, (int((~bad).sum()), int(bad.sum()), len(test_labels)), len(train_labels))


def _numpy(v: Any) -> Any:
    return v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v


@contextlib.contextmanager
def probe_mode(model: nn.Module) -> Iterator[torch.device]:
    """no_grad + eval mode for the whole model; every module's own flag restored after."""
    with torch.no_grad(), eval_modes(model):
        yield _device(model)


@contextlib.contextmanager
def output_hook(module: nn.Module, fn: Callable[[torch.Tensor], torch.Tensor]) -> Iterator[None]:
    """Replaces module's output by fn(output) while inside; the hook is removed in finally."""

    def hook(mod: nn.Module, inputs: Any, output: Any) -> torch.Tensor:
        if not isinstance(output, torch.Tensor):
            raise TypeError(f"reglens: {type(mod).__name__} returns {type(output).__name__}, not a tensor; probe a module whose output is one tensor")
        return fn(output)

    handle = module.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def _unit_axis(module: nn.Module, out: torch.Tensor) -> int:
    """Where a module's units are: Linear and NestedDropout on the last axis, everything
    else (conv, batch norm, blocks) on the channel axis 1 of a batch-first output."""
    if out.dim() < 2:
        raise ValueError(f"reglens: {type(module).__name__} outputs shape {tuple(out.shape)}; a probed module needs a batch axis and a unit axis")
    return out.dim() - 1 if isinstance(module, (nn.Linear, NestedDropout)) else 1


def unit_count(model: nn.Module, module: nn.Module, x: torch.Tensor) -> Tuple[int, int]:
    """(units, floats per row) of module's output, from one forward pass of x[:1]."""
    seen: Dict[str, Tuple[int, int]] = {}

    def look(out: torch.Tensor) -> torch.Tensor:
        seen["shape"] = (int(out.shape[_unit_axis(module, out)]), int(out[0].numel()))
        return out

    with probe_mode(model) as dev, output_hook(module, look):
        model(x[:1].to(dev))
    return seen["shape"]


def _row_floats(data: EvalData) -> int:
    return int(data.x[0].numel()) if data.x.shape[0] else 1


class _BatchChanged(RuntimeError):
    """The model's output rows do not follow the masked module's rows (see masked_hits)."""


def masked_hits(model: nn.Module, module: nn.Module, data: EvalData, masks: np.ndarray, units: Optional[int] = None) -> np.ndarray:
    """Hits per group [M, 3] with module's output multiplied by each mask row (masks
    [M, units], 1 = keep) along its unit axis, M' masks per forward pass.

    First way ("expand"): the module's output for n rows is repeated M' times with the
    masks applied, so only the part of the model after the module runs on M' n rows (the
    engine's split pass, without a layer list). A model whose later part cannot take more
    rows than its input had (a skip connection from before the module, a reshape to a
    stored batch size) raises or returns the wrong row count; then the inputs themselves
    are tiled M' times ("tile": the whole model runs on M' n rows, always right)."""
    out = np.zeros((len(masks), 3), dtype=np.int64)
    if data.x.shape[0] == 0 or len(masks) == 0:
        return out
    found, out_floats = unit_count(model, module, data.x)
    units = units or found
    try:
        return _masked_hits(model, module, data, masks, units, out_floats, expand=True)
    except (_BatchChanged, RuntimeError):
        return _masked_hits(model, module, data, masks, units, out_floats, expand=False)


def _masked_hits(model: nn.Module, module: nn.Module, data: EvalData, masks: np.ndarray, units: int, out_floats: int, expand: bool) -> np.ndarray:
    out = np.zeros((len(masks), 3), dtype=np.int64)
    with probe_mode(model) as dev:
        budget = floats_per_pass(dev)
        per_row = 4 * max(_row_floats(data), out_floats)
        if expand:
            # Up to 64 masks share one pass of the part before the module; the rows are
            # chosen so the repeated part after it stays within the budget.
            per_pass = min(len(masks), 64)
            rows = max(1, min(data.x.shape[0], budget // max(per_row, 4 * out_floats * per_pass)))
        else:
            rows = max(1, min(data.x.shape[0], budget // per_row))
            per_pass = max(1, budget // (per_row * rows))
        masks_t = torch.as_tensor(np.asarray(masks, dtype=np.float32).reshape(-1, units), device=dev)
        labels = torch.as_tensor(data.labels, device=dev)
        group = torch.as_tensor(data.group.astype(np.int64), device=dev)
        state: Dict[str, Any] = {}

        def apply(o: torch.Tensor) -> torch.Tensor:
            mk, b = state["mask"], state["b"]
            ax = _unit_axis(module, o)
            if o.shape[ax] != units:
                raise ValueError(f"reglens: {type(module).__name__} has {o.shape[ax]} units on axis {ax}, masks have {units}")
            o = o.unsqueeze(0) if expand else o.reshape(b, o.shape[0] // b, *o.shape[1:])
            shape = [b, 1] + [units if i == ax else 1 for i in range(1, o.dim() - 1)]
            return (o * mk.reshape(shape).to(o.dtype)).reshape(-1, *o.shape[2:])

        with output_hook(module, apply):
            for s in range(0, data.x.shape[0], rows):
                xc = data.x[s : s + rows].to(dev)
                n = xc.shape[0]
                for m0 in range(0, len(masks), per_pass):
                    mk = masks_t[m0 : m0 + per_pass]
                    b = mk.shape[0]
                    state["mask"], state["b"] = mk, b
                    logits = model(xc if expand else xc.repeat(b, *([1] * (xc.dim() - 1))))
                    if logits.dim() != 2 or logits.shape[0] != b * n:
                        raise _BatchChanged(f"{b * n} rows expected, the model returned shape {tuple(logits.shape)}")
                    hit = first_argmax_is(logits.reshape(b, n, -1), labels[s : s + n].expand(b, n))
                    out[m0 : m0 + b] += _group_counts(hit, group[s : s + n]).cpu().numpy()
    return out


def _logits(model: nn.Module, x: torch.Tensor, dev: torch.device, rows: int) -> torch.Tensor:
    outs = [model(x[s : s + rows].to(dev)) for s in range(0, x.shape[0], rows)]
    return torch.cat(outs, 0) if outs else model(x[:0].to(dev))


def _rows_per_pass(data: EvalData, dev: torch.device) -> int:
    return max(1, floats_per_pass(dev) // (4 * _row_floats(data)))


def accuracy(model: nn.Module, data: EvalData) -> Dict[str, Optional[float]]:
    """{cleanTrain, corruptedTrain, test} of the model in eval mode (the epoch event's)."""
    return accuracy_and_margins(model, data, margins=False)[0]


def accuracy_and_margins(model: nn.Module, data: EvalData, margins: bool = True) -> Tuple[Dict[str, Optional[float]], Optional[Tuple[np.ndarray, np.ndarray]]]:
    """accuracy(), and with `margins` the training rows' (argmax, z_y - max_{j != y} z_j) from
    the same eval-mode logits (the labelErrors bookkeeping, one pass for both)."""
    from reglens.engine.probes.ablation import to_accuracy
    from reglens.engine.probes.label_errors_run import margins_of

    with probe_mode(model) as dev:
        logits = _logits(model, data.x, dev, _rows_per_pass(data, dev))
        acc = to_accuracy(hits_of_logits(logits, data.labels, data.group), data.counts)
        if not margins:
            return acc, None
        n = data.n_train
        pred, margin = margins_of(logits[:n].float(), torch.as_tensor(data.labels[:n], device=logits.device))
        return acc, (pred.cpu().numpy(), margin.cpu().numpy())


def ablation_probe(model: nn.Module, path: str, data: EvalData) -> Payload:
    """neuronScores payload of the module at `path`: the ablation score of each output unit
    or channel (corrupted-train accuracy drop minus clean drop when it alone is zeroed)."""
    module = resolve_module(model, path)
    units, _ = unit_count(model, module, data.x)
    with probe_mode(model) as dev:
        base = hits_of_logits(_logits(model, data.x, dev, _rows_per_pass(data, dev)), data.labels, data.group)
    hits = _rank1_ablation(model, module, data, units)
    if hits is None:
        masks = np.ones((units, units), dtype=np.float32)
        np.fill_diagonal(masks, 0)
        hits = masked_hits(model, module, data, masks, units)
    return ablation_payload(path, ablation_from_hits(base, hits, data.counts, "hooks"))


def _output_linear(model: nn.Module, x: torch.Tensor, dev: torch.device) -> Optional[nn.Linear]:
    """The nn.Linear whose output is the model's output (the last one run, returned as is)."""
    ran: List[Tuple[nn.Module, torch.Tensor]] = []
    with contextlib.ExitStack() as stack:
        for m in model.modules():
            if isinstance(m, nn.Linear):
                h = m.register_forward_hook(lambda mod, i, o: ran.append((mod, o)))
                stack.callback(h.remove)
        out = model(x.to(dev))
    if not ran or ran[-1][1] is not out or out.dim() != 2:
        return None
    last = ran[-1][0]
    return last if isinstance(last, nn.Linear) else None


def _rank1_ablation(model: nn.Module, module: nn.Module, data: EvalData, units: int) -> Optional[np.ndarray]:
    """The engine's rank-1 scan (METHODS §1) where it is exact: when the model's output is
    an nn.Linear whose input depends on the probed units one to one (only elementwise steps
    between them: activation, eval-mode dropout and batch norm), zeroing unit j moves the
    logits by -(h_j - h0_j) W[:, j], h the Linear's input and h0 its input with every probed
    unit zeroed. Checked on sample rows with random masks before use; None where it does not
    hold (then masked passes score the units)."""
    if data.x.shape[0] == 0:
        return None
    with probe_mode(model) as dev:
        head = _output_linear(model, data.x[:64], dev)
        if head is None or head is module or head.in_features != units:
            return None
        seen: Dict[str, torch.Tensor] = {}
        state: Dict[str, Optional[torch.Tensor]] = {"mask": None}

        def capture(mod: nn.Module, inputs: Any) -> None:
            seen["h"] = inputs[0]

        def mask(o: torch.Tensor) -> torch.Tensor:
            m = state["mask"]
            if m is None:
                return o
            if o.dim() != 2 or o.shape[1] != units:
                raise _BatchChanged("the probed output is not [rows, units]")
            return o * m.to(o.dtype)

        def run(x: torch.Tensor, m: Optional[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
            state["mask"] = m
            logits = model(x)
            return seen["h"], logits

        handle = head.register_forward_pre_hook(capture)
        try:
            with output_hook(module, mask):
                sample = data.x[:64].to(dev)
                h_s, _ = run(sample, None)
                h0_s, _ = run(sample, torch.zeros(units, device=dev))
                if h_s.dim() != 2 or h_s.shape[1] != units:
                    return None
                g = torch.Generator().manual_seed(0)
                for _ in range(2):
                    m = (torch.rand(units, generator=g) < 0.5).to(dev)
                    h_m, _ = run(sample, m.float())
                    expect = torch.where(m.unsqueeze(0), h_s, h0_s)
                    if not torch.allclose(h_m, expect, rtol=1e-5, atol=1e-6 * (1 + float(h_s.abs().max()))):
                        return None
                rows = _rows_per_pass(data, dev)
                deltas: List[torch.Tensor] = []
                logits_all: List[torch.Tensor] = []
                for s in range(0, data.x.shape[0], rows):
                    xc = data.x[s : s + rows].to(dev)
                    h, lg = run(xc, None)
                    h0, _ = run(xc, torch.zeros(units, device=dev))
                    deltas.append(h - h0)
                    logits_all.append(lg)
        except _BatchChanged:
            return None
        finally:
            handle.remove()
        w = head.weight.detach().t().float().cpu().numpy()  # [units, classes]
        return rank1_hits(torch.cat(deltas), torch.cat(logits_all).float(), w, data)


# ---- Monte Carlo dropout ----

_ELEMENTWISE = (nn.Dropout,)
_CHANNELWISE = tuple(getattr(nn, n) for n in ("Dropout1d", "Dropout2d", "Dropout3d") if hasattr(nn, n))


def dropout_modules(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """The model's dropout modules MC passes activate (nn.Dropout, nn.Dropout1d/2d/3d)."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, _ELEMENTWISE + _CHANNELWISE)]


@contextlib.contextmanager
def _active_dropout(model: nn.Module, generator: torch.Generator, repeat_first: int = 1) -> Iterator[Dict[str, bool]]:
    """Only the dropout modules act as in training, masks drawn from `generator`; the model
    is otherwise in eval mode (batch norm uses its running statistics, METHODS §10).

    A dropout module switched to train mode would draw from torch's global stream, so each
    stays in eval mode (identity) and a hook applies the training-mode mask instead.
    repeat_first > 1: the first dropout module reached in a forward pass repeats its rows
    that many times first (set state["reached"] = False before each pass), so the part
    before it runs once for all MC passes."""
    state = {"reached": False}
    with contextlib.ExitStack() as stack:
        for _, m in dropout_modules(model):
            p = float(m.p)  # type: ignore[attr-defined]
            channel = isinstance(m, _CHANNELWISE)

            def drop(o: torch.Tensor, p: float = p, channel: bool = channel) -> torch.Tensor:
                if not state["reached"]:
                    state["reached"] = True
                    if repeat_first > 1:
                        o = o.repeat(repeat_first, *([1] * (o.dim() - 1)))
                if p <= 0:
                    return o
                shape = tuple(o.shape[:2]) + (1,) * (o.dim() - 2) if channel and o.dim() > 2 else tuple(o.shape)
                noise = torch.rand(shape, generator=generator, device=generator.device)
                keep = (noise >= p).to(device=o.device, dtype=o.dtype)
                return o * keep / (1.0 - p)

            stack.enter_context(output_hook(m, drop))
        yield state


def mc_probabilities(model: nn.Module, x: torch.Tensor, passes: int, seed: int) -> np.ndarray:
    """T stochastic probability matrices [T, n, C] (float32) with only dropout active.

    Rows are repeated T times at the first dropout module reached, so the part before it
    runs once (the engine's prefix-then-tiled-rest); a model whose later part cannot take
    more rows than its input (a skip connection around the dropout) gets its inputs tiled
    instead. Both draw the same masks from the same generator state."""
    if not dropout_modules(model):
        raise ValueError(NO_DROPOUT_MESSAGE)
    try:
        return _mc_probabilities(model, x, passes, seed, expand=True)
    except (_BatchChanged, RuntimeError):
        return _mc_probabilities(model, x, passes, seed, expand=False)


def _mc_probabilities(model: nn.Module, x: torch.Tensor, passes: int, seed: int, expand: bool) -> np.ndarray:
    rng = derive_rng(seed, "mc-dropout")
    out: List[np.ndarray] = []
    with probe_mode(model) as dev:
        generator = device_generator(dev, int(rng() * 2**31))
        per_row = 4 * max(1, int(x[0].numel()) if x.shape[0] else 1)
        inner = max(1, floats_per_pass(dev) // (per_row * passes))
        with _active_dropout(model, generator, passes if expand else 1) as state:
            for s in range(0, x.shape[0], inner):
                xc = x[s : s + inner].to(dev)
                c = xc.shape[0]
                state["reached"] = False
                # Row t * c + i is pass t of example i.
                logits = model(xc if expand else xc.repeat(passes, *([1] * (xc.dim() - 1))))
                if logits.dim() != 2 or logits.shape[0] != passes * c:
                    raise _BatchChanged(f"{passes * c} rows expected, the model returned shape {tuple(logits.shape)}")
                probs = torch.softmax(logits.float(), -1)
                out.append(probs.reshape(passes, c, -1).cpu().numpy())
    return np.concatenate(out, 1) if out else np.zeros((passes, 0, 0), np.float32)


def eval_probabilities(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """Eval-mode softmax [n, C] (float32)."""
    with probe_mode(model) as dev:
        return torch.softmax(_logits(model, x, dev, max(1, floats_per_pass(dev) // (4 * max(1, int(x[0].numel()))))).float(), -1).cpu().numpy()


def _image_of(x: torch.Tensor) -> Optional[Tuple[int, int]]:
    """(width, height) of NCHW / NHW image inputs, for the most-uncertain thumbnails."""
    if x.dim() == 4:
        return int(x.shape[3]), int(x.shape[2])
    if x.dim() == 3:
        return int(x.shape[2]), int(x.shape[1])
    return None


def mc_dropout_probe(model: nn.Module, data: EvalData, passes: int, examples: int, seed: int, round_index: int, image: Optional[Tuple[int, int]] = None) -> Payload:
    """The engine's mcDropout payload for a user's model; `unavailable` without dropout."""
    mods = dropout_modules(model)
    if not any(float(m.p) > 0 for _, m in mods):  # type: ignore[attr-defined]
        return {"kind": "mcDropout", "passes": passes, "examples": 0, "unavailable": NO_DROPOUT_MESSAGE}
    rows = sample_rows(seed, "mc-sample", len(data.labels), examples)
    xs = data.x[torch.as_tensor(rows, dtype=torch.int64)]
    probs = mc_probabilities(model, xs, passes, seed)
    return mc_payload(data, rows, probs, eval_probabilities(model, xs), round_index, image or _image_of(data.x))


# ---- nested dropout ordering ----


def nested_modules(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    return [(n, m) for n, m in model.named_modules() if isinstance(m, NestedDropout)]


def nested_ordering_probe(model: nn.Module, data: EvalData, path: Optional[str] = None) -> Payload:
    """nestedOrdering payload: test accuracy keeping the first k units at the output of a
    reglens.nn.NestedDropout module (identity in eval, so its output is the layer it
    orders), K*, each unit's test drop and Spearman(index, importance) (METHODS §2)."""
    if path is None:
        found = nested_modules(model)
        if not found:
            raise ValueError("reglens: the model has no reglens.nn.NestedDropout module; nested ordering needs one (from reglens.nn import NestedDropout)")
        path = found[0][0]
    module = resolve_module(model, path)
    units, _ = unit_count(model, module, data.x)
    prefix = np.tril(np.ones((units, units), dtype=np.float32))
    single = np.ones((units, units), dtype=np.float32)
    np.fill_diagonal(single, 0)
    hits = masked_hits(model, module, data, np.concatenate([prefix, single]), units)
    with probe_mode(model) as dev:
        base = hits_of_logits(_logits(model, data.x, dev, _rows_per_pass(data, dev)), data.labels, data.group)
    importance = ablation_from_hits(base, hits[units:], data.counts, "hooks").test_drop
    return nested_ordering_payload(path, hits[:units], data.counts, importance)
