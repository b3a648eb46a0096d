"""Result type shared by all reproductions."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Claim", "ReproductionResult"]


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.floating,)):
        return float(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if isinstance(x, float) and not np.isfinite(x):
        return str(x)
    return x


@dataclass
class Claim:
    """One checked statement: its text, whether it held, and the numbers behind it."""

    claim: str
    passed: bool
    values: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"claim": self.claim, "passed": bool(self.passed), "values": _jsonable(self.values)}


@dataclass
class ReproductionResult:
    """Outcome of a reproduction: claims, the figure it drew, its settings and timing."""

    name: str
    claims: list
    settings: dict = field(default_factory=dict)
    figure: Any = None  # path of the written figure, or None
    seconds: float = float("nan")
    data: dict = field(default_factory=dict)  # curves behind the figure (for the JSON)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.claims)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "passed": self.passed,
            "claims": [c.to_dict() for c in self.claims],
            "settings": _jsonable(self.settings),
            "figure": None if self.figure is None else str(self.figure),
            "seconds": self.seconds,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def report(self) -> str:
        lines = [f"{self.name}: {'PASS' if self.passed else 'FAIL'} ({self.seconds:.1f} s)"]
        for c in self.claims:
            vals = ", ".join(f"{k}={_fmt(v)}" for k, v in c.values.items())
            lines.append(f"  [{'PASS' if c.passed else 'FAIL'}] {c.claim}" + (f"  ({vals})" if vals else ""))
        if self.figure is not None:
            lines.append(f"  figure: {self.figure}")
        return "\n".join(lines)


def _fmt(v):
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}"
    if isinstance(v, (list, tuple, np.ndarray)) and len(v) > 8:
        return f"[{len(v)} values]"
    if isinstance(v, (list, tuple, np.ndarray)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)
