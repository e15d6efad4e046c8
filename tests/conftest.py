"""Shared fixtures. Parity is a property of conversion, so most tests export small seeded
*untrained* models; only the skill tests train for real."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edgeseq import registry

ARCHS = list(registry.ARCHITECTURES)

# The CLI in a fresh process that reports, as its last stderr line, the heavy modules it
# imported (the inference path must never import TensorFlow or Keras), on the line before
# every top-level package it imported, and before that every edgeseq module it imported.
_PROBE = """
import sys
from edgeseq.cli import app
try:
    app(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras", "tf2onnx"))
print("EDGESEQ:" + ",".join(sorted(m for m in sys.modules if m.split(".")[0] == "edgeseq")), file=sys.stderr)
print("PACKAGES:" + ",".join(sorted({m.split(".")[0] for m in sys.modules})), file=sys.stderr)
print("HEAVY:" + ",".join(heavy), file=sys.stderr)
sys.exit(code)
"""


PROBE_LINES = ("EDGESEQ:", "PACKAGES:", "HEAVY:")


def stderr_lines(result: subprocess.CompletedProcess) -> list[str]:
    """What the command itself wrote on stderr, without the probe's lines."""
    return [line for line in result.stderr.splitlines() if not line.startswith(PROBE_LINES)]


def packages_imported(result: subprocess.CompletedProcess) -> set[str]:
    """The top-level packages a `cli_in_fresh_process` run imported."""
    line = result.stderr.strip().splitlines()[-2]
    assert line.startswith("PACKAGES:"), result.stderr
    return set(line.removeprefix("PACKAGES:").split(","))


def edgeseq_modules_imported(result: subprocess.CompletedProcess) -> set[str]:
    """The edgeseq modules a `cli_in_fresh_process` run imported."""
    line = result.stderr.strip().splitlines()[-3]
    assert line.startswith("EDGESEQ:"), result.stderr
    return set(line.removeprefix("EDGESEQ:").split(","))


def cli_in_fresh_process(*args, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _PROBE, *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def export_untrained(arch_name: str, out_dir: Path, seed: int = 0) -> Path:
    from edgeseq.exporters.pipeline import export_untrained as export

    # --optimize size: the route search then chooses by bytes, not by a noisy timing, so the
    # graph tests (ops, FLOP counts, TFLM) see the same forms on every run: today's fused ones
    export(registry.get(arch_name), out_dir, seed=seed, optimize="size")
    return out_dir


@pytest.fixture(scope="session")
def untrained(tmp_path_factory):
    """arch name → directory with a seeded untrained model exported (made once per session)."""
    made: dict[str, Path] = {}

    def get(arch_name: str) -> Path:
        if arch_name not in made:
            made[arch_name] = export_untrained(arch_name, tmp_path_factory.mktemp(arch_name))
        return made[arch_name]

    return get


@pytest.fixture(scope="session")
def optional_formats(tmp_path_factory) -> Path:
    """vanilla (seeded, untrained) exported with the formats written only on request: ort, and
    the OpenVINO IR where the [openvino] extra is installed (one export for both test files)."""
    import importlib.util

    from edgeseq.exporters.pipeline import export_untrained as export

    formats = ("ort", "openvino") if importlib.util.find_spec("openvino") else ("ort",)
    out_dir = tmp_path_factory.mktemp("optional-formats")
    export(registry.get("vanilla"), out_dir, formats=formats, optimize="none")
    return out_dir


#: every quantized variant an export can try
QUANTIZE_ALL = ("float16", "dynamic-int8", "int8", "int16x8")


@pytest.fixture(scope="session")
def quantized_vanilla(tmp_path_factory) -> Path:
    """vanilla (seeded, untrained) exported with every quantized variant, window and step
    models (one export for test_quantization and test_streaming's integer step models), and
    --optimize none: the first form of each format only, no route search."""
    from edgeseq.exporters.pipeline import export_untrained as export

    out_dir = tmp_path_factory.mktemp("quantized")
    export(registry.get("vanilla"), out_dir, quantize=QUANTIZE_ALL, optimize="none")
    return out_dir


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """arch name → directory with the model trained to its skill and exported, as
    `make export` does (made once per session; training is what costs here)."""
    from edgeseq.exporters.pipeline import export

    made: dict[str, Path] = {}

    def get(arch_name: str) -> Path:
        if arch_name not in made:
            out_dir = tmp_path_factory.mktemp(f"{arch_name}-trained")
            export(registry.get(arch_name), out_dir, log=lambda _: None)
            made[arch_name] = out_dir
        return made[arch_name]

    return get


@pytest.fixture(scope="session")
def trained_vanilla(trained) -> Path:
    return trained("vanilla")
