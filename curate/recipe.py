"""Recipes: a YAML file naming stages in order, parsed into typed configs.

```yaml
name: demo
seed: 0
stages:
  - exact_dedup: {keep: longest}
  - format: {}
  - filter: {where: "verdict = 'correct'", reason: wrong final answer}
```

Every error names the recipe file and line: YAML that does not parse, an unknown stage (with the
known ones listed), an unknown or mistyped key (with the stage's keys listed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from curate import stages as registry
from curate.errors import BadInput

BUILTIN_DIR = Path(__file__).parent / "recipes"
TOP_KEYS = ("name", "description", "seed", "stages")


@dataclass(frozen=True)
class StageSpec:
    name: str
    config: registry.StageConfig
    line: int
    index: int

    @property
    def label(self) -> str:
        return f"{self.index:02d}-{self.name}"

    def build(self) -> registry.Stage:
        return registry.get(self.name)(self.config)


@dataclass(frozen=True)
class Recipe:
    name: str
    seed: int
    stages: tuple[StageSpec, ...]
    source: str  # the file it came from
    description: str | None = None

    def resolved(self) -> dict[str, Any]:
        """The recipe with every default filled in: what `RUN/recipe.yaml` holds."""
        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        out["seed"] = self.seed
        out["stages"] = [{s.name: s.config.model_dump(mode="json")} for s in self.stages]
        return out

    def resolved_yaml(self) -> str:
        return yaml.dump(self.resolved(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


class _Dumper(yaml.SafeDumper):
    """Strings with newlines (think delimiters) written as "…\\n…", not as folded blocks."""


_Dumper.add_representer(str, lambda d, s: d.represent_scalar(
    "tag:yaml.org,2002:str", s, style='"' if "\n" in s else None))


def builtin_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def resolve_path(recipe: str | Path) -> Path:
    """A recipe argument is a path to a YAML file or the name of a built-in recipe."""
    path = Path(recipe)
    if path.is_file():
        return path
    # A bare name is a built-in recipe even when a folder of that name is in the way
    # (`make demo` writes its outputs to ./demo/).
    builtin = BUILTIN_DIR / f"{recipe}.yaml"
    if "/" not in str(recipe) and builtin.is_file():
        return builtin
    if path.exists():
        raise BadInput(f"{path}: a recipe must be a YAML file")
    raise BadInput(f"{recipe}: no such recipe file, and no built-in recipe of that name "
                   f"(built-in: {', '.join(builtin_names())})")


def load(recipe: str | Path) -> Recipe:
    path = resolve_path(recipe)
    text = path.read_text(encoding="utf-8")
    return parse(text, str(path))


# ------------------------------------------------------------------------------------ parsing

class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. Under YAML 1.1 rules `on: problem` (a dedup key) would
    read as `True: problem`, and `no`/`off` would turn into False."""


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


def _compose(text: str, where: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BadInput(f"{where}{line}: YAML does not parse: {problem}") from exc


def _value(node: yaml.Node) -> Any:
    return _Loader("").construct_document(node)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def parse(text: str, where: str = "recipe") -> Recipe:
    root = _compose(text, where)
    if not isinstance(root, yaml.MappingNode):
        raise BadInput(f"{where}: a recipe is a YAML mapping with keys {', '.join(TOP_KEYS)}")
    top = {k.value: (k, v) for k, v in root.value}
    for key, (knode, _) in top.items():
        if key not in TOP_KEYS:
            raise BadInput(f"{where} line {_line(knode)}: unknown recipe key {key!r} "
                           f"(known: {', '.join(TOP_KEYS)})")
    name = _scalar(top, "name", str, where, default=Path(where).stem)
    description = _scalar(top, "description", str, where, default=None)
    seed = _scalar(top, "seed", int, where, default=0)
    if "stages" not in top:
        raise BadInput(f"{where}: recipe has no 'stages' list")
    knode, snode = top["stages"]
    if not isinstance(snode, yaml.SequenceNode) or not snode.value:
        raise BadInput(f"{where} line {_line(knode)}: 'stages' must be a non-empty list")
    specs = tuple(_stage(node, i + 1, where) for i, node in enumerate(snode.value))
    exports = [s for s in specs if s.name == "export"]
    if exports and specs[-1].name != "export" or len(exports) > 1:
        raise BadInput(f"{where} line {exports[0].line}: 'export' may appear once, as the last stage")
    return Recipe(name=name, seed=seed, stages=specs, source=where, description=description)


def _scalar(top: dict, key: str, kind: type, where: str, default: Any) -> Any:
    if key not in top:
        return default
    knode, vnode = top[key]
    value = _value(vnode)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BadInput(f"{where} line {_line(vnode)}: {key!r} must be {'an integer' if kind is int else 'text'}, "
                       f"found {value!r}")
    return value


def _stage(node: yaml.Node, index: int, where: str) -> StageSpec:
    line = _line(node)
    if isinstance(node, yaml.ScalarNode):  # "- format" with no config
        name, cnode = node.value, None
    elif isinstance(node, yaml.MappingNode) and len(node.value) == 1:
        (knode, cnode), = node.value
        name = knode.value
    else:
        raise BadInput(f"{where} line {line}: each stage is a one-key mapping, e.g. '- filter: {{where: …, reason: …}}'")
    if name not in registry.MODULES:
        raise BadInput(f"{where} line {line}: unknown stage {name!r} (known stages: {', '.join(registry.known())})")
    cls = registry.get(name)
    if cnode is not None and not isinstance(cnode, (yaml.MappingNode,)) and _value(cnode) is not None:
        raise BadInput(f"{where} line {line}: stage {name!r} takes a mapping of settings, found {_value(cnode)!r}")
    raw = _value(cnode) if cnode is not None else None
    raw = raw or {}
    key_lines = {k.value: _line(k) for k, _ in cnode.value} if isinstance(cnode, yaml.MappingNode) else {}
    try:
        config = cls.Config.model_validate(raw)
    except ValidationError as exc:
        raise _config_error(exc, cls, name, where, line, key_lines) from None
    return StageSpec(name=name, config=config, line=line, index=index)


def _config_error(exc: ValidationError, cls, name: str, where: str, line: int,
                  key_lines: dict[str, int]) -> BadInput:
    err = exc.errors()[0]
    key = str(err["loc"][0]) if err["loc"] else None
    at = f"{where} line {key_lines.get(key, line)}"
    fields = ", ".join(cls.Config.model_fields)
    if err["type"] == "extra_forbidden":
        return BadInput(f"{at}: stage {name!r} has no key {key!r} (its keys: {fields})")
    if err["type"] == "missing":
        return BadInput(f"{at}: stage {name!r} needs key {key!r} (its keys: {fields})")
    msg = err["msg"]
    if key:
        return BadInput(f"{at}: stage {name!r}, key {key!r}: {msg} (got {err.get('input')!r})")
    return BadInput(f"{at}: stage {name!r}: {msg}")
