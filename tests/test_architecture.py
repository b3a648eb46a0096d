"""The shape the architecture promises (docs/architecture.md), read from the source with ``ast``.

* no import circle between modules (function-level imports count too);
* the layers only import downwards: ``spectra.analytic`` imports nothing from ``spectra.domains``,
  ``spectra.empirical``, ``spectra.reproductions`` or ``spectra.cli``;
* no module over 450 lines unless docs/architecture.md gives the reason;
* each numerical engine is implemented exactly once;
* importing ``spectra`` and ``spectra.analytic`` loads no heavy module.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "spectra"


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict:
    return {_module_name(p): p for p in PKG.rglob("*.py")}


def _imports(name: str, path: Path, known: set) -> set:
    """Modules of ``spectra`` that ``name`` imports anywhere in its source (resolved to known modules)."""
    tree = ast.parse(path.read_text())
    is_pkg = path.name == "__init__.py"
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    out = set()
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                stem = base[: len(base) - node.level + 1]
                mod = ".".join(stem + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
        for t in targets:
            if not t.startswith("spectra"):
                continue
            # the longest known module prefix (``from pkg import submodule`` names the submodule)
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                out.add(t)
    return out


def _graph() -> dict:
    mods = _modules()
    known = set(mods)
    return {m: _imports(m, p, known) for m, p in mods.items()}


def _is_package_init(graph_key: str) -> bool:
    return (PKG.parent / Path(*graph_key.split(".")) / "__init__.py").exists()


def test_no_import_cycles():
    graph = _graph()
    # a package __init__ only re-exports its own submodules: edges into an __init__ from its own
    # submodules are the package being imported, not a dependency, so cycles are looked for on
    # the graph without the re-exporting __init__ modules
    edges = {m: {t for t in ts if not _is_package_init(t)} for m, ts in graph.items() if not _is_package_init(m)}
    color, stack, cycles = {}, [], []

    def visit(u):
        color[u] = 1
        stack.append(u)
        for v in sorted(edges.get(u, ())):
            if color.get(v) == 1:
                cycles.append(stack[stack.index(v):] + [v])
            elif v in edges and not color.get(v):
                visit(v)
        stack.pop()
        color[u] = 2

    for m in sorted(edges):
        if not color.get(m):
            visit(m)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


LAYERS = ["spectra.analytic", "spectra.domains", "spectra.empirical", "spectra.reproductions", "spectra.cli"]


@pytest.mark.parametrize("layer", LAYERS)
def test_layers_import_only_downwards(layer):
    graph = _graph()
    above = LAYERS[LAYERS.index(layer) + 1:]
    bad = sorted((m, t) for m, ts in graph.items() if m.startswith(layer) for t in ts
                 if any(t == a or t.startswith(a + ".") for a in above))
    assert not bad, f"{layer} imports from a higher layer: {bad}"


def test_analytic_imports_nothing_from_empirical():
    graph = _graph()
    bad = sorted((m, t) for m, ts in graph.items() if m.startswith("spectra.analytic") for t in ts
                 if t.startswith("spectra.empirical"))
    assert not bad


def test_module_sizes():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    over = []
    for name, path in _modules().items():
        n = len(path.read_text().splitlines())
        rel = str(path.relative_to(ROOT))
        if n > 450 and rel not in doc:
            over.append(f"{rel} ({n} lines)")
    assert not over, "modules over 450 lines without a reason in docs/architecture.md: " + ", ".join(over)


# each engine: a regular expression that matches its implementation, and the one file allowed to hold it
ENGINES = {
    "Gegenbauer recurrence (float)": (r"\(2 \* k \+ d - 2\) \* t \* out\[k\]", "spectra/analytic/bases.py"),
    "Gegenbauer recurrence (Arb)": (r"c1 = arb\(2 \* k \+ d - 2\)", "spectra/analytic/bases.py"),
    "Funk-Hecke rule (float)": (r"legendre\.leggauss", "spectra/analytic/bases.py"),
    "Krawtchouk coefficients": (r"fmpz_poly\(\[1, -1\]\) ?\*\*|one_minus\*\*k", "spectra/analytic/bases.py"),
    "sphere multiplicity": (r"math\.comb\(k \+ d - 1, d - 1\)", "spectra/analytic/bases.py"),
    "Adam update": (r"beta2\) \* g(rads\[i\])?(\s*\*\*\s*2| \* g)", "spectra/empirical/training/optimizers.py"),
    "atomic write": (r"os\.replace\(", "spectra/_io.py"),
}


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_one_implementation_of_each_engine(engine):
    pattern, home = ENGINES[engine]
    hits = sorted(str(p.relative_to(ROOT)) for p in PKG.rglob("*.py") if re.search(pattern, p.read_text()))
    assert hits == [home], f"{engine}: expected only in {home}, found in {hits}"


def test_one_gd_update():
    # the plain GD step ``params[i] -= lr * grads[i]`` lives in the optimizers module only
    hits = sorted(str(p.relative_to(ROOT)) for p in PKG.rglob("*.py")
                  if re.search(r"-= *\(?lr\)? *\* *g(rads)?\b", p.read_text()))
    assert hits == ["spectra/empirical/training/optimizers.py"], hits


@pytest.mark.parametrize("module, heavy", [
    ("spectra", ["numba", "scipy", "sympy", "matplotlib"]),
    ("spectra.analytic", ["numba", "scipy", "sympy", "matplotlib"]),
])
def test_import_is_light(module, heavy):
    code = (f"import sys, {module}; "
            f"print(' '.join(m for m in {heavy!r} if any(k == m or k.startswith(m + '.') for k in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"import {module} loads {out}"


def test_the_nouns_work():
    import numpy as np

    from spectra import Cube, Gaussian, MLPKernel, Sphere
    from spectra.analytic import cube_spectrum
    from spectra.domains import DegreeSpectrum

    a = MLPKernel("relu", depth=2).spectrum(Cube(128))
    b = cube_spectrum(128, "relu", 2)
    assert np.array_equal(a.eigenvalues, b.eigenvalues) and a.exact == b.exact
    assert np.array_equal(a.rel_error_bound, b.rel_error_bound) and a.params == b.params
    kern = MLPKernel("erf", depth=1, weight_var=2.0, bias_var=0.1, kind="ck")
    Xc = Cube(10).sample()
    Xs = Sphere(10).sample(256, seed=0)
    gram_c = kern(Xc @ Xc.T / 10)
    gram_s = kern(Xs @ Xs.T / 10)
    rc, rs = Cube(10).degree_spectrum(gram_c), Sphere(10).degree_spectrum(gram_s, Xs)
    assert type(rc) is type(rs) is DegreeSpectrum
    assert isinstance(Gaussian(4).spectrum(kern, max_degree=2).eigenvalues, np.ndarray)


def test_no_dangling_references():
    # the theory notes are not shipped: code and docstrings cite papers or a page in docs/
    pattern = re.compile(r"formulas\.md|empirical-methods|structure\.py|formulas §")
    hits = sorted(str(p.relative_to(ROOT)) for p in PKG.rglob("*.py") if pattern.search(p.read_text()))
    assert not hits, hits
