"""Issue #13: results that fit a notebook (short reprs, HTML), a data frame (pandas reads every table
output) and a paper (the grid answers its question); progress on a terminal; no surprises on disk."""
import io
import json
import os
import pty
import select
import subprocess
import sys
import time

import numpy as np
import pytest

from spectra.analytic import (CubeGrid, EquivalenceResult, Spectrum, cube_spectrum, cube_spectrum_grid,
                              domain_equivalence, gaussian_spectrum, load_cube_grid, sphere_spectrum)
from spectra.domains import Cube, DegreeSpectrum, Sphere
from spectra._results import jsonable
from spectra.analytic import learning_curve
from spectra.empirical import MLP, train
from spectra.empirical.sweep import SweepReport
from spectra.empirical.validate import ValidationResult, validate_spectra
from spectra.reproductions.common import Claim, ReproductionResult

pd = pytest.importorskip("pandas")

NUMERIC = ("degree", "degrees", "eigenvalue", "eigenvalues", "log10_eigenvalue", "log10_eigenvalues",
           "multiplicity_float", "log10_multiplicity", "fractional_variance", "rel_error_bound", "trace", "dim",
           "width", "seed", "analytic", "empirical", "deviation", "empirical_mean", "empirical_se", "deviation_mean",
           "deviation_se", "rms_deviation", "scale_phi1", "depth", "weight_var", "bias_var")


def run(*args, check=True, **kw):
    p = subprocess.run([sys.executable, "-m", "spectra", *args], capture_output=True, text=True, timeout=600, **kw)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def strict_json(text):
    """json.loads that refuses NaN/Infinity (what JavaScript and pandas' ujson refuse)."""
    def bad(name):
        raise ValueError(f"non-standard JSON constant {name}")
    return json.loads(text, parse_constant=bad)


# ------------------------------------------------------------------ every result type at d = 1024
@pytest.fixture(scope="module")
def results_1024():
    d = 1024
    X = Sphere(d).sample(64, seed=0)
    gram = 1.0 + X @ X.T / d
    claims = [Claim(f"claim {i}: " + "x" * 200, i % 2 == 0, {"values": list(range(100)), "r": 0.5}) for i in range(30)]
    return {
        "Spectrum cube": cube_spectrum(d, "relu", 2),
        "Spectrum sphere": sphere_spectrum(d, "erf", 2, bias_var=0.1, max_degree=40),
        "Spectrum gaussian": gaussian_spectrum(d, "relu", 2, max_degree=40),
        "CubeGrid": cube_spectrum_grid(d, "erf", 3, [1.0, 2.0, 3.0], [0.0, 0.5], max_degree=12),
        "EquivalenceResult": domain_equivalence("erf", 2, 2.0, 0.5, "ck", max_degree=2, dims=[64, 256, 1024],
                                                domains=["cube", "sphere"]),
        "DegreeSpectrum": Sphere(d).degree_spectrum(gram, X, max_degree=4),
        "ValidationResult": validate_spectra("sphere", d, "relu", 1, widths=[16, 32], seeds=2, n_points=40,
                                             max_degree=2),
        "ReproductionResult": ReproductionResult("demo", claims, {"fast": True, "sizes": list(range(500))},
                                                 None, 1.5),
        "LearningCurve": learning_curve(cube_spectrum(d, "relu", 2), {1: 0.5, 3: 0.5}, [10, 1e3, 1e6, 1e9, 1e12],
                                        noise=0.01),
        "TrainingRun": train(MLP(d, 8, depth=1, seed=0), X[:16], X[:16, 0] * np.sqrt(1.0), n_steps=30, lr=0.1,
                             record_steps=range(0, 31, 3)),
        "SweepReport": SweepReport("sweep_out", 300, skipped=[f"run{i:03d}" for i in range(100)],
                                   executed=[f"run{i:03d}" for i in range(100, 290)],
                                   failed={f"run{i:03d}": "boom" * 50 for i in range(290, 295)},
                                   not_started=[f"run{i:03d}" for i in range(295, 300)],
                                   summaries={f"run{i:03d}": {"final_loss": 1.0 / i} for i in range(100, 290)},
                                   rerun={"run100": "foreign file"}),
    }


