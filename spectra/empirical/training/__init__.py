"""Training a network while recording its kernels: the one training engine.

* :mod:`.schedules`: learning-rate schedules (:class:`Constant`, :class:`StepDecay`,
  :class:`Cosine`, :class:`Warmup`);
* :mod:`.optimizers`: :class:`GD` (the one gradient-descent update), :class:`SGD` (momentum),
  :class:`Adam` (the one Adam);
* :mod:`.losses`: :func:`mse_loss`, :func:`cross_entropy_loss`;
* :mod:`.run`: the record :class:`TrainingRun` (save/load), :class:`TrainingDivergedError`,
  :func:`log_spaced_steps`;
* :mod:`.loop`: :func:`train`, which trains any network with the protocol described in its
  docstring (:class:`~spectra.empirical.MLP`, :class:`~spectra.empirical.TwoLayerStudent`).
"""
from .loop import train
from .losses import cross_entropy_loss, mse_loss
from .optimizers import GD, SGD, Adam
from .run import FORMAT_NAME, FORMAT_VERSION, TrainingDivergedError, TrainingRun, log_spaced_steps
from .schedules import Constant, Cosine, Schedule, StepDecay, Warmup, schedule_from_dict

__all__ = [
    "Schedule",
    "Constant",
    "StepDecay",
    "Cosine",
    "Warmup",
    "schedule_from_dict",
    "GD",
    "SGD",
    "Adam",
    "mse_loss",
    "cross_entropy_loss",
    "log_spaced_steps",
    "TrainingRun",
    "TrainingDivergedError",
    "train",
]
