"""RegLens, Python side: the PyTorch training engine (reglens.engine) and the layers a
user's model can import (reglens.nn). Importing this package imports neither torch nor
numpy, so `python -m reglens.engine --self-check` can report a missing torch itself."""

__version__ = "0.1.0"
