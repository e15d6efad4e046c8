"""Vanilla LSTM: LSTM(25) → Dense(softmax), the seed's echo model (3,860 parameters)."""

from . import Training

TRAINING = Training(samples=10_000, epochs=8, batch_size=32, loss="categorical_crossentropy",
                    learning_rate=5e-3)


def build(keras, problem, batch_size=None):
    inputs = keras.Input(shape=problem.input_shape, batch_size=batch_size, name="sequence")
    x = keras.layers.LSTM(25, name="lstm")(inputs)
    outputs = keras.layers.Dense(problem.features, activation="softmax", name="echo")(x)
    return keras.Model(inputs, outputs, name="vanilla")
