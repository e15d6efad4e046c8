"""Write files so that a reader sees the old version or the complete new one, never half."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# mkstemp creates 0600 files; artifacts should get the permissions any new file would.
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """A temporary path beside `final` (same suffix, so writers that check it accept it),
    renamed over `final` only when the block finishes without error."""
    import tempfile  # noqa: PLC0415 - writers only: predict reads manifest.json, which imports this module

    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=f".tmp{final.suffix}",
                               dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.chmod(0o666 & ~_UMASK)
    try:
        yield tmp_path
        os.replace(tmp_path, final)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_json(final: Path, document: dict) -> None:
    with atomic_path(final) as tmp:
        tmp.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
