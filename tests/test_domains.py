"""The domain objects: Cube, Sphere, Gaussian and the one measured result type DegreeSpectrum."""
import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from spectra.analytic import MLPKernel, cube_spectrum, gaussian_spectrum, mlp_kernel, sphere_spectrum
from spectra.analytic.bases import cube_multiplicity, sphere_multiplicity
from spectra.domains import DegreeSpectrum, Cube, Domain, Gaussian, Sphere, get_domain, sample_inputs


def test_measured_spectra_of_cube_and_sphere_have_one_type():
    X = Cube(10).sample()
    gram = mlp_kernel(X @ X.T / 10, "relu", 2, 2.0, 0.0, "ntk")
    c = Cube(10).degree_spectrum(gram)
    Y = Sphere(10).sample(300, seed=0)
    s = Sphere(10).degree_spectrum(Y @ Y.T / 10, Y)
    assert type(c) is type(s) is DegreeSpectrum
    assert (c.domain, c.method, c.n_points, len(c)) == ("cube", "walsh", 1024, 11)
    assert (s.domain, s.method, s.n_points, len(s)) == ("sphere", "gegenbauer", 300, 9)
    assert {f.name for f in dataclasses.fields(c)} == {f.name for f in dataclasses.fields(s)}
    json.dumps(c.to_dict()), json.dumps(s.to_dict())  # JSON-ready (NaN written as None)
    assert s.to_dict()["off_block"] is None and np.all(np.isnan(s.spread))
    assert len(repr(c)) < 200
    with pytest.raises(ValueError, match="read-only"):
        c.mean[0] = 1.0


def test_kernel_spectrum_on_the_cube_equals_cube_spectrum():
    k = MLPKernel("relu", depth=2)
    a, b = Cube(128).spectrum(k), cube_spectrum(128, "relu", 2)
    assert np.array_equal(a.eigenvalues, b.eigenvalues) and np.array_equal(a.degrees, b.degrees)
    assert [str(x) for x in a.exact] == [str(x) for x in b.exact]
    assert np.array_equal(k.spectrum(Cube(128)).eigenvalues, b.eigenvalues)  # the kernel's entry point


def test_sphere_and_gaussian_spectra_equal_their_engines():
    k = MLPKernel("erf", depth=2, weight_var=2.0, bias_var=0.5, kind="ck")
    assert np.array_equal(Sphere(10).spectrum(k, max_degree=6).eigenvalues,
                          sphere_spectrum(10, "erf", 2, 2.0, 0.5, "ck", max_degree=6).eigenvalues)
    assert np.array_equal(Gaussian(8).spectrum(MLPKernel(), max_degree=3).eigenvalues,
                          gaussian_spectrum(8, "relu", 2, 2.0, 0.0, "ntk", max_degree=3).eigenvalues)
    assert Cube(6).spectrum(k, degrees=[0, 2]).degrees.tolist() == [0, 2]
    with pytest.raises(TypeError, match="MLPKernel"):
        Cube(6).spectrum("relu")


@pytest.mark.parametrize("act,depth,wv,bv,kind", [("relu", 2, 2.0, 0.0, "ntk"), ("erf", 3, 2.5, 0.1, "ck"),
                                                   ("relu", 1, 2.0, 0.3, "ck")])
def test_degree_spectrum_of_analytic_gram_recovers_cube_spectrum(act, depth, wv, bv, kind):
    d = 8
    cube = Cube(d)
    X = cube.sample()
    kernel = MLPKernel(act, depth, wv, bv, kind=kind)
    s = cube.degree_spectrum(mlp_kernel(X @ X.T / d, act, depth, wv, bv, kind), kernel=kernel)
    mu = cube_spectrum(d, act, depth, wv, bv, kind).eigenvalues
    np.testing.assert_allclose(s.mean, mu, rtol=0, atol=1e-12 * mu.max())
    np.testing.assert_allclose(s.analytic, mu, rtol=0, atol=0)
    assert s.off_block < 1e-12 and np.all(s.spread < 1e-12 * mu.max())
    assert s.multiplicities.tolist() == [cube_multiplicity(d, k) for k in range(d + 1)]
    # any row order of the full cube, and a truncation
    perm = np.random.default_rng(0).permutation(1 << d)
    t = cube.degree_spectrum(mlp_kernel(X[perm] @ X[perm].T / d, act, depth, wv, bv, kind), X[perm], max_degree=3)
    np.testing.assert_allclose(t.mean, mu[:4], rtol=0, atol=1e-12 * mu.max())


