"""One world of sounding categories behind every benchmark's class list.

``world_classes.tsv`` (benchmark, class, category) maps each real class name of the five
datasets onto a world category by name and meaning, so that a category two datasets share
("dog" in AVE, LLP, S4, AVSS and VGG-SS) is one thing: the generated suite draws it with one
appearance and one sound (avu.data.synth.catalog), and the model can share its class
embedding across benchmarks (``model.decoder.share_world_classes``). Within a benchmark whose
labels are evaluated, no two classes share a category (the labels would be ambiguous); VGG-SS
is only localised, so several of its 221 classes may name one category ("dog barking", "dog
howling").
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

#: benchmarks whose class list the world table covers (S4/MS3 share the S4 list)
MAPPED = ("ave", "llp", "vggss", "avs_s4", "avss", "avqa")
#: several classes may map to one category only where class labels are not scored
MANY_TO_ONE = ("vggss",)
TABLE = "world_classes.tsv"


@cache
def table() -> tuple[tuple[str, str, str], ...]:
    """Rows (benchmark, class, category) in file order; validated once."""
    text = resources.files("avu.data").joinpath(TABLE).read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines(), delimiter="\t"))
    if rows[0] != ["benchmark", "class", "category"]:
        raise ValueError(f"{TABLE}: header must be benchmark, class, category; got {rows[0]}")
    out, seen, per_bench = [], set(), {}
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != 3 or not all(row):
            raise ValueError(f"{TABLE}:{n}: expected 3 non-empty fields, got {row}")
        bench, name, category = row
        if bench not in MAPPED:
            raise ValueError(f"{TABLE}:{n}: unknown benchmark {bench!r}")
        if (bench, name) in seen:
            raise ValueError(f"{TABLE}:{n}: class {name!r} of {bench} listed twice")
        seen.add((bench, name))
        cats = per_bench.setdefault(bench, {})
        if bench not in MANY_TO_ONE and category in cats:
            raise ValueError(f"{TABLE}:{n}: {bench} classes {cats[category]!r} and {name!r} both map to {category!r}")
        cats.setdefault(category, name)
        out.append((bench, name, category))
    return tuple(out)


@cache
def categories() -> tuple[str, ...]:
    """Every world category, in order of first appearance in the table."""
    return tuple(dict.fromkeys(c for _, _, c in table()))


@cache
def class_map(benchmark: str) -> dict[str, str]:
    """Class name -> world category for one benchmark (avs_ms3 uses the S4 list)."""
    bench = "avs_s4" if benchmark == "avs_ms3" else benchmark
    if bench not in MAPPED:
        raise KeyError(f"no world mapping for benchmark {benchmark!r}")
    return {name: cat for b, name, cat in table() if b == bench}


def category_of(benchmark: str, class_name: str) -> str:
    try:
        return class_map(benchmark)[class_name]
    except KeyError:
        raise KeyError(f"{TABLE} has no row for {benchmark} class {class_name!r}") from None


def class_names(benchmark: str) -> tuple[str, ...]:
    """The benchmark's class names in table order (VGG-SS: its 221 classes, sorted)."""
    return tuple(class_map(benchmark))


__all__ = ["MAPPED", "table", "categories", "class_map", "category_of", "class_names"]
