"""YAML from files people share (recipes, rubrics, taxonomies, training configs), read with limits.

PyYAML's safe loader never runs code, but a few hundred bytes of nested aliases (the "billion
laughs") expand to gigabytes once anything walks the data, and a 4 MB error line is no error line.
So: documents over `MAX_BYTES` are refused before parsing; a document may use at most `MAX_ALIASES`
aliases; tags outside the plain YAML types (`!!python/object/apply`, custom `!tags`) are refused
with their line; text that is not UTF-8 is one line, not a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from curate.errors import BadInput

MAX_BYTES = 1_000_000
MAX_ALIASES = 100
MAX_NODES = 100_000  # values in the document once every alias is expanded
PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq",
                                                 "timestamp", "binary", "omap", "set", "merge", "value")}


class Loader(yaml.SafeLoader):
    """The safe loader, with YAML 1.2 booleans (only true/false: under YAML 1.1 rules `on: problem`
    would read as `True: problem`, and `no`/`off` would turn into False) and an alias budget."""

    def __init__(self, stream):
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(
                    None, None, f"more than {MAX_ALIASES} aliases (*name): refused, a YAML alias bomb "
                                f"expands to gigabytes", mark)
        return super().compose_node(parent, index)


Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                             list("tTfF"))


def read_text(path: Path, what: str = "file") -> str:
    """A YAML file's text: refused if over MAX_BYTES or not UTF-8."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise BadInput(f"{path}: {what} is {size:,} bytes; the limit is {MAX_BYTES:,}")
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}: {what} is not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    except IsADirectoryError:
        raise BadInput(f"{path}: {what} is a folder, not a YAML file") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read the {what} ({exc.strerror})") from None


def compose(text: str, where: str) -> yaml.Node | None:
    """The node tree of one document; every problem is one BadInput line naming `where` and the line."""
    if len(text) > MAX_BYTES:
        raise BadInput(f"{where}: YAML document over {MAX_BYTES:,} characters")
    try:
        node = yaml.compose(text, Loader=Loader)
    except yaml.YAMLError as exc:
        raise BadInput(f"{where}{_at(exc)}: YAML does not parse: {_problem(exc)}") from None
    except RecursionError:
        raise BadInput(f"{where}: YAML nested too deeply") from None
    if node is not None:
        _check_tags(node, where)
        _check_expansion(node, where)
    return node


def construct(node: yaml.Node, where: str) -> Any:
    try:
        return Loader("").construct_document(node)
    except yaml.YAMLError as exc:
        raise BadInput(f"{where}{_at(exc)}: YAML does not load: {_problem(exc)}") from None
    except RecursionError:
        raise BadInput(f"{where}: YAML nested too deeply") from None


def load(text: str, where: str) -> Any:
    node = compose(text, where)
    return None if node is None else construct(node, where)


def load_file(path: Path, what: str = "file") -> Any:
    return load(read_text(path, what), str(path))


def _check_tags(root: yaml.Node, where: str) -> None:
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.tag not in PLAIN_TAGS:
            raise BadInput(f"{where} line {node.start_mark.line + 1}: YAML tag {node.tag!r} is not allowed "
                           f"(only plain text, numbers, booleans, lists and mappings)")
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.extend((k, v))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for kv in node.value for n in kv]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_expansion(root: yaml.Node, where: str) -> None:
    """Refuse a document whose aliases expand to more than MAX_NODES values, or refer to themselves.
    Sizes are memoised per node, so this is linear in the text, not in the expansion."""
    size: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in size:
            continue
        kids = _children(node)
        if children_done:
            open_.discard(key)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            if size[key] > MAX_NODES:
                raise BadInput(f"{where} line {node.start_mark.line + 1}: YAML expands to more than "
                               f"{MAX_NODES:,} values through aliases (*name): refused")
            continue
        open_.add(key)
        stack.append((node, True))
        for k in kids:
            if id(k) in open_:
                raise BadInput(f"{where} line {k.start_mark.line + 1}: YAML alias refers to itself: refused")
            if id(k) not in size:
                stack.append((k, False))


def _at(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return f" line {mark.line + 1}" if mark else ""


def _problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return str(problem)[:200]
