"""What users wait for: every README command timed as a whole process, against reference
processes measured in the same run, plus the in-process engines behind them (issue #14).

Whole processes (each run in a fresh interpreter, the runs of all commands interleaved so that
the load of a shared machine falls on all of them alike; medians of ``--runs``):

* references: ``python -c "import numpy"`` and the plain-numpy paper-grid script below (the
  algorithm of Yang & Salman 2019 written plainly: the erf kernel recursion on the ``d + 1``
  cube grid values for every depth and ``(sigma_w^2, sigma_b^2)`` pair, the Krawtchouk
  transform by a float64 matrix, the arrays written with ``np.savez``);
* the README commands (``spectra eigen`` with and without its plot, the erf ``eigen`` example,
  ``spectra grid`` with and without its plot, the two sphere commands of the issue, and with
  ``--all`` ``compare-domains`` and ``validate``; ``sweep`` and ``reproduce`` are training jobs,
  timed by their own benchmarks).

In process: ``cube_spectrum_grid`` against the paper-grid computation (the same function the
script runs), ``MLP.ntk_gram`` (n = 4096, width 1024, depth 3, float64) against its GEMM floor
(the six ``A @ A.T`` Gram products of width 1024 it needs, timed alternately with it), and the
certified cube spectrum (relu NTK, depth 2, every degree) at d = 4096 and 8192 after a warm-up.

The subprocesses run with bytecode caching on (a private ``PYTHONPYCACHEPREFIX``), as an
installed package does, whatever ``PYTHONDONTWRITEBYTECODE`` says; each command runs once
untimed first (bytecode, numba and spectra's cache folder, a private empty one; those first
times are printed for the sphere commands).  Peak memory of a command is its own
``ru_maxrss`` (``os.wait4``).

Run: ``python benchmarks/bench_commands.py [--quick | --all] [--runs N]``.  ``--quick``: only the
commands with an acceptance ratio, the NTK at n = 2048 and the cube at d = 4096; ``--all`` adds
the README commands that take minutes (``compare-domains``, ``validate``).
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

PY = sys.executable

# --------------------------------------------------------------------------- paper-grid reference
PAPER_GRID = r'''
import math
import sys

import numpy as np

D, L, K = 128, 128, 8
WV, BV = np.linspace(1, 5, 41), np.linspace(0, 4, 41)


def krawtchouk_float(d, kmax):
    """M[j, k] = K_j(k) / 2^d, the coefficients of (1-s)^k (1+s)^(d-k), rounded to float64."""
    M = np.empty((d + 1, kmax + 1))
    for k in range(kmax + 1):
        for j in range(d + 1):
            exact = sum((-1) ** i * math.comb(k, i) * math.comb(d - k, j - i) for i in range(max(0, j - d + k), min(j, k) + 1))
            M[j, k] = exact / 2 ** d
    return M


def compute(d=D, depth=L, wv=WV, bv=BV, kmax=K):
    """erf CK and NTK eigenvalues mu_0..mu_K for every depth 0..L and every (wv, bv) pair."""
    W, B = (a.ravel()[:, None] for a in np.meshgrid(wv, bv, indexing="ij"))
    c = 1 - 2 * np.arange(d + 1) / d
    M = krawtchouk_float(d, kmax)
    comb = np.array([math.comb(d, k) for k in range(kmax + 1)], dtype=float)
    out = {f"{w}_{n}": np.empty((depth + 1, W.size, x)) for w in ("eigenvalues", "fractional_variance")
           for n in ("ck", "ntk") for x in [kmax + 1]}
    out.update({f"trace_{n}": np.empty((depth + 1, W.size)) for n in ("ck", "ntk")})
    sig = W * c + B  # first layer: sigma_w^2 <x,y>/d + sigma_b^2
    q = W + B        # its value at c = 1
    theta = sig
    for l in range(depth + 1):
        if l > 0:
            den = 1 + 2 * q
            V = 2 / np.pi * np.arcsin(np.clip(2 * sig / den, -1, 1))
            Vd = 4 / np.pi / np.sqrt(den * den - 4 * sig * sig)
            q = W * (2 / np.pi * np.arcsin(2 * q / den)) + B
            sig = W * V + B
            theta = sig + W * Vd * theta
        for name, phi in (("ck", sig), ("ntk", theta)):
            mu = phi @ M
            out[f"eigenvalues_{name}"][l] = mu
            out[f"trace_{name}"][l] = phi[:, 0]
            out[f"fractional_variance_{name}"][l] = comb * mu / phi[:, :1]
    shape = (depth + 1, wv.size, bv.size)
    return {k: v.reshape(shape + v.shape[2:]) for k, v in out.items()}


if __name__ == "__main__":
    np.savez(sys.argv[1], weight_var=WV, bias_var=BV, **compute())
'''

GRID_ARGS = ["--dim", "128", "--activation", "erf", "--max-depth", "128", "--weight-var", "1:5:41",
             "--bias-var", "0:4:41", "--max-degree", "8"]


def _commands(tmp: str, quick: bool, slow: bool) -> list:
    """(label, argv, reference label or None, acceptance ratio or None)."""
    sp = [PY, "-m", "spectra"]
    cmds = [
        ("python -c 'import numpy'", [PY, "-c", "import numpy"], None, None),
        ("paper-grid script (numpy)", [PY, os.path.join(tmp, "paper_grid.py"), os.path.join(tmp, "ref.npz")], None, None),
        ("spectra eigen", sp + ["eigen"], "python -c 'import numpy'", 2.0),
        ("spectra grid (README, -o grid.npz)", sp + ["grid"] + GRID_ARGS + ["-o", os.path.join(tmp, "grid.npz")],
         "paper-grid script (numpy)", 0.5),
        ("spectra eigen --domain sphere --dim 10 --max-degree 200",
         sp + ["eigen", "--domain", "sphere", "--dim", "10", "--max-degree", "200"], "python -c 'import numpy'", 3.0),
        ("spectra eigen --domain sphere --dim 1000 --max-degree 50",
         sp + ["eigen", "--domain", "sphere", "--dim", "1000", "--max-degree", "50"], "python -c 'import numpy'", 3.0),
    ]
    if not quick:
        cmds += [
            ("spectra eigen (erf CK example, json)",
             sp + ["eigen", "--domain", "cube", "--dim", "128", "--activation", "erf", "--depth", "4", "--weight-var",
                   "2.5", "--bias-var", "0.1", "--kernel", "ck", "--format", "json"], "python -c 'import numpy'", None),
            ("spectra eigen --plot", sp + ["eigen", "--plot", os.path.join(tmp, "ntk.png")], "python -c 'import numpy'", None),
            ("spectra grid --plot (README)", sp + ["grid"] + GRID_ARGS + ["-o", os.path.join(tmp, "grid2.npz"), "--plot",
                                                                           os.path.join(tmp, "grid.png")],
             "paper-grid script (numpy)", None),
        ]
    if slow:  # minutes each on a loaded 2-core machine
        cmds += [
            ("spectra compare-domains --plot", sp + ["compare-domains", "--plot", os.path.join(tmp, "cd.png")],
             "python -c 'import numpy'", None),
            ("spectra validate (README)", sp + ["validate", "--domain", "cube", "--dim", "10", "--activation", "relu",
                                                "--depth", "2", "--weight-var", "2", "--bias-var", "0", "--widths",
                                                "256,1024,4096", "--seeds", "8", "--plot", os.path.join(tmp, "v.png"),
                                                "--quiet"], "python -c 'import numpy'", None),
        ]
    return cmds


def _env(tmp: str) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
    env["SPECTRA_CACHE_DIR"] = os.path.join(tmp, "spectra-cache")  # starts empty: the first runs fill it
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _run(argv, env) -> tuple:
    """Wall seconds and peak resident MB of one process (its own rusage, from os.wait4)."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({p.returncode}):\n{err}")
    return wall, usage.ru_maxrss / 1024


