"""Toy sequence problems, numpy only."""

from .addition import Addition
from .base import Metric, Problem
from .cumulative_sum import CumulativeSum
from .damped_sine import DampedSine
from .echo import Echo
from .moving_line import MovingLine
from .rectangles import Rectangles

__all__ = ["Addition", "CumulativeSum", "DampedSine", "Echo", "Metric", "MovingLine", "Problem",
           "Rectangles"]
