"""Bidirectional LSTM: Bidirectional(LSTM(50, sequences)) → per-step Dense(sigmoid)."""

from . import Training

TRAINING = Training(samples=20_000, epochs=10, batch_size=64, loss="binary_crossentropy",
                    learning_rate=5e-3)


def build(keras, problem, batch_size=None):
    layers = keras.layers
    inputs = keras.Input(shape=problem.input_shape, batch_size=batch_size, name="values")
    x = layers.Bidirectional(layers.LSTM(50, return_sequences=True), name="bilstm")(inputs)
    outputs = layers.TimeDistributed(layers.Dense(1, activation="sigmoid"), name="labels")(x)
    return keras.Model(inputs, outputs, name="bidirectional")
