"""edgeseq: Keras LSTM sequence models on edge devices.

    import edgeseq
    exp = edgeseq.export(model, quantize=("int8",))   # or edgeseq.load("exported/vanilla")
    exp.parity(); exp.predict(x); exp.stream().step(x_t)

The API (api.py) is imported on first use of these names, so `import edgeseq` stays light.
"""

import os

__version__ = "0.1.0"

# TensorFlow's C++ start-up chatter (oneDNN, CUDA probes) buries edgeseq's own output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__all__ = ["Export", "export", "load", "__version__"]


def __getattr__(name: str):
    if name in ("Export", "export", "load"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'edgeseq' has no attribute {name!r}")
