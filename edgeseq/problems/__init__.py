"""Toy sequence problems, numpy only."""

from .base import Metric, Problem
from .echo import Echo

__all__ = ["Echo", "Metric", "Problem"]
