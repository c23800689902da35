"""Named, versioned evaluation protocols.

A protocol holds every definitional choice of a metric (thresholds, averaging level,
empty-mask rules, ...). Result keys carry the protocol's key (``name.vN``), so two
numbers computed under different definitions can never be mistaken for each other.
Bump ``version`` whenever the arithmetic of a protocol changes.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from avu.errors import AvuInputError


@dataclass(frozen=True)
class Protocol:
    benchmark: str
    name: str
    version: int
    description: str
    params: Mapping[str, Any] = field(default_factory=dict)
    #: the official code this protocol reproduces (repository @ commit :: function)
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    @property
    def key(self) -> str:
        return f"{self.name}.v{self.version}"

    def with_params(self, **overrides: Any) -> "Protocol":
        """A variant with some parameters changed (e.g. the AVSBench batch size)."""
        unknown = set(overrides) - set(self.params)
        if unknown:
            raise AvuInputError(None, f"protocol {self.name}", f"unknown parameter(s) {sorted(unknown)}")
        params = {**self.params, **overrides}
        suffix = ",".join(f"{k}={v}" for k, v in sorted(overrides.items()))
        name = f"{self.name}[{suffix}]" if suffix else self.name
        return Protocol(self.benchmark, name, self.version, self.description, params, self.source)

    def as_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "name": self.name,
            "version": self.version,
            "key": self.key,
            "params": dict(self.params),
            "description": self.description,
            "source": self.source,
        }


_REGISTRY: dict[str, dict[str, Protocol]] = {}
_DEFAULTS: dict[str, str] = {}


def register(protocol: Protocol, default: bool = False) -> Protocol:
    table = _REGISTRY.setdefault(protocol.benchmark, {})
    if protocol.name in table:
        raise ValueError(f"protocol {protocol.name!r} registered twice for {protocol.benchmark}")
    table[protocol.name] = protocol
    if default:
        _DEFAULTS[protocol.benchmark] = protocol.name
    return protocol


def protocols_for(benchmark: str) -> dict[str, Protocol]:
    from avu.benchmarks import get_spec

    get_spec(benchmark)  # imports the benchmark module, which registers its protocols
    return dict(_REGISTRY.get(benchmark, {}))


#: ``name.vN`` (also ``name[params].vN``, a result's protocol key passed back)
_VERSIONED = re.compile(r"(.+)\.v([0-9]+)")


def get(benchmark: str, name: str | None = None) -> Protocol:
    """Look a protocol up by name, optionally versioned (``None``: the benchmark's default).

    A version must be the one this avu implements: ``ave_argmax.v2`` is refused, never
    silently scored under v1.
    """
    table = protocols_for(benchmark)
    if name is None:
        return table[_DEFAULTS[benchmark]]
    known = sorted(p.key for p in table.values())
    versioned = _VERSIONED.fullmatch(name)
    base, version = (versioned.group(1), versioned.group(2)) if versioned else (name, None)
    base, overrides = _split_params(base)
    if base in table:
        protocol = table[base]
        if version is not None and version != str(protocol.version):
            raise AvuInputError(None, "--protocol", f"unknown version {name!r} for {benchmark}: this avu implements "
                                f"{protocol.key}; known: {known}")
        # a parameter set to its default names the default protocol (one result key per definition)
        overrides = {k: v for k, v in overrides.items()
                     if k not in protocol.params or type(v) is not type(protocol.params[k]) or v != protocol.params[k]}
        return protocol.with_params(**overrides) if overrides else protocol
    hint = difflib.get_close_matches(base, table, n=1)
    extra = f" (did you mean {hint[0]!r}?)" if hint else ""
    raise AvuInputError(None, "--protocol", f"unknown protocol {name!r} for {benchmark}; known: {known}{extra}")


def _split_params(name: str) -> tuple[str, dict[str, Any]]:
    """``"avsbench_v1[batch_size=1]"`` -> ``("avsbench_v1", {"batch_size": 1})`` (the form
    `Protocol.with_params` names its variants, so a result's protocol name can be passed back)."""
    if not (name.endswith("]") and "[" in name):
        return name, {}
    base, _, inner = name[:-1].partition("[")
    overrides: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in inner.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise AvuInputError(None, "--protocol", f"expected name[key=value,...], got {name!r}")
        try:
            overrides[key.strip()] = json.loads(value.strip())
        except ValueError:  # not JSON (or an integer past Python's digit limit): keep the text
            overrides[key.strip()] = value.strip()
    return base, overrides
