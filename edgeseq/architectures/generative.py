"""Generative LSTM: LSTM(10) → Dense(2), the next corner of a rectangle from the current one."""

from . import Training

TRAINING = Training(samples=30_000, epochs=10, batch_size=64, loss="mae", learning_rate=5e-3)


def build(keras, problem, batch_size=None):
    inputs = keras.Input(shape=problem.input_shape, batch_size=batch_size, name="corner")
    x = keras.layers.LSTM(10, name="lstm")(inputs)
    outputs = keras.layers.Dense(2, name="next_corner")(x)
    return keras.Model(inputs, outputs, name="generative")
