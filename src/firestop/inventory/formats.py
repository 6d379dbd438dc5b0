"""Reading an uploaded inventory file: which format it is and what it says, with places.

Nothing here touches the database. Every problem becomes a :class:`FieldError` whose ``loc``
names the place (``systems[2].models[0].version``, or ``line 4, column 7`` for syntax) so the
author can fix the file; a file with any problem is rejected whole by the caller.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from firestop.errors import FieldError, FirestopError, invalid, loc_path

Path = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)
Syntax = Literal["yaml", "json"]

YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
JSON_TYPES = frozenset({"application/json"})
CYCLONEDX_TYPES = frozenset({"application/vnd.cyclonedx+json"})
# Types that say nothing about the format: look at the name and the content instead.
UNCLEAR_TYPES = frozenset({"", "text/plain", "application/octet-stream"})
# Aliases let a tiny YAML file expand into a huge structure; count what it would expand to.
MAX_NODES = 1_000_000


def unsupported(detail: str) -> FirestopError:
    return FirestopError(detail, [], 415, "Unsupported media type", "unsupported-media-type")


@dataclass
class Parsed:
    """A parsed file and, for YAML, where each value sits in it."""

    data: Any
    syntax: Syntax
    declared_cyclonedx: bool = False
    marks: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def place(self, path: Path) -> str:
        """`` (line L, column C)`` of the nearest enclosing value the file has, or nothing."""
        for end in range(len(path), -1, -1):
            mark = self.marks.get(path[:end])
            if mark is not None:
                return f" (line {mark[0]}, column {mark[1]})"
        return ""

    def error(self, path: Path, msg: str) -> FieldError:
        return FieldError(loc_path(path) or "(top level)", msg + self.place(path))


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def choose_syntax(content: bytes, *, filename: str | None, content_type: str | None) -> Syntax:
    media = _media_type(content_type)
    if media in YAML_TYPES:
        return "yaml"
    if media in JSON_TYPES | CYCLONEDX_TYPES:
        return "json"
    if media not in UNCLEAR_TYPES:
        if media == "multipart/form-data":
            raise unsupported("send the file itself as the request body, not as a form")
        raise unsupported(
            f"cannot import {media!r}; send Firestop YAML (application/yaml) or "
            "CycloneDX JSON (application/vnd.cyclonedx+json)"
        )
    name = (filename or "").lower()
    if name.endswith(".json"):
        return "json"
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    return "json" if content.lstrip()[:1] in (b"{", b"[") else "yaml"


def parse(content: bytes, *, filename: str | None, content_type: str | None) -> Parsed:
    syntax = choose_syntax(content, filename=filename, content_type=content_type)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise invalid(
            "the file is not UTF-8 text",
            [FieldError("(file)", f"byte {exc.start} cannot be decoded as UTF-8")],
        ) from exc
    try:
        parsed = _parse_json(text) if syntax == "json" else _parse_yaml(text)
    except RecursionError as exc:
        raise invalid(
            "the file is nested too deeply", [FieldError("(file)", "nested too deeply")]
        ) from exc
    parsed.declared_cyclonedx = _media_type(content_type) in CYCLONEDX_TYPES
    return parsed


def _parse_json(text: str) -> Parsed:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise invalid(
            "the file is not valid JSON",
            [FieldError(f"line {exc.lineno}, column {exc.colno}", exc.msg)],
        ) from exc
    except ValueError as exc:  # e.g. an integer past Python's 4,300-digit conversion limit
        raise invalid("the file is not valid JSON", [FieldError("(file)", str(exc))]) from exc
    return Parsed(data, "json")


class _Loader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text: a date is never a value the inventory stores."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _parse_yaml(text: str) -> Parsed:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Parsed(None, "yaml")
        marks, problems = _survey(node)
        if problems:
            raise invalid("the YAML file has problems", problems)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        raise invalid("the file is not valid YAML", [FieldError(where, problem)]) from exc
    except (yaml.YAMLError, ValueError) as exc:
        # ValueError: an integer past Python's 4,300-digit conversion limit, for one.
        raise invalid("the file is not valid YAML", [FieldError("(file)", str(exc))]) from exc
    finally:
        loader.dispose()
    return Parsed(data, "yaml", marks=marks)


def _survey(root: Node) -> tuple[dict[Path, tuple[int, int]], list[FieldError]]:
    """Where each value is, and what would make the document unsafe or ambiguous."""
    marks: dict[Path, tuple[int, int]] = {}
    problems: list[FieldError] = []
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def where(node: Node) -> str:
        return f"line {node.start_mark.line + 1}, column {node.start_mark.column + 1}"

    def visit(node: Node, path: Path | None) -> int:
        key = id(node)
        if key in sizes:  # an alias of a node already seen: count it, do not map it again
            return sizes[key]
        if key in open_nodes:
            raise invalid(
                "the YAML file refers to itself", [FieldError(where(node), "recursive alias")]
            )
        if path is not None:  # a mapping value keeps the place of its key
            marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        open_nodes.add(key)
        size = 1
        if isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                size += visit(item, None if path is None else (*path, i))
        elif isinstance(node, MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                name = key_node.value if isinstance(key_node, ScalarNode) else None
                if name is not None and name != "<<":
                    if name in seen:
                        problems.append(FieldError(where(key_node), f"duplicate key {name!r}"))
                    seen.add(name)
                child = None if path is None or name is None else (*path, name)
                if child is not None:
                    marks[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                size += visit(value_node, child)
        open_nodes.discard(key)
        sizes[key] = size
        if size > MAX_NODES:
            raise invalid(
                "the YAML file expands to too many values",
                [FieldError(where(node), f"more than {MAX_NODES} values once aliases expand")],
            )
        return size

    visit(root, ())
    return marks, problems


def model_errors(exc: ValidationError, parsed: Parsed, prefix: Path) -> list[FieldError]:
    """pydantic's errors for one entry, named by their full place in the file."""
    found = []
    for err in exc.errors():
        path = (*prefix, *err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "string_type" and isinstance(err.get("input"), int | float):
            msg += "; put the value in quotes so YAML reads it as text (1.10 is otherwise 1.1)"
        found.append(parsed.error(path, msg))
    return found


def validate_entry(
    model: type[M], value: Any, parsed: Parsed, path: Path, errors: list[FieldError]
) -> M | None:
    """The entry, or None with its problems added to ``errors``."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        errors.extend(model_errors(exc, parsed, path))
        return None
