"""Atomic writes (nothing half-written is ever left behind), the guard that keeps every
output off the inputs (`check_output`, `check_output_dir`), and the strict reading of users'
files (`open_file`, `load_json`: one-line errors, no silent duplicates or NaN)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

from avu.errors import AvuInputError

PathLike = str | os.PathLike[str]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix + ".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_json(path: str | Path, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False, allow_nan=False) + "\n")


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Build a directory in a temporary sibling and move it into place on success.

    An existing directory at ``path`` is replaced only after the new one is complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# ---------------------------------------------------------------------------------------------
# output guard: inputs are sacred, and an unwritable output fails before the work, not after
# ---------------------------------------------------------------------------------------------
def check_output(path: PathLike, *, inputs: Iterable[PathLike | None] = (),
                 input_dirs: Iterable[PathLike | None] = (), option: str = "--output") -> Path:
    """Refuse, before any work, an output file that would land on an input or cannot be written.

    The output may be none of ``inputs`` (same real path, or a hard link: same device and inode;
    a folder among them counts as an input folder) and may not lie inside any of ``input_dirs``.
    It must not be a folder, and its nearest existing parent must be a folder that a probe file
    can be created in (``os.access`` says yes to root even on a read-only mount).
    """
    return _check(Path(path), inputs, input_dirs, option, folder=False)


def check_output_dir(path: PathLike, *, inputs: Iterable[PathLike | None] = (),
                     input_dirs: Iterable[PathLike | None] = (), option: str = "--out") -> Path:
    """`check_output` for a folder that a command fills: not a file, not inside an input folder."""
    return _check(Path(path), inputs, input_dirs, option, folder=True)


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _check(path: Path, inputs: Iterable[PathLike | None], input_dirs: Iterable[PathLike | None],
           option: str, folder: bool) -> Path:
    files, dirs = [], [os.fspath(d) for d in input_dirs if d is not None]
    for item in inputs:
        if item is not None:
            (dirs if os.path.isdir(item) else files).append(os.fspath(item))
    # where the bytes land: os.replace swaps the entry in the real parent; a symlink named as the
    # output is checked at its target too
    landing = os.path.join(os.path.realpath(path.parent), path.name)
    targets = {landing, os.path.realpath(path)}
    if os.path.isdir(path) and not folder:
        raise AvuInputError(path, option, "is a folder; give a file path")
    if os.path.exists(path) and not (os.path.isdir(path) if folder else os.path.isfile(path)):
        raise AvuInputError(path, option, "exists and is not a folder" if folder else "is not a regular file")
    own = _identity(os.fspath(path))
    for f in files:
        if os.path.realpath(f) in targets or (own is not None and own == _identity(f)):
            raise AvuInputError(path, option, f"is the input file {f} (the same file); avu never writes over its inputs")
    for d in dirs:
        if _inside(landing, d):
            raise AvuInputError(path, option, f"lies inside the input folder {d}; avu never writes among its inputs")
    _probe(path, landing, option)
    return path


def _inside(landing: str, folder: str) -> bool:
    """``landing`` is ``folder`` or below it, by real path or by the identity of an existing ancestor."""
    real = os.path.realpath(folder)
    if landing == real or landing.startswith(real.rstrip(os.sep) + os.sep):
        return True
    ident = _identity(folder)
    if ident is None:
        return False
    ancestor = landing
    while True:
        if _identity(ancestor) == ident:
            return True
        parent = os.path.dirname(ancestor)
        if parent == ancestor:
            return False
        ancestor = parent


def _probe(path: Path, landing: str, option: str) -> None:
    """The nearest existing ancestor must be a folder we can create a file in; nothing stays."""
    ancestor = os.path.dirname(landing)
    while not os.path.exists(ancestor):
        ancestor = os.path.dirname(ancestor)
    if not os.path.isdir(ancestor):
        raise AvuInputError(path, option, f"lies under {ancestor}, which is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=ancestor)
    except OSError as exc:
        raise AvuInputError(path, option, f"cannot write in {ancestor} ({exc.strerror or type(exc).__name__})") from None
    os.close(fd)
    os.unlink(probe)


# ---------------------------------------------------------------------------------------------
# reading users' files: every problem is a one-line AvuInputError naming the file
# ---------------------------------------------------------------------------------------------
def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: a key given twice in one object is an error, not "the last wins"."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


def open_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise AvuInputError(path, None, "file not found")
    if path.is_dir():
        raise AvuInputError(path, None, "is a folder; expected a .json or .npz prediction file")
    if not path.is_file():  # /dev/zero or a pipe would be read forever
        raise AvuInputError(path, None, "not a regular file (a device, pipe or socket); expected a .json or .npz file")
    if path.stat().st_size == 0:
        raise AvuInputError(path, None, "empty file")
    return path


def load_json(path: str | Path) -> Any:
    path = open_file(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise AvuInputError(path, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not text.strip():
        raise AvuInputError(path, None, "empty file")
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise AvuInputError(path, f"line {exc.lineno} column {exc.colno}", f"invalid or truncated JSON: {exc.msg}") from None
    except _DuplicateKey as exc:
        raise AvuInputError(path, f"key {exc.key!r}", "appears twice in one JSON object (a duplicated sample id or field)") from None
    except RecursionError:
        raise AvuInputError(path, None, "JSON nested too deeply to be a prediction file") from None
    except ValueError as exc:  # NaN / Infinity literals, integers past Python's digit limit
        raise AvuInputError(path, None, f"invalid JSON: {exc}") from None
