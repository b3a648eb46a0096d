"""Issue #15: a hypothesis fuzz test of the command line (fixed seed; 300 examples, about 290 invocations in process).

Each command line is a valid small command with some of its values replaced by random or hostile
ones (empty list items, NaN, inf, huge, negative, non-numeric, unknown choices).  Every invocation
must exit 0 or 2 (3 only with --strict), print at most one ``spectra: error:`` line on failure, and
never raise (which would be a traceback at the shell).
"""
import os

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from spectra.cli import main

FUZZ = settings(derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate])

HOSTILE = ["", "nan", "inf", "-inf", "-1", "0", "1e308", "1e-320", "2.5", "abc", "1,,2", ",", "1:5", "1:5:0",
           "-1:1:3", "1e9", "3:1:4", "relu(3)", "monomial(2.7)", "leaky_relu(-0.5)", "x^3", "1e400", "10000000"]


def _templates(tmp):
    out = lambda name: os.path.join(tmp, name)  # noqa: E731
    return [
        ["eigen", "--dim", "6", "--activation", "relu", "--depth", "2", "--weight-var", "2", "--bias-var", "0.1"],
        ["eigen", "--domain", "sphere", "--dim", "5", "--activation", "erf", "--max-degree", "6", "--format", "json"],
        ["eigen", "--domain", "gaussian", "--dim", "4", "--activation", "relu", "--max-degree", "4", "--format", "csv"],
        ["eigen", "--dim", "5", "--activation", "tanh", "--depth", "1", "--kernel", "ck", "--degrees", "0,1,3"],
        ["grid", "--dim", "6", "--activation", "erf", "--max-depth", "3", "--weight-var", "1:2:2", "--bias-var",
         "0:1:2", "--max-degree", "3", "-o", out("g.npz")],
        ["learning-curve", "--dim", "6", "--n", "10:100:3", "--target-power", "1:1", "--ridge", "1e-3"],
        ["validate", "--dim", "3", "--widths", "8", "--seeds", "1", "--depth", "1", "--quiet"],
        ["compare-domains", "--activation", "erf", "--depth", "1", "--dims", "8,16", "--max-degree", "2"],
    ]


@settings(FUZZ, max_examples=300)
@given(which=st.integers(0, 7), edits=st.lists(st.tuples(st.integers(0, 30), st.sampled_from(HOSTILE)),
                                               min_size=0, max_size=2),
       extra=st.sampled_from([[], ["--quiet"], ["--strict"], ["--format", "table"], ["--bogus"]]))
def test_cli_never_tracebacks(tmp_path_factory, capsys, which, edits, extra):
    tmp = str(tmp_path_factory.mktemp("cli"))
    argv = list(_templates(tmp)[which])
    values = [i for i, a in enumerate(argv) if i > 0 and not a.startswith("-") and not argv[i - 1].startswith("-o")]
    for pos, value in edits:
        if values:
            argv[values[pos % len(values)]] = value
    argv += extra
    if which >= 6 and not edits:
        return  # the valid training/comparison commands take seconds each: only their bad inputs are fuzzed
    try:
        rc = main(argv)
    except SystemExit as exc:  # --help/--version only
        rc = exc.code
    captured = capsys.readouterr()
    allowed = (0, 2, 3) if "--strict" in argv else (0, 2)
    assert rc in allowed, (argv, rc, captured.err[-2000:])
    if rc == 2:
        lines = [x for x in captured.err.splitlines() if x.startswith("spectra: error:") or x.startswith("usage:")]
        assert lines, (argv, captured.err[-2000:])
    assert "Traceback" not in captured.err, (argv, captured.err[-2000:])
