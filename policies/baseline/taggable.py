"""Which azure-native resource types take tags: the SDK's own resource classes say, not a list kept here.

A type is taggable when its class's ``_internal_init`` has a ``tags`` parameter. The class's source is read
rather than imported (importing the SDK's modules costs seconds per pack process): the signature of
``_internal_init`` is cut out of the class's file and parsed with ``ast``. If the file cannot be found by
the generator's naming, the class is imported and inspected instead.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import inspect
import re
from pathlib import Path

PACKAGE = "pulumi_azure_native"


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


@functools.cache
def _package_dir() -> Path | None:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _signature_params(text: str, class_name: str) -> set[str] | None:
    """Parameter names of `class_name._internal_init`, parsing only that signature (files are large)."""
    cls = re.search(rf"^class {re.escape(class_name)}\(", text, re.MULTILINE)
    if cls is None:
        return None
    start = text.find("def _internal_init(", cls.end())
    if start < 0:
        return None
    depth, end = 0, -1
    for index in range(text.index("(", start), len(text)):
        char = text[index]
        depth += char == "("
        depth -= char == ")"
        if depth == 0:
            end = index
            break
    if end < 0:
        return None
    try:
        tree = ast.parse(text[start : end + 1] + ": pass")
    except SyntaxError:
        return None
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    args = function.args
    return {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}


def _init_params_from_source(path: Path, class_name: str) -> set[str] | None:
    try:
        return _signature_params(path.read_text(encoding="utf-8"), class_name)
    except (OSError, UnicodeDecodeError):
        return None


def _init_params_by_import(module: str, class_name: str) -> set[str] | None:
    try:
        cls = getattr(importlib.import_module(f"{PACKAGE}.{module}"), class_name)
        return set(inspect.signature(cls._internal_init).parameters)
    except (ImportError, AttributeError, TypeError, ValueError):
        return None


@functools.cache
def takes_tags(token: str) -> bool | None:
    """True/False for an azure-native resource type; None when the SDK has no such class."""
    parts = token.split(":")
    if len(parts) != 3 or parts[0] != "azure-native":
        return None
    module, class_name = parts[1].replace("/", "."), parts[2]
    base = _package_dir()
    params = None
    if base is not None:
        source = base.joinpath(*module.split(".")) / f"{_snake(class_name)}.py"
        if source.is_file():
            params = _init_params_from_source(source, class_name)
    if params is None:
        params = _init_params_by_import(module, class_name)
    return None if params is None else "tags" in params
