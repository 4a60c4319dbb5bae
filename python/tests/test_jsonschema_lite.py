"""The small JSON Schema validator, on hand-made schemas and on the generated ones."""
from __future__ import annotations

import copy

import pytest

from datasets import experiment, mlp, start_command
from reglens.engine.jsonschema_lite import SchemaValidationError, Validator


def reason(schema, value) -> str:
    with pytest.raises(SchemaValidationError) as e:
        Validator(schema).validate(value)
    return str(e.value)


def test_keywords():
    s = {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "minimum": 1, "exclusiveMaximum": 10},
            "r": {"type": ["number", "null"]},
            "tag": {"enum": ["a", "b"]},
            "name": {"type": "string", "minLength": 2, "pattern": "^dense_\\d+$"},
            "xs": {"type": "array", "items": {"$ref": "#/$defs/frac"}, "minItems": 1},
            "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}]},
            "u": {"anyOf": [{"type": "string"}, {"type": "boolean"}]},
            "rec": {"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}, "additionalProperties": {"type": "number"}},
        },
        "required": ["n"],
        "additionalProperties": False,
        "$defs": {"frac": {"type": "number", "minimum": 0, "maximum": 1}},
    }
    ok = {"n": 3, "r": None, "tag": "a", "name": "dense_2", "xs": [0, 0.5], "pair": ["x", 1], "u": True, "rec": {"ab": 1}}
    assert Validator(s).is_valid(ok)
    assert Validator(s).is_valid({"n": 3.0})  # 3.0 is an integer in JSON
    assert reason(s, {"n": True}) == "n: must be integer (got boolean true)"
    assert reason(s, {"n": 10}) == "n: must be < 10 (got 10)"
    assert reason(s, {"n": 0}) == "n: must be >= 1 (got 0)"
    assert reason(s, {}) == "n: required"
    assert reason(s, {"n": 1, "extra": 1}).startswith('(root): unrecognized key "extra"')
    assert reason(s, {"n": 1, "tag": "c"}) == 'tag: must be one of "a", "b" (got "c")'
    assert reason(s, {"n": 1, "name": "conv_1"}) == 'name: must match /^dense_\\d+$/ (got "conv_1")'
    assert reason(s, {"n": 1, "xs": [0.5, 2]}) == "xs.1: must be <= 1 (got 2)"
    assert reason(s, {"n": 1, "xs": []}) == "xs: must have at least 1 items (got 0)"
    assert reason(s, {"n": 1, "pair": ["x", "y"]}) == 'pair.1: must be number (got string "y")'
    assert reason(s, {"n": 1, "u": 3}).startswith("u: must be")
    assert reason(s, {"n": 1, "rec": {"Ab": 1}}).startswith("rec.Ab: invalid key")
    assert reason(s, {"n": 1, "rec": {"ab": "x"}}) == 'rec.ab: must be number (got string "x")'


def test_discriminated_union_reports_the_matching_branch():
    s = {"oneOf": [
        {"type": "object", "properties": {"type": {"const": "start"}, "x": {"type": "number"}}, "required": ["type", "x"], "additionalProperties": False},
        {"type": "object", "properties": {"type": {"const": "cancel"}}, "required": ["type"], "additionalProperties": False},
    ]}
    v = Validator(s)
    assert v.is_valid({"type": "cancel"}) and v.is_valid({"type": "start", "x": 1})
    assert reason(s, {"type": "start", "x": "1"}) == 'x: must be number (got string "1")'
    assert reason(s, {"type": "stop"}) == 'type: must be one of "start", "cancel" (got "stop")'
    assert reason(s, {}) == 'type: required (one of "start", "cancel")'


def test_the_generated_command_schema(command_validator):
    cmd = start_command(experiment(mlp()), "/tmp/data")
    command_validator.validate(cmd)
    bad = copy.deepcopy(cmd)
    bad["experiment"]["training"]["epochs"] = 0
    with pytest.raises(SchemaValidationError, match=r"^experiment\.training\.epochs: must be > 0 \(got 0\)$"):
        command_validator.validate(bad)
    bad = copy.deepcopy(cmd)
    bad["experiment"]["model"]["layers"][1]["fn"] = "cube"
    with pytest.raises(SchemaValidationError, match=r"^experiment\.model\.layers\.1\.fn: must be one of"):
        command_validator.validate(bad)
    bad = copy.deepcopy(cmd)
    del bad["experiment"]["training"]["optimizer"]["lr"]
    with pytest.raises(SchemaValidationError, match=r"^experiment\.training\.optimizer\.lr: required$"):
        command_validator.validate(bad)
    assert command_validator.is_valid({"type": "cancel"})


def test_the_generated_event_schema(event_validator):
    epoch = {"type": "epoch", "epoch": 1, "loss": 0.5, "accuracy": {"cleanTrain": 0.5, "corruptedTrain": None, "test": 0.25}, "seconds": 0.1}
    event_validator.validate(epoch)
    with pytest.raises(SchemaValidationError, match=r"^accuracy\.test: must be <= 1"):
        event_validator.validate({**epoch, "accuracy": {**epoch["accuracy"], "test": 1.5}})
    with pytest.raises(SchemaValidationError, match=r'unrecognized key "extra"'):
        event_validator.validate({**epoch, "extra": 1})
