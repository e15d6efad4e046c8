"""CNN LSTM: a per-frame Conv2D/MaxPool/Flatten feature extractor → LSTM(50) → Dense(sigmoid)."""

from . import Training

TRAINING = Training(samples=5_000, epochs=5, batch_size=32, loss="binary_crossentropy",
                    learning_rate=1e-3)


def build(keras, problem, batch_size=None):
    layers = keras.layers
    inputs = keras.Input(shape=problem.input_shape, batch_size=batch_size, name="frames")
    x = layers.TimeDistributed(layers.Conv2D(2, (2, 2), activation="relu"), name="conv")(inputs)
    x = layers.TimeDistributed(layers.MaxPooling2D((2, 2)), name="pool")(x)
    x = layers.TimeDistributed(layers.Flatten(), name="flatten")(x)
    x = layers.LSTM(50, name="lstm")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="direction")(x)
    return keras.Model(inputs, outputs, name="cnn_lstm")
