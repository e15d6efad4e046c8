"""A user's layer graph rebuilt in tf_keras (for a fused TFLite LSTM), or no twin and why."""

import numpy as np
import pytest

from edgeseq.exporters.onnx.fold_time import fold
from edgeseq.exporters.tflite import tf_keras_twin


@pytest.fixture(scope="module")
def keras():
    import keras

    keras.utils.set_random_seed(0)
    return keras


def inputs(shape):
    return np.random.default_rng(0).random((4, *shape)).astype(np.float32)


def test_a_sequential_chain_is_rebuilt_with_the_same_outputs(keras):
    L = keras.layers  # noqa: N806
    model = keras.Sequential([keras.Input((6, 3)), L.Bidirectional(L.LSTM(5, return_sequences=True)),
                              L.Dropout(0.2), L.LSTM(4), L.Dense(2, activation="softmax")])
    twin = tf_keras_twin.rebuild(model, inputs((6, 3)), atol=1e-5)
    assert type(twin).__module__.startswith("tf_keras")
    assert twin.inputs[0].shape[0] == 1  # batch 1, as the converter fuses it


def test_a_functional_chain_is_rebuilt_even_after_the_onnx_fold_shared_its_layers(keras):
    L = keras.layers  # noqa: N806
    i = keras.Input((4, 8, 8, 1))
    x = L.TimeDistributed(L.Conv2D(2, 3))(i)
    x = L.TimeDistributed(L.Flatten())(x)
    model = keras.Model(i, L.Dense(1)(L.LSTM(4)(x)))
    fold(model)  # the ONNX export's clone adds inbound nodes to the shared LSTM and Dense
    tf_keras_twin.rebuild(model, inputs((4, 8, 8, 1)), atol=1e-5)  # raises NoTwin if not


def test_inputs_merges_shared_layers_and_outputs_are_rebuilt_in_the_models_order(keras):
    L = keras.layers  # noqa: N806
    seq, side = keras.Input((5, 2), name="seq"), keras.Input((3,), name="side")
    h = L.Concatenate()([L.LSTM(4)(seq), L.LSTM(3)(seq), side])
    dense = L.Dense(10)
    model = keras.Model([seq, side], [L.Dense(1, name="level")(h), L.Add(name="sum")([dense(h), dense(dense(h))])])
    feeds = {"seq": inputs((5, 2)), "side": inputs((3,))}
    twin = tf_keras_twin.rebuild(model, feeds, atol=1e-5)
    assert [t.name.split(":")[0] for t in twin.inputs] == ["seq", "side"]
    assert [t.shape[-1] for t in twin.outputs] == [1, 10]


def test_a_layer_tf_keras_lacks_is_named_as_the_reason_for_no_twin(keras):
    class Doubler(keras.layers.Layer):
        def call(self, x):
            return x * 2

    i = keras.Input((5, 2))
    model = keras.Model(i, keras.layers.LSTM(3)(Doubler(name="doubler")(i)))
    with pytest.raises(tf_keras_twin.NoTwin, match="'doubler' .Doubler. has no tf_keras counterpart"):
        tf_keras_twin.rebuild(model, inputs((5, 2)), atol=1e-5)


def test_a_twin_that_computes_something_else_is_refused(keras):
    L = keras.layers  # noqa: N806
    model = keras.Sequential([keras.Input((5, 2)), L.LSTM(4), L.Dense(1)])
    # the tolerance is the check: no twin can match Keras to a negative tolerance
    with pytest.raises(tf_keras_twin.NoTwin, match="differs from Keras"):
        tf_keras_twin.rebuild(model, inputs((5, 2)), atol=-1.0)
