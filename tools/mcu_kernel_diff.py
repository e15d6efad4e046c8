"""Which op's kernel makes a Cortex-M firmware differ from the host's TFLM: the int8 window
model cut after each op in turn (that op's output made the graph's output), each cut packed,
built and run under QEMU on the export's golden inputs, and compared with the host's TFLM on
the same cut. The first op whose output differs is the kernel that computes differently.

    .venv/bin/python tools/mcu_kernel_diff.py EXPORTED_DIR [--core cortex-m4] [--kernels cmsis_nn]

Prints one line per op: index, op, output tensor, values differing, max LSB.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import flatbuffers
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from edgeseq.targets.mcu import arena, compatibility, cortex_m, flatbuffer, on_board, pack

sys.path.insert(0, str(Path(__file__).parent))
import mcu_board  # noqa: E402


def cut(model: Path, op_index: int, into: Path) -> Path:
    """A copy of `model` whose only output is op `op_index`'s first output."""
    tree = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model.read_bytes(), 0))
    graph = tree.subgraphs[0]
    graph.outputs = [graph.operators[op_index].outputs[0]]
    graph.operators = graph.operators[:op_index + 1]
    tree.signatureDefs = None  # they name the old outputs
    builder = flatbuffers.Builder(1024)
    builder.Finish(tree.Pack(builder), file_identifier=b"TFL3")
    into.write_bytes(bytes(builder.Output()))
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--core", default="cortex-m4", choices=list(cortex_m.CORES))
    parser.add_argument("--kernels", default="cmsis_nn", choices=list(cortex_m.KERNELS))
    args = parser.parse_args()
    core = cortex_m.core(args.core)
    libraries = on_board.libraries(core, (args.kernels,), None, log=lambda m: print(m, file=sys.stderr))
    with tempfile.TemporaryDirectory(prefix="edgeseq-cut-") as tmp:
        scratch = mcu_board._scratch_copy(args.directory, Path(tmp) / "export")
        whole = flatbuffer.read(scratch / "model.int8.tflite")
        for index, op in enumerate(whole.ops):
            model = cut(scratch / "model.int8.tflite", index, scratch / f"cut{index}.tflite")
            graph = flatbuffer.read(model)
            found = arena.smallest(model) | {"margin": arena.DEFAULT_MARGIN}
            found["pack_bytes"] = 4 * arena.with_margin(found["minimum_bytes"], arena.DEFAULT_MARGIN)
            where = scratch / f"mcu{index}"
            where.mkdir()
            pack.write(where, model, graph, compatibility.check(graph, model.name), found, "cut")
            report = on_board.check_pack(scratch, on_board.Pack(where, model, graph, None), core, libraries,
                                         arena_search=False, log=lambda _: None)
            outputs = report["kernels"][args.kernels]["outputs"]
            print(f"{index} {op.name} {op.outputs[0].name[:50]}: {outputs['values_differing_from_host_tflm']} "
                  f"values differ, max "
                  f"{outputs['max_lsb_vs_host_tflm']} LSB", flush=True)
            shutil.rmtree(where)


if __name__ == "__main__":
    main()
