"""pytest setup for the Python side: the package from this checkout, one torch thread."""
from __future__ import annotations

import json
import os
import sys
from typing import Any, Dict

import pytest

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PYTHON_DIR)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

torch.set_num_threads(1)

SCHEMA_DIR = os.path.join(PYTHON_DIR, "reglens", "schemas")


def _schema(name: str) -> Dict[str, Any]:
    path = os.path.join(SCHEMA_DIR, name)
    if not os.path.isfile(path):
        pytest.skip(f"{path} is not generated yet (npm run schema writes it from the zod schemas)")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def event_validator():
    from reglens.engine.jsonschema_lite import Validator

    return Validator(_schema("engine-event.schema.json"))


@pytest.fixture(scope="session")
def command_validator():
    from reglens.engine.jsonschema_lite import Validator

    return Validator(_schema("engine-command.schema.json"))


def engine_env(**extra: str) -> Dict[str, str]:
    """Environment for a `python -m reglens.engine` subprocess."""
    env = {k: v for k, v in os.environ.items() if k != "NODE_CHANNEL_FD"}
    env["PYTHONPATH"] = PYTHON_DIR
    env["REGLENS_TORCH_THREADS"] = "1"
    env.update(extra)
    return env
