"""The JSON Schemas generated from the zod schemas (`npm run schema` writes them to
python/reglens/schemas/): what this engine checks what crosses its boundary against."""
from __future__ import annotations

import functools
import json
import os

from reglens.engine.jsonschema_lite import Validator

COMMAND = "engine-command.schema.json"
EVENT = "engine-event.schema.json"
DATASET_META = "dataset-meta.schema.json"
SELF_CHECK = "self-check.schema.json"
HELLO = "engine-hello.schema.json"

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "schemas")


class SchemaMissingError(OSError):
    pass


@functools.lru_cache(maxsize=None)
def load_validator(name: str) -> Validator:
    path = os.path.join(SCHEMA_DIR, name)
    if not os.path.isfile(path):
        raise SchemaMissingError(f"{path} is missing: it is generated from the zod schemas by `npm run schema` and shipped with RegLens; reinstall RegLens or regenerate it")
    with open(path, encoding="utf-8") as f:
        return Validator(json.load(f))
