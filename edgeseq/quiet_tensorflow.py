"""Import TensorFlow without its start-up chatter, so that a refusal prints one line.

TensorFlow's C++ runtime logs while its shared libraries load (oneDNN, "Could not find cuda
drivers", and "All log messages before absl::InitializeLog() is called are written to
STDERR"). Those lines are written before absl logging is initialised, so TF_CPP_MIN_LOG_LEVEL
does not reach them (tensorflow/tensorflow#102212 is the upstream fix, not in 2.21): the only
switch is the stderr file descriptor itself, redirected for the length of the import and of
device discovery. TF_CPP_MIN_LOG_LEVEL is set too, for the C++ messages that come later and
for the TFLite conversion child processes, which inherit it.

Imports nothing heavy itself: the CLI calls `import_tensorflow()` only on the paths that need
Keras (train, export, parity against Keras).
"""

from __future__ import annotations

import contextlib
import os
import sys


def quiet_environment() -> None:
    """The environment TensorFlow reads at import; a user's own setting wins."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@contextlib.contextmanager
def captured_stderr(replay_on_error: bool = True):
    """fd 2 into a temporary file for the length of the block: C++ libraries write there
    directly, past sys.stderr. What was captured is replayed if the block raises something
    other than edgeseq's own errors, so a real failure still says why."""
    import tempfile  # noqa: PLC0415 - the cli imports this module; predict on ONNX never captures

    from .errors import EdgeseqError  # noqa: PLC0415

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        except BaseException as exc:
            os.dup2(saved, 2)
            if replay_on_error and not isinstance(exc, EdgeseqError):
                capture.seek(0)
                sys.stderr.write(capture.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def import_tensorflow():
    """`import tensorflow` with fd 2 captured."""
    quiet_environment()
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    with captured_stderr():
        import tensorflow as tf  # noqa: PLC0415

        # Device discovery logs "failed call to cuInit" on a machine without a GPU, and
        # after a captured import that line ignores TF_CPP_MIN_LOG_LEVEL (measured): run
        # the discovery inside the capture too.
        tf.config.list_physical_devices()
    tf.get_logger().setLevel("ERROR")
    try:
        from absl import logging as absl_logging  # noqa: PLC0415 - a TensorFlow dependency

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:
        pass
    return tf


def require_train(what: str) -> None:
    """TensorFlow, Keras, tf_keras and tf2onnx, imported quietly; EdgeseqError naming the
    [train] extra when one is missing (`what`: the command or call that needs them)."""
    import importlib.util  # noqa: PLC0415

    from .errors import EdgeseqError  # noqa: PLC0415

    missing = [m for m in ("tensorflow", "keras", "tf_keras", "tf2onnx")
               if importlib.util.find_spec(m) is None]
    if missing:
        raise EdgeseqError(f"{what} needs the [train] extra ({', '.join(missing)} "
                           "missing): pip install 'edgeseq[train]'")
    # Before anything imports it: TensorFlow's start-up lines would precede any refusal.
    import_tensorflow()
