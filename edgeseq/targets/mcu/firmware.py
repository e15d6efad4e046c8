"""A pack built into a firmware ELF for a QEMU board: the pack's model_data.cc, model_ops.h
and model_config.h with the check firmware's main (board/check_window.cc or check_step.cc),
the board files (startup, semihosting, linker script) and TFLM's cached library. Seconds:
only these few files are compiled.

The board files are copied into the pack (DIR/mcu/board/) first, so that what is built is
what a board developer finds there; the ELF and its map go to <pack>/build/<core>-<kernels>/.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ...errors import EdgeseqError
from .cortex_m import Core
from .pack import write_text
from .tflm_library import Library

BOARD_FILES = ("startup.c", "semihost.c", "semihost.h", "check_common.h", "check_window.cc", "check_step.cc")
#: the check firmware's stack, generous: what a model needs is measured (the painted stack)
STACK_BYTES = 32 * 1024
OPTIMIZE = "-Os"  # TFLM's own choice for its core in a release build


@dataclass(frozen=True)
class Firmware:
    elf: Path
    map: Path
    core: Core
    kernels: str


def board_files(board_dir: Path, core: Core) -> Path:
    """Copy the board files into `board_dir` with the linker script for `core`'s board."""
    board_dir.mkdir(parents=True, exist_ok=True)
    shipped = resources.files(__package__) / "board"
    for name in BOARD_FILES:
        write_text(board_dir / name, (shipped / name).read_text())
    script = (shipped / "board.ld.in").read_text()
    for key, value in {"BOARD": core.machine, "CPU": core.name, "STACK": str(STACK_BYTES),
                       "FLASH_ORIGIN": hex(core.flash[0]), "FLASH_LENGTH": hex(core.flash[1]),
                       "RAM_ORIGIN": hex(core.ram[0]), "RAM_LENGTH": hex(core.ram[1])}.items():
        script = script.replace(f"@{key}@", value)
    write_text(board_dir / f"{core.machine}.ld", script)
    return board_dir


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        said = [line for line in (done.stderr + done.stdout).splitlines() if "error" in line.lower()]
        raise EdgeseqError(f"{what} failed: {(said or (done.stderr + done.stdout).splitlines() or ['?'])[0][:300]}")


def _cpu_flags(flags: list[str], core: Core) -> list[str]:
    # the library's -mcpu/-mfpu/-mfloat-abi stand; ours only where it has none
    return [f for f in core.cpu if f.split("=")[0] not in {g.split("=")[0] for g in flags}]


def build(pack_dir: Path, board_dir: Path, core: Core, library: Library, step: bool, kernels: str,
          arena_bytes: int | None = None) -> Firmware:
    """Compile and link; `arena_bytes`: reserve this arena instead of the pack's."""
    out = pack_dir / "build" / f"{core.name}-{kernels}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    include = [f"-I{pack_dir}", f"-I{board_dir}", *library.includes]
    defines = [f"-DEDGESEQ_ARENA_BYTES={arena_bytes}"] if arena_bytes else []
    cxx = ["arm-none-eabi-g++", *library.cxxflags, *_cpu_flags(library.cxxflags, core), OPTIMIZE, *defines, *include]
    cc = ["arm-none-eabi-gcc", *library.ccflags, *_cpu_flags(library.ccflags, core), OPTIMIZE, *include]
    sources = [(pack_dir / "model_data.cc", cxx), (board_dir / ("check_step.cc" if step else "check_window.cc"), cxx),
               (board_dir / "startup.c", cc), (board_dir / "semihost.c", cc)]
    objects = [str(out / (source.stem + ".o")) for source, _ in sources]

    def compile_one(index: int) -> None:
        source, compiler = sources[index]
        _run([*compiler, "-c", str(source), "-o", objects[index]], f"compiling {source.name}")

    with ThreadPoolExecutor(max_workers=len(sources)) as pool:  # the compilers run side by side
        list(pool.map(compile_one, range(len(sources))))
    elf, map_file = out / "fw.elf", out / "fw.map"
    tmp = out / "fw.elf.tmp"
    _run(["arm-none-eabi-g++", *_cpu_flags([], core), "-mthumb", "-nostartfiles", "--specs=nano.specs",
          "--specs=nosys.specs", f"-T{board_dir / (core.machine + '.ld')}", "-Wl,--gc-sections",
          f"-Wl,-Map={map_file}", *objects, str(library.archive), "-lm", "-o", str(tmp)], "linking fw.elf")
    tmp.replace(elf)
    return Firmware(elf, map_file, core, kernels)


SIZE_LINE = re.compile(r"^(\.\S+)\s+(\d+)\s+(\d+)$")


def _sections(elf: Path) -> dict[str, int]:
    done = subprocess.run(["arm-none-eabi-size", "-A", str(elf)], capture_output=True, text=True, check=True)
    return {m.group(1): int(m.group(2)) for m in map(SIZE_LINE.match, done.stdout.splitlines()) if m}


def _symbols(elf: Path) -> dict[str, int]:
    done = subprocess.run(["arm-none-eabi-nm", "-S", "-C", str(elf)], capture_output=True, text=True, check=True)
    sizes = {}
    for line in done.stdout.splitlines():
        parts = line.split(maxsplit=3)
        if len(parts) == 4:
            sizes[parts[3]] = int(parts[1], 16)
    return sizes


def _library_code(map_file: Path) -> int:
    """Bytes of .text the map file credits to TFLM's library (its kernels and interpreter)."""
    total = 0
    pattern = re.compile(r"^\s*\.text\S*\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+\S*libtensorflow-microlite\.a")
    # what --gc-sections discarded is listed first, in the same form: count only what is linked
    lines = map_file.read_text().partition("Linker script and memory map")[2].splitlines()
    for i, line in enumerate(lines):
        found = pattern.match(line)
        if not found and line.strip().startswith(".text") and i + 1 < len(lines):
            found = pattern.match(line + lines[i + 1])  # a long section name wraps onto the next line
        if found:
            total += int(found.group(1), 16)
    return total


def sizes(firmware: Firmware, stack_used: int) -> dict:
    """What a board developer asks first, from the ELF: flash (code, constants and the model
    apart) and RAM (arena, data, bss and the stack apart). RAM counts the stack the firmware
    used (`stack_used`, from the painted stack, rounded up to 8 bytes), not the generous
    STACK_BYTES the check firmware reserves."""
    sections, symbols = _sections(firmware.elf), _symbols(firmware.elf)
    text, rodata = sections.get(".text", 0), sections.get(".rodata", 0)
    other_flash = sum(sections.get(s, 0) for s in (".ARM.exidx", ".init_array"))
    data, bss, stack = sections.get(".data", 0), sections.get(".bss", 0), sections.get(".stack", 0)
    model = symbols.get("g_model_data", 0)
    arena = symbols.get("edgeseq_check::tensor_arena", 0)
    return {
        "flash_bytes": text + rodata + other_flash + data,  # .data's initial values sit in flash too
        "text_bytes": text,
        "tflm_library_text_bytes": _library_code(firmware.map),
        "rodata_bytes": rodata,
        "model_bytes": model,
        "code_and_constants_bytes": text + rodata + other_flash + data - model,
        "ram_bytes": data + bss + -(-stack_used // 8) * 8,
        "arena_bytes": arena,
        "data_bytes": data,
        "bss_bytes_without_arena": bss - arena,
        "stack_used_bytes": stack_used,
        "stack_reserved_bytes": stack,
        "elf": str(firmware.elf),
        "map": str(firmware.map),
    }
