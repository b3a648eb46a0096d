"""The grammar every command shares: -o/--output, --quiet, the list syntax, one-line errors.

Everything runs in-process through ``spectra.cli.main`` (fast; no subprocess start-up).
"""
import json
import os
import re

import numpy as np
import pytest

from spectra.cli import main
from spectra.cli._common import parse_list

WRITERS = ["eigen", "grid", "compare-domains", "validate", "reproduce"]  # commands that write a result
COMMANDS = WRITERS + ["sweep"]  # sweep writes its runs into the config's output_dir


def _help(capsys, *argv):
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--help"])
    assert exc.value.code == 0
    return capsys.readouterr().out


def _fails(capsys, argv, *names):
    """Exit code 2, exactly one stderr line starting 'spectra: error:' and naming every ``names``."""
    rc = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2, err
    assert len(err) == 1 and err[0].startswith("spectra: error:"), err
    assert all(n in err[0] for n in names), err
    return err[0]


def test_top_level_help_lists_every_command(capsys):
    out = _help(capsys)
    for cmd in COMMANDS:
        assert cmd in out


@pytest.mark.parametrize("cmd", COMMANDS)
def test_shared_flags_in_help(cmd, capsys):
    out = _help(capsys, cmd)
    assert "--quiet" in out
    assert ("-o FILE, --output FILE" in out) == (cmd in WRITERS)
    # no Sphinx markup leaks into the help text
    assert "``" not in out and not re.search(r":(func|mod|class|meth):", out)


@pytest.mark.parametrize("cmd", ["eigen", "validate"])
def test_same_network_defaults(cmd, capsys):
    out = " ".join(_help(capsys, cmd).split())
    assert "default relu" in out and "default 2)" in out  # activation, depth (and weight_var)
    assert "sigma_w^2 > 0 (default 2)" in out and "sigma_b^2 >= 0 (default 0)" in out


def test_compare_domains_documents_its_defaults(capsys):
    out = " ".join(_help(capsys, "compare-domains").split())
    assert "default erf" in out and "default ck" in out and "default 0.5" in out
    assert "nonzero odd and even Taylor coefficients" in out


# ---------------------------------------------------------------------------------------------
# the list syntax
# ---------------------------------------------------------------------------------------------
def test_parse_list():
    assert parse_list("0,1,5:10:6", "--degrees", integer=True) == [0, 1, 5, 6, 7, 8, 9, 10]
    assert parse_list("256,1024", "--widths", integer=True) == [256, 1024]
    assert parse_list(" 8 , 16 ", "--dims", integer=True) == [8, 16]
    # ranges are numpy.linspace, so grids written as START:STOP:NUM keep their exact values
    assert np.array_equal(parse_list("1:5:41", "--weight-var"), np.linspace(1, 5, 41))
    assert np.array_equal(parse_list("2", "--weight-var"), np.array([2.0]))
    assert np.array_equal(parse_list("0.5,1:2:3", "--bias-var"), [0.5, 1.0, 1.5, 2.0])


@pytest.mark.parametrize("text,why", [
    ("8,,16", "empty item"), (",8", "empty item"), ("8,", "empty item"), ("", "empty item"),
    ("2.5", "integer"), ("0:5:3", "non-integer"), ("1:2", "START:STOP:NUM"), ("1:2:0", "NUM"),
    ("1:2:x", "NUM"), ("a", "integer"),
])
def test_parse_list_refuses(text, why):
    with pytest.raises(ValueError, match=why) as exc:
        parse_list(text, "--dims", integer=True)
    assert str(exc.value).startswith("--dims:")


@pytest.mark.parametrize("degrees", [["0,2,4"], ["0:4:3"], ["0", "2,4"], ["0", "2", "4"]])
def test_eigen_degree_lists(degrees, capsys):
    assert main(["eigen", "--dim", "8", "--format", "json", "--degrees", *degrees]) == 0
    assert json.loads(capsys.readouterr().out)["degrees"] == [0, 2, 4]


