"""Export seeded untrained models of every architecture into DIR, for the device test run
(`make test-device`), which has no TensorFlow to make its own.

    .venv/bin/python tools/device_fixtures.py build/device-exports
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edgeseq import registry  # noqa: E402
from edgeseq.export.pipeline import export_untrained  # noqa: E402


def main(out: Path) -> None:
    for name, arch in registry.ARCHITECTURES.items():
        if not (out / name / "manifest.json").is_file():
            export_untrained(arch, out / name)
        print(out / name)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
