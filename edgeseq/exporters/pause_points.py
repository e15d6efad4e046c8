"""Named points of an export at which a test can stop it for certain.

Whether an interrupted export keeps the previous artifact set cannot be tested by killing
it after a guessed number of seconds: on a fast machine the export is already over. With
`EDGESEQ_PAUSE_AT=<point>=<marker file>` in its environment, an export that reaches
<point> writes the marker (its pid) and waits there until it is killed; the test waits for
the marker, so it knows the point was reached, then kills. Unset, `reach` does nothing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

ENV = "EDGESEQ_PAUSE_AT"
# In the order an export passes them.
POINTS = (
    "staged",         # the new generation holds the fp32 artifacts, nothing else yet
    "converting",     # inside the TFLite variant converter child, mid-conversion
    "before-switch",  # the new generation is complete with its manifest; `current` not moved
    "after-switch",   # `current` moved; older generations not yet removed
)


def reach(point: str) -> None:
    assert point in POINTS, point
    name, _, marker = os.environ.get(ENV, "").partition("=")
    if name != point:
        return
    Path(marker).write_text(str(os.getpid()))
    while True:  # until the test kills the process group
        time.sleep(60)
