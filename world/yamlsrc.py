"""YAML loading that remembers where every value came from, for errors with file:line."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Path_ = tuple[Any, ...]
M = TypeVar("M", bound=BaseModel)
_SCALARS = yaml.constructor.SafeConstructor()


class ContentError(Exception):
    """One or more problems in content files, each as 'file:line: what is wrong'."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Located:
    """A parsed YAML document plus the line of every path inside it."""

    def __init__(self, filename: str, data: Any, lines: dict[Path_, int]) -> None:
        self.filename = filename
        self.data = data
        self.lines = lines

    def where(self, path: Path_) -> str:
        path = tuple(path)
        while path and path not in self.lines:
            path = path[:-1]
        return f"{self.filename}:{self.lines.get(path, 1)}"


def _build(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _SCALARS.construct_object(key_node, deep=True)
            out[key] = _build(value_node, (*path, key), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(child, (*path, i), lines) for i, child in enumerate(node.value)]
    return _SCALARS.construct_object(node, deep=True)  # ints, bools, nulls, strings


def load_yaml(path: str | Path, text: str | None = None) -> Located:
    filename = str(path)
    if text is None:
        text = Path(path).read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ContentError([f"{filename}:{line}: not valid YAML: {exc}"]) from None
    lines: dict[Path_, int] = {}
    data = _build(node, (), lines) if node is not None else None
    return Located(filename, data, lines)


def validate(model: type[M], src: Located) -> M:
    """Parse `src` into `model`, turning pydantic errors into file:line messages."""
    try:
        return model.model_validate(src.data if src.data is not None else {})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            problems.append(f"{src.where(err['loc'])}: {loc}: {err['msg']}")
        raise ContentError(problems) from None
