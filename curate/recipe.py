"""Recipes: a YAML file naming stages in order, parsed into typed configs.

```yaml
name: demo
seed: 0
stages:
  - exact_dedup: {keep: longest}
  - format: {}
  - filter: {where: "verdict = 'correct'", reason: wrong final answer}
export: {think_open: "<|im_start|>think\\n", think_close: "\\n<|im_start|>answer\\n"}
```

`export` is not a stage: it says how the run's final step renders the kept rows as chat
`messages` (`curate.messages`). Recipes that list it as the last stage (`- export: {…}`, the older
form) still load: its options become the recipe's `export`.

Every error names the recipe file and line: YAML that does not parse, an unknown stage (with the
known ones listed), an unknown or mistyped key (with the stage's keys listed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from curate import safe_yaml
from curate import stages as registry
from curate.errors import BadInput
from curate.messages import MessagesConfig

BUILTIN_DIR = Path(__file__).parent / "recipes"
TOP_KEYS = ("name", "description", "seed", "engine", "stages", "export")
ENGINES = ("local", "ray")  # curate.engines; kept here so loading a recipe imports no engine
EXPORT = "export"  # the options of the run's export step, a top-level key or (older recipes) the last stage


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
    # Where the stages run (curate.engines). Not part of `resolved()`: the run folder's bytes are
    # the same whichever engine made them, so RUN/recipe.yaml is too (the manifest names the engine).
    engine: str = "local"
    export: MessagesConfig = MessagesConfig()  # how selected.parquet's `messages` are built

    def resolved(self) -> dict[str, Any]:
        """The recipe with every default filled in: what `RUN/recipe.yaml` holds."""
        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        out["seed"] = self.seed
        out["stages"] = [{s.name: s.config.model_dump(mode="json")} for s in self.stages]
        out["export"] = self.export.model_dump(mode="json")
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
    return parse(safe_yaml.read_text(path, "recipe"), str(path))


# ------------------------------------------------------------------------------------ parsing

# Recipes are shared files: read with limits (aliases, size, tags, UTF-8), see curate.safe_yaml.
_Loader = safe_yaml.Loader


def _compose(text: str, where: str) -> yaml.Node | None:
    return safe_yaml.compose(text, where)


def _value(node: yaml.Node, where: str = "recipe") -> Any:
    return safe_yaml.construct(node, where)


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
    engine = _scalar(top, "engine", str, where, default="local")
    if engine not in ENGINES:
        raise BadInput(f"{where} line {_line(top['engine'][1])}: unknown engine {engine!r} "
                       f"(known: {', '.join(ENGINES)})")
    if "stages" not in top:
        raise BadInput(f"{where}: recipe has no 'stages' list")
    knode, snode = top["stages"]
    if not isinstance(snode, yaml.SequenceNode) or not snode.value:
        raise BadInput(f"{where} line {_line(knode)}: 'stages' must be a non-empty list")
    nodes = list(snode.value)
    export = None
    exports = [n for n in nodes if _stage_name(n) == EXPORT]
    if exports:
        if nodes[-1] is not exports[0] or len(exports) > 1:
            raise BadInput(f"{where} line {_line(exports[0])}: 'export' may appear once, as the last stage")
        if EXPORT in top:
            raise BadInput(f"{where} line {_line(exports[0])}: 'export' is given twice (top-level and as the last stage)")
        nodes.pop()
        export = _export(exports[0].value[0][1] if isinstance(exports[0], yaml.MappingNode) else None,
                         _line(exports[0]), where)
    elif EXPORT in top:
        ekey, enode = top[EXPORT]
        export = _export(enode, _line(ekey), where)
    specs = tuple(_stage(node, i + 1, where) for i, node in enumerate(nodes))
    return Recipe(name=name, seed=seed, stages=specs, source=where, description=description,
                  export=export or MessagesConfig(), engine=engine)


def _stage_name(node: yaml.Node) -> str | None:
    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.MappingNode) and len(node.value) == 1:
        return node.value[0][0].value
    return None


def _export(node: yaml.Node | None, line: int, where: str) -> MessagesConfig:
    """The export options (think delimiters, system prompt), checked like a stage's config."""
    raw = _value(node, where) if node is not None else None
    if raw is not None and not isinstance(raw, dict):
        raise BadInput(f"{where} line {line}: 'export' takes a mapping of settings, found {_short(raw)}")
    key_lines = {k.value: _line(k) for k, _ in node.value} if isinstance(node, yaml.MappingNode) else {}
    try:
        return MessagesConfig.model_validate(raw or {})
    except ValidationError as exc:
        raise _config_error(exc, MessagesConfig, EXPORT, where, line, key_lines) from None


def _scalar(top: dict, key: str, kind: type, where: str, default: Any) -> Any:
    if key not in top:
        return default
    knode, vnode = top[key]
    value = _value(vnode, where)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BadInput(f"{where} line {_line(vnode)}: {key!r} must be {'an integer' if kind is int else 'text'}, "
                       f"found {_short(value)}")
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
    if cnode is not None and not isinstance(cnode, (yaml.MappingNode,)) and _value(cnode, where) is not None:
        raise BadInput(f"{where} line {line}: stage {name!r} takes a mapping of settings, found {_short(_value(cnode, where))}")
    raw = _value(cnode, where) if cnode is not None else None
    raw = raw or {}
    key_lines = {k.value: _line(k) for k, _ in cnode.value} if isinstance(cnode, yaml.MappingNode) else {}
    try:
        config = cls.Config.model_validate(raw)
    except ValidationError as exc:
        raise _config_error(exc, cls, name, where, line, key_lines) from None
    return StageSpec(name=name, config=config, line=line, index=index)


def _config_error(exc: ValidationError, cls, name: str, where: str, line: int,
                  key_lines: dict[str, int]) -> BadInput:
    """`cls`: a stage class, or a config model itself (export's)."""
    err = exc.errors()[0]
    key = str(err["loc"][0]) if err["loc"] else None
    at = f"{where} line {key_lines.get(key, line)}"
    fields = ", ".join(getattr(cls, "Config", cls).model_fields)
    if err["type"] == "extra_forbidden":
        return BadInput(f"{at}: stage {name!r} has no key {key!r} (its keys: {fields})")
    if err["type"] == "missing":
        return BadInput(f"{at}: stage {name!r} needs key {key!r} (its keys: {fields})")
    msg = err["msg"]
    if key:
        return BadInput(f"{at}: stage {name!r}, key {key!r}: {msg} (got {_short(err.get('input'))})")
    return BadInput(f"{at}: stage {name!r}: {msg}")


def _short(value: Any, limit: int = 80) -> str:
    """A value for an error line: its repr, cut short (a 4 MB repr is no error line)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"
