"""The microcontroller target: TensorFlow Lite Micro (TFLM) and Arm Ethos-U.

One job a file: `flatbuffer` reads a .tflite graph, `compatibility` refuses what TFLM cannot
run, `tflm_worker` runs TFLM in a child process (parity and arena tries), `arena` bisects the
smallest arena (MACs come from edgeseq.measure.flops), `vela` asks Arm's compiler for its estimate, `pack`
writes the C sources and `build` puts them together for `edgeseq mcu`.

On a Cortex-M (`edgeseq mcu --build`): `cortex_m` names the cores and their QEMU boards,
`toolchain` finds the Arm toolchain, `tflm_source` and `tflm_library` make TFLM's library
at pinned commits (cached), `firmware` builds a pack with the `board/` files into an ELF,
`qemu_run` runs it, `host_twin` runs the same inputs on the host, `on_board` compares.
"""

from __future__ import annotations

import importlib.util

from ...errors import EdgeseqError

#: which TFLite file `edgeseq mcu` packs unless --artifact names one (build.py; --help states it)
PACK_RULE = ("the smallest int8 file that passed TFLM parity, else int16x8, else fp32; a window "
             "model for DIR/mcu/, a step model for DIR/mcu/step/")
#: import name → distribution, for the message when the extra is missing
EXTRA = {"tflite_micro": "tflite-micro", "ethosu": "ethos-u-vela"}


def require_extra() -> None:
    missing = [dist for module, dist in EXTRA.items() if importlib.util.find_spec(module) is None]
    if missing:
        raise EdgeseqError(f"`edgeseq mcu` needs the [mcu] extra ({', '.join(missing)} missing): "
                           "pip install 'edgeseq[mcu]'")
