"""Hydra configuration tree of avu training (see docs/training.md), its schema
(`avu.conf.schema`) and the one way to compose it outside ``python -m avu.train``.

A config that does not compose (a misspelt key, a value of the wrong type, an unknown group
option) is an `AvuInputError` of one line: the config file at fault where there is one, the key
and why.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Sequence

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from avu.conf.schema import Config
from avu.errors import AvuInputError

#: Hydra's version_base, for `hydra.main` and every `initialize_config_module`
VERSION_BASE = "1.3"
CONFIG_MODULE = "avu.conf"
CONFIG_NAME = "config"
CONF_DIR = Path(__file__).resolve().parent


def compose(overrides: Sequence[str] = (), *, config_name: str = CONFIG_NAME, where: str | None = None,
            return_hydra_config: bool = False) -> DictConfig:
    """The config ``python -m avu.train <overrides>`` would run; `AvuInputError` if it does not compose
    (``where``: what the overrides were given as, e.g. ``--override``)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module

    try:
        with initialize_config_module(config_module=CONFIG_MODULE, version_base=VERSION_BASE):
            cfg = hydra_compose(config_name, overrides=list(overrides), return_hydra_config=return_hydra_config)
    except Exception as exc:  # hydra's composition errors, OmegaConf's merge errors beneath them
        raise config_error(exc, where) from None
    check(cfg, where)
    return cfg


def check(cfg: DictConfig, where: str | None = None) -> None:
    """Refuse what composition let through: keys added by ``+key=value`` overrides (Hydra adds
    them past the schema)."""
    body = {k: v for k, v in OmegaConf.to_container(cfg).items() if k != "hydra"}  # interpolations unresolved
    try:
        OmegaConf.merge(OmegaConf.structured(Config), body)
    except OmegaConfBaseException as exc:
        raise config_error(exc, where) from None


def config_error(exc: Exception, where: str | None = None) -> AvuInputError:
    """A composition error as one line: ``<config file>: <key>: <why>`` for a config file,
    ``[<where> ]<key>: <why>`` for an override."""
    text = str(exc).strip()
    in_file = re.match(r"In '([^']+)': ", text)
    path = _config_file(in_file.group(1)) if in_file else None
    # OmegaConf's error: the cause of a failed override, the context of a failed file merge
    cause = exc if isinstance(exc, OmegaConfBaseException) else exc.__cause__ or (exc.__context__ if in_file else None)
    if isinstance(cause, OmegaConfBaseException) and cause.full_key:
        key = str(cause.full_key)
        if isinstance(cause, (ConfigKeyError, ConfigAttributeError)):
            reason = "unknown key" + _did_you_mean(key, cause.object_type)
        else:
            reason = str(cause.msg).strip().splitlines()[0]
    else:
        key = None
        reason = text[in_file.end():] if in_file else text
        reason = reason.splitlines()[0] if reason else type(exc).__name__
        options = getattr(exc, "options", None)  # MissingConfigException: an unknown group option
        if options:
            reason += f" (options: {', '.join(options)})"
    if path is None and where:
        key = f"{where} {key}" if key else where
    return AvuInputError(path, key, reason)


def _config_file(name: str) -> str:
    """The YAML file of the config Hydra names ``<group>/<option>`` where it is one of ours (a
    ``--config-dir`` of one's own: Hydra's name)."""
    path = CONF_DIR / f"{name}.yaml"
    return str(path) if path.is_file() else name


def _did_you_mean(key: str, section: object) -> str:
    if not is_dataclass(section):
        return ""
    parent, _, name = key.rpartition(".")
    close = difflib.get_close_matches(name, [f.name for f in fields(section)], n=1)
    return f"; did you mean {parent + '.' if parent else ''}{close[0]}?" if close else ""


__all__ = ["VERSION_BASE", "CONFIG_MODULE", "CONFIG_NAME", "compose", "check", "config_error"]
