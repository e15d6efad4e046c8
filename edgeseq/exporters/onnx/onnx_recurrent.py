"""Cut the plumbing tf2onnx builds around each recurrent op, which onnxruntime runs on every
call and cannot fold: same arithmetic, the same outputs bit for bit.

- **Zero initial state.** Keras's `zeros((batch, units))` state becomes Shape → Cast → Slice →
  Concat → Cast → Expand(0.0) → Unsqueeze before each LSTM/GRU/RNN (7 ops for vanilla; the
  batch comes from the input, so nothing is constant). ONNX defines an absent `initial_h` /
  `initial_c` as zeros of the right shape: the inputs are dropped where they provably are
  zeros (shape-only ops and Concats over all-zero constants), and the ops that fed only them.
- **Last step.** A Keras LSTM without return_sequences becomes LSTM → Squeeze(Y, 1) →
  Slice(last step) → Squeeze(0); for a forward LSTM that is its Y_h output squeezed, so Y is
  no longer asked for (onnxruntime then does not write the whole sequence out).

Measured side by side (batch-1 p50, onnxruntime 1.32, 1 thread, untrained exports, 40 rounds
interleaved, main's model.onnx against this one's): vanilla 16.1 → 12.1 µs, generative 14.1 →
10.3, stacked 46.4 → 39.6, cnn_lstm 82.3 → 76.2, encoder_decoder 39.1 → 32.4, bidirectional
34.1 → 30.8; the zero state alone was most of it (vanilla 16.4 → 13.6). tools/profile_ops.py
shows where the rest goes.
"""

from __future__ import annotations

#: ops that change a tensor's shape or type but keep its values: zeros stay zeros
_KEEPS_ZEROS = {"Unsqueeze", "Squeeze", "Reshape", "Expand", "Identity", "Cast", "Tile", "Flatten"}
#: the recurrent ops' optional state inputs, by index (ONNX LSTM: initial_h 5, initial_c 6)
_STATE_INPUTS = {"LSTM": (5, 6), "GRU": (5,), "RNN": (5,)}


def simplify(proto) -> dict:
    """Both cuts, in place; how many of each were made."""
    done = {"zero_state_inputs_dropped": drop_zero_initial_state(proto),
            "last_steps_from_y_h": last_step_from_y_h(proto)}
    prune(proto.graph)
    return done


def _constant(name: str, producers: dict, constants: dict):
    """The value of an initializer or Constant node, else None."""
    from onnx import numpy_helper  # noqa: PLC0415

    if name in constants:
        return numpy_helper.to_array(constants[name])
    node = producers.get(name)
    if node is not None and node.op_type == "Constant":
        value = next((a.t for a in node.attribute if a.name == "value"), None)
        return None if value is None else numpy_helper.to_array(value)
    return None


def _is_zero(name: str, producers: dict, constants: dict, depth: int = 0) -> bool:
    """All zeros whatever the input: built from zero constants by ops that keep zeros (a
    Concat of zeros too: a bidirectional op's state stacks both directions')."""
    value = _constant(name, producers, constants)
    if value is not None:
        return not value.any()
    node = producers.get(name)
    if node is None or depth > 32:
        return False
    if node.op_type == "ConstantOfShape":  # without a value attribute it fills a float 0
        fill = next((a.t for a in node.attribute if a.name == "value"), None)
        from onnx import numpy_helper  # noqa: PLC0415

        return fill is None or not numpy_helper.to_array(fill).any()
    if node.op_type == "Concat":
        return all(_is_zero(i, producers, constants, depth + 1) for i in node.input)
    return node.op_type in _KEEPS_ZEROS and _is_zero(node.input[0], producers, constants, depth + 1)


def _maps(graph) -> tuple[dict, dict, dict]:
    producers = {o: node for node in graph.node for o in node.output}
    readers: dict = {}
    for node in graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node)
    return producers, readers, {i.name: i for i in graph.initializer}


def drop_zero_initial_state(proto) -> int:
    """Drop recurrent ops' state inputs that are zeros; returns how many were dropped."""
    producers, _, constants = _maps(proto.graph)
    dropped = 0
    for node in proto.graph.node:
        for index in _STATE_INPUTS.get(node.op_type, ()):
            if len(node.input) > index and node.input[index] and _is_zero(node.input[index], producers, constants):
                node.input[index] = ""
                dropped += 1
        while node.input and node.input[-1] == "":  # trailing optional inputs may be left out
            del node.input[-1]
    return dropped


def last_step_from_y_h(proto) -> int:
    """Squeeze(0) ∘ Slice(last) ∘ Squeeze(1) of a forward LSTM's Y → Squeeze(0) of its Y_h."""
    graph = proto.graph
    producers, readers, constants = _maps(graph)
    outputs = {o.name for o in graph.output}

    def only_reader(name: str, op_type: str):
        found = readers.get(name, [])
        return found[0] if len(found) == 1 and found[0].op_type == op_type and name not in outputs else None

    def values(node, index: int):
        if len(node.input) <= index or not node.input[index]:
            return None
        value = _constant(node.input[index], producers, constants)
        return None if value is None else [int(v) for v in value.ravel()]

    rewritten = 0
    for lstm in [n for n in graph.node if n.op_type == "LSTM"]:
        direction = next((a.s for a in lstm.attribute if a.name == "direction"), b"forward")
        # with sequence_lens, Y_h is each sequence's own last step, not the last slot of Y
        has_lengths = len(lstm.input) > 4 and lstm.input[4]
        if direction != b"forward" or has_lengths or not lstm.output or not lstm.output[0]:
            continue
        squeeze_t = only_reader(lstm.output[0], "Squeeze")  # Y: (steps, 1, batch, hidden)
        if squeeze_t is None or values(squeeze_t, 1) != [1]:
            continue
        last = only_reader(squeeze_t.output[0], "Slice")
        if (last is None or values(last, 1) != [-1] or values(last, 3) != [0]
                or (values(last, 2) or [0])[0] < 2 ** 31 - 1 or values(last, 4) not in (None, [1])):
            continue
        squeeze_step = only_reader(last.output[0], "Squeeze")
        if squeeze_step is None or values(squeeze_step, 1) != [0]:
            continue
        while len(lstm.output) < 2:
            lstm.output.append("")
        if not lstm.output[1]:
            lstm.output[1] = f"{lstm.output[0]}_y_h"
        squeeze_step.input[0] = lstm.output[1]  # Y_h: (1, batch, hidden)
        lstm.output[0] = ""  # Y is optional: not computed into an output any more
        graph.node.remove(squeeze_t)
        graph.node.remove(last)
        rewritten += 1
    return rewritten


def _used(graph) -> set[str]:
    """Every name a node reads, subgraphs (Loop/If/Scan bodies) included, and the outputs."""
    names = {o.name for o in graph.output}
    for node in graph.node:
        names.update(node.input)
        for attribute in node.attribute:
            for body in [attribute.g, *attribute.graphs]:
                names |= _used(body)
    return names


def prune(graph) -> None:
    """Remove the nodes whose outputs nothing reads (repeatedly), then unread initializers."""
    while True:
        used = _used(graph)
        dead = [n for n in graph.node if not any(o in used for o in n.output if o)]
        if not dead:
            break
        for node in dead:
            graph.node.remove(node)
    used = _used(graph)
    for initializer in [i for i in graph.initializer if i.name not in used]:
        graph.initializer.remove(initializer)
