"""Export seeded untrained models of every architecture into DIR, for the device test run
(`make test-device`), which has no TensorFlow to make its own; and beside them the host half
of the golden-file round trip: DIR/golden/ARCH/inputs.npz and keras.npz (Keras's outputs),
written by `edgeseq compare model.keras --save-inputs --save-outputs`.

    .venv/bin/python tools/device_fixtures.py build/device-exports
"""

import contextlib
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edgeseq import registry  # noqa: E402
from edgeseq.cli import app  # noqa: E402
from edgeseq.exporters.pipeline import export_untrained  # noqa: E402

GOLDEN_SAMPLES = 64


def write_golden(model: Path, golden: Path) -> None:
    golden.mkdir(parents=True, exist_ok=True)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the JSON report; the files are what we want
            app(["compare", str(model), "--samples", str(GOLDEN_SAMPLES), "--json",
                 "--save-inputs", str(golden / "inputs.npz"), "--save-outputs", str(golden / "keras.npz")])
    except SystemExit as exit:  # typer ends every command so
        if exit.code:
            raise


def main(out: Path) -> None:
    for name, arch in registry.ARCHITECTURES.items():
        if not (out / name / "manifest.json").is_file():
            export_untrained(arch, out / name)
        if not (out / "golden" / name / "keras.npz").is_file():
            write_golden(out / name / "model.keras", out / "golden" / name)
        print(out / name)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
