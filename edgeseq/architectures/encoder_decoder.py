"""Encoder-decoder: LSTM(75) encoder → RepeatVector → LSTM(50) decoder → per-step softmax."""

from . import Training

TRAINING = Training(samples=30_000, epochs=6, batch_size=64, loss="categorical_crossentropy",
                    learning_rate=5e-3)


def build(keras, problem, batch_size=None):
    layers = keras.layers
    inputs = keras.Input(shape=problem.input_shape, batch_size=batch_size, name="question")
    x = layers.LSTM(75, name="encoder")(inputs)
    x = layers.RepeatVector(problem.chars_out, name="repeat")(x)
    x = layers.LSTM(50, return_sequences=True, name="decoder")(x)
    outputs = layers.TimeDistributed(
        layers.Dense(problem.input_shape[-1], activation="softmax"), name="answer")(x)
    return keras.Model(inputs, outputs, name="encoder_decoder")
