"""The console script ends without the interpreter's teardown (cli/quick_exit.py), and loses
nothing a normal exit would have delivered: atexit handlers, Python's and C's buffered output,
the exit code, a thread still at work."""

import os
import subprocess
import sys

import pytest


def _exit_now_in_fresh_process(body: str) -> subprocess.CompletedProcess:
    program = "import atexit, ctypes, sys, threading, time\n" + body + \
              "\nfrom edgeseq.cli.quick_exit import exit_now\nexit_now(CODE)\n"
    # Without PYTHONUNBUFFERED (set on some machines): it makes C's stdout unbuffered too, and
    # C output left in a buffer is what the test must catch.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, env=env)


def test_quick_exit_runs_atexit_handlers_and_flushes_python_and_c_output_into_a_pipe():
    result = _exit_now_in_fresh_process(
        "atexit.register(print, 'atexit ran')\n"
        "print('python line')\n"
        "ctypes.CDLL(None).printf(b'C line\\n')  # block-buffered: stdout is a pipe\n"
        "CODE = 3")
    assert result.returncode == 3, result.stderr
    assert sorted(result.stdout.splitlines()) == ["C line", "atexit ran", "python line"]


@pytest.mark.parametrize("code, status, stderr", [(None, 0, ""), (True, 1, ""), (258, 2, ""),
                                                  ("no such thing", 1, "no such thing\n")])
def test_quick_exit_gives_the_status_sys_exit_would(code, status, stderr):
    result = _exit_now_in_fresh_process(f"CODE = {code!r}")
    assert (result.returncode, result.stderr) == (status, stderr)


def test_quick_exit_waits_for_a_thread_still_at_work_as_a_normal_exit_does():
    result = _exit_now_in_fresh_process(
        "threading.Thread(target=lambda: (time.sleep(0.3), print('thread done', flush=True))).start()\n"
        "CODE = 0")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "thread done\n"

