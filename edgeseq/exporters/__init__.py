"""Conversion of a trained Keras model to edge formats. Imports TensorFlow: training install only."""
