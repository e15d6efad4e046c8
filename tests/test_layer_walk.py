"""The one walk over a Keras model's layers (exporters/layer_walk.py): inside wrappers and
submodels, each layer once."""

from __future__ import annotations


def test_walk_finds_layers_inside_wrappers_and_submodels_once_each():
    import keras
    from keras import layers as L  # noqa: N812

    from edgeseq.exporters import layer_walk

    inner = keras.Sequential([keras.Input((4,)), L.Embedding(7, 3, name="vocab")], name="inner")
    model = keras.Sequential([keras.Input((4,)), inner,
                              L.Bidirectional(L.LSTM(2, return_sequences=True, name="lstm"), name="both"),
                              L.TimeDistributed(L.Dense(1, name="dense"), name="each")])
    found = [layer.name for layer in layer_walk.layers(model)]
    assert len(found) == len(set(map(id, layer_walk.layers(model))))  # none twice
    assert found[:2] == ["inner", "vocab"] and found[2] == "both" and found[-2:] == ["each", "dense"]
    assert sorted(found[3:-2]) == ["backward_lstm", "forward_lstm"]
    assert layer_walk.has_recurrence(model)
    assert not layer_walk.has_recurrence(keras.Sequential([keras.Input((4,)), inner]))
