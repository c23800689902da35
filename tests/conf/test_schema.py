"""The config schema (avu/conf/schema.py): a misspelt key or a wrong type, in a config file or
on the command line, is one line on stderr and exit status 2; every key of avu/conf is read by
the code; every key has its value in the YAML files."""

from __future__ import annotations

import re
import subprocess
import sys
import typing
from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest

import avu
import avu.conf
from avu.conf import compose
from avu.conf.schema import Config
from avu.errors import EXIT_BAD_INPUT, AvuInputError

AVU = Path(avu.__file__).parent
CONF = AVU / "conf"

#: per config group: a file with a misspelt key (written into a --config-dir), the option that
#: selects it, the same key on the command line, and the key the error must name
TYPOS = {
    "train": ("train/typo.yaml", "defaults:\n  - cpu\n  - _self_\nstesp: 5\n", "train=typo",
              "train.stesp=5", "train.stesp"),
    "model": ("model/typo.yaml", "defaults:\n  - tiny\n  - _self_\nloss:\n  dcie: 2.0\n", "model=typo",
              "model.loss.dcie=2.0", "model.loss.dcie"),
    "data": ("data/typo.yaml", "defaults:\n  - tiny\n  - _self_\nsampling:\n  temprature: 1.0\n", "data=typo",
             "data.sampling.temprature=1.0", "data.sampling.temprature"),
    "task": ("task/typo.yaml", "# @package tasks.ave\nweight: 1.0\nlos_weight: 2.0\n", "task=[typo]",
             "tasks.ave.los_weight=2.0", "tasks.ave.los_weight"),
    "experiment": ("experiment/typo.yaml", "# @package _global_\nexperiment_name: typo\ntrain:\n  stesp: 5\n",
                   "experiment=typo", "experimnt_name=typo", None),
}
WRONG_TYPES = ["train.steps=abc", "train.evaluate=maybe", "model.d_model=wide", "model.decode.mask_gate=true",
               "data.frame_size=big", "tasks.avqa.weight=heavy", "seed=x"]


def _train_cli(monkeypatch, capsys, *argv: str) -> tuple[int, str]:
    """``python -m avu.train <argv>`` in-process: its exit status and stderr."""
    from avu.train.__main__ import cli

    monkeypatch.setenv("HYDRA_FULL_ERROR", "0")  # cli() sets it; restored afterwards
    monkeypatch.setattr(sys, "argv", ["avu.train", *argv])
    with pytest.raises(SystemExit) as exit_:
        cli()
    return exit_.value.code, capsys.readouterr().err


def _one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("avu: error: "), err
    return lines[0]


@pytest.fixture
def typo_dir(tmp_path, monkeypatch):
    """A config dir of misspelt files, named by their paths as avu/conf's own files are."""
    for path, text, *_ in TYPOS.values():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    (tmp_path / "train" / "badtype.yaml").write_text("defaults:\n  - cpu\n  - _self_\nsteps: many\n")
    monkeypatch.setattr(avu.conf, "CONF_DIR", tmp_path)
    return tmp_path


@pytest.mark.parametrize("group", TYPOS)
def test_a_misspelt_key_in_a_config_file_is_one_line_naming_file_and_key(group, typo_dir, monkeypatch, capsys):
    path, _, select, _, key = TYPOS[group]
    key = key or "train.stesp"
    code, err = _train_cli(monkeypatch, capsys, "--config-dir", str(typo_dir), select)
    line = _one_line(err)
    assert code == EXIT_BAD_INPUT
    assert line.startswith(f"avu: error: {typo_dir / path}: {key}: unknown key"), line


@pytest.mark.parametrize("group", TYPOS)
def test_a_misspelt_key_on_the_command_line_is_one_line_naming_the_key(group, monkeypatch, capsys):
    override, key = TYPOS[group][3], TYPOS[group][3].split("=")[0]
    code, err = _train_cli(monkeypatch, capsys, override)
    assert code == EXIT_BAD_INPUT
    assert _one_line(err).startswith(f"avu: error: {key}: unknown key; did you mean ")


def test_a_wrong_type_in_a_config_file_is_refused(typo_dir, monkeypatch, capsys):
    code, err = _train_cli(monkeypatch, capsys, "--config-dir", str(typo_dir), "train=badtype")
    assert code == EXIT_BAD_INPUT
    assert _one_line(err).startswith(f"avu: error: {typo_dir / 'train' / 'badtype.yaml'}: train.steps: Value 'many'")


@pytest.mark.parametrize("override", WRONG_TYPES)
def test_a_wrong_type_on_the_command_line_is_refused(override, monkeypatch, capsys):
    code, err = _train_cli(monkeypatch, capsys, override)
    assert code == EXIT_BAD_INPUT
    assert _one_line(err).startswith(f"avu: error: {override.split('=')[0]}: ")


