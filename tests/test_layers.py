"""The engine's layers, read from the source: every import of a coordsweep
module (those inside functions too) points down the stack

    cli -> api -> run, viz -> analysis -> store -> spec -> (errors, config) -> kernels

and no two modules import each other, directly or through others."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: rank of each layer: a module may import modules of its own rank or lower
LAYERS = {"kernels": 0, "engine.errors": 1, "engine.config": 1, "engine.spec": 2,
          "engine.store": 3, "engine.analysis": 4, "engine.run": 5, "engine.viz": 5,
          "engine.api": 6, "engine.cli": 7, "": 8}
#: imports of the root package (``coordsweep.__version__``), read lazily
ROOT_PACKAGE = "coordsweep"


def module_name(path):
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["coordsweep", *parts])


def modules():
    out = {}
    for folder in ("engine", "kernels"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            out[module_name(path)] = path
    return out


def imported(path, known):
    """The coordsweep modules a file imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name in known:
                found.add(name)
            elif name.startswith("coordsweep.") and name.rsplit(".", 1)[0] in known \
                    and name.rsplit(".", 1)[0] != "coordsweep":
                found.add(name.rsplit(".", 1)[0])
    return found


def graph():
    mods = modules()
    return {m: imported(p, mods) - {m} for m, p in mods.items()}


def rank(module):
    rel = module[len("coordsweep."):] if module != "coordsweep" else ""
    best = None
    for prefix, r in LAYERS.items():
        if prefix and (rel == prefix or rel.startswith(prefix + ".")):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, r)
    return best[1] if best else LAYERS[""]


def cycles(g):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
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
                out.append(sorted(comp))
    for v in g:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_imports_point_down_the_layers():
    up = [f"{m} -> {t}" for m, targets in graph().items() for t in sorted(targets)
          if rank(t) > rank(m)]
    assert up == []


def test_package_parents_import_no_children():
    """A package's __init__ imports none of its modules (lazy, cheap start-up),
    except the command line's, which registers its commands."""
    g = graph()
    bad = [f"{m} -> {t}" for m, targets in g.items() for t in targets
           if t.startswith(m + ".") and m != "coordsweep.engine.cli"
           and modules()[m].name == "__init__.py"]
    assert bad == []


@pytest.mark.parametrize("forbidden", ["coordsweep.engine", "dask", "xarray", "zarr"])
def test_kernels_import_no_engine_dask_xarray_zarr(forbidden):
    bad = []
    for path in sorted((ROOT / "kernels").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            bad += [f"{path.name}: {n}" for n in names
                    if n == forbidden or n.startswith(forbidden + ".")]
    assert bad == []


def test_the_walk_sees_imports_inside_functions(tmp_path):
    """The checker itself: an import inside a function counts."""
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from coordsweep.engine.store import lease\n")
    assert imported(f, {"coordsweep.engine.store.lease"}) == {"coordsweep.engine.store.lease"}
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(g) == [["a", "b", "c"]]
