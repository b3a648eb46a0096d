"""Issue #15, files you can trust: load_cube_grid refuses every damaged or foreign file with a
ValueError naming it (before: BadZipFile, AttributeError, EOFError, or silent acceptance)."""
import pickle

import numpy as np
import pytest

from spectra.analytic import cube_spectrum_grid, load_cube_grid


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    g = cube_spectrum_grid(8, "relu", 3, [1.0, 2.0], [0.0, 0.5, 1e-20], max_degree=4)
    p = tmp_path_factory.mktemp("grid") / "good.npz"
    g.save(p)
    return g, p


def _arrays(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def _variant(tmp_path, good, name, change):
    a = _arrays(good[1])
    change(a)
    p = tmp_path / f"{name}.npz"
    np.savez(p, **a)
    return p


def test_good_file_round_trips(good):
    g, p = good
    h = load_cube_grid(p)
    assert np.isnan(g.fractional_variance_ck).any()  # the tiny-bias column has masked values: NaN is legal
    for name, arr in g.arrays.items():
        assert np.array_equal(arr, getattr(h, name), equal_nan=True)


BROKEN = {
    "missing eigenvalues": lambda a: a.pop("eigenvalues_ntk"),
    "missing format": lambda a: a.pop("format"),
    "version 99": lambda a: a.update(format=np.array("spectra.cube_grid.v99")),
    "NaN eigenvalue": lambda a: a["eigenvalues_ck"].__setitem__((1, 0, 0, 1), np.nan),
    "inf trace": lambda a: a["trace_ntk"].__setitem__((0, 0, 0), np.inf),
    "negative bound": lambda a: a["abs_error_bound_ck"].__setitem__((0, 0, 0), -1.0),
    "mis-shaped fractions": lambda a: a.update(fractional_variance_ck=a["fractional_variance_ck"][:, :, :2]),
    "axes disagree": lambda a: a.update(weight_var=np.array([1.0, 2.0, 3.0])),
    "depth axis": lambda a: a.update(depths=a["depths"][::-1]),
    "string eigenvalues": lambda a: a.update(eigenvalues_ck=a["eigenvalues_ck"].astype(str)),
    "zeros not bool": lambda a: a.update(symmetry_zero_ck=a["symmetry_zero_ck"].astype(float)),
    "dim 0": lambda a: a.update(dim=np.array(0)),
    "degree beyond dim": lambda a: a.update(dim=np.array(3)),
    "negative weight_var": lambda a: a.update(weight_var=np.array([-1.0, 2.0])),
    "activation not text": lambda a: a.update(activation=np.array(3.0)),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_arrays_are_refused(tmp_path, good, case):
    p = _variant(tmp_path, good, case.replace(" ", "_"), BROKEN[case])
    with pytest.raises(ValueError, match=p.name):
        load_cube_grid(p)


def test_damaged_and_foreign_files_are_refused(tmp_path, good):
    raw = good[1].read_bytes()
    files = {
        "truncated.npz": raw[: len(raw) // 2],
        "tail_cut.npz": raw[:-100],
        "empty.npz": b"",
        "garbage.npz": b"\x00\x01garbage" * 100,
        "pickle.npz": pickle.dumps({"format": "spectra.cube_grid.v2"}),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    np.save(tmp_path / "array.npy", np.ones(3))
    (tmp_path / "array.npy").rename(tmp_path / "npy.npz")
    np.savez(tmp_path / "foreign.npz", x=np.ones(2))
    for name in list(files) + ["npy.npz", "foreign.npz"]:
        with pytest.raises(ValueError, match=name):
            load_cube_grid(tmp_path / name)
    with pytest.raises(FileNotFoundError):
        load_cube_grid(tmp_path / "absent.npz")
