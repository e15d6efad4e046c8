"""Pictures for humans. matplotlib is optional (the [dev] extra), so it is imported on use."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .atomic import atomic_path
from .errors import EdgeseqError


def rectangles(generated: np.ndarray, true: np.ndarray, path: Path, title: str) -> None:
    """The generated corner sequence beside a true rectangle, both closed outlines."""
    try:
        import matplotlib  # noqa: PLC0415

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        raise EdgeseqError("--plot needs matplotlib: pip install matplotlib") from None
    fig, axes = plt.subplots(1, 2, figsize=(8, 4), sharex=True, sharey=True)
    for ax, corners, label in ((axes[0], generated, "generated"), (axes[1], true, "true")):
        closed = np.vstack([corners, corners[:1]])
        ax.plot(closed[:, 0], closed[:, 1], "-o")
        for i, (x, y) in enumerate(corners):
            ax.annotate(str(i), (x, y), textcoords="offset points", xytext=(4, 4))
        ax.set_title(label)
        ax.set_xlim(-0.05, 1.05)
        ax.set_ylim(-0.05, 1.05)
        ax.set_aspect("equal")
    fig.suptitle(title)
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, dpi=100, format=Path(path).suffix.lstrip(".") or "png")
    plt.close(fig)