@pytest.mark.parametrize("argv,flag", [
    (["eigen", "--dim", "8", "--degrees", "8,,16"], "--degrees"),
    (["eigen", "--dim", "8", "--degrees", "0:5:3"], "--degrees"),
    (["eigen", "--dim", "8", "--degrees", "1.5"], "--degrees"),
    (["eigen", "--dim", "2.5"], "--dim"),
    (["eigen", "--dim", "8", "--depth", "2.5"], "--depth"),
    (["compare-domains", "--dims", "8,,16"], "--dims"),
    (["compare-domains", "--domains", "cube,torus"], "--domains"),
    (["validate", "--widths", "8,,16"], "--widths"),
    (["grid", "--max-depth", "2", "--weight-var", "1:2:x", "-o", "g.npz"], "--weight-var"),
])
def test_bad_lists_and_ints_one_line(argv, flag, capsys):
    _fails(capsys, argv, flag)


def test_negative_range_is_a_value_not_an_option(capsys):
    # "-1:1:3" used to be taken for an unknown option ("expected one argument")
    _fails(capsys, ["grid", "--dim", "8", "--max-depth", "1", "--bias-var", "-1:1:3", "-o", "g.npz"], "bias_var")


# ---------------------------------------------------------------------------------------------
# output files
# ---------------------------------------------------------------------------------------------
def test_output_file_equals_stdout_and_note_on_stderr(tmp_path, capsys):
    argv = ["eigen", "--dim", "8", "--format", "csv"]
    assert main(argv) == 0
    printed = capsys.readouterr()
    assert printed.err == ""
    out = tmp_path / "e.csv"
    old = os.umask(0o022)
    try:
        assert main(argv + ["-o", str(out)]) == 0
    finally:
        os.umask(old)
    got = capsys.readouterr()
    assert got.out == "" and got.err == f"wrote {out}\n"
    assert out.read_text() == printed.out
    assert out.stat().st_mode & 0o777 == 0o644
    assert main(argv + ["--output", str(out), "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_grid_output_alias_and_required(tmp_path, capsys):
    base = ["grid", "--dim", "6", "--activation", "erf", "--max-depth", "2", "--weight-var", "1,2",
            "--bias-var", "0:1:2", "--max-degree", "3"]
    for flag in ("-o", "--output", "--out"):
        out = tmp_path / f"g{flag.strip('-')}.npz"
        assert main(base + [flag, str(out)]) == 0
        assert capsys.readouterr().err.startswith(f"wrote {out}: ")
        assert np.load(out)["eigenvalues_ck"].shape == (3, 2, 2, 4)
    _fails(capsys, base, "-o/--output")


def test_validate_output_json(tmp_path, capsys):
    out = tmp_path / "v.json"
    assert main(["validate", "--dim", "4", "--depth", "1", "--widths", "16:32:2", "--seeds", "1", "--quiet",
                 "--format", "json", "-o", str(out)]) == 0
    got = capsys.readouterr()
    assert got.out == "" and got.err == ""
    assert sorted(set(json.loads(out.read_text())["width"])) == [16, 32]  # one row per (kernel, width, seed, degree), #13


def test_compare_domains_output(tmp_path, capsys):
    out = tmp_path / "c.json"
    assert main(["compare-domains", "--dims", "8,16", "--domains", "cube", "--max-degree", "2", "--format", "json",
                 "-o", str(out)]) == 0
    assert capsys.readouterr().err == f"wrote {out}\n"
    assert sorted(set(json.loads(out.read_text())["dim"])) == [8, 16]  # one row per (domain, d, k), #13


@pytest.mark.parametrize("argv", [
    ["eigen", "--dim", "8"],
    ["grid", "--dim", "8", "--max-depth", "2"],
    ["compare-domains", "--dims", "8"],
    ["validate", "--dim", "4", "--seeds", "1", "--widths", "8"],
    ["reproduce", "specialization", "--fast"],
])
def test_unwritable_output_fails_before_work(argv, tmp_path, capsys):
    # a folder as the output, a missing folder, and a file as the folder: one line, exit 2, no work done
    err = _fails(capsys, argv + ["-o", str(tmp_path)], str(tmp_path))
    assert err.endswith("is a directory")
    missing = tmp_path / "no" / "x.out"
    _fails(capsys, argv + ["-o", str(missing)], str(missing), "does not exist")
    (tmp_path / "f").write_text("")
    _fails(capsys, argv + ["-o", str(tmp_path / "f" / "x.out")], "not a folder")
    assert sorted(os.listdir(tmp_path)) == ["f"]


def test_plot_path_checked_too(tmp_path, capsys):
    _fails(capsys, ["eigen", "--dim", "8", "--plot", str(tmp_path / "no" / "p.png")], "does not exist")


def test_os_errors_are_one_line(tmp_path, capsys):
    _fails(capsys, ["sweep", str(tmp_path / "missing.json")], "missing.json")
    _fails(capsys, ["sweep", str(tmp_path)], str(tmp_path))  # a folder as the config: IsADirectoryError


@pytest.mark.parametrize("exc, code", [(OverflowError("int too large to convert to float"), 2),
                                       (ZeroDivisionError("division by zero"), 2)])
def test_arithmetic_errors_are_one_line_not_a_traceback(monkeypatch, capsys, exc, code):
    import spectra.cli.eigen as eigen

    def boom(args):
        raise exc

    monkeypatch.setattr(eigen, "run", boom)
    from spectra.cli import main

    assert main(["eigen", "--dim", "4"]) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("spectra: error: ") and type(exc).__name__ in err[0]


# ---------------------------------------------------------------------------------------------
# issue #15: one clear line for scalars, '-' values, --plot names, and kernels beyond float64
# ---------------------------------------------------------------------------------------------
def test_scalar_options_say_what_they_expect(capsys):
    assert "expected an integer, got '2.5'" in _fails(capsys, ["eigen", "--dim", "2.5"], "--dim")
    line = _fails(capsys, ["eigen", "--dim", "8", "--bias-var", "-1:1:3"], "--bias-var")
    assert "takes one value" in line and "spectra grid" in line


def test_dash_values_that_are_not_numbers_say_to_use_equals(capsys):
    line = _fails(capsys, ["eigen", "--dim", "8", "--bias-var", "-inf"], "--bias-var")
    assert "attached with '='" in line
    _fails(capsys, ["eigen", "--dim", "8", "--bias-var=-inf"], "bias_var must be finite")


@pytest.mark.parametrize("name", ["noext", "figure.xyz"])
@pytest.mark.parametrize("cmd", [["eigen", "--dim", "8"], ["validate", "--dim", "4"],
                                 ["compare-domains", "--dims", "8"]])
def test_plot_needs_an_image_extension(cmd, name, tmp_path, capsys):
    # 'noext' silently became a PNG named noext; the check comes before any work
    _fails(capsys, [*cmd, "--plot", str(tmp_path / name)], "--plot", "image extension")
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("argv, words", [
    (["eigen", "--dim", "8", "--weight-var", "1e308"], ("overflows float64", "input layer")),
    (["eigen", "--dim", "1", "--activation", "x^3", "--depth", "5", "--weight-var", "3", "--kernel", "ck"],
     ("overflows float64", "depth 5")),
    (["eigen", "--dim", "8", "--bias-var", "1e-320"], ("bias_var", "smallest normal")),
])
def test_kernels_beyond_float64_are_one_line(argv, words, capsys):
    _fails(capsys, argv, *words)


def test_eigen_table_has_the_guarantee_column(capsys):
    assert main(["eigen", "--dim", "8", "--degrees", "0,1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[3].split()[-1] == "guarantee" and [l.split()[-1] for l in lines[4:]] == ["float64", "certified"]
