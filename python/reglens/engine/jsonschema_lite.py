"""A small JSON Schema validator for the subset zod 4's z.toJSONSchema emits (draft 2020-12
or draft 7): type (also lists of types), properties / required / additionalProperties
(false or a schema) / propertyNames / patternProperties, enum, const, anyOf / oneOf /
allOf / not, items / prefixItems, min/maxItems, uniqueItems, minimum / maximum /
exclusive*, multipleOf, min/maxLength, pattern, $ref into $defs / definitions.
Annotations (default, description, format, ...) are ignored.

Errors name the dotted path of the offending value, as the TS side does:
`experiment.training.epochs: must be >= 1 (got 0)`.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

Path = Tuple[Union[str, int], ...]


class SchemaValidationError(ValueError):
    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        self.reason = message
        super().__init__(f"{format_path(path)}: {message}")


def format_path(path: Path) -> str:
    return ".".join(str(p) for p in path) if path else "(root)"


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_type(value: Any, t: str) -> bool:
    if t == "null":
        return value is None
    if t == "boolean":
        return isinstance(value, bool)
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if t == "string":
        return isinstance(value, str)
    if isinstance(value, bool):
        return False
    if t == "number":
        return isinstance(value, (int, float))
    if t == "integer":
        return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value) and value.is_integer())
    return False


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but true != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


class Validator:
    """Validates instances against one root schema (its $refs resolve within it)."""

    def __init__(self, schema: Dict[str, Any]) -> None:
        self.root = schema
        self._patterns: Dict[str, "re.Pattern[str]"] = {}

    def validate(self, instance: Any, path: Path = ()) -> None:
        """Raises SchemaValidationError for the most relevant problem."""
        errors = self.errors(instance, path)
        if errors:
            raise errors[0]

    def is_valid(self, instance: Any) -> bool:
        return not self._check(self.root, instance, (), first_only=True)

    def errors(self, instance: Any, path: Path = ()) -> List[SchemaValidationError]:
        return self._check(self.root, instance, path, first_only=False)

    def _resolve(self, ref: str) -> Dict[str, Any]:
        if not ref.startswith("#"):
            raise ValueError(f"only local $refs are supported, got {ref!r}")
        node: Any = self.root
        for part in ref[1:].lstrip("/").split("/") if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    def _regex(self, pattern: str) -> "re.Pattern[str]":
        r = self._patterns.get(pattern)
        if r is None:
            r = self._patterns[pattern] = re.compile(pattern)
        return r

    def _check(self, schema: Any, value: Any, path: Path, first_only: bool) -> List[SchemaValidationError]:
        if schema is True or schema == {}:
            return []
        if schema is False:
            return [SchemaValidationError(path, "no value is allowed here")]
        errors: List[SchemaValidationError] = []

        def fail(message: str, at: Optional[Path] = None) -> bool:
            errors.append(SchemaValidationError(path if at is None else at, message))
            return first_only

        if "$ref" in schema:
            errors += self._check(self._resolve(schema["$ref"]), value, path, first_only)
            if errors and first_only:
                return errors
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(_is_type(value, t) for t in types):
                fail(f"must be {' or '.join(types)} (got {_type_name(value)} {_show(value)})")
                return errors  # nothing else is meaningful on the wrong type
        if "const" in schema and not _equal(value, schema["const"]):
            if fail(f"must be {_show(schema['const'])} (got {_show(value)})"):
                return errors
        if "enum" in schema and not any(_equal(value, e) for e in schema["enum"]):
            if fail(f"must be one of {', '.join(_show(e) for e in schema['enum'])} (got {_show(value)})"):
                return errors
        for sub in schema.get("allOf", []):
            errors += self._check(sub, value, path, first_only)
            if errors and first_only:
                return errors
        if "anyOf" in schema or "oneOf" in schema:
            key = "oneOf" if "oneOf" in schema else "anyOf"
            e = self._alternatives(schema[key], value, path, key == "oneOf", first_only)
            if e is not None:
                errors.append(e)
                if first_only:
                    return errors
        if "not" in schema and not self._check(schema["not"], value, path, True):
            if fail("must not match the excluded schema"):
                return errors
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"] and fail(f"must be >= {schema['minimum']} (got {_show(value)})"):
                return errors
            if "maximum" in schema and value > schema["maximum"] and fail(f"must be <= {schema['maximum']} (got {_show(value)})"):
                return errors
            lo, hi = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
            if isinstance(lo, (int, float)) and not isinstance(lo, bool) and value <= lo and fail(f"must be > {lo} (got {_show(value)})"):
                return errors
            if isinstance(hi, (int, float)) and not isinstance(hi, bool) and value >= hi and fail(f"must be < {hi} (got {_show(value)})"):
                return errors
            step = schema.get("multipleOf")
            if step and not math.isclose(value / step, round(value / step), abs_tol=1e-9) and fail(f"must be a multiple of {step} (got {_show(value)})"):
                return errors
        if isinstance(value, str):
            if "minLength" in schema and len(value) < schema["minLength"] and fail(f"must have at least {schema['minLength']} characters (got {_show(value)})"):
                return errors
            if "maxLength" in schema and len(value) > schema["maxLength"] and fail(f"must have at most {schema['maxLength']} characters (got {len(value)})"):
                return errors
            if "pattern" in schema and not self._regex(schema["pattern"]).search(value) and fail(f"must match /{schema['pattern']}/ (got {_show(value)})"):
                return errors
        if isinstance(value, list):
            errors += self._array(schema, value, path, first_only)
            if errors and first_only:
                return errors
        if isinstance(value, dict):
            errors += self._object(schema, value, path, first_only)
        return errors

    def _alternatives(self, options: Sequence[Any], value: Any, path: Path, exactly_one: bool, quick: bool) -> Optional[SchemaValidationError]:
        results = [self._check(o, value, path, first_only=quick) for o in options]
        passing = sum(1 for r in results if not r)
        if passing == 1 or (passing > 1 and not exactly_one):
            return None
        if passing > 1:
            return SchemaValidationError(path, "matches more than one of the allowed shapes")
        # A discriminated union: the option whose discriminator (a const property) the
        # value carries explains the failure best; else the one that got deepest.
        if isinstance(value, dict):
            tags: List[Tuple[str, Any]] = []
            for o, r in zip(options, results):
                tag = self._discriminator(o)
                if tag is not None:
                    tags.append(tag)
                    if tag[0] in value and _equal(value[tag[0]], tag[1]):
                        return r[0]
            keys = {k for k, _ in tags}
            if len(tags) == len(options) and len(keys) == 1:
                key = keys.pop()
                allowed = ", ".join(_show(v) for _, v in tags)
                if key not in value:
                    return SchemaValidationError(path + (key,), f"required (one of {allowed})")
                return SchemaValidationError(path + (key,), f"must be one of {allowed} (got {_show(value[key])})")
        best = max(results, key=lambda r: max(len(e.path) for e in r))
        deepest = max(best, key=lambda e: len(e.path))
        return deepest

    def _discriminator(self, schema: Any) -> Optional[Tuple[str, Any]]:
        if isinstance(schema, dict) and "$ref" in schema:
            schema = self._resolve(schema["$ref"])
        if not isinstance(schema, dict):
            return None
        for k, sub in schema.get("properties", {}).items():
            if isinstance(sub, dict) and "$ref" in sub:
                sub = self._resolve(sub["$ref"])
            if isinstance(sub, dict) and "const" in sub:
                return k, sub["const"]
        return None

    def _array(self, schema: Dict[str, Any], value: List[Any], path: Path, first_only: bool) -> List[SchemaValidationError]:
        errors: List[SchemaValidationError] = []
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append(SchemaValidationError(path, f"must have at least {schema['minItems']} items (got {len(value)})"))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(SchemaValidationError(path, f"must have at most {schema['maxItems']} items (got {len(value)})"))
        if errors and first_only:
            return errors
        prefix = schema.get("prefixItems")
        items = schema.get("items")
        if isinstance(items, list):  # draft 7 tuple form
            prefix, items = items, schema.get("additionalItems")
        start = 0
        if prefix:
            for i, sub in enumerate(prefix[: len(value)]):
                errors += self._check(sub, value[i], path + (i,), first_only)
                if errors and first_only:
                    return errors
            start = len(prefix)
        if items is not None and not isinstance(items, list):
            for i in range(start, len(value)):
                errors += self._check(items, value[i], path + (i,), first_only)
                if errors and first_only:
                    return errors
        if schema.get("uniqueItems"):
            for i in range(len(value)):
                if any(_equal(value[i], value[j]) for j in range(i)):
                    errors.append(SchemaValidationError(path + (i,), f"duplicates an earlier item ({_show(value[i])})"))
                    break
        return errors

    def _object(self, schema: Dict[str, Any], value: Dict[str, Any], path: Path, first_only: bool) -> List[SchemaValidationError]:
        errors: List[SchemaValidationError] = []
        for key in schema.get("required", []):
            if key not in value:
                errors.append(SchemaValidationError(path + (key,), "required"))
                if first_only:
                    return errors
        props: Dict[str, Any] = schema.get("properties", {})
        patterns: Dict[str, Any] = schema.get("patternProperties", {})
        extra = schema.get("additionalProperties", True)
        names = schema.get("propertyNames")
        for key, v in value.items():
            if names is not None:
                for e in self._check(names, key, path + (key,), first_only):
                    errors.append(SchemaValidationError(e.path, f"invalid key: {e.reason}"))
                if errors and first_only:
                    return errors
            matched = False
            if key in props:
                matched = True
                errors += self._check(props[key], v, path + (key,), first_only)
            for pattern, sub in patterns.items():
                if self._regex(pattern).search(key):
                    matched = True
                    errors += self._check(sub, v, path + (key,), first_only)
            if not matched:
                if extra is False:
                    known = ", ".join(sorted(props)) or "none"
                    errors.append(SchemaValidationError(path, f'unrecognized key "{key}" (allowed: {known})'))
                elif isinstance(extra, dict):
                    errors += self._check(extra, v, path + (key,), first_only)
            if errors and first_only:
                return errors
        for key in ("minProperties", "maxProperties"):
            if key in schema:
                n = len(value)
                if (key == "minProperties" and n < schema[key]) or (key == "maxProperties" and n > schema[key]):
                    errors.append(SchemaValidationError(path, f"must have {'at least' if key == 'minProperties' else 'at most'} {schema[key]} properties (got {n})"))
        return errors