ALL_TYPES = ["Spectrum cube", "Spectrum sphere", "Spectrum gaussian", "CubeGrid", "EquivalenceResult",
             "DegreeSpectrum", "ValidationResult", "ReproductionResult", "LearningCurve", "TrainingRun",
             "SweepReport"]


@pytest.mark.parametrize("name", ALL_TYPES)
def test_every_result_type_has_the_whole_interface(results_1024, tmp_path, name):
    """#13 item 1: short repr, table str, HTML, to_dict, to_dataframe, save/load (foreign files refused), plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = results_1024[name]
    assert len(repr(r)) < 1000
    assert str(r) == r.to_table() and len(str(r).splitlines()) >= 2
    html = r._repr_html_()
    assert html.startswith("<div>") and "</div>" in html and len(html) < 20_000
    json.dumps(jsonable(r.to_dict()), allow_nan=False)
    df = r.to_dataframe()
    assert isinstance(df, pd.DataFrame) and len(df) >= 1
    suffix = ".npz" if name in ("CubeGrid", "TrainingRun") else ".json"
    written = r.save(tmp_path / ("r" + suffix))
    back = type(r).load(written or tmp_path / ("r" + suffix))
    assert repr(back) == repr(r)
    bad = tmp_path / ("foreign" + suffix)
    bad.write_text("this is not a spectra file")
    with pytest.raises(ValueError, match="foreign"):
        type(r).load(bad)
    ax = r.plot()
    axes = np.ravel(ax) if isinstance(ax, (list, tuple, np.ndarray)) else [ax]
    assert all(isinstance(a, matplotlib.axes.Axes) for a in axes)
    plt.close("all")


@pytest.mark.parametrize("name", ["Spectrum cube", "Spectrum sphere", "Spectrum gaussian", "CubeGrid",
                                  "EquivalenceResult", "DegreeSpectrum", "ValidationResult", "ReproductionResult"])
def test_repr_short_html_and_table(results_1024, name):
    r = results_1024[name]
    assert len(repr(r)) < 1000, len(repr(r))
    html = r._repr_html_()
    assert html.startswith("<div>") and "<table>" in html and len(html) < 20_000
    assert str(r) == r.to_table() and len(str(r).splitlines()) > 1
    df = r.to_dataframe()
    assert isinstance(df, pd.DataFrame) and len(df) >= 1
    strict_json(r.to_json())


@pytest.mark.parametrize("name", ["Spectrum cube", "Spectrum sphere", "Spectrum gaussian", "EquivalenceResult",
                                  "DegreeSpectrum", "ValidationResult", "ReproductionResult"])
def test_save_load_round_trip_and_foreign_files(results_1024, tmp_path, name):
    r = results_1024[name]
    path = tmp_path / "r.json"
    r.save(path)
    obj = strict_json(path.read_text())
    assert obj["format"] == r.FORMAT and obj["version"] == 1
    back = type(r).load(path)
    assert back.to_dict() == r.to_dict() or name == "ReproductionResult"
    if name == "ReproductionResult":
        assert back.to_json() == r.to_json()
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"format": "something.else", "version": 1}))
    for bad in (foreign, tmp_path / "text.json"):
        if bad.name == "text.json":
            bad.write_text("not json at all")
        with pytest.raises(ValueError, match=str(bad.name)):
            type(r).load(bad)


def test_grid_save_load_and_foreign(results_1024, tmp_path):
    g = results_1024["CubeGrid"]
    p = tmp_path / "g.npz"
    g.save(p)
    h = CubeGrid.load(p)
    for name, arr in g.arrays.items():
        assert np.array_equal(arr, getattr(h, name), equal_nan=True)
    for name in ("depths", "degrees", "weight_var", "bias_var"):
        assert np.array_equal(getattr(g, name), getattr(h, name))
    z = np.load(p)
    assert {"depths", "degrees", "weight_var", "bias_var"} <= set(z.files)
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.ones(2))
    with pytest.raises(ValueError, match="bad.npz"):
        load_cube_grid(bad)


def test_to_dataframe_names_the_pandas_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"nn-spectra\[pandas\]"):
        cube_spectrum(8).to_dataframe()


def test_exact_zero_and_big_multiplicities_in_json():
    s = cube_spectrum(128, "erf", 2)  # bias-free erf: even degrees vanish exactly
    obj = strict_json(s.to_json())
    assert obj["eigenvalues"][2] == 0.0 and obj["log10_eigenvalues"][2] is None
    assert obj["multiplicities"][64] == str(__import__("math").comb(128, 64))
    assert obj["multiplicity_float"][64] == pytest.approx(float(__import__("math").comb(128, 64)))
    assert all(isinstance(m, str) for m in obj["multiplicities"])  # one type per column


def test_tab_completion_shows_grid_arrays():
    g = cube_spectrum_grid(8, "erf", 1, [1.0], [0.0], max_degree=2)
    assert {"eigenvalues_ck", "fractional_variance_ntk", "depths", "degrees", "optimal_depth"} <= set(dir(g))


# ------------------------------------------------------------------ pandas reads every table output
def _numeric_ok(df):
    for col in df.columns:
        if col in NUMERIC:
            assert pd.api.types.is_numeric_dtype(df[col]), (col, df[col].dtype)
    if "certified" in df.columns:
        assert pd.api.types.is_bool_dtype(df["certified"])


@pytest.mark.parametrize("args", [
    ["--domain", "cube", "--dim", "128"],
    ["--domain", "cube", "--dim", "128", "--activation", "erf"],
    ["--domain", "sphere", "--dim", "10", "--max-degree", "12"],
    ["--domain", "gaussian", "--dim", "4", "--bias-var", "0.5", "--max-degree", "4"],
])
def test_pandas_reads_eigen_json_and_csv(tmp_path, args):
    js, cs = tmp_path / "e.json", tmp_path / "e.csv"
    run("eigen", *args, "--format", "json", "-o", str(js), "--quiet")
    run("eigen", *args, "--format", "csv", "-o", str(cs), "--quiet")
    strict_json(js.read_text())
    dj = pd.read_json(js)
    dc = pd.read_csv(cs, comment="#")
    assert len(dj) == len(dc) > 1
    _numeric_ok(dj)
    _numeric_ok(dc)
    assert "certified" in dc.columns
    head = [line for line in cs.read_text().splitlines() if line.startswith("# ")]
    assert any(line.startswith("# activation: ") for line in head) and any("# format: " in h for h in head)


def test_pandas_reads_learning_curve_json_and_csv(tmp_path):
    common = ("learning-curve", "--dim", "128", "--n", "10:1e9:9", "--target-power", "1:0.5,3:0.5", "--ridge", "1e-3",
              "--quiet")
    js, cs = tmp_path / "lc.json", tmp_path / "lc.csv"
    run(*common, "--format", "json", "-o", str(js))
    run(*common, "--format", "csv", "-o", str(cs))
    strict_json(js.read_text())
    dj, dc = pd.read_json(js), pd.read_csv(cs, comment="#")
    assert len(dj) == len(dc) == 9
    for df in (dj, dc):
        numeric = [c for c in df.columns if c not in ("format", "domain", "activation", "kernel", "parametrization",
                                                     "target_power")]
        bad = [c for c in numeric if not pd.api.types.is_numeric_dtype(df[c])]
        assert not bad, bad
        assert {"n", "kappa", "test_mse", "learnability_0", "learnability_128"} <= set(df.columns)
    assert dj["half_learned_n_3"].iloc[0] == pytest.approx(dj["half_learned_n_3"].iloc[-1])
    assert np.allclose(dj["test_mse"], dc["test_mse"], rtol=1e-12, atol=0)  # pandas ujson parses to ~1e-13


def test_pandas_reads_validate_json_and_csv(tmp_path):
    common = ("validate", "--dim", "4", "--depth", "1", "--widths", "16,64", "--seeds", "2", "--quiet")
    js, cs = tmp_path / "v.json", tmp_path / "v.csv"
    run(*common, "--format", "json", "-o", str(js))
    run(*common, "--format", "csv", "-o", str(cs))
    strict_json(js.read_text())
    dj, dc = pd.read_json(js), pd.read_csv(cs, comment="#")
    assert len(dj) == len(dc) == 2 * 2 * 2 * 5  # kernel x width x seed x degree
    _numeric_ok(dj)
    _numeric_ok(dc)
    assert pd.api.types.is_numeric_dtype(dj["slope"])


def test_reproduce_claims_load_with_json_normalize(tmp_path):
    out = tmp_path / "r.json"
    env = dict(os.environ, SPECTRA_CACHE_DIR=str(tmp_path / "cache"))
    run("reproduce", "max-lr", "--fast", "--format", "json", "-o", str(out), "--quiet", check=False, env=env)
    obj = strict_json(out.read_text())
    df = pd.json_normalize(obj["claims"])
    assert {"claim", "passed"} <= set(df.columns) and len(df) == len(obj["claims"]) >= 2
    assert any(c.startswith("values.") for c in df.columns)
    assert (tmp_path / "cache" / "figures" / "max-lr.png").is_file()


# ------------------------------------------------------------------ the grid answers its question
def test_grid_dataframe_one_row_per_point():
    g = cube_spectrum_grid(16, "erf", 3, [1.0, 2.0], [0.0, 0.3, 0.6], max_degree=4)
    df = g.to_dataframe()
    assert len(df) == 4 * 2 * 3 * 5
    assert not df.duplicated(["depth", "weight_var", "bias_var", "degree"]).any()
    row = df[(df.depth == 2) & (df.weight_var == 2.0) & (df.bias_var == 0.3) & (df.degree == 3)].iloc[0]
    assert row.eigenvalue_ntk == g.eigenvalues_ntk[2, 1, 1, 3]
    assert row.fractional_variance_ck == g.fractional_variance_ck[2, 1, 1, 3]


@pytest.mark.parametrize("seed", range(4))
def test_optimal_depth_is_the_argmax_and_masks_symmetry_zeros(seed):
    rng = np.random.default_rng(seed)
    act = ["erf", "relu", "tanh", "gelu"][seed]
    wv = np.sort(rng.uniform(0.5, 4.0, size=rng.integers(1, 4)))
    bv = np.sort(np.r_[0.0, rng.uniform(0.01, 2.0, size=rng.integers(0, 3))])
    g = cube_spectrum_grid(int(rng.integers(8, 40)), act, int(rng.integers(1, 12)), wv, bv, max_degree=4)
    for kind in ("ck", "ntk"):
        fv = getattr(g, f"fractional_variance_{kind}")
        zero = getattr(g, f"symmetry_zero_{kind}")
        for k in g.degrees:
            best = g.optimal_depth(kind, int(k))
            for i in range(len(wv)):
                for j in range(len(bv)):
                    # symmetry zeros and unresolved (NaN-masked) values never win
                    col = np.where(zero[:, j, k] | np.isnan(fv[:, i, j, k]), -np.inf, fv[:, i, j, k])
                    if np.isneginf(col).all():
                        assert best.mask[i, j]  # vanishes by symmetry or unresolved: masked, never "depth 0"
                    else:
                        assert not best.mask[i, j] and best[i, j] == g.depths[int(np.argmax(col))]


def test_optimal_depth_on_synthetic_arrays():
    rng = np.random.default_rng(7)
    L1, nw, nb, K1 = 6, 3, 4, 5
    fv = rng.uniform(0.01, 1.0, size=(L1, nw, nb, K1))
    zero = np.zeros((L1, nb, K1), dtype=bool)
    zero[:, 0, 2] = True  # degree 2 vanishes at the first bias
    arrs = [fv * 2, fv * 3, fv, fv, np.ones((L1, nw, nb)), np.ones((L1, nw, nb)), np.full((L1, nw, nb), 1e-9),
            np.full((L1, nw, nb), 1e-9), zero, zero]
    g = CubeGrid(8, "erf", np.arange(1.0, nw + 1), np.linspace(0, 1, nb), np.arange(L1), np.arange(K1), *arrs)
    for k in range(K1):
        best = g.optimal_depth("ntk", k)
        expect = np.argmax(fv[..., k], axis=0)
        if k == 2:
            assert best.mask[:, 0].all() and not best.mask[:, 1:].any()
            assert np.array_equal(best[:, 1:], expect[:, 1:])
        else:
            assert np.array_equal(best.filled(-1), expect)


def test_bias_free_erf_grid_says_why_even_degrees_vanish(tmp_path):
    p = run("grid", "--dim", "64", "--activation", "erf", "--max-depth", "40", "--weight-var", "2", "--bias-var", "0",
            "--max-degree", "4", "-o", str(tmp_path / "b.npz"), "--plot", str(tmp_path / "b.png"), "--quiet")
    assert p.stderr == ""  # no warnings leak
    lines = {tuple(x.split()[:2]): x for x in p.stdout.splitlines() if x.strip().startswith(("ck", "ntk"))}
    assert "zero by symmetry" in lines[("ntk", "4")] and "zero by symmetry" in lines[("ck", "2")]
    assert lines[("ntk", "3")].split()[2] != "0"


def test_grid_plot_weight_var_slice_and_line_fallback_without_warnings(tmp_path):
    for extra in (["--weight-var", "1:3:3", "--bias-var", "0:1:3", "--weight-var-slice", "3"],
                  ["--weight-var", "2", "--bias-var", "0:1:4"], ["--weight-var", "1:2:3", "--bias-var", "0.5"]):
        png = tmp_path / "g.png"
        p = subprocess.run([sys.executable, "-W", "error", "-m", "spectra", "grid", "--dim", "12", "--activation", "erf",
                            "--max-depth", "3", "--max-degree", "3", "-o", str(tmp_path / "g.npz"), "--plot", str(png),
                            "--quiet", *extra], capture_output=True, text=True, timeout=300)
        assert p.returncode == 0 and p.stderr == "", p.stderr
        assert png.stat().st_size > 1000


# ------------------------------------------------------------------ progress on a terminal
README_GRID = ["grid", "--domain", "cube", "--dim", "128", "--activation", "erf", "--max-depth", "128",
               "--weight-var", "1:5:41", "--bias-var", "0:4:41", "--max-degree", "8"]


def _run_with_tty_stderr(args, cwd):
    """Run spectra with stderr on a pseudo-terminal; return (seconds to the first stderr byte, stderr text)."""
    master, slave = pty.openpty()
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-m", "spectra", *args], stdout=subprocess.DEVNULL, stderr=slave, cwd=cwd)
    os.close(slave)
    first, chunks = None, []
    while True:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            if first is None:
                first = time.perf_counter() - t0
            chunks.append(data)
        elif p.poll() is not None:
            break
    p.wait(timeout=600)
    os.close(master)
    return first, b"".join(chunks).decode(errors="replace"), p.returncode


def test_grid_progress_on_a_terminal_and_quiet(tmp_path):
    first, err, rc = _run_with_tty_stderr(README_GRID + ["-o", str(tmp_path / "g.npz")], tmp_path)
    assert rc == 0
    assert first is not None and first < 2.0, first
    assert "grid" in err and "%" in err
    first, err, rc = _run_with_tty_stderr(README_GRID + ["-o", str(tmp_path / "g.npz"), "--quiet"], tmp_path)
    assert rc == 0 and err == "" and first is None


# ------------------------------------------------------------------ validate
def test_validate_with_one_width_has_no_slope():
    r = validate_spectra("cube", 4, "relu", 1, widths=[32], seeds=2)
    assert r.slope == {"ck": None, "ntk": None}
    assert "slope" not in r.format_table()
    assert strict_json(r.to_json())["slope"][0] is None


def test_validate_first_eta_is_within_a_factor_two():
    """The first estimate of the time left, weighted by each network's cost, against the true time."""
    lines = []
    t0 = time.perf_counter()
    validate_spectra("cube", 10, "relu", 2, widths=[256, 1024, 2048], seeds=2, progress=lines.append)
    total = time.perf_counter() - t0
    first = next(x for x in lines if " s left" in x)  # the first step only measures the warm-up
    assert "s left" not in lines[0]
    left = float(first.split("~")[1].split(" s left")[0])
    elapsed = float(first.split(") ")[1].split(" s elapsed")[0])
    assert 0.5 <= (elapsed + left) / total <= 2.0, (first, total)


