"""`edgeseq mcu DIR --build CORE`: the packs `edgeseq mcu` wrote, built into firmware for a
Cortex-M core and run under QEMU on the export's golden inputs (reference.npz's windows,
stream_reference.npz's sequences for the step model), every output read back and compared
with the same .tflite on the host's TFLM (byte for byte, in int8 steps) and LiteRT; flash
and RAM from the ELF, the smallest arena on the core (bisected under QEMU), instructions
per inference, and with `kernels` both CMSIS-NN and TFLM's reference kernels side by side
(their ratio is CMSIS-NN's speed-up on the core).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ... import manifest as manifest_file
from ...atomic import write_json
from ...checks import parity
from ...errors import CheckFailed, EdgeseqError
from ...runtimes import stored_reference, stored_stream_reference
from ...runtimes.base import quantize
from . import cortex_m, firmware, flatbuffer, host_twin, qemu_run, step_pack, tflm_library, toolchain
from .flatbuffer import Graph

#: how far the board may be from the host's TFLM, in steps of the output's int8 scale
MAX_LSB = 1
#: an fp32 model's outputs (no int8 scale): float kernels may round differently on the core
#: (the compiler may fuse multiply-adds), within the float tolerance parity uses for fp32
FLOAT_ATOL = parity.ATOL
#: the arena is bisected to the byte: one ELF, a QEMU run of a fraction of a second per try
ARENA_RESOLUTION = 1
#: a firmware reserving this many times the pack's arena measures what the core needs when
#: the pack's is too small (CMSIS-NN kernels may ask for scratch the host's kernels do not)
ARENA_RETRY_FACTOR = 4


@dataclass(frozen=True)
class Pack:
    directory: Path  # DIR/mcu or DIR/mcu/step
    model: Path
    graph: Graph
    step: dict | None  # positions of step, state, output, next_state; None for a window model


def positions(graph: Graph, section: dict) -> dict:
    """A step model's tensor positions (check_step.cc's kStepIndex and the rest)."""
    found = step_pack.tensors(graph, section)
    return {"step": found["Step"][1], "state": found["State"][1], "output": found["Output"][1],
            "next_state": found["NextState"][1]}


def _output_tensor(pack: Pack) -> flatbuffer.Tensor:
    return pack.graph.outputs[pack.step["output"] if pack.step else 0]


def _lsb(graph: Graph, tensor: flatbuffer.Tensor) -> float | None:
    """One int8 step of the output: its own scale, or for a float output the scale of the int8
    tensor its DEQUANTIZE reads."""
    if tensor.type == "INT8":
        return tensor.scale
    producer = next((op for op in graph.ops if op.name == "DEQUANTIZE"
                     and any(out.name == tensor.name for out in op.outputs)), None)
    return producer.inputs[0].scale if producer and producer.inputs[0] is not None else None


def golden_items(directory: Path, pack: Pack) -> tuple[np.ndarray, int]:
    """(items in the input tensor's dtype, steps per sequence) from the export's stored inputs."""
    if pack.step is None:
        inputs, _ = stored_reference.StoredReference(directory / stored_reference.FILE).data()
        tensor = pack.graph.inputs[0]
        items = np.asarray(inputs, np.float32)
    else:
        with np.load(directory / stored_stream_reference.FILE, allow_pickle=False) as stored:
            sequences = np.asarray(stored["inputs"], np.float32)
        tensor = pack.graph.inputs[pack.step["step"]]
        items = sequences.reshape(sequences.shape[0] * sequences.shape[1], *sequences.shape[2:])
    dtype = np.int8 if tensor.type == "INT8" else np.float32
    steps = 1 if pack.step is None else sequences.shape[1]
    return quantize(items, dtype, tensor.scale or 0.0, tensor.zero_point or 0), steps


def _as_array(raw: bytes, tensor: flatbuffer.Tensor) -> np.ndarray:
    return np.frombuffer(raw, np.int8 if tensor.type == "INT8" else np.float32)


def _dequantized(values: np.ndarray, tensor: flatbuffer.Tensor) -> np.ndarray:
    if tensor.type == "INT8":
        return (values.astype(np.float32) - tensor.zero_point) * np.float32(tensor.scale)
    return values.astype(np.float32)


def _agreement(problem, a: np.ndarray, b: np.ndarray) -> float | None:
    if problem is None:
        return None
    first, second = problem.decisions(a), problem.decisions(b)
    return None if first is None else float(np.mean(first == second))


def compare(pack: Pack, board: bytes, host: bytes, litert: bytes, items: int, problem) -> dict:
    """The board's outputs against the host TFLM's (in int8 steps) and LiteRT's."""
    tensor = _output_tensor(pack)
    # a batch-1 tensor per item; a cut graph's inner tensor may have no batch axis
    shape = (items, *tensor.shape[1:]) if tensor.shape and tensor.shape[0] == 1 else (items, *tensor.shape)
    board_v, host_v, lite_v = (_as_array(raw, tensor) for raw in (board, host, litert))
    if not (board_v.size == host_v.size == lite_v.size == int(np.prod(shape))):
        raise CheckFailed(f"{pack.model.name}: the board wrote {board_v.size} output values, the host "
                          f"{host_v.size}, expected {int(np.prod(shape))}")
    lsb = _lsb(pack.graph, tensor)
    board_f, host_f, lite_f = (_dequantized(v, tensor).reshape(shape) for v in (board_v, host_v, lite_v))
    diff = np.abs(board_f.astype(np.float64) - host_f)
    lsb_diff = (np.abs(board_v.astype(np.int32) - host_v) if tensor.type == "INT8"
                else np.rint(diff / lsb) if lsb else None)
    max_lsb = int(lsb_diff.max()) if lsb_diff is not None and lsb_diff.size else None
    max_abs = float(diff.max()) if diff.size else 0.0
    return {
        "items": items,
        "within": max_lsb <= MAX_LSB if max_lsb is not None else max_abs <= FLOAT_ATOL,
        "output_type": tensor.type,
        "lsb": lsb,
        "bit_exact_with_host_tflm": board == host,
        "max_lsb_vs_host_tflm": max_lsb,
        "values_differing_from_host_tflm": int(np.count_nonzero(board_v != host_v)),
        "max_abs_vs_host_tflm": max_abs,
        "max_abs_vs_litert": float(np.abs(board_f.astype(np.float64) - lite_f).max()) if diff.size else 0.0,
        "decisions_agree_host_tflm": _agreement(problem, board_f, host_f),
        "decisions_agree_litert": _agreement(problem, board_f, lite_f),
    }


def instructions(report: dict) -> float:
    """Instructions per Invoke(): SysTick ticks under -icount, scaled by the board's measured
    instructions per tick."""
    per_tick = report["calibration_instructions"] / report["calibration_ticks"]
    return report["ticks"] * per_tick / max(report["items"], 1)


def smallest_arena(fw: firmware.Firmware, first: np.ndarray, steps: int, reserved: int) -> dict:
    """The smallest arena AllocateTensors and one Invoke() accept on the core, bisected to
    ARENA_RESOLUTION bytes with one ELF (in.bin asks for less of the reserved arena)."""
    def works(size: int) -> bool:
        # Not only AllocateTensors' refusal: some too-small arenas make TFLM fault on the
        # core (bidirectional int8: 8,000 of its 8,950 bytes HardFaults, 4,520 locks the core
        # up), as tiny ones crash the host build. Any failure is "does not fit".
        try:
            qemu_run.run(fw, qemu_run.input_file(first, steps, arena_bytes=size))
            return True
        except qemu_run.FirmwareFailed:
            return False

    if not works(reserved):
        raise qemu_run.FirmwareFailed(f"the pack's {reserved:,}-byte arena is too small on {fw.core.name}")
    low, high = 0, reserved  # low fails (or is 0), high works
    while high - low > ARENA_RESOLUTION:
        middle = (low + high) // 2
        low, high = (low, middle) if works(middle) else (middle, high)
    return {"minimum_bytes": high, "fails_bytes": low, "resolution_bytes": ARENA_RESOLUTION}


def check_pack(directory: Path, pack: Pack, core: cortex_m.Core, libraries: dict, problem=None,
               arena_search: bool = True, log=print) -> dict:
    """One pack on the core, for each kernel set in `libraries` (kernels → Library)."""
    items, steps = golden_items(directory, pack)
    data = qemu_run.input_file(items, steps)
    board_dir = firmware.board_files(pack.directory.parent / "board" if pack.step else pack.directory / "board", core)
    arena_bytes = _arena_bytes(pack.directory)
    with tempfile.TemporaryDirectory(prefix="edgeseq-host-") as work:
        host = host_twin.tflm(pack.model, arena_bytes, data, pack.step, Path(work))
    litert = host_twin.litert(pack.model, data, pack.step)
    runs = {}
    for kernels, library in libraries.items():
        log(f"{pack.model.name}: firmware for {core.name} ({core.machine}) with {kernels} kernels")
        fw, reserved, fits = firmware.build(pack.directory, board_dir, core, library, pack.step is not None,
                                            kernels), arena_bytes, True
        try:
            report, board = qemu_run.run(fw, data)
        except qemu_run.FirmwareFailed as exc:
            if "arena is too small" not in str(exc):
                raise
            # the pack's arena (the host's minimum + margin) is not enough on the core: measure
            # what is, in a firmware that reserves more
            log(f"{pack.model.name}: the pack's {arena_bytes:,}-byte arena is too small on {core.name}")
            reserved, fits = ARENA_RETRY_FACTOR * arena_bytes, False
            fw = firmware.build(pack.directory, board_dir, core, library, pack.step is not None, kernels, reserved)
            report, board = qemu_run.run(fw, data)
        result = {"kernels": kernels, "instructions_per_inference": round(instructions(report)),
                  "pack_arena_fits": fits, "arena_used_bytes": report["arena_used"],
                  "stack_used_bytes": report["stack_used"], "qemu": " ".join(qemu_run.command(fw)),
                  "sizes": firmware.sizes(fw, report["stack_used"]),
                  "outputs": compare(pack, board, host, litert, len(items), problem)}
        if arena_search:
            log(f"{pack.model.name}: smallest arena on {core.name} ({kernels})")
            result["arena"] = smallest_arena(fw, items[:1], steps, reserved)
        runs[kernels] = result
    return {"artifact": pack.model.name, "step": pack.step is not None, "pack": str(pack.directory),
            "arena_reserved_bytes": arena_bytes, "kernels": runs, **_speedup(runs),
            "cmsis_nn_ops": _cmsis_nn_ops(pack.graph, next(iter(libraries.values())))}


def _arena_bytes(pack_dir: Path) -> int:
    for line in (pack_dir / "model_config.h").read_text().splitlines():
        if line.startswith("constexpr int kTensorArenaSize = "):
            return int(line.rsplit("=", 1)[1].strip(" ;"))
    raise EdgeseqError(f"{pack_dir / 'model_config.h'} has no kTensorArenaSize: write the pack with edgeseq mcu")


def _speedup(runs: dict) -> dict:
    if {"cmsis_nn", "reference"} <= runs.keys():
        ratio = runs["reference"]["instructions_per_inference"] / runs["cmsis_nn"]["instructions_per_inference"]
        return {"cmsis_nn_speedup": round(ratio, 2)}
    return {}


def _cmsis_nn_ops(graph: Graph, library: tflm_library.Library) -> list[str]:
    """The model's ops that have a CMSIS-NN kernel in this TFLM (the only kernels a CMSIS-NN
    firmware runs differently from the host's TFLM, whose kernels are the reference ones)."""
    files = {p.stem.upper() for p in (library.root / "tensorflow/lite/micro/kernels/cmsis_nn").glob("*.cc")}
    optimized = set().union(*(CMSIS_NN_FILE_OPS.get(name, (name,)) for name in files))
    return sorted({op.name for op in graph.ops if op.name in optimized})


#: kernels/cmsis_nn/ files whose name is not the op's
CMSIS_NN_FILE_OPS = {"CONV": ("CONV_2D",), "DEPTHWISE_CONV": ("DEPTHWISE_CONV_2D",),
                     "POOLING": ("MAX_POOL_2D", "AVERAGE_POOL_2D"), "MAXIMUM_MINIMUM": ("MAXIMUM", "MINIMUM")}


def packs(directory: Path) -> list[Pack]:
    """The window and step packs `edgeseq mcu DIR` wrote, from the manifest's mcu section."""
    manifest = manifest_file.load(directory)
    document = manifest.get("mcu")
    if not document or not (document.get("packed") or document.get("packed_step")):
        raise EdgeseqError(f"{directory} has no MCU pack: run `edgeseq mcu {directory}` first")
    found = []
    for key in ("packed", "packed_step"):
        packed = document.get(key)
        if packed:
            model = directory / packed["artifact"]
            graph = flatbuffer.read(model)
            step = positions(graph, manifest["streaming"]) if key == "packed_step" else None
            found.append(Pack(directory / packed["directory"], model, graph, step))
    return found


def libraries(core: cortex_m.Core, kernels: tuple[str, ...], source: Path | None, log=print) -> dict:
    toolchain.require()
    return {k: tflm_library.library(core, k, source, log) for k in kernels}


def run(directory: Path, core_name: str, kernels: tuple[str, ...] = ("cmsis_nn",), source: Path | None = None,
        problem=None, log=print) -> dict:
    """The `on_board` report for every pack of DIR, also written into the manifest's mcu
    section under on_board[core]."""
    core = cortex_m.core(core_name)
    found = packs(directory)
    libs = libraries(core, kernels, source, log)
    reports = [check_pack(directory, pack, core, libs, problem, log=log) for pack in found]
    document = {"core": core.name, "machine": core.machine, "packs": reports,
                "within_lsb": all(k["outputs"]["within"] for r in reports for k in r["kernels"].values())}
    manifest = manifest_file.load(directory)
    manifest.setdefault("mcu", {}).setdefault("on_board", {})[core.name] = document
    # through the manifest's symlink into the current generation, as build.run writes it
    write_json((Path(directory) / manifest_file.MANIFEST).resolve(), manifest)
    return document
