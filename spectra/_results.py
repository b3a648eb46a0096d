"""What every result type shares: short reprs, tables, HTML, data frames, JSON files.

A result class mixes in :class:`ResultMixin` and provides

* ``FORMAT`` (the ``format`` name written into every JSON) and ``VERSION``;
* ``summary()`` -- one line;
* ``to_table()`` -- the full text table (``str(result)``);
* ``rows()`` -- one dict per table row (``to_dataframe``, the HTML table, the repr's few rows);
* ``metadata()`` -- the scalars that describe the whole result (``DataFrame.attrs``, CSV headers);
* ``to_dict()`` -- JSON-ready content; :meth:`ResultMixin.to_json` adds ``format``/``version``;
* ``_from_dict(obj)`` (classmethod) -- the inverse, used by :meth:`ResultMixin.load`.

**JSON that every reader accepts** (:func:`jsonable`): only finite numbers, ``null``, strings,
booleans, lists and objects.  NaN and infinities become ``null``; integers beyond ``2**53`` (the
largest that every JSON reader, JavaScript and pandas included, holds exactly) become decimal
strings.  The conventions of each column are documented on the result types.
"""
from __future__ import annotations

import html
import json
import math
import os
from typing import Any, ClassVar

import numpy as np

from ._io import atomic_write

__all__ = ["MAX_EXACT_INT", "ResultMixin", "jsonable", "multiplicity_columns", "require_pandas", "csv_text",
           "read_json_file", "short_list"]

#: Largest integer every JSON reader stores exactly (IEEE double mantissa).
MAX_EXACT_INT = 2**53
_REPR_LIMIT = 1000
_HTML_ROWS = 12

_NO_PANDAS = "to_dataframe needs pandas: pip install 'nn-spectra[pandas]' (or pip install pandas)"


def require_pandas():
    """``pandas``, or an ImportError naming the ``pandas`` extra."""
    try:
        import pandas
    except ImportError:
        raise ImportError(_NO_PANDAS) from None
    return pandas


