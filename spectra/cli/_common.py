"""Argument helpers shared by the CLI commands."""
from __future__ import annotations

import argparse

import numpy as np

__all__ = ["add_network_args", "parse_range", "write_text"]


def add_network_args(p: argparse.ArgumentParser, *, depth_name: str = "--depth") -> None:
    """The hyperparameters every command shares, with the package's conventions."""
    p.add_argument("--dim", type=int, default=128, help="input dimension d (default 128)")
    p.add_argument("--activation", default="relu", help="activation name (relu, erf, gelu, tanh, leaky_relu(0.1), ...)")
    if depth_name == "--depth":
        p.add_argument("--depth", type=int, default=2, help="number of nonlinear layers L (0 = linear model; default 2)")


def parse_range(text: str, name: str) -> np.ndarray:
    """``START:STOP:NUM`` (inclusive linspace) or a single number."""
    parts = text.split(":")
    try:
        if len(parts) == 1:
            return np.array([float(parts[0])])
        if len(parts) == 3:
            start, stop, num = float(parts[0]), float(parts[1]), int(parts[2])
            if num < 1:
                raise ValueError
            return np.linspace(start, stop, num)
    except ValueError:
        pass
    raise ValueError(f"{name} must be a number or START:STOP:NUM with NUM >= 1, got {text!r}")


def write_text(text: str, path) -> None:
    if path in (None, "-"):
        print(text)
    else:
        with open(path, "w") as fh:
            fh.write(text if text.endswith("\n") else text + "\n")
