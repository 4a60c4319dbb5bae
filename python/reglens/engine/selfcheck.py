"""`python -m reglens.engine --self-check [--device X]`: can this Python train on torch?
Prints one JSON line (docs/torch-engine.md "Self-check"); engine.js uses it to pick a
backend under auto. Runs without torch installed (that is one of the answers)."""
from __future__ import annotations

import platform
import re
import sys
from typing import Any, Dict, Optional, Tuple

MIN_TORCH = (1, 13)


def _version_tuple(version: str) -> Tuple[int, ...]:
    parts = re.findall(r"\d+", version.split("+")[0])[:2]
    return tuple(int(p) for p in parts)


def self_check(asked: str = "auto") -> Dict[str, Any]:
    result: Dict[str, Any] = {
        "ok": False,
        "python": f"{sys.executable} {platform.python_version()}",
        "torch": None,
        "device": None,
        "deviceName": None,
        "reason": None,
    }
    pip = f"{sys.executable} -m pip install torch"
    try:
        import torch
    except Exception as e:  # ImportError, or a broken install raising OSError on a missing .so
        result["reason"] = (
            f"torch is not installed for this Python ({sys.executable}: {type(e).__name__}: {e}); "
            f"install it with `{pip}` (pytorch.org has the CUDA builds), or set reglens.python.interpreter to a Python that has it"
        )
        return result
    result["torch"] = torch.__version__
    if _version_tuple(torch.__version__) < MIN_TORCH:
        result["reason"] = f"torch {torch.__version__} is too old: RegLens needs torch >= 1.13; upgrade it with `{pip} --upgrade`"
        return result
    from reglens.engine.device import DeviceError, device_name, resolve_device

    try:
        device = resolve_device(asked)
    except DeviceError as e:
        result["reason"] = str(e)
        return result
    result["device"] = device.type
    result["deviceName"] = device_name(device)
    problem = _compute_check(torch, device)
    if problem:
        result["reason"] = f"torch on {device.type} computes wrong results ({problem}); reinstall torch, or use another device"
        return result
    problem = _engine_import_check()
    if problem:
        result["reason"] = problem
        return result
    result["ok"] = True
    return result


def _engine_import_check() -> Optional[str]:
    """The training loop's own imports (numpy among them): a check that passes must mean the
    engine can train. In the engine process this is also the import it needs anyway, done
    while engine.js is still writing the dataset."""
    try:
        import reglens.engine.train  # noqa: F401
    except ImportError as e:
        if e.name and not e.name.startswith("reglens"):
            top = e.name.split(".")[0]
            return f"the RegLens engine cannot import {e.name} in {sys.executable} ({e}); install it with `{sys.executable} -m pip install {top}`"
        return f"the RegLens engine cannot import its modules in {sys.executable} ({type(e).__name__}: {e}); check that numpy imports there, or reinstall RegLens"
    return None


def _compute_check(torch: Any, device: Any) -> Optional[str]:
    """A small matmul and its gradient against values known in closed form."""
    try:
        a = torch.arange(6, dtype=torch.float32, device=device).reshape(2, 3).requires_grad_(True)
        b = torch.ones(3, 4, dtype=torch.float32, device=device)
        y = a @ b  # rows of a summed, 4 times
        y.sum().backward()
        got = y.detach().cpu().tolist()
        if got != [[3.0] * 4, [12.0] * 4]:
            return f"matmul gave {got}"
        grad = a.grad.detach().cpu().tolist()
        if grad != [[4.0] * 3, [4.0] * 3]:
            return f"gradient gave {grad}"
    except Exception as e:  # a driver / kernel failure is exactly what this check is for
        return f"{type(e).__name__}: {e}"
    return None