def whole_processes(tmp: str, runs: int, quick: bool, slow: bool) -> dict:
    env = _env(tmp)
    cmds = _commands(tmp, quick, slow)
    first = {}
    for label, argv, _, _ in cmds:  # untimed in the medians: bytecode, numba, font and spectra caches
        first[label] = _run(argv, env)[0]
    times = {label: [] for label, *_ in cmds}
    mem = {label: 0.0 for label, *_ in cmds}
    for r in range(runs):
        for label, argv, _, _ in cmds:
            wall, rss = _run(argv, env)
            times[label].append(wall)
            mem[label] = max(mem[label], rss)
        print(f"  run {r + 1}/{runs}: " + ", ".join(f"{times[lab][-1]:.2f}" for lab in times), file=sys.stderr, flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\nwhole processes (median of {runs} interleaved runs; ratio = command / reference, same run)")
    print(f"{'command':58} {'median s':>9} {'runs s':>22} {'peak MB':>8} {'ratio':>16} {'target':>10}")
    verdicts = {}
    for label, _, ref, target in cmds:
        ratio = med[label] / med[ref] if ref else None
        rtxt = "" if ratio is None else (f"{ratio:.2f}x numpy" if "import numpy" in ref else f"{1 / ratio:.2f}x faster")
        ttxt = ""
        if target is not None:
            ok = ratio <= target
            verdicts[label] = ok
            ttxt = (f"<= {target:g}x" if "import numpy" in ref else f">= {1 / target:g}x") + (" ok" if ok else " NO")
        runs_txt = ",".join(f"{x:.2f}" for x in times[label])
        print(f"{label:58} {med[label]:>9.2f} {runs_txt:>22} {mem[label]:>8.0f} {rtxt:>16} {ttxt:>10}")
    print("first run of each command, with empty caches (bytecode, numba, the sphere's cache folder): "
          + ", ".join(f"{lab.replace('spectra eigen --domain sphere', 'sphere')}: {first[lab]:.2f} s"
                      for lab in first if "sphere" in lab or lab == "spectra eigen"))
    grid_label = "spectra grid (README, -o grid.npz)"
    print(f"peak memory of {grid_label}: {mem[grid_label]:.0f} MB (target <= 300 MB: "
          f"{'ok' if mem[grid_label] <= 300 else 'NO'})")
    return {"median": med, "mem": mem, "verdicts": verdicts}


# --------------------------------------------------------------------------- in process
def _median_time(fn, runs):
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), ts


