"""Dynamic-range TFLite files: fused LSTM weights quantized (the default MLIR quantizer leaves
them float), and a file that quantized nothing refused with the converter's threshold."""

import pytest

from edgeseq.export import tflite_weights, to_tflite


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
