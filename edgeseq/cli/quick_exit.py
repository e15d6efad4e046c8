"""The end of an `edgeseq` process: once its command is done, exit without the interpreter's
teardown.

CPython's normal exit frees every module's objects one by one, runs full garbage collections
and then the C++ static destructors of the loaded runtimes (onnxruntime's environment,
OpenBLAS's buffers): about 20 ms of CPU here, an eighth of `edgeseq predict`'s cold start
(issue 15), spent on memory the kernel reclaims at once anyway. What a finished command still
needs from the exit is done first: the atexit handlers (logging's flush, multiprocessing's
children, coverage's data file), Python's stdout and stderr flushed, and C's stdio buffers
flushed (a native library's printf). Then os._exit. Where that cannot be done as cleanly
(another thread still running, which a normal exit waits for; a flush that fails, as into a
closed pipe, which a normal exit reports; no libc to flush) the normal exit runs instead.
"""

from __future__ import annotations

import atexit
import os
import sys


def exit_now(code: object) -> None:
    """End the process with `code` as sys.exit(code) would (None → 0, an int as is, anything
    else printed on stderr → 1); never returns."""
    if isinstance(code, str) or not (code is None or isinstance(code, int)):
        print(code, file=sys.stderr)
        code = 1
    status = code or 0
    if _other_threads_running():
        sys.exit(status)
    atexit._run_exitfuncs()  # the handlers a normal exit would run, in the same (LIFO) order
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        _flush_c_stdio()
    except (OSError, ValueError):  # a closed pipe or stream: let the normal exit report it
        sys.exit(status)
    os._exit(status & 0xFF)


def _other_threads_running() -> bool:
    threading = sys.modules.get("threading")  # not imported: no other Python thread exists
    if threading is None:
        return False
    main = threading.main_thread()
    return any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate())


def _flush_c_stdio() -> None:
    """fflush(NULL): output a native library wrote through C's stdio and that is still in its
    buffer (a pipe's stdout is block-buffered) would otherwise be lost."""
    if os.name != "posix":
        raise OSError("no libc to flush")  # take the normal exit
    import ctypes  # noqa: PLC0415 - already imported (by numpy) where a runtime is loaded

    ctypes.CDLL(None).fflush(None)
