"""One builder per architecture.

Each module has `build(keras, problem, batch_size=None)` and a `TRAINING` recipe. `keras` is a
module argument so that the same builder makes the Keras 3 model that is trained and the
tf_keras (Keras 2) twin that the TFLite converter can fuse (see export/to_tflite.py).
Modules here import no Keras themselves: the registry names them without importing them.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Training:
    samples: int
    epochs: int
    batch_size: int
    loss: str
    learning_rate: float = 1e-3
    #: parity tolerance for fp32 artifacts; above 1e-5 only with the reason beside it
    atol: float = 1e-5
