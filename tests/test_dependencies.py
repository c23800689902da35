"""Every third-party import is declared in pyproject.toml, in the extra that needs it, and pinned.

avu/ may import only [project].dependencies (and, inside ``try: ... except ImportError``, the
packages of a user-facing extra); tests/ and benchmarks/ also the `dev` extra. Import
names are mapped to distributions through the installed metadata, so a module that is imported
but installed by nobody (or by an undeclared package) fails here, not on a user's fresh install.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from functools import cache

import pytest

from tests.conftest import REPO

tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11+")

#: dev entries that are run, not imported
TOOLS = {"pytest": "runs the tests", "ruff": "the lint (tox -e lint, .ci/run)",
         "import-linter": "the layering of avu (lint-imports; tox -e lint, .ci/run)"}
#: Hydra config names that plugins provide (not files in avu/conf) -> their distribution
PLUGIN_CONFIGS = {"submitit_slurm": "hydra-submitit-launcher", "submitit_local": "hydra-submitit-launcher"}


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _req_name(requirement: str) -> str:
    return _canon(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)[0])


@cache
def _project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def _declared(*extras: str) -> set[str]:
    names = {_req_name(r) for r in _project()["dependencies"]}
    for extra in extras:
        names |= {_req_name(r) for r in _project()["optional-dependencies"][extra]}
    return names


def _local_modules() -> set[str]:
    """Top-level names that resolve to the repository itself (packages, and scripts put on sys.path by tests)."""
    return {"avu", "tests", "benchmarks"} | {p.stem for p in (REPO / "benchmarks").rglob("*.py")}


def _guarded(tree: ast.AST) -> set[ast.AST]:
    """Import statements inside ``try: ... except ImportError`` (an optional dependency)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError") for h in node.handlers):
            out |= {n for stmt in node.body for n in ast.walk(stmt) if isinstance(n, (ast.Import, ast.ImportFrom))}
    return out


def _imports(folder: str, optional: bool | None = None) -> dict[str, str]:
    """Third-party top-level module -> first file importing it, over every import statement in ``folder``
    (``optional`` True: only those guarded by ``except ImportError``; False: only the others)."""
    found: dict[str, str] = {}
    local = _local_modules()
    for path in sorted((REPO / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        guarded = _guarded(tree)
        for node in ast.walk(tree):
            if optional is not None and (node in guarded) != optional:
                continue
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local:
                    found.setdefault(top, str(path.relative_to(REPO)))
    return found


def _undeclared(folder: str, allowed: set[str], optional: bool | None = None) -> list[str]:
    owners = importlib.metadata.packages_distributions()
    problems = []
    for module, where in sorted(_imports(folder, optional).items()):
        dists = {_canon(d) for d in owners.get(module, [])}
        if not dists:
            problems.append(f"{where}: imports {module!r}, which no installed distribution provides")
        elif not dists & allowed:
            problems.append(f"{where}: imports {module!r} (from {sorted(dists)}), not declared")
    return problems


def test_the_package_imports_only_its_dependencies() -> None:
    assert _undeclared("avu", _declared(), optional=False) == []


def test_optional_imports_are_declared_in_an_extra() -> None:
    """``try: import X except ImportError`` in avu/: X belongs to an extra (e.g. submitit to ``slurm``)."""
    extras = tuple(e for e in _project()["optional-dependencies"] if e != "dev")
    assert _undeclared("avu", _declared(*extras), optional=True) == []


@pytest.mark.parametrize("folder", ["tests", "benchmarks"])
def test_tests_import_only_the_dependencies_and_dev(folder: str) -> None:
    assert _undeclared(folder, _declared("dev")) == []


def _plugin_configs_named() -> set[str]:
    """Plugin configs named in the defaults of avu/conf/hydra (e.g. the SLURM launcher's ``- submitit_slurm``)."""
    named = set()
    for path in (REPO / "avu" / "conf" / "hydra").rglob("*.yaml"):
        for entry in re.findall(r"^\s*-\s*([A-Za-z0-9_]+)\s*$", path.read_text(), flags=re.M):
            if entry != "_self_" and not (path.parent / f"{entry}.yaml").exists():
                named.add(entry)
    return named


def test_hydra_plugins_the_configs_use_are_declared() -> None:
    named = _plugin_configs_named()
    unknown = named - set(PLUGIN_CONFIGS)
    assert not unknown, f"configs in avu/conf name {sorted(unknown)}: add the plugin to PLUGIN_CONFIGS and pyproject"
    for config in named:
        dist = PLUGIN_CONFIGS[config]
        assert dist in _declared("slurm") - _declared(), f"{dist} (for {config}) belongs in the slurm extra"
        assert dist in _declared("dev") - _declared(), f"{dist} (for {config}) is needed by tests: add it to dev"


def test_dev_is_exactly_what_tests_and_lint_need() -> None:
    imported = set()
    owners = importlib.metadata.packages_distributions()
    for folder in ("tests", "benchmarks"):
        for module in _imports(folder):
            imported |= {_canon(d) for d in owners.get(module, [])}
    plugins = {PLUGIN_CONFIGS[c] for c in _plugin_configs_named()}
    unused = {_req_name(r) for r in _project()["optional-dependencies"]["dev"]} - imported - set(TOOLS) - plugins
    assert not unused, f"dev lists {sorted(unused)}, which no test imports or runs"


def test_every_declared_dependency_is_pinned() -> None:
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        m = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)", line.strip())
        if m:
            pins[_canon(m[1])] = m[2]
    extras = tuple(_project()["optional-dependencies"])
    missing = sorted(_declared(*extras) - set(pins))
    assert not missing, f"constraints.txt has no pin for {missing}"
    assert (pins["torch"], pins["torchvision"], pins["torchaudio"]) == ("2.9.1", "0.24.1", "2.9.1")