def test_a_file_outside_avu_conf_is_named_as_hydra_names_it(tmp_path, monkeypatch, capsys):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "mine.yaml").write_text("defaults:\n  - cpu\n  - _self_\nstesp: 5\n")
    code, err = _train_cli(monkeypatch, capsys, "--config-dir", str(tmp_path), "train=mine")
    assert code == EXIT_BAD_INPUT
    assert _one_line(err) == "avu: error: train/mine: train.stesp: unknown key; did you mean train.steps?"


def test_an_unknown_group_option_names_the_options(monkeypatch, capsys):
    code, err = _train_cli(monkeypatch, capsys, "train=fast")
    assert code == EXIT_BAD_INPUT
    assert _one_line(err) == (f"avu: error: {CONF / 'config.yaml'}: Could not find 'train/fast' "
                              "(options: cpu, gpu, smoke)")


@pytest.mark.parametrize("override", ["+train.stesp=5", "++model.loss.dcie=1"])
def test_an_added_key_is_refused_too(override):
    """``+key=value`` adds past the schema during composition; the check after it refuses it."""
    with pytest.raises(AvuInputError, match=re.escape(override.lstrip("+").split("=")[0]) + ": unknown key"):
        compose([override])


def test_the_cli_processes_exit_with_2_and_one_line(tmp_path):
    """The real commands: no Hydra traceback, no run started."""
    for args in (["-m", "avu.train", "train.stesp=5"], ["-m", "avu.train", "+train.stesp=5", f"paths.runs={tmp_path}"],
                 ["-m", "avu.reproduce", "--override", "train.stesp=5", "--runs-dir", str(tmp_path / "runs"),
                  "--out", str(tmp_path / "out"), "--suite", str(tmp_path / "suite")]):
        proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=tmp_path, timeout=300)
        assert proc.returncode == EXIT_BAD_INPUT, proc.stderr
        assert len(proc.stderr.splitlines()) == 1 and "train.stesp: unknown key" in proc.stderr, proc.stderr
    assert not (tmp_path / "suite").exists() and not (tmp_path / "runs").exists()


# -- every key is read ------------------------------------------------------------------------

#: sections the code reads whole, as a dataclass's keyword arguments
READ_AS_FIELDS = {"model.codec": "avu.codec.codec.CodecSettings"}


def schema_keys(cls: type = Config, prefix: str = "") -> list[str]:
    """Every leaf key of the schema (``tasks.*.weight`` for the task group's keys)."""
    keys = []
    for f in fields(cls):
        kind = typing.get_type_hints(cls)[f.name]
        if typing.get_origin(kind) is dict and is_dataclass(typing.get_args(kind)[1]):
            keys += schema_keys(typing.get_args(kind)[1], f"{prefix}{f.name}.*.")
        elif is_dataclass(kind):
            keys += schema_keys(kind, f"{prefix}{f.name}.")
        else:
            keys.append(prefix + f.name)
    return keys


def unread_keys(keys: list[str]) -> list[str]:
    """The keys no code reads: read are a key named as a subscript (``["steps"]``) or an
    attribute (``.steps``) in avu's code outside avu/conf, a key a YAML file interpolates
    (``${paths.runs}``), and a field of a dataclass a section is unpacked into (READ_AS_FIELDS).
    By name: a new key named like one read elsewhere (another section's ``depth``) passes."""
    import importlib

    code = "\n".join(p.read_text() for p in AVU.rglob("*.py") if CONF not in p.parents)
    yaml = "\n".join(p.read_text() for p in CONF.rglob("*.yaml"))
    interpolated = set(re.findall(r"\$\{([\w.]+)\}", yaml))
    unread = []
    for key in keys:
        section, _, name = key.rpartition(".")
        if section in READ_AS_FIELDS:
            module, _, cls = READ_AS_FIELDS[section].rpartition(".")
            if name in {f.name for f in fields(getattr(importlib.import_module(module), cls))}:
                continue
        elif key in interpolated or re.search(rf"""\[\s*["']{name}["']\s*\]|\.{name}\b""", code):
            continue
        unread.append(key)
    return unread


def test_every_key_of_avu_conf_is_read_by_the_code():
    keys = schema_keys()
    assert {"train.steps", "model.audio.mel.hop", "tasks.*.loss_weight", "paths.runs"} <= set(keys)
    assert unread_keys(keys) == []


def test_the_unread_key_check_finds_an_unused_key():
    assert unread_keys(["train.eval_splits", "model.codec.max_tokens", "data.sampling.temprature"]) == [
        "train.eval_splits", "model.codec.max_tokens", "data.sampling.temprature"]


@pytest.mark.parametrize("option", ["model=tiny", "model=real", "model=real_resnet18", "model=features", "data=small",
                                    "data=tiny", "data=real", "train=cpu", "train=gpu", "train=smoke"])
def test_every_key_has_its_value_in_the_yaml_files(option):
    """The schema holds types only: no option leaves a key without a value."""
    from omegaconf import OmegaConf

    assert OmegaConf.missing_keys(compose([option, "experiment=joint"])) == set()
