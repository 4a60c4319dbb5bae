"""The training loop: one start command in, a stream of EngineEvents out, with the
semantics of src/engine/train.ts (batches, optimizers, regularizers, evaluation, early
stopping, events). Random streams are seeded per purpose from the experiment seed as on
the TS side, but drawn by torch / numpy: a torch run is reproducible, not draw-for-draw
the TF.js run.

Speed: the data live on the device, batches are rows of a per-epoch permutation, and
nothing waits for the device inside an epoch (the loss is summed on the device and read
once per epoch), so a step costs what a hand-written PyTorch step costs
(bench/peer/torch_epoch.py).
"""
from __future__ import annotations

import math
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from reglens.engine.channel import now
from reglens.engine.data import Dataset, DatasetError, load_dataset
from reglens.engine.device import DeviceError, apply_thread_setting, describe, resolve_device
from reglens.engine.model import EngineModel, ModelShapeError, build_model, contract_name
from reglens.engine.probes.label_errors_run import margins_of
from reglens.engine.probes.runner import ProbeRunner
from reglens.engine.user_model import UserModel, UserModelError, build_user_model
from reglens.engine.regularizers import (
    apply_cutmix,
    candidate_mask,
    draw_cutmix,
    feature_group_keep,
    forget_rate,
    group_matrix,
    l2_penalty,
    small_loss_indices,
    smoothed_one_hot,
    soft_cross_entropy,
)
from reglens.engine.checkpoint import load_checkpoint, numpy_state, optimizer_parts, save_checkpoint
from reglens.engine.seeds import numpy_stream, stream_seed, torch_stream
from reglens.nn import NestedDropout

Emit = Callable[[Dict[str, Any]], None]

# Bounds evaluation memory on large splits; one chunk covers p = 97 entirely (evaluate.ts).
EVAL_CHUNK = 8192


class ExperimentShapeError(ValueError):
    """The experiment does not fit its data (a user error: reported without a stack)."""


class CommandError(ValueError):
    """The start command lacks what the contract says engine.js sends."""


USER_ERRORS = (ExperimentShapeError, CommandError, ModelShapeError, DatasetError, DeviceError, UserModelError)


def train(command: Dict[str, Any], emit: Emit, cancelled: threading.Event) -> int:
    """Runs a validated start command. Emits started, an epoch event per epoch, then
    finished; or failed (never raises). Returns the exit code: 0 finished or cancelled,
    1 failed."""
    batch_size: Optional[int] = None
    device: Optional[torch.device] = None
    try:
        experiment = command["experiment"]
        batch_size = int(experiment["training"]["batchSize"])
        apply_thread_setting()
        asked = experiment.get("device") or command.get("device") or "auto"
        device = resolve_device(asked)
        data_dir = command.get("dataDir")
        if not data_dir:
            raise CommandError("the start command has no dataDir (the materialised dataset); the torch engine is started by engine.js, which writes it")
        data = load_dataset(data_dir)
        forked = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
        # Dropout masks come from torch's global RNG: seed it for this run, and give it back after.
        with torch.random.fork_rng(devices=forked):
            torch.manual_seed(stream_seed(int(experiment.get("seed", 0)), "dropout"))
            return _Run(command, data, device, asked, emit, cancelled).run()
    except Exception as e:  # every failure becomes a failed event; nothing escapes
        emit(failed_event(e, device, batch_size))
        return 1


def failed_event(e: BaseException, device: Optional[torch.device], batch_size: Optional[int]) -> Dict[str, Any]:
    event: Dict[str, Any] = {"type": "failed", "time": now(), "message": str(e) or type(e).__name__}
    if _is_out_of_memory(e):
        where = device.type if device is not None else "the GPU"
        event["message"] = (
            f"{where} ran out of memory ({str(e).splitlines()[0]}); lower training.batchSize"
            f"{f' (now {batch_size})' if batch_size else ''} or a layer's size, or train on the CPU (\"device\": \"cpu\")"
        )
    elif not isinstance(e, USER_ERRORS):
        # Engine bugs: the exception and the frame it came from (the full traceback goes to stderr, the run's log).
        traceback.print_exception(type(e), e, e.__traceback__)
        frames = traceback.extract_tb(e.__traceback__)
        stack = f"{type(e).__name__}: {e}"
        if frames:
            f = frames[-1]
            stack += f'\n  File "{f.filename}", line {f.lineno}, in {f.name}' + (f"\n    {f.line}" if f.line else "")
        event["stack"] = stack
    return event