def test_cube_sample_goes_through_the_krawtchouk_estimator():
    cube = Cube(12)
    X = cube.sample(800, seed=0)
    s = cube.degree_spectrum(X @ X.T / 12, X, max_degree=2, kernel=MLPKernel("identity", depth=0, weight_var=1.0))
    assert s.method == "krawtchouk" and s.degrees.tolist() == [0, 1, 2]
    assert abs(s.mean[1] - 1 / 12) < 0.005 and s.ratio.shape == (3,)


def test_samplers_and_multiplicities():
    assert Cube(5).sample().shape == (32, 5)
    assert np.array_equal(Cube(5).sample(), sample_inputs("cube", 5))
    assert Cube(40).sample(7, seed=3).shape == (7, 40)
    assert np.array_equal(Cube(40).sample(7, seed=3), Cube(40).sample(7, seed=3))
    Y = Sphere(6).sample(50, seed=1)
    assert Y.shape == (50, 6) and np.allclose((Y ** 2).sum(1), 6.0)
    G = Gaussian(3).sample(20000, seed=2)
    assert G.shape == (20000, 3) and abs(G.var() - 1) < 0.03
    assert np.array_equal(Sphere(6).sample(5, seed=1), sample_inputs("sphere", 6, 5, seed=1))
    assert [Sphere(5).multiplicity(k) for k in range(5)] == [sphere_multiplicity(5, k) for k in range(5)]
    assert Gaussian(5).multiplicities(range(3)).tolist() == [1, 5, 14]
    assert Cube(128).multiplicity(64) == cube_multiplicity(128, 64)
    with pytest.raises(ValueError, match="n"):
        Sphere(3).sample()


def test_domains_are_immutable_and_validated():
    c = Cube(4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.dim = 5
    assert c == Cube(4) and hash(c) == hash(Cube(4)) and repr(c) == "Cube(4)"
    assert isinstance(get_domain("sphere", 3), Domain) and get_domain("GAUSSIAN", 3) == Gaussian(3)
    with pytest.raises(ValueError, match="dim"):
        Sphere(1)
    with pytest.raises(TypeError, match="dim"):
        Cube(2.5)
    with pytest.raises(ValueError, match="domain"):
        get_domain("torus", 3)
    with pytest.raises(TypeError):
        Domain(3)  # abstract


def test_bad_points_and_grams_are_refused():
    X = Cube(3).sample()
    with pytest.raises(ValueError, match="columns"):
        Cube(4).walsh_monomial(X, [0])
    with pytest.raises(ValueError, match="full cube"):
        Cube(3).degree_spectrum(np.eye(4))
    with pytest.raises(ValueError, match="X"):
        Sphere(3).degree_spectrum(np.eye(8))
    with pytest.raises(NotImplementedError, match="Sphere"):
        Gaussian(3).degree_spectrum(np.eye(8), X)


def test_targets_through_the_domains():
    cube, sphere = Cube(6), Sphere(5)
    X = cube.sample()
    f = cube.random_polynomial(X, 2, seed=0)
    assert abs(cube.degree_energy(f)[2] - 1) < 1e-12
    assert np.array_equal(cube.walsh_monomial(X, [0, 1]), X[:, 0] * X[:, 1])
    Y = sphere.sample(1200, seed=1)
    g = sphere.harmonic_target(Y, 2, n_terms=3, seed=2)
    lam = sphere.degree_spectrum(np.outer(g, g), Y, max_degree=4).mean
    assert lam[2] > 20 * np.delete(np.abs(lam), 2).max()


def test_importing_domains_loads_no_numba():
    code = "import sys, spectra.domains; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
