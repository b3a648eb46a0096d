"""validate_spectra and the ``spectra validate`` command."""
import json

import numpy as np
import pytest

from spectra.cli import main
from spectra.empirical.validate import validate_spectra


def test_cube_validation_converges_and_reports():
    r = validate_spectra("cube", 6, "relu", 2, 2.0, 0.0, widths=[64, 1024], seeds=4)
    assert r.empirical["ntk"].shape == (2, 4, 5)
    assert r.config["full_cube"] and r.config["n_points"] == 64
    for k in ("ck", "ntk"):
        assert r.rms[k][1] < r.rms[k][0]  # deviation falls with width
        assert r.slope[k] < 0
        assert np.all(np.abs(r.dev_mean[k][1][~r.zero[k]]) < 0.08)
    d = r.to_dict()
    json.dumps(d)
    assert set(d["kernel"]) == {"ck", "ntk"}  # one row per (kernel, width, seed, degree) since issue #13
    assert "fitted slope" in r.format_table()


def test_structural_zeros_use_an_absolute_criterion():
    """erf without bias is odd: even degrees vanish analytically and (exactly) at finite width."""
    r = validate_spectra("cube", 5, "erf", 1, 2.0, 0.0, widths=[32], seeds=2, max_degree=4)
    for k in ("ck", "ntk"):
        assert r.zero[k].tolist() == [True, False, True, False, True]
        assert np.all(r.analytic[k][r.zero[k]] == 0)
        assert np.all(np.abs(r.dev_mean[k][0][r.zero[k]]) < 1e-12)
        assert np.all(r.within(0.5)[k][r.zero[k]])


def test_sphere_validation_small():
    r = validate_spectra("sphere", 4, "erf", 1, 2.0, 0.1, widths=[512], seeds=2, n_points=600, max_degree=2)
    assert r.empirical["ck"].shape == (1, 2, 3)
    for k in ("ck", "ntk"):
        assert np.all(np.abs(r.dev_mean[k][0]) < 0.15)


def test_control_variate_reduces_point_sampling_noise():
    """Same networks and points: analytic + U(K - K_inf) scatters less over seeds than U(K) at small k."""
    kw = dict(widths=[1024], seeds=3, n_points=500, max_degree=3)
    cv = validate_spectra("sphere", 5, "relu", 1, 2.0, 0.1, control_variate=True, **kw)
    plain = validate_spectra("sphere", 5, "relu", 1, 2.0, 0.1, control_variate=False, **kw)
    assert cv.config["control_variate"] and not plain.config["control_variate"]
    for k in ("ck", "ntk"):
        assert np.all(np.abs(cv.dev_mean[k] - plain.dev_mean[k]) < 4 * (plain.dev_se[k] + cv.dev_se[k]) + 0.02)
    assert cv.dev_se["ntk"][0, 3] < plain.dev_se["ntk"][0, 3]


def test_sphere_float64_reference_trace():
    """The float64 Funk-Hecke reference: sum_k N(d,k) lambda_k approaches Phi(1) for a smooth kernel."""
    from spectra.analytic import MLPKernel, mlp_kernel
    from spectra.domains import Sphere

    sphere = Sphere(4)
    lam = np.asarray(sphere.spectrum(MLPKernel("erf", 1, 1.0, 0.1, kind="ck"), max_degree=14,
                                     precision="float64").eigenvalues, dtype=float)
    tr = sum(sphere.multiplicity(k) * lam[k] for k in range(15))
    assert abs(tr - float(mlp_kernel(1.0, "erf", 1, 1.0, 0.1, "ck"))) < 1e-6


def test_cli_json_and_plot(tmp_path, capsys):
    png = tmp_path / "v.png"
    rc = main(["validate", "--domain", "cube", "--dim", "4", "--depth", "1", "--widths", "16,64", "--seeds", "2",
               "--format", "json", "--plot", str(png)])
    out = capsys.readouterr()
    assert rc == 0
    data = json.loads(out.out)
    ntk = [i for i, k in enumerate(data["kernel"]) if k == "ntk" and data["width"][i] == 16 and data["seed"][i] == 0]
    assert sorted(set(data["width"])) == [16, 64] and len(ntk) == 5  # table layout since issue #13
    assert "[validate]" in out.err
    assert png.exists() and png.stat().st_size > 1000


@pytest.mark.parametrize("argv,msg", [
    (["--widths", "0"], "widths"),
    (["--activation", "nope"], "activation"),
    (["--dim", "20"], "dim"),
    (["--widths", "a,b"], "widths"),
    (["--weight-var", "-1"], "weight_var"),
])
def test_cli_bad_input(argv, msg, capsys):
    rc = main(["validate", "--dim", "4", "--seeds", "1", "--quiet"] + argv)
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("spectra: error:") and msg in err
