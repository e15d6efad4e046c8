"""Toy sequence problems, numpy only. Each module is imported when its class is first named
(PEP 562): `edgeseq predict` loads the one problem it answers for, not all six."""

from __future__ import annotations

import importlib

_MODULES = {"Addition": "addition", "CumulativeSum": "cumulative_sum", "DampedSine": "damped_sine",
            "Echo": "echo", "Metric": "base", "MovingLine": "moving_line", "Problem": "base",
            "Rectangles": "rectangles"}


def __getattr__(name: str):
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)


__all__ = sorted(_MODULES)