# ------------------------------------------------------------------ no surprises on disk
def test_reproduce_refuses_to_overwrite_a_tracked_file(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / "fig.png").write_bytes(b"tracked")
    subprocess.run(["git", "add", "fig.png"], cwd=repo, check=True)
    p = run("reproduce", "max-lr", "--fast", "--plot", str(repo / "fig.png"), "--quiet", check=False)
    assert p.returncode == 2 and "--force" in p.stderr
    assert (repo / "fig.png").read_bytes() == b"tracked"


def test_reproduce_in_a_clean_clone_leaves_git_status_clean(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if subprocess.run(["git", "rev-parse", "--git-dir"], cwd=root, capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", root, str(clone)], check=True, timeout=120)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    env.pop("SPECTRA_CACHE_DIR", None)
    p = subprocess.run([sys.executable, "-m", "spectra", "reproduce", "max-lr", "--fast", "--quiet"], cwd=clone,
                       env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode in (0, 1), p.stderr
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True).stdout
    assert status == ""
    assert (tmp_path / "cache" / "spectra" / "figures" / "max-lr.png").is_file()


def test_table_prints_multiplicities_beyond_float64():
    # C(1030, 515) > 1e308: the table writes it from its digits (it used to raise OverflowError)
    import math

    from spectra.analytic import cube_spectrum

    s = cube_spectrum(1030, "relu", 2, degrees=[0, 515])
    line = s.to_table().splitlines()[-1]
    assert "2.8596e+308" in line and math.comb(1030, 515) > 10**308


def test_best_depth_table_rows_match_a_brute_force_loop():
    # rows() takes one argmax over depth for all degrees at once (issue #14); this loop is the definition
    g = cube_spectrum_grid(24, "relu", 12, np.linspace(1, 5, 7), np.linspace(0, 2, 5), max_degree=6)
    rows = iter(g.rows())
    for kind in ("ck", "ntk"):
        fv, mu = getattr(g, f"fractional_variance_{kind}"), getattr(g, f"eigenvalues_{kind}")
        b, z = getattr(g, f"abs_error_bound_{kind}"), getattr(g, f"symmetry_zero_{kind}")
        for k in g.degrees:
            vals, sym, none = [], 0, 0
            for a in range(fv.shape[1]):
                for c in range(fv.shape[2]):
                    usable = [(fv[d, a, c, k], -d) for d in range(fv.shape[0]) if not z[d, c, k] and not np.isnan(fv[d, a, c, k])]
                    resolved = [t for t in usable if abs(mu[-t[1], a, c, k]) > b[-t[1], a, c]]
                    sym += all(z[d, c, k] for d in range(fv.shape[0]))
                    if resolved and max(resolved)[0] > 0:
                        vals.append(-max(resolved)[1])
                    else:
                        none += 1
            r = next(rows)
            assert (r["kernel"], r["degree"], r["pairs"], r["symmetry"], r["unresolved"]) == (kind, k, len(vals), sym,
                                                                                             none - sym)
            if vals:
                assert (r["min"], r["max"], r["median"]) == (min(vals), max(vals), float(np.median(vals)))
