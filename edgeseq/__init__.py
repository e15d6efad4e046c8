"""edgeseq: Keras LSTM sequence models on edge devices."""

import os

__version__ = "0.1.0"

# TensorFlow's C++ start-up chatter (oneDNN, CUDA probes) buries edgeseq's own output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
