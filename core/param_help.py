"""Every engine option (`--param NAME=VALUE`) with its default, read from the engines' options dataclasses, so
`--help` and the README cannot drift from what the engines actually use.

The meaning of an option is the first sentence of its attribute docstring in the dataclass, where it has one.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
from typing import Any


def engine_options() -> dict[str, list[tuple[str, str, str]]]:
    """Engine name → (option, default as typed on the command line, meaning) for each of its options, for every
    engine in the table (`engines.registry`)."""
    from reelmark.core.engines.registry import engine_class, engine_names

    return {name: _options(engine_class(name).options) for name in engine_names()}


def default_text(value: Any) -> str:
    """A default as a user would type it: 1/2 for a fraction, 9:16,1:1 for a tuple, none for None."""
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)  # a Fraction prints as 1/2


def _options(params: type) -> list[tuple[str, str, str]]:
    meanings = _attribute_docs(params)
    rows = []
    for field in dataclasses.fields(params):
        if field.default is not dataclasses.MISSING:
            default = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            default = None
        rows.append((field.name, default_text(default), meanings.get(field.name, "")))
    return rows


def _attribute_docs(cls: type) -> dict[str, str]:
    """The first sentence of each attribute's docstring (the string literal right after its annotation)."""
    try:
        tree = ast.parse(inspect.getsource(cls))
    except (OSError, TypeError):  # no source shipped (a zipped or frozen install): names and defaults only
        return {}
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs = {}
    for statement, following in zip(body, body[1:]):
        if (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
                and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)):  # fmt: skip
            text = " ".join(following.value.value.split())
            docs[statement.target.id] = text.split(". ")[0].rstrip(".")
    return docs
