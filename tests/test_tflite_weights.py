"""Dynamic-range TFLite files: fused LSTM weights quantized (the default MLIR quantizer leaves
them float), and a file that quantized nothing refused with the converter's threshold."""

import pytest

from edgeseq.exporters.quantize import tflite_weights
from edgeseq.exporters.tflite import to_tflite


def converter(units: int):
    import tensorflow as tf
    import tf_keras

    tf_keras.utils.set_random_seed(0)
    model = tf_keras.Sequential([tf_keras.Input(batch_shape=(1, 10, 3)), tf_keras.layers.LSTM(units),
                                 tf_keras.layers.Dense(1)])
    function = tf.function(lambda x: model(x)).get_concrete_function(tf.TensorSpec((1, 10, 3), tf.float32))
    made = tf.lite.TFLiteConverter.from_concrete_functions([function], model)
    made.optimizations = [tf.lite.Optimize.DEFAULT]
    return made


def test_fused_lstm_weights_left_float_by_the_default_quantizer_are_quantized_by_the_legacy_one():
    made = converter(32)  # recurrent gate weights 32 × 32 = 1024 elements: at the threshold
    default = made.convert()
    assert tflite_weights.float_lstm_weights(default) == 4 * 1024
    flatbuffer, chosen = to_tflite.dynamic_range_file(lambda: converter(32), default)
    assert chosen.startswith("legacy") and len(flatbuffer) < len(default) / 2
    assert tflite_weights.float_lstm_weights(flatbuffer) == 0
    assert {w.type for w in tflite_weights.weights(flatbuffer) if w.elements == 1024} == {"INT8"}


def test_a_model_whose_weights_are_all_below_the_threshold_gets_no_dynamic_range_file():
    made = converter(6)  # largest gate tensor 6 × 6
    with pytest.raises(to_tflite.NothingQuantized, match="below the converter's 1024-element threshold .largest 36"):
        to_tflite.dynamic_range_file(lambda: converter(6), made.convert())


def test_a_looped_models_dynamic_range_file_is_the_quantizers_closer_to_fp32(tmp_path):
    # SimpleRNN(32) stays a WHILE loop; both quantizers quantize its 32 × 32 recurrent kernel
    # (MLIR per-channel, legacy per-tensor) and differ in error: the closer one is kept
    import keras
    import numpy as np

    from edgeseq.exporters import user_model
    from edgeseq.runtimes import open_runner

    keras.utils.set_random_seed(0)
    inputs = keras.Input((10, 3))
    keras.Model(inputs, keras.layers.Dense(1)(keras.layers.SimpleRNN(32)(inputs))).save(tmp_path / "rnn.keras")
    np.save(tmp_path / "x.npy", np.random.default_rng(1).random((100, 10, 3), dtype=np.float32))
    arch = user_model.load(tmp_path / "rnn.keras", calibration=tmp_path / "x.npy", quantize=True)
    to_tflite.save_twin(arch, arch.keras_model, arch.problem, tmp_path / "twin")
    route = arch.twin_route
    info = to_tflite.convert(tmp_path / "twin", arch.problem, tmp_path / "chosen.tflite", "dynamic-int8", route)
    mlir = to_tflite._converter(tmp_path / "twin", to_tflite.VARIANTS["dynamic-int8"], route)
    (tmp_path / "mlir.tflite").write_bytes(mlir.convert())
    legacy = to_tflite._converter(tmp_path / "twin", to_tflite.VARIANTS["dynamic-int8"], route)
    legacy.experimental_new_dynamic_range_quantizer = False
    (tmp_path / "legacy.tflite").write_bytes(legacy.convert())
    to_tflite.convert(tmp_path / "twin", arch.problem, tmp_path / "fp32.tflite", "fp32", route)
    fp32 = open_runner(tmp_path / "fp32.tflite")
    # the rows the choice is made on: calibration rows, never the gate's held-out ones
    rows, _ = arch.problem.representative(to_tflite.REPRESENTATIVE_SAMPLES,
                                          np.random.default_rng(to_tflite.SELECTION_SEED))
    x = {fp32.inputs[0].name: rows}
    want = next(iter(fp32.run(x).values()))

    def error(name):
        return np.abs(next(iter(open_runner(tmp_path / name).run(x).values())) - want).mean()

    assert info["dynamic_range_quantizer"].startswith(("mlir", "legacy (closer"))
    assert error("chosen.tflite") == min(error("mlir.tflite"), error("legacy.tflite"))
    assert error("mlir.tflite") != error("legacy.tflite")  # a choice that matters
    assert tflite_weights.nothing_quantized((tmp_path / "chosen.tflite").read_bytes()) is None
