"""RegLens, Python side: the PyTorch training engine (reglens.engine), the layers a user's
model can import (reglens.nn), probes on any nn.Module (reglens.hooks) and the recorder for
a user's own training loop (reglens.init, reglens.ProbeSet). Importing this package imports
neither torch nor numpy (the recorder's names load on first use), so
`python -m reglens.engine --self-check` can report a missing torch itself."""
from typing import Any

__version__ = "0.1.0"

_RECORDER = ("init", "ProbeSet", "Run")


def __getattr__(name: str) -> Any:
    if name in _RECORDER:
        from reglens import recorder

        return getattr(recorder, name)
    raise AttributeError(f"module 'reglens' has no attribute {name!r}")
