"""The command line: outputs, files, and one-line errors for bad input (no traceback)."""
import json
import subprocess
import sys

import numpy as np
import pytest


def run(*args, check=True):
    p = subprocess.run([sys.executable, "-m", "spectra", *args], capture_output=True, text=True, timeout=300)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def test_eigen_json_cube():
    p = run("eigen", "--domain", "cube", "--dim", "16", "--activation", "relu", "--depth", "2", "--weight-var", "2",
            "--bias-var", "0", "--kernel", "ntk", "--format", "json")
    obj = json.loads(p.stdout)
    assert obj["degrees"] == list(range(17))
    assert obj["multiplicities"][8] == 12870
    assert max(obj["rel_error_bound"]) <= 1e-12
    assert abs(sum(m * e for m, e in zip(obj["multiplicities"], obj["eigenvalues"])) - obj["trace"]) < 1e-12


def test_eigen_csv_table_and_plot(tmp_path):
    p = run("eigen", "--dim", "10", "--activation", "erf", "--kernel", "ck", "--format", "csv", "--degrees", "1", "2", "3")
    lines = [x for x in p.stdout.strip().splitlines() if not x.startswith("#")]  # skip the metadata header
    assert lines[0].startswith("degree,eigenvalue") and len(lines) == 4
    assert lines[2].split(",")[1] == "0"  # even degree of bias-free erf: exactly zero
    png = tmp_path / "e.png"
    run("eigen", "--dim", "10", "--plot", str(png))
    assert png.stat().st_size > 1000


def test_grid_command(tmp_path):
    out = tmp_path / "g.npz"
    png = tmp_path / "g.png"
    run("grid", "--domain", "cube", "--dim", "12", "--activation", "erf", "--max-depth", "3", "--weight-var", "1:3:3",
        "--bias-var", "0:1:2", "--max-degree", "4", "--out", str(out), "--plot", str(png))
    z = np.load(out)
    assert z["eigenvalues_ck"].shape == (4, 3, 2, 5)
    assert z["fractional_variance_ntk"].shape == (4, 3, 2, 5)
    assert png.stat().st_size > 1000


@pytest.mark.parametrize("args,name", [
    (["eigen", "--dim", "0"], "dim"),
    (["eigen", "--dim", "5", "--weight-var", "-1"], "weight_var"),
    (["eigen", "--dim", "5", "--bias-var", "nan"], "bias_var"),
    (["eigen", "--dim", "5", "--activation", "wiggle"], "activation"),
    (["eigen", "--dim", "5", "--depth", "-2"], "depth"),
    (["eigen", "--dim", "5", "--kernel", "gp"], "kernel"),
    (["eigen", "--dim", "5", "--degrees", "6"], "degrees"),
    (["grid", "--dim", "5", "--max-depth", "2", "--weight-var", "1:2:x", "--out", "x.npz"], "weight-var"),
])
def test_bad_input_one_line_no_traceback(args, name):
    p = run(*args, check=False)
    assert p.returncode == 2
    err = p.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("spectra: error:") and name in err[0]
    assert "Traceback" not in p.stderr