def jsonable(x: Any) -> Any:
    """``x`` with only finite numbers, None, str, bool, lists and str-keyed dicts.

    Examples
    --------
    >>> jsonable({"a": np.float64("nan"), "b": [np.int64(3), float("-inf")], "c": 2**60})
    {'a': None, 'b': [3, None], 'c': '1152921504606846976'}
    """
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        x = int(x)
        return x if abs(x) <= MAX_EXACT_INT else str(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return x if math.isfinite(x) else None
    if x is None or isinstance(x, str):
        return x
    if isinstance(x, os.PathLike):
        return os.fspath(x)
    try:  # mpmath numbers and other real scalars
        return jsonable(float(x))
    except (TypeError, ValueError):
        return str(x)


def multiplicity_columns(mults) -> tuple:
    """Exact multiplicities for JSON, as floats, and their log10.

    The exact column holds ints when every value is at most ``2**53`` and decimal strings
    otherwise (one type per column); the float column is None past the float64 range.

    Examples
    --------
    >>> multiplicity_columns([1, 2**60])[0]
    ['1', '1152921504606846976']
    """
    ints = [int(m) for m in mults]
    exact = [str(m) for m in ints] if any(abs(m) > MAX_EXACT_INT for m in ints) else ints
    flt, lg = [], []
    for m in ints:
        try:
            flt.append(float(m))
        except OverflowError:
            flt.append(None)
        lg.append(math.log10(m) if m > 0 else None)
    return exact, flt, lg


def short_list(values, n: int = 4, fmt: str = "{:.4g}") -> str:
    """``[a, b, c, d, ... (m values)]`` -- the first ``n`` values of a long sequence.

    Examples
    --------
    >>> short_list(range(10), 3, "{}")
    '[0, 1, 2, ... (10 values)]'
    """
    vals = list(values)
    shown = ", ".join(fmt.format(v) for v in vals[:n])
    return f"[{shown}, ... ({len(vals)} values)]" if len(vals) > n else f"[{shown}]"


def csv_text(metadata: dict, columns: list, rows: list) -> str:
    """CSV with ``# key: value`` header lines (``pandas.read_csv(path, comment="#")`` skips them).

    Floats are written with 17 significant digits; None and non-finite floats as empty fields.
    """
    def cell(v):
        if v is None:
            return ""
        if isinstance(v, (bool, np.bool_)):
            return "true" if v else "false"
        if isinstance(v, (float, np.floating)):
            return f"{float(v):.17g}" if math.isfinite(v) else ""
        text = str(v)
        return f'"{text}"' if ("," in text or '"' in text) else text

    head = [f"# {k}: {'' if v is None else v}" for k, v in metadata.items()]
    body = [",".join(columns)] + [",".join(cell(r.get(c)) for c in columns) for r in rows]
    return "\n".join(head + body) + "\n"


def read_json_file(path, fmt: str, version: int) -> dict:
    """The object of a JSON file written with ``format == fmt``; ValueError naming the file otherwise."""
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as fh:
            obj = json.load(fh)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{name}: not a spectra {fmt} file (not JSON: {exc})") from None
    if not isinstance(obj, dict) or obj.get("format") != fmt:
        found = obj.get("format") if isinstance(obj, dict) else None
        raise ValueError(f"{name}: not a spectra {fmt} file (format {found!r}, expected {fmt!r})")
    v = obj.get("version")
    if not isinstance(v, int) or v > version:
        raise ValueError(f"{name}: {fmt} version {v!r} is not readable by this spectra (reads up to {version})")
    return obj


class ResultMixin:
    """Reprs, HTML, data frames and JSON files for a result type (see the module docstring)."""

    FORMAT: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1
    #: columns shown in the repr and HTML (None: all of ``rows()``'s keys)
    SHOWN: ClassVar[tuple | None] = None

    # -- to be provided ---------------------------------------------------------------------
    def summary(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_table(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def rows(self) -> list:
        return []

    def all_rows(self) -> list:
        """The rows of ``to_dataframe``/``to_csv`` (default: :meth:`rows`)."""
        return self.rows()

    def metadata(self) -> dict:
        return {}

    def to_dict(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def _from_dict(cls, obj: dict):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- shared -------------------------------------------------------------------------------
    def _shown(self, rows) -> list:
        cols = list(self.SHOWN) if self.SHOWN else (list(rows[0]) if rows else [])
        return cols

    def __repr__(self) -> str:
        rows = self.rows()
        lines = [f"<{type(self).__name__}: {self.summary()}>"]
        cols = self._shown(rows)
        if rows and cols:
            width = [min(max(len(c), 10), 18) for c in cols]
            lines.append("  " + " ".join(f"{c:>{w}.{w}}" for c, w in zip(cols, width)))
            for r in rows[:3]:
                lines.append("  " + " ".join(f"{_cell(r.get(c)):>{w}.{w}}" for c, w in zip(cols, width)))
            if len(rows) > 3:
                lines.append(f"  ... {len(rows)} rows; print() for the table, .to_dataframe() for all columns")
        text = "\n".join(lines)
        return text if len(text) < _REPR_LIMIT else text[: _REPR_LIMIT - 4] + " ..."

    def __str__(self) -> str:
        return self.to_table()

    def _repr_html_(self) -> str:
        rows = self.rows()
        cols = self._shown(rows)
        out = [f"<div><p><b>{html.escape(type(self).__name__)}</b>: {html.escape(self.summary())}</p>"]
        if rows and cols:
            out.append("<table><thead><tr>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
                       + "</tr></thead><tbody>")
            shown = rows if len(rows) <= _HTML_ROWS else rows[: _HTML_ROWS - 2] + [None] + rows[-1:]
            for r in shown:
                if r is None:
                    out.append(f"<tr><td colspan='{len(cols)}'>... {len(rows) - _HTML_ROWS + 1} more rows</td></tr>")
                    continue
                out.append("<tr>" + "".join(f"<td>{html.escape(_cell(r.get(c)))}</td>" for c in cols) + "</tr>")
            out.append("</tbody></table>")
        out.append("</div>")
        return "".join(out)

    def to_dataframe(self):
        """One row per table row, as a ``pandas.DataFrame``; ``df.attrs`` holds :meth:`metadata`.

        Raises
        ------
        ImportError
            If pandas is not installed (the message names the ``pandas`` extra).
        """
        pd = require_pandas()
        df = pd.DataFrame(self.all_rows())
        df.attrs.update(jsonable(self.metadata()))
        return df

    def to_csv(self) -> str:
        """CSV of :meth:`to_dataframe`'s rows after ``# key: value`` lines (format, version, metadata)."""
        rows = self.all_rows()
        meta = {"format": self.FORMAT, "version": self.VERSION}
        meta.update(self.metadata())
        return csv_text(jsonable(meta), list(rows[0]) if rows else [], rows)

    def to_json(self, **kw) -> str:
        """JSON text (``format`` and ``version`` first; only finite numbers, null and strings)."""
        kw.setdefault("indent", 2)
        obj = {"format": self.FORMAT, "version": self.VERSION}
        obj.update(self.to_dict())
        return json.dumps(jsonable(obj), allow_nan=False, **kw)

    def save(self, path) -> str:
        """Write :meth:`to_json` to ``path`` atomically; :meth:`load` reads it back."""
        text = self.to_json()
        return atomic_write(path, lambda fh: fh.write(text + "\n"))

    @classmethod
    def load(cls, path):
        """Read a file written by :meth:`save`; any other file raises ValueError naming it."""
        return cls._from_dict(read_json_file(path, cls.FORMAT, cls.VERSION))


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.6g}"
    return str(v)
