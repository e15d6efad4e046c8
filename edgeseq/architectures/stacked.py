"""Stacked LSTM: LSTM(20, sequences) → LSTM(20) → Dense(5), the seed's damped-sine forecaster."""

from . import Training

TRAINING = Training(samples=10_000, epochs=5, batch_size=64, loss="mae", learning_rate=5e-3)


def build(keras, problem, batch_size=None):
    inputs = keras.Input(shape=problem.input_shape, batch_size=batch_size, name="series")
    x = keras.layers.LSTM(20, return_sequences=True, name="lstm_1")(inputs)
    x = keras.layers.LSTM(20, name="lstm_2")(x)
    outputs = keras.layers.Dense(problem.steps_out, name="forecast")(x)
    return keras.Model(inputs, outputs, name="stacked")
