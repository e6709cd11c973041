"""The import contract of docs/ARCHITECTURE.md, read from the source with `ast` (nothing is imported):

- curate never imports train, except curate/cli.py, and there only inside functions (lazily);
- libraries never import a stage, the runner or the CLI; stages import libraries, never the runner
  or the CLI; train never imports curate's stages or its CLI;
- no cycle among the modules' module-level imports;
- stages are thin adapters: a stage module defines its config and its stage class and nothing else
  (no helper functions, no methods but `run`, `needs` and `summarize`), and the work lives in the
  libraries of STAGE_LIBRARIES, which take plain arguments (never a `StageContext`).

Imports inside functions count for the layer rules (a lazy upward import is still upward); only
module-level imports make a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("curate", "train")
STAGES = "curate.stages"
RUNNER = ("curate.recipe", "curate.run")  # the recipe parser and the runner above the stages
ENGINES = "curate.engines"  # where the runner runs stages (local, Ray): the runner's layer
CLI = "curate.cli"
# The libraries that do the stages' work (one call from each stage's `run`), and what they return.
STAGE_LIBRARIES = ("curate.outcome", "curate.sample", "curate.filtering", "curate.format", "curate.budget",
                   "curate.tokens", "curate.difficulty", "curate.select", "curate.rubric", "curate.domains",
                   "curate.gold_audit", "curate.verify.traces", "curate.dedup", "curate.minhash", "curate.decontam")
# Stage modules that still hold a helper of their own (none now: every stage is config + one call).
NOT_YET_THIN: dict[str, set[str]] = {}
STAGE_METHODS = {"run", "needs", "summarize", "reads", "plan", "input_reads"}


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path = ROOT) -> dict[str, Path]:
    return {module_name(p, root): p for pkg in PACKAGES for p in sorted((root / pkg).rglob("*.py"))}


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, int, bool]]:
    """(imported project module, line, at module level) for every import statement in the file,
    those inside functions and classes included; `if TYPE_CHECKING:` blocks are skipped."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if _is_package(path) else name.rpartition(".")[0]
    found: list[tuple[str, int, bool]] = []

    def resolve(target: str) -> str | None:
        """The project module `target` names (a submodule, else its nearest known parent)."""
        while target and target not in known:
            target = target.rpartition(".")[0]
        return target or None

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] in PACKAGES and (mod := resolve(alias.name)):
                        found.append((mod, child.lineno, top))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[:len(base) - child.level + 1]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                if target.split(".")[0] not in PACKAGES:
                    continue
                for alias in child.names:  # `from curate import stages`: the submodule when there is one
                    sub = f"{target}.{alias.name}"
                    mod = sub if sub in known else resolve(target)
                    if mod:
                        found.append((mod, child.lineno, top))
            visit(child, inner)

    visit(tree, True)
    return [(m, line, top) for m, line, top in dict.fromkeys(found) if m != name]


def graph(root: Path = ROOT) -> dict[str, list[tuple[str, int, bool]]]:
    known = modules(root)
    return {name: imports(name, path, known) for name, path in known.items()}


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(edges: dict[str, list[tuple[str, int, bool]]]) -> list[str]:
    """Every import that points the wrong way, as `module line N imports target: rule`."""
    out = []
    for name, targets in sorted(edges.items()):
        for target, line, top in targets:
            where = f"{name} line {line} imports {target}"
            if _under(name, "curate") and _under(target, "train"):
                if name != CLI:
                    out.append(f"{where}: curate never imports train")
                elif top:
                    out.append(f"{where}: the CLI imports train only inside a command (lazily)")
            if _under(name, "train") and (_under(target, STAGES) or target == CLI):
                out.append(f"{where}: train uses curate's libraries and runner, never its stages or CLI")
            runner = target in RUNNER or _under(target, ENGINES)
            if _under(name, STAGES) and (runner or target == CLI):
                out.append(f"{where}: a stage never imports the runner or the CLI")
            is_library = (_under(name, "curate") and not _under(name, STAGES) and not _under(name, ENGINES)
                          and name not in (*RUNNER, CLI))
            if is_library and (_under(target, STAGES) or runner or target == CLI):
                out.append(f"{where}: a library never imports a stage, the runner or the CLI")
    return out