def _is_out_of_memory(e: BaseException) -> bool:
    oom = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom is not None and isinstance(e, oom):
        return True
    text = str(e)
    return isinstance(e, RuntimeError) and ("CUDA out of memory" in text or "MPS backend out of memory" in text)


@dataclass
class _Batch:
    x: torch.Tensor
    targets: torch.Tensor  # int64 labels, or soft targets [n, K]
    candidates: Optional[torch.Tensor]
    corrupted: Optional[torch.Tensor]  # co-teaching's label precision


class _Run:
    """One training run; methods share the run's tensors and settings."""

    def __init__(self, command: Dict[str, Any], data: Dataset, device: torch.device, asked: str, emit: Emit, cancelled: threading.Event) -> None:
        self.command = command
        self.experiment: Dict[str, Any] = command["experiment"]
        self.data = data
        self.device = device
        self.asked = asked
        self.emit = emit
        self.cancelled = cancelled
        training = self.experiment["training"]
        self.training = training
        self.regs: Dict[str, Any] = training.get("regularizers") or {}
        self.seed = int(self.experiment.get("seed", 0))

    # ---- setup ----

    def _build(self) -> None:
        data, regs, seed, dev = self.data, self.regs, self.seed, self.device
        layers = self.experiment["model"]["layers"]
        pytorch = self.experiment["model"].get("pytorch")
        if not layers and not pytorch:
            raise CommandError("model.layers is empty: engine.js translates model.topology to layers before starting Python, and model.module runs on TF.js")
        self.model: Union[EngineModel, UserModel] = self._new_model("init")
        if data.initial_weights and isinstance(self.model, EngineModel):
            # A saved model as model.topology: its weights; any it lacks keep the seeded init (model.ts).
            self.model.set_weights({contract_name(k): v for k, v in data.initial_weights.items()}, strict=False)
        if regs.get("cutmix") and data.image is None:
            raise ExperimentShapeError(f"training.regularizers.cutmix: CutMix pastes image patches and needs an image dataset (mnist), not {data.kind}")
        # Co-teaching's peer: same architecture, its own initial weights.
        self.peer: Optional[Union[EngineModel, UserModel]] = None
        if regs.get("coTeaching"):
            self.peer = self._new_model("init-peer")
            tau = regs["coTeaching"].get("forgetRate")
            self.tau = float(data.noise_rate if tau is None else tau)
        self.groups: Optional[torch.Tensor] = None
        fgd = regs.get("featureGroupDropout")
        if fgd:
            if not data.feature_groups:
                raise ExperimentShapeError("training.regularizers.featureGroupDropout: meta.json carries no featureGroups; engine.js resolves them from the experiment (rerun from RegLens)")
            self.groups = group_matrix([g.columns for g in data.feature_groups], data.input_size).to(dev)
            self.group_rate = float(fgd["rate"])

        self.eps = float(regs.get("labelSmoothing") or 0.0)
        self.soft = bool(regs.get("cutmix") or regs.get("candidateDropout"))
        tr, te = data.train, data.test
        self.x_train = tr.x.to(dev)
        self.x_test = te.x.to(dev)
        self.y_train = tr.labels.to(dev)
        self.y_test = te.labels.to(dev)
        self.corrupted = tr.corrupted.to(dev)
        self.clean = ~self.corrupted
        self.n_corrupted = int(tr.corrupted.sum())
        self.n_clean = tr.n - self.n_corrupted
        # Soft targets, smoothing folded in once (CutMix mixes them further per batch).
        self.y_soft = smoothed_one_hot(self.y_train, data.classes, self.eps) if self.soft else None
        self.labels_host = tr.labels.numpy()

        opt = self.training["optimizer"]
        self.lr = float(opt["lr"])
        self.decay = 1 - self.lr * float(opt.get("weightDecay") or 0.0)
        self.optimizer = self._optimizer(self.model)
        self.peer_optimizer = self._optimizer(self.peer) if self.peer is not None else None
        self.l2 = float(regs.get("l2") or 0.0)
        self.msd = regs.get("multiSampleDropout")
        self.kernels = self.model.kernels()
        self.peer_kernels = self.peer.kernels() if self.peer is not None else []

        self.batch_gen = torch_stream(seed, "batches")
        # Separate streams so switching one regularizer on does not reshuffle the others.
        nested = torch_stream(seed, "nested-dropout")
        self.nested_gen = nested
        for net in (self.model, self.peer):
            for m in net.modules() if net is not None else ():
                if isinstance(m, NestedDropout):
                    m.generator = nested
        self.cutmix_rng = numpy_stream(seed, "cutmix")
        self.group_gen = torch_stream(seed, "feature-groups")
        self.candidate_rng = numpy_stream(seed, "candidates")

    def _new_model(self, stream: str) -> Union[EngineModel, UserModel]:
        """The experiment's model (model.layers, or the user's model.pytorch class) on the run's
        device, initialised from the seed's `stream`."""
        data, seed = self.data, self.seed
        pytorch = self.experiment["model"].get("pytorch")
        if not pytorch:
            return build_model(self.experiment["model"]["layers"], data.input_size, data.classes, data.image, torch_stream(seed, stream)).to(self.device)
        sample = data.train.x[:2]
        model = build_user_model(pytorch, self.command.get("baseDir"), data.input_size, data.classes, data.image, seed, stream, sample).to(self.device)
        if self.regs.get("multiSampleDropout"):
            model.require_linear_head(sample.to(self.device))
        return model

    def _close_models(self) -> None:
        """Removes the hooks put on the user's modules (addDropout)."""
        for m in (getattr(self, "model", None), getattr(self, "peer", None)):
            if isinstance(m, UserModel):
                m.close()

    def _optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        opt = self.training["optimizer"]
        if opt["kind"] == "adam":
            # TF.js adam: epsilon = the backend's 1e-7, added to sqrt(v_hat): torch's Adam form.
            return torch.optim.Adam(model.parameters(), lr=self.lr, betas=(float(opt["beta1"]), float(opt["beta2"])), eps=1e-7)
        return torch.optim.SGD(model.parameters(), lr=self.lr)

    def _probes(self) -> ProbeRunner:
        """The probes read the first network (co-teaching's peer is never probed)."""
        return ProbeRunner(self.experiment, self.data, self.model, self.device, self.command.get("runDir"), self.emit)

    def _epoch_order(self, epoch: int, n: int) -> torch.Tensor:
        """The order of the training rows in epoch `epoch` (int64, CPU). The conformance
        tests override it with the TS engine's order to train on the same mini-batches."""
        return torch.randperm(n, generator=self.batch_gen)

    # ---- one step ----

    def _mean_loss(self, logits: torch.Tensor, b: _Batch) -> torch.Tensor:
        if self.soft:
            return soft_cross_entropy(logits, b.targets, b.candidates).mean()
        return F.cross_entropy(logits, b.targets, label_smoothing=self.eps)

    def _per_sample_loss(self, logits: torch.Tensor, b: _Batch) -> torch.Tensor:
        if self.soft:
            return soft_cross_entropy(logits, b.targets, b.candidates)
        return F.cross_entropy(logits, b.targets, reduction="none", label_smoothing=self.eps)

    def _loss(self, m: Any, kernels: List[torch.Tensor], b: _Batch) -> torch.Tensor:
        if self.msd:
            samples, rate = int(self.msd["samples"]), float(self.msd["rate"])
            features = m.features(b.x)
            # M dropout masks -> the shared head -> M losses, averaged (not the logits).
            total = sum(self._mean_loss(m.head(F.dropout(features, rate, True) if rate > 0 else features), b) for _ in range(samples))
            loss = total / samples
        else:
            loss = self._mean_loss(m(b.x), b)
        if self.l2:
            loss = loss + l2_penalty(kernels, self.l2)
        return loss

    def _step(self, m: nn.Module, kernels: List[torch.Tensor], opt: torch.optim.Optimizer, b: _Batch) -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        loss = self._loss(m, kernels, b)
        loss.backward()
        opt.step()
        if self.decay != 1:
            # Decoupled decay after the step, on every trainable tensor (train.ts; torch's AdamW decays before).
            with torch.no_grad():
                params = [p for g in opt.param_groups for p in g["params"]]
                if hasattr(torch, "_foreach_mul_"):
                    torch._foreach_mul_(params, self.decay)
                else:
                    for p in params:
                        p.mul_(self.decay)
        return loss.detach()

    def _batch(self, rows: torch.Tensor, rows_host: Optional[np.ndarray]) -> _Batch:
        data, regs = self.data, self.regs
        x = self.x_train[rows]
        targets = self.y_soft[rows] if self.y_soft is not None else self.y_train[rows]
        cut = regs.get("cutmix")
        if cut and data.image is not None and self.cutmix_rng.random() < float(cut["prob"]):
            x, targets = apply_cutmix(x, targets, data.image, draw_cutmix(self.cutmix_rng, x.shape[0], data.image, float(cut["beta"])))
        if self.groups is not None:
            dropped = (torch.rand(x.shape[0], self.groups.shape[0], generator=self.group_gen) < self.group_rate).to(self.device, torch.float32)
            x = x * feature_group_keep(dropped, self.groups)
        candidates = None
        if regs.get("candidateDropout") and rows_host is not None:
            mask = candidate_mask(self.candidate_rng, data.classes, float(regs["candidateDropout"]["keep"]), self.labels_host[rows_host])
            candidates = torch.from_numpy(mask).to(self.device)
        return _Batch(x, targets, candidates, self.corrupted[rows] if self.peer is not None else None)

    def _co_teaching_step(self, b: _Batch, epoch: int, selected: torch.Tensor) -> torch.Tensor:
        """Each network ranks the batch by its own loss (inference mode) and hands its
        small-loss samples to the peer, which trains on them (Han et al. 2018)."""
        assert self.peer is not None and self.peer_optimizer is not None
        rate = forget_rate(epoch - 1, self.tau, int(self.regs["coTeaching"].get("gradualEpochs", 10)))
        ranked = []
        with torch.no_grad():
            for m in (self.model, self.peer):
                m.eval()
                ranked.append(small_loss_indices(self._per_sample_loss(m(b.x), b), rate))
                m.train()
        by_model, by_peer = ranked
        assert b.corrupted is not None
        selected[0] += by_model.numel() + by_peer.numel()
        selected[1] += (~b.corrupted[by_model]).sum() + (~b.corrupted[by_peer]).sum()
        sub = lambda idx: _Batch(b.x[idx], b.targets[idx], b.candidates, None)  # noqa: E731
        loss = self._step(self.model, self.kernels, self.optimizer, sub(by_peer))
        self._step(self.peer, self.peer_kernels, self.peer_optimizer, sub(by_model))
        return loss

    # ---- evaluation ----

    def _evaluate(self, margins: bool = False) -> Tuple[Dict[str, Any], Optional[float], Optional[Tuple[np.ndarray, np.ndarray]]]:
        """Accuracies as evaluate.ts accuracyOf, the test loss vs the test labels, and with
        `margins` the training rows' (argmax, z_y - max_{j != y} z_j) from the same logits."""
        m = self.model
        m.eval()
        train_eval: Optional[Tuple[np.ndarray, np.ndarray]] = None
        try:
            with torch.no_grad():
                if margins:
                    parts = [margins_of(m(self.x_train[s : s + EVAL_CHUNK]), self.y_train[s : s + EVAL_CHUNK]) for s in range(0, self.data.train.n, EVAL_CHUNK)]
                    train_pred = torch.cat([p for p, _ in parts])
                    train_margin = torch.cat([g for _, g in parts])
                    train_eval = (train_pred.cpu().numpy(), train_margin.float().cpu().numpy())
                else:
                    train_pred = torch.cat([m(self.x_train[s : s + EVAL_CHUNK]).argmax(1) for s in range(0, self.data.train.n, EVAL_CHUNK)])
                train_hits = train_pred == self.y_train
                # No float64 on the device (MPS has none): counts stay integers, the loss float32.
                test_hits = torch.zeros((), device=self.device, dtype=torch.int64)
                test_loss = torch.zeros((), device=self.device)
                for s in range(0, self.data.test.n, EVAL_CHUNK):
                    logits = m(self.x_test[s : s + EVAL_CHUNK])
                    y = self.y_test[s : s + EVAL_CHUNK]
                    test_hits += (logits.argmax(1) == y).sum()
                    test_loss += F.cross_entropy(logits, y, reduction="sum")
                counts = torch.stack([(train_hits & self.clean).sum(), (train_hits & self.corrupted).sum(), test_hits]).tolist()
                loss_sum = test_loss.item()
        finally:
            m.train()
        clean_hits, bad_hits, hits = counts
        n_test = self.data.test.n
        accuracy = {
            "cleanTrain": clean_hits / self.n_clean if self.n_clean else 0.0,
            "corruptedTrain": bad_hits / self.n_corrupted if self.n_corrupted else None,
            "test": hits / n_test if n_test else 0.0,
        }
        mean = loss_sum / n_test if n_test else float("nan")
        return accuracy, (mean if math.isfinite(mean) else None), train_eval

    # ---- the run ----

    def _log(self, level: str, message: str) -> None:
        self.emit({"type": "log", "level": level, "message": message})

    def _train_epoch(self, epoch: int) -> Optional[Tuple[float, float, Optional[Tuple[int, int]]]]:
        """One epoch of training steps: (mean loss, seconds, co-teaching's (selected, clean)
        counts or None); None when cancelled (after the current step). Waits for the device
        once, at the end (the loss is summed on the device)."""
        n = self.data.train.n
        bs = min(int(self.training["batchSize"]), n)
        t0 = time.perf_counter()
        self.model.train()
        if self.peer is not None:
            self.peer.train()
        perm = self._epoch_order(epoch, n)
        perm_host = perm.numpy() if self.regs.get("candidateDropout") else None
        perm = perm.to(self.device)
        loss_sum = torch.zeros((), device=self.device)
        selected = torch.zeros(2, device=self.device, dtype=torch.int64) if self.peer is not None else None
        for s in range(0, n, bs):
            if self.cancelled.is_set():
                return None
            size = min(bs, n - s)
            b = self._batch(perm[s : s + size], perm_host[s : s + size] if perm_host is not None else None)
            if selected is not None:
                loss = self._co_teaching_step(b, epoch, selected)
            else:
                loss = self._step(self.model, self.kernels, self.optimizer, b)
            loss_sum.add_(loss, alpha=size)
        mean_loss = loss_sum.item() / n
        counts: Optional[Tuple[int, int]] = None
        if selected is not None:
            chosen, clean = selected.tolist()
            counts = (int(chosen), int(clean))
        return mean_loss, time.perf_counter() - t0, counts

    def _save_checkpoint(self, run_dir: str, epoch: int, total_seconds: float, last: Optional[Dict[str, Any]], stopper: Optional["_EarlyStopping"], probes: ProbeRunner) -> None:
        gens = {"batch": self.batch_gen, "group": self.group_gen, "nested": self.nested_gen}
        opt_state, opt_groups = optimizer_parts(self.optimizer)
        tensors: Dict[str, Any] = {
            "model": self.model.state_dict(),
            "optimizer": opt_state,
            "generators": {k: g.get_state() for k, g in gens.items()},
            "torch": torch.get_rng_state(),
        }
        meta: Dict[str, Any] = {
            "epoch": epoch,
            "total_seconds": total_seconds,
            "last": last,
            "optimizer": opt_groups,
            "numpy": {"cutmix": numpy_state(self.cutmix_rng), "candidates": numpy_state(self.candidate_rng)},
        }
        if self.device.type == "cuda":
            tensors["cuda"] = torch.cuda.get_rng_state(self.device)
        if self.peer is not None and self.peer_optimizer is not None:
            tensors["peer"] = self.peer.state_dict()
            tensors["peer_optimizer"], meta["peer_optimizer"] = optimizer_parts(self.peer_optimizer)
        tensors["probes"], meta["probes"] = probes.state()
        if stopper is not None:
            meta["stopper"] = {"best": list(stopper.best) if stopper.best else None, "stopped_at": stopper.stopped_at}
            if stopper.best_state is not None:
                tensors["best_state"] = stopper.best_state
        try:
            save_checkpoint(run_dir, self.experiment, tensors, meta)
        except OSError as e:
            # Training goes on without it: a lost checkpoint costs a restart, a failed run costs the run.
            if not getattr(self, "_checkpoint_warned", False):
                self._log("warning", f"Could not write the checkpoint in {run_dir}: {e}. Training continues; a requeued run would start over.")
                self._checkpoint_warned = True

    def _restore(self, tensors: Dict[str, Any], meta: Dict[str, Any], stopper: Optional["_EarlyStopping"], probes: ProbeRunner) -> None:
        self.model.load_state_dict(tensors["model"])
        self.optimizer.load_state_dict({"state": tensors["optimizer"], "param_groups": meta["optimizer"]})
        if self.peer is not None and self.peer_optimizer is not None and "peer" in tensors:
            self.peer.load_state_dict(tensors["peer"])
            self.peer_optimizer.load_state_dict({"state": tensors["peer_optimizer"], "param_groups": meta["peer_optimizer"]})
        gens = {"batch": self.batch_gen, "group": self.group_gen, "nested": self.nested_gen}
        for k, g in gens.items():
            g.set_state(tensors["generators"][k].cpu())
        self.cutmix_rng.bit_generator.state = meta["numpy"]["cutmix"]
        self.candidate_rng.bit_generator.state = meta["numpy"]["candidates"]
        torch.set_rng_state(tensors["torch"].cpu())
        if self.device.type == "cuda" and "cuda" in tensors:
            torch.cuda.set_rng_state(tensors["cuda"].cpu(), self.device)
        # An older checkpoint without it: the probes start over from here (their payloads say over how many epochs).
        if "probes" in meta:
            probes.restore(tensors.get("probes", {}), meta["probes"])
        saved = meta.get("stopper")
        if stopper is not None and saved:
            stopper.best = tuple(saved["best"]) if saved["best"] else None  # type: ignore[assignment]
            stopper.best_state = tensors.get("best_state")
            stopper.stopped_at = saved["stopped_at"]

    def run(self) -> int:
        try:
            return self._run()
        finally:
            self._close_models()

    def _run(self) -> int:
        self._build()
        data, training = self.data, self.training
        backend, note = describe(self.device, self.asked)
        epochs = int(training["epochs"])
        self.emit({
            "type": "started",
            "time": now(),
            "backend": backend,
            "backendNote": note,
            "totalEpochs": epochs,
            "dataset": {"train": data.train.n, "corrupted": data.corrupted_count, "test": data.test.n, "inputSize": data.input_size, "classes": data.classes},
            "parameters": self.model.parameter_count(),
        })
        probes = self._probes()
        stopper = _EarlyStopping.of(self.regs.get("earlyStopping"))
        epochs_done, total_seconds = 0, 0.0
        last: Optional[Dict[str, Any]] = None
        run_dir = self.command.get("runDir")
        every = training.get("checkpointEvery") if run_dir else None
        first = 1
        if self.command.get("resume") and run_dir:
            restored = load_checkpoint(run_dir, self.experiment, self.device)
            if restored is not None:
                tensors, meta = restored
                self._restore(tensors, meta, stopper, probes)
                epochs_done, total_seconds, last = int(meta["epoch"]), float(meta["total_seconds"]), meta["last"]
                first = epochs_done + 1
                self._log("info", f"Resumed from the checkpoint after epoch {epochs_done} (weights, optimizer state, random streams, probe bookkeeping).")
        for epoch in range(first, epochs + 1):
            trained = self._train_epoch(epoch)
            if trained is None:
                self._log("info", f"Cancelled after {epochs_done} epochs.")
                return 0
            mean_loss, train_seconds, selected = trained
            if not math.isfinite(mean_loss):
                raise ExperimentShapeError(f"the training loss became {_js_number(mean_loss)} in epoch {epoch}; try a lower learning rate (training.optimizer.lr)")
            t1 = time.perf_counter()
            accuracy, test_loss, train_eval = self._evaluate(probes.wants_train_margins)
            seconds = train_seconds + time.perf_counter() - t1
            total_seconds += seconds
            epochs_done, last = epoch, accuracy
            event: Dict[str, Any] = {"type": "epoch", "epoch": epoch, "loss": mean_loss, "accuracy": accuracy, "seconds": seconds, "trainSeconds": train_seconds}
            if test_loss is not None:
                event["testLoss"] = test_loss
            if selected is not None:
                chosen, clean = selected
                if chosen:
                    event["labelPrecision"] = clean / chosen
            self.emit(event)
            stop = stopper.update(epoch, accuracy, test_loss, self.model) if stopper else None
            probes.after_epoch(epoch, stop is not None or epoch == epochs, event, train_eval)
            if stop:
                self._log("info", stop)
                break
            if every and epoch % int(every) == 0 and epoch < epochs:
                self._save_checkpoint(run_dir, epoch, total_seconds, last, stopper, probes)
        if self.cancelled.is_set():
            self._log("info", f"Cancelled after {epochs_done} epochs.")
            return 0
        outcome = None
        if stopper:
            outcome, restored = stopper.finish(self.model, epochs_done, lambda message: self._log("info", message))
            last = restored or last
        probes.finish(epochs_done)
        finished: Dict[str, Any] = {
            "type": "finished",
            "time": now(),
            "epochs": epochs_done,
            "final": last,
            "secondsPerEpoch": total_seconds / epochs_done if epochs_done else None,
        }
        if outcome:
            finished["earlyStopping"] = outcome
        self.emit(finished)
        return 0


