"""A small JSON Schema validator for reference_results/schema.json.

It implements the subset of JSON Schema (draft 2020-12) the schema uses, and refuses a
schema that uses any other keyword, so the schema can never silently rely on a keyword
nothing checks. (``jsonschema`` is not a dependency of avu; the tests compare this
validator with it when it happens to be installed.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

#: keywords that only annotate
_ANNOTATIONS = {"$schema", "$id", "$comment", "$defs", "title", "description", "examples", "default"}
_CHECKED = {
    "type", "properties", "required", "additionalProperties", "patternProperties", "propertyNames",
    "items", "minItems", "uniqueItems", "enum", "const", "pattern", "minLength", "minimum", "maximum",
    "exclusiveMinimum", "anyOf", "oneOf", "$ref",
}

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}


class SchemaError(ValueError):
    """The schema itself uses something this validator does not implement."""


def _pointer(path: tuple) -> str:
    return "/" + "/".join(str(p) for p in path) if path else "(top level)"


def iter_errors(instance: Any, schema: dict, root: dict | None = None, path: tuple = ()) -> Iterator[tuple[str, str]]:
    """Yield ``(json pointer, message)`` for every violation of ``schema`` by ``instance``."""
    root = schema if root is None else root
    unknown = set(schema) - _ANNOTATIONS - _CHECKED
    if unknown:
        raise SchemaError(f"unsupported schema keyword(s) {sorted(unknown)} at {_pointer(path)}")
    here = _pointer(path)
    if "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            raise SchemaError(f"only local $ref is supported, got {ref!r}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        yield from iter_errors(instance, target, root, path)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](instance) for t in types):
            yield here, f"expected {' or '.join(types)}, got {type(instance).__name__} {instance!r:.60}"
            return
    if "enum" in schema and instance not in schema["enum"]:
        yield here, f"{instance!r} is not one of {schema['enum']}"
    if "const" in schema and instance != schema["const"]:
        yield here, f"expected {schema['const']!r}, got {instance!r}"
    if isinstance(instance, str):
        if "minLength" in schema and len(instance) < schema["minLength"]:
            yield here, f"string shorter than {schema['minLength']} character(s)"
        if "pattern" in schema and not re.search(schema["pattern"], instance):
            yield here, f"{instance!r} does not match {schema['pattern']!r}"
    if _TYPES["number"](instance):
        if "minimum" in schema and instance < schema["minimum"]:
            yield here, f"{instance} is below the minimum {schema['minimum']}"
        if "maximum" in schema and instance > schema["maximum"]:
            yield here, f"{instance} is above the maximum {schema['maximum']}"
        if "exclusiveMinimum" in schema and instance <= schema["exclusiveMinimum"]:
            yield here, f"{instance} must be greater than {schema['exclusiveMinimum']}"
    if isinstance(instance, list):
        if "minItems" in schema and len(instance) < schema["minItems"]:
            yield here, f"needs at least {schema['minItems']} item(s)"
        if schema.get("uniqueItems"):
            seen = [json.dumps(v, sort_keys=True) for v in instance]
            if len(set(seen)) != len(seen):
                yield here, "items are not unique"
        if "items" in schema:
            for i, item in enumerate(instance):
                yield from iter_errors(item, schema["items"], root, path + (i,))
    if isinstance(instance, dict):
        for key in schema.get("required", []):
            if key not in instance:
                yield here, f"missing required field {key!r}"
        props = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        for key, value in instance.items():
            if "propertyNames" in schema:
                for _, msg in iter_errors(key, schema["propertyNames"], root, path):
                    yield _pointer(path + (key,)), f"bad key: {msg}"
            matched = False
            if key in props:
                matched = True
                yield from iter_errors(value, props[key], root, path + (key,))
            for pattern, sub in patterns.items():
                if re.search(pattern, key):
                    matched = True
                    yield from iter_errors(value, sub, root, path + (key,))
            extra = schema.get("additionalProperties", True)
            if not matched:
                if extra is False:
                    yield _pointer(path + (key,)), f"unknown field {key!r}"
                elif isinstance(extra, dict):
                    yield from iter_errors(value, extra, root, path + (key,))
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            passing = [not any(True for _ in iter_errors(instance, sub, root, path)) for sub in schema[keyword]]
            count = sum(passing)
            if count == 0:
                yield here, f"matches none of the {keyword} alternatives"
            elif keyword == "oneOf" and count > 1:
                yield here, f"matches {count} oneOf alternatives (exactly one allowed)"


@lru_cache(maxsize=4)
def load_schema(path: str) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def definition(schema: dict, name: str) -> dict:
    """A schema that validates against ``#/$defs/<name>`` of ``schema`` (keeping its $defs)."""
    if name not in schema.get("$defs", {}):
        raise SchemaError(f"schema has no definition {name!r}")
    return {"$defs": schema["$defs"], "$ref": f"#/$defs/{name}"}


def validate(instance: Any, schema: dict) -> list[tuple[str, str]]:
    """All violations, in document order (an empty list when valid)."""
    return list(iter_errors(instance, schema))