def grid_in_process(tmp: str, runs: int) -> None:
    from spectra.analytic import cube_spectrum_grid, load_cube_grid

    ns: dict = {"__name__": "paper_grid"}
    exec(compile(PAPER_GRID, "paper_grid.py", "exec"), ns)
    ref = ns["compute"]()
    pkg = lambda: cube_spectrum_grid(128, "erf", 128, np.linspace(1, 5, 41), np.linspace(0, 4, 41), max_degree=8)  # noqa: E731
    g = pkg()  # warm-up (numba cache)
    t_ref, _ = _median_time(ns["compute"], runs)
    t_pkg, _ = _median_time(pkg, runs)
    print(f"\nin process: paper grid in numpy {t_ref:.3f} s, cube_spectrum_grid {t_pkg:.3f} s: "
          f"{t_ref / t_pkg:.1f}x (target >= 10x: {'ok' if t_ref / t_pkg >= 10 else 'NO'})")
    # the same numbers: where the stated float64 bound is < 1e-10 relative, the two agree to 1e-9
    worst, n_cmp = 0.0, 0
    for name in ("ck", "ntk"):
        ours, base = getattr(g, f"eigenvalues_{name}"), ref[f"eigenvalues_{name}"]
        ok = (np.abs(base) > 0) & (getattr(g, f"abs_error_bound_{name}")[..., None] < 1e-10 * np.abs(base))
        n_cmp += int(ok.sum())
        worst = max(worst, float((np.abs(ours - base)[ok] / np.abs(base[ok])).max()))
    print(f"  paper script vs package: {n_cmp} resolved eigenvalues, max relative difference {worst:.1e}")
    path = os.path.join(tmp, "grid.npz")
    if os.path.exists(path):
        saved = load_cube_grid(path)
        # NaN marks masked fractional variances in both, so NaN == NaN here
        same = all(np.array_equal(getattr(saved, k), v, equal_nan=np.asarray(v).dtype.kind == "f")
                   for k, v in g.arrays.items())
        print(f"  the command's grid.npz equals the in-process grid array for array: {same}")