def cycles(edges: dict[str, list[tuple[str, int, bool]]]) -> list[list[str]]:
    """Strongly connected components of more than one module in the module-level import graph."""
    succ = {n: sorted({t for t, _, top in ts if top and t in edges}) for n, ts in edges.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:  # Tarjan (recursive: the package is a few hundred modules deep at most)
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in succ[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(succ):
        if v not in index:
            strong(v)
    return found


def test_every_module_parses_and_imports_resolve():
    edges = graph()
    assert "curate.cli" in edges and "curate.stages" in edges and "train.ablate" in edges
    assert any(t == "curate.stages" for t, _, _ in edges["curate.stages.filter"])


def test_layers_point_down():
    assert violations(graph()) == []


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_stage_libraries_are_libraries_that_never_see_a_stage_context():
    edges, known = graph(), modules()
    for name in STAGE_LIBRARIES:
        assert name in edges, f"{name}: no such module"
        assert not [t for t, _, _ in edges[name] if _under(t, STAGES) or t in RUNNER or t == CLI], name
        tree = ast.parse(known[name].read_text(encoding="utf-8"))
        assert "StageContext" not in {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | \
            {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}, name


def thick_parts(path: Path) -> list[str]:
    """What a stage module holds beyond a thin adapter: module-level functions, and methods of its
    classes other than the stage's `run`, `needs`, `summarize` (a config's validators are fine)."""
    out = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.append(node.name)
        elif isinstance(node, ast.ClassDef):
            bases = {ast.unparse(b) for b in node.bases}
            for item in node.body:
                is_method = isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                validator = is_method and any("validator" in ast.unparse(d) for d in item.decorator_list)
                if is_method and not validator and ("Stage" in bases and item.name not in STAGE_METHODS
                                                    or "Stage" not in bases):
                    out.append(f"{node.name}.{item.name}")
    return out


def test_stages_are_thin_adapters():
    edges, known = graph(), modules()
    stage_modules = [n for n in known if _under(n, STAGES) and n != STAGES]
    assert len(stage_modules) >= 13
    for name in stage_modules:
        assert set(thick_parts(known[name])) <= NOT_YET_THIN.get(name, set()), name
        libraries = [t for t, _, _ in edges[name] if t in STAGE_LIBRARIES and t != "curate.outcome"]
        assert libraries, f"{name} calls none of the stage libraries"


# ------------------------------------------------------------------ the checks catch what they should

def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for pkg in (*PACKAGES, "curate/stages"):
        (tmp_path / pkg).mkdir(parents=True, exist_ok=True)
        (tmp_path / pkg / "__init__.py").touch()
    return tmp_path


@pytest.mark.parametrize("files, rule", [
    ({"curate/dedup.py": "def f():\n    from train import sft\n"}, "curate never imports train"),
    ({"curate/cli.py": "from train import sft\n"}, "only inside a command"),
    ({"curate/dedup.py": "from curate.stages import DROP\n"}, "a library never imports a stage"),
    ({"curate/report.py": "from .stages import filter\n", "curate/stages/filter.py": ""},
     "a library never imports a stage"),
    ({"curate/stages/x.py": "def f():\n    from curate import run\n", "curate/run.py": ""},
     "a stage never imports the runner"),
    ({"train/ablate.py": "import curate.stages.select\n", "curate/stages/select.py": ""},
     "never its stages or CLI"),
])
def test_a_planted_violation_is_named(tmp_path, files, rule):
    found = violations(graph(_tree(tmp_path, files)))
    assert len(found) == 1 and rule in found[0], found


def test_a_stage_with_its_own_logic_is_named(tmp_path):
    path = tmp_path / "x.py"
    path.write_text("class XConfig(StageConfig):\n    @model_validator(mode='after')\n    def _ok(self):\n"
                    "        return self\n\nclass X(Stage):\n    def run(self, frame, ctx):\n        return frame\n"
                    "    def _strategy(self):\n        pass\n\ndef helper():\n    pass\n")
    assert thick_parts(path) == ["X._strategy", "helper"]


def test_a_planted_cycle_is_found_and_lazy_imports_make_none(tmp_path):
    root = _tree(tmp_path, {"curate/a.py": "from curate import b\n", "curate/b.py": "import curate.c\n",
                            "curate/c.py": "from curate.a import thing\n",
                            "curate/d.py": "from curate import e\n", "curate/e.py": "def f():\n    import curate.d\n"})
    assert cycles(graph(root)) == [["curate.a", "curate.b", "curate.c"]]


def test_tests_import_no_private_names_and_no_other_test_module():
    """A test of a private name pins an implementation detail: tests use the public API. Shared
    fixtures live in conftest.py (shared data in plain modules), never in another test module."""
    wrong = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PACKAGES:
                wrong += [f"{path.name} line {node.lineno}: {node.module}.{a.name}"
                          for a in node.names if a.name.startswith("_")]
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            wrong += [f"{path.name} line {node.lineno}: imports {n}" for n in names
                      if n.startswith(("test_", "conftest_"))]
    assert wrong == []
