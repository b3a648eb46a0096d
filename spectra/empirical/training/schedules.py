"""Learning-rate schedules: ``schedule(step) -> lr`` for ``step = 0, 1, ...``.

:class:`Constant`, :class:`StepDecay`, :class:`Cosine` and :class:`Warmup` (which wraps any
schedule, so they compose).  :func:`schedule_from_dict` rebuilds one from its ``to_dict()``
(the form stored in a :class:`~spectra.empirical.training.TrainingRun`'s config).
"""
from __future__ import annotations

import math

import numpy as np

from ..._validation import check_int, check_positive

__all__ = ["Schedule", "Constant", "StepDecay", "Cosine", "Warmup", "schedule_from_dict"]


class Schedule:
    """A learning-rate schedule: ``schedule(step) -> lr`` for ``step = 0, 1, ...``.

    ``check(n_steps)`` raises ``ValueError`` if the schedule refers to a step past the end of a
    run of ``n_steps`` updates.
    """

    def __call__(self, step: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def check(self, n_steps: int) -> None:
        """Validate against a run of ``n_steps`` updates (no-op by default)."""

    def to_dict(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError


class Constant(Schedule):
    """Constant learning rate ``lr > 0``.

    Examples
    --------
    >>> Constant(0.1)(123)
    0.1
    """

    def __init__(self, lr: float):
        self.lr = check_positive(lr, "lr")

    def __call__(self, step):
        return self.lr

    def to_dict(self):
        return {"kind": "constant", "lr": self.lr}


class StepDecay(Schedule):
    """``lr * factor**m`` where ``m`` = number of milestones ``<= step``.

    Parameters
    ----------
    lr : float
        Initial learning rate ``> 0``.
    milestones : sequence of int
        Strictly increasing steps ``>= 1`` at which the rate is multiplied by ``factor``; each
        must lie inside the run (``< n_steps``), checked by :meth:`check`.
    factor : float
        Multiplier in ``(0, 1]`` (or ``> 1`` for a rise, allowed).

    Examples
    --------
    >>> s = StepDecay(1.0, [10, 20], 0.5)
    >>> [s(0), s(10), s(25)]
    [1.0, 0.5, 0.25]
    """

    def __init__(self, lr: float, milestones, factor: float = 0.1):
        self.lr = check_positive(lr, "lr")
        ms = [check_int(m, "milestones", minimum=1) for m in np.atleast_1d(milestones).tolist()]
        if any(b <= a for a, b in zip(ms, ms[1:])):
            raise ValueError(f"milestones must be strictly increasing, got {ms}")
        self.milestones = ms
        self.factor = check_positive(factor, "factor")
        # the last rate lr * factor**len(milestones) must be a float64 number (factor > 1 can overflow)
        log10_last = math.log10(self.lr) + len(ms) * math.log10(self.factor)
        if log10_last > 308:
            raise ValueError(f"StepDecay: the rate after the last of the {len(ms)} milestones, lr * factor**{len(ms)} "
                             f"= 10^{log10_last:.1f}, overflows float64; use a smaller factor or fewer milestones")

    def __call__(self, step):
        m = sum(1 for s in self.milestones if step >= s)
        return self.lr * self.factor**m

    def check(self, n_steps):
        bad = [m for m in self.milestones if m >= n_steps]
        if bad:
            raise ValueError(f"schedule milestones {bad} are past the run's end (n_steps={n_steps}); "
                             f"milestones must be < n_steps")

    def to_dict(self):
        return {"kind": "step", "lr": self.lr, "milestones": self.milestones, "factor": self.factor}


class Cosine(Schedule):
    """Cosine decay from ``lr`` to ``final_lr`` over ``n_steps`` steps, then constant.

    Examples
    --------
    >>> s = Cosine(1.0, 100, final_lr=0.0)
    >>> [round(s(0), 3), round(s(50), 3), s(100)]
    [1.0, 0.5, 0.0]
    """

    def __init__(self, lr: float, n_steps: int, final_lr: float = 0.0):
        self.lr = check_positive(lr, "lr")
        self.n_steps = check_int(n_steps, "n_steps", minimum=1)
        f = float(final_lr)
        if not math.isfinite(f) or f < 0 or f > self.lr:
            raise ValueError(f"final_lr must be in [0, lr={self.lr}], got {final_lr!r}")
        self.final_lr = f

    def __call__(self, step):
        t = min(step, self.n_steps) / self.n_steps
        return self.final_lr + 0.5 * (self.lr - self.final_lr) * (1 + math.cos(math.pi * t))

    def check(self, n_steps):
        if self.n_steps > n_steps:
            raise ValueError(f"cosine schedule length {self.n_steps} is past the run's end (n_steps={n_steps})")

    def to_dict(self):
        return {"kind": "cosine", "lr": self.lr, "n_steps": self.n_steps, "final_lr": self.final_lr}


class Warmup(Schedule):
    """Linear warm-up over ``n_warmup`` steps to the rate of ``inner`` (any schedule).

    ``lr(step) = inner(step) * (step + 1) / n_warmup`` for ``step < n_warmup``, then ``inner(step)``.

    Examples
    --------
    >>> s = Warmup(Constant(1.0), 4)
    >>> [s(0), s(3), s(10)]
    [0.25, 1.0, 1.0]
    """

    def __init__(self, inner: Schedule, n_warmup: int):
        if not isinstance(inner, Schedule):
            raise TypeError(f"inner must be a Schedule, got {type(inner).__name__}")
        self.inner = inner
        self.n_warmup = check_int(n_warmup, "n_warmup", minimum=1)

    def __call__(self, step):
        base = self.inner(step)
        return base * (step + 1) / self.n_warmup if step < self.n_warmup else base

    def check(self, n_steps):
        if self.n_warmup > n_steps:
            raise ValueError(f"warm-up length {self.n_warmup} is past the run's end (n_steps={n_steps})")
        self.inner.check(n_steps)

    def to_dict(self):
        return {"kind": "warmup", "n_warmup": self.n_warmup, "inner": self.inner.to_dict()}


def schedule_from_dict(d) -> Schedule:
    """Rebuild a schedule from :meth:`Schedule.to_dict` output (also a plain number = constant).

    Examples
    --------
    >>> schedule_from_dict({"kind": "step", "lr": 1.0, "milestones": [5], "factor": 0.1})(7)
    0.1
    """
    if isinstance(d, Schedule):
        return d
    if isinstance(d, (int, float)) and not isinstance(d, bool):
        return Constant(d)
    if not isinstance(d, dict) or "kind" not in d:
        raise TypeError(f"schedule must be a Schedule, a number or a dict with a 'kind', got {d!r}")
    d = dict(d)
    kind = d.pop("kind")
    if kind == "constant":
        return Constant(**d)
    if kind == "step":
        return StepDecay(**d)
    if kind == "cosine":
        return Cosine(**d)
    if kind == "warmup":
        return Warmup(schedule_from_dict(d["inner"]), d["n_warmup"])
    raise ValueError(f"schedule kind must be one of constant, step, cosine, warmup; got {kind!r}")