def ntk_in_process(n: int, runs: int) -> None:
    from spectra.empirical import MLP, cube_points

    X = cube_points(int(math.log2(n)))
    net = MLP(X.shape[1], 1024, depth=3, activation="relu", seed=0)
    A, D = net.layer_signals(X)
    mats = [np.ascontiguousarray(m) for m in A + D[0] if m is not None and m.shape[1] == 1024]
    del A, D

    def floor():
        for M in mats:
            M @ M.T

    def signals():  # the forward and backward passes the Grams are made of
        for s in range(0, n, 1024):
            net.layer_signals(X[s:s + 1024])

    net.ntk_gram(X)  # warm-up
    t = {"floor": [], "ntk": [], "signals": []}
    for _ in range(runs):
        for name, fn in (("floor", floor), ("ntk", lambda: net.ntk_gram(X)), ("signals", signals)):
            t0 = time.perf_counter()
            fn()
            t[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in t.items()}
    r = med["ntk"] / med["floor"]
    print(f"\nin process: MLP.ntk_gram n={n}, width 1024, depth 3, float64: {med['ntk']:.2f} s; GEMM floor "
          f"({len(mats)} x A @ A.T) {med['floor']:.2f} s -> {r:.2f}x (target <= 1.25x: {'ok' if r <= 1.25 else 'NO'})")
    print(f"  the layer signals alone (forward/backward, {4} n x w x w products) {med['signals']:.2f} s: "
          f"ntk_gram / (floor + signals) = {med['ntk'] / (med['floor'] + med['signals']):.2f}x")


def cube_in_process(dims, runs: int) -> None:
    from spectra.analytic import cube_spectrum

    cube_spectrum(256)  # warm-up: imports, FLINT
    print("\nin process: certified cube, relu NTK depth 2, every degree (after warm-up)")
    for d, target in dims:
        last = {}

        def run():
            last["s"] = cube_spectrum(d)

        t, ts = _median_time(run, runs)
        s = last["s"]
        print(f"  d={d}: median {t:.2f} s (runs {', '.join(f'{x:.2f}' for x in ts)}), {s.method[-1]}, "
              f"max rel bound {s.rel_error_bound.max():.1e}; target <= {target} s: {'ok' if t <= target else 'NO'}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="acceptance commands only, NTK at n=2048, cube d=4096")
    ap.add_argument("--runs", type=int, default=3, help="runs per measurement (default 3; medians are reported)")
    ap.add_argument("--all", action="store_true", help="also the slow README commands (compare-domains, validate)")
    ap.add_argument("--skip", nargs="*", default=[], choices=["processes", "grid", "ntk", "cube"])
    args = ap.parse_args(argv)
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} cpus, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    tmp = tempfile.mkdtemp(prefix="bench_commands_")
    try:
        with open(os.path.join(tmp, "paper_grid.py"), "w") as fh:
            fh.write(PAPER_GRID)
        if "processes" not in args.skip:
            whole_processes(tmp, args.runs, args.quick, args.all and not args.quick)
        if "grid" not in args.skip:
            grid_in_process(tmp, args.runs)
        if "ntk" not in args.skip:
            ntk_in_process(2048 if args.quick else 4096, args.runs)
        if "cube" not in args.skip:
            cube_in_process([(4096, 6)] if args.quick else [(4096, 6), (8192, 30)], args.runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
