"""Which torch device a run trains on, and how it is described in the started event."""
from __future__ import annotations

import os
import platform
import sys
from typing import Optional, Tuple

import torch


class DeviceError(RuntimeError):
    """The device asked for cannot be used (names the cause and the fix)."""


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def cuda_unavailable_reason() -> str:
    if torch.version.cuda is None:
        return (
            f"this torch ({torch.__version__}) is a CPU-only build; install a CUDA build of torch "
            f"(pytorch.org, e.g. `{sys.executable} -m pip install torch --index-url https://download.pytorch.org/whl/cu121`) "
            'or set "device": "cpu"'
        )
    return (
        f"torch {torch.__version__} is built for CUDA {torch.version.cuda} but torch.cuda.is_available() is False "
        '(no NVIDIA GPU visible, or its driver is too old for that CUDA); check nvidia-smi, or set "device": "cpu"'
    )


def resolve_device(asked: str) -> torch.device:
    """auto: cuda if available, else mps, else cpu. An explicit device that is missing is an
    error (under auto the Node side decides fallbacks)."""
    if asked == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if asked == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device cuda was asked for but is unavailable: {cuda_unavailable_reason()}")
        return torch.device("cuda")
    if asked == "mps":
        if not _mps_available():
            raise DeviceError(
                f'device mps was asked for but is unavailable (torch {torch.__version__} on {platform.system()} '
                'needs an Apple-silicon Mac, macOS 12.3+ and torch >= 1.12 built with MPS); set "device": "cpu"'
            )
        return torch.device("mps")
    if asked == "cpu":
        return torch.device("cpu")
    raise DeviceError(f'unknown device "{asked}"; use auto, cuda, mps or cpu')


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return f"Apple GPU (MPS, {platform.machine()})"
    return platform.processor() or platform.machine() or "cpu"


def backend_label(device: torch.device) -> str:
    """started.backend: torch-cuda, torch-mps or torch-cpu."""
    return f"torch-{device.type}"


def apply_thread_setting() -> Optional[int]:
    """REGLENS_TORCH_THREADS (an integer >= 1) sets torch's intra-op threads."""
    value = os.environ.get("REGLENS_TORCH_THREADS")
    if not value:
        return None
    try:
        n = int(value)
    except ValueError:
        raise DeviceError(f"REGLENS_TORCH_THREADS must be a whole number of threads, got {value!r}") from None
    if n < 1:
        raise DeviceError(f"REGLENS_TORCH_THREADS must be at least 1, got {n}")
    torch.set_num_threads(n)
    return n


def describe(device: torch.device, asked: str) -> Tuple[str, str]:
    """(backend label, backendNote) for the started event."""
    note = f"torch {torch.__version__} on {device_name(device)}"
    if device.type == "cuda":
        note += f" (CUDA {torch.version.cuda})"
    note += f", {torch.get_num_threads()} CPU thread{'s' if torch.get_num_threads() != 1 else ''}"
    if asked == "auto":
        if device.type == "cpu":
            note = f"device auto chose cpu (no CUDA or MPS device available); {note}"
        else:
            note = f"device auto chose {device.type}; {note}"
    return backend_label(device), note