class _EarlyStopping:
    """Stops when the monitored held-out value (testLoss: lower is better; testAccuracy:
    higher) has not improved by more than minDelta for `patience` epochs; restoreBest keeps
    the best epoch's weights to put back at the end (train.ts)."""

    def __init__(self, spec: Dict[str, Any]) -> None:
        self.patience = int(spec.get("patience", 10))
        self.min_delta = float(spec.get("minDelta", 0.0))
        self.monitor = str(spec.get("monitor", "testLoss"))
        self.restore = bool(spec.get("restoreBest", False))
        self.best: Optional[Tuple[int, float, Dict[str, Any]]] = None  # epoch, value, accuracy
        self.best_state: Optional[Dict[str, torch.Tensor]] = None
        self.stopped_at: Optional[int] = None

    @classmethod
    def of(cls, spec: Optional[Dict[str, Any]]) -> Optional["_EarlyStopping"]:
        return cls(spec) if spec else None

    def _text(self) -> str:
        return "test accuracy" if self.monitor == "testAccuracy" else "test loss"

    def _format(self, v: float) -> str:
        return f"{v * 100:.1f}%" if self.monitor == "testAccuracy" else f"{v:.4f}"

    def update(self, epoch: int, accuracy: Dict[str, Any], test_loss: Optional[float], model: nn.Module) -> Optional[str]:
        """The log message when training should stop after this epoch, else None."""
        value = accuracy["test"] if self.monitor == "testAccuracy" else test_loss
        if value is None or not math.isfinite(value):
            return None
        if self.best is None or (value > self.best[1] + self.min_delta if self.monitor == "testAccuracy" else value < self.best[1] - self.min_delta):
            self.best = (epoch, value, accuracy)
            if self.restore:
                self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            return None
        if epoch - self.best[0] >= self.patience:
            self.stopped_at = epoch
            return (
                f"Early stopping after epoch {epoch}: the {self._text()} has not improved for {self.patience} epochs "
                f"(best {self._format(self.best[1])} at epoch {self.best[0]})."
            )
        return None

    def finish(self, model: nn.Module, epochs_done: int, log: Callable[[str], None]) -> Tuple[Optional[Dict[str, Any]], Optional[Dict[str, Any]]]:
        """(the finished event's earlyStopping outcome, the accuracy to report as final when
        the best weights were restored), both None before any finite monitored value."""
        if self.best is None:
            return None, None
        epoch, value, accuracy = self.best
        restored: Optional[int] = None
        final = None
        if self.best_state is not None:
            # Before the probes, so they (and a saved pruned model) measure the restored weights.
            if epoch != epochs_done:
                model.load_state_dict(self.best_state)
            restored, final = epoch, accuracy
            log(f"Restored the weights of epoch {epoch} (best {self._text()} {self._format(value)}); the final numbers are that epoch's.")
        return {"monitor": self.monitor, "stoppedAt": self.stopped_at, "bestEpoch": epoch, "best": value, "restoredEpoch": restored}, final


def _js_number(x: float) -> str:
    """NaN / Infinity spelled as the TS engine's message spells them."""
    if math.isnan(x):
        return "NaN"
    return "Infinity" if x > 0 else "-Infinity"
