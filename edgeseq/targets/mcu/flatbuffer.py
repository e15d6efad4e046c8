"""A .tflite file's graph as plain values: ops in execution order with their tensors.

Read with the flatbuffer schema that ships in tflite-micro (the [mcu] extra), so the static
checks see exactly the fields TFLM reads: op codes, tensor types, constant buffers and
quantization. LiteRT's op listing (graph.py) names ops but not tensor types or constness.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...errors import InputError


@dataclass(frozen=True)
class Tensor:
    name: str
    shape: tuple[int, ...]
    type: str  # schema name: FLOAT32, INT8, ...
    constant: bool  # data in the file (weights), not computed
    scale: float | None
    zero_point: int | None


@dataclass(frozen=True)
class Op:
    name: str  # builtin name, or the custom code of a CUSTOM op
    inputs: tuple[Tensor | None, ...]  # None: an optional input left out
    outputs: tuple[Tensor, ...]
    subgraph: int


@dataclass(frozen=True)
class Graph:
    ops: tuple[Op, ...]
    inputs: tuple[Tensor, ...]
    outputs: tuple[Tensor, ...]
    #: the signature's name of each input and output, in the subgraph's order (TFLM indexes
    #: tensors by position and knows no names; a step model's `state` is input 0, `step` 1)
    input_names: tuple[str, ...] = ()
    output_names: tuple[str, ...] = ()

    def op_names(self) -> list[str]:
        """Distinct op names, in order of first use."""
        return list(dict.fromkeys(op.name for op in self.ops))


def _names(enum) -> dict[int, str]:
    return {v: k for k, v in vars(enum).items() if not k.startswith("_")}


def read(path: Path) -> Graph:
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema  # noqa: PLC0415

    data = Path(path).read_bytes()
    if data[4:8] != b"TFL3":
        raise InputError(f"{Path(path).name} is not a TFLite flatbuffer (no TFL3 identifier)")
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(data, 0))
    op_names, type_names = _names(schema.BuiltinOperator), _names(schema.TensorType)

    def tensor(subgraph, index: int) -> Tensor | None:
        if index < 0:
            return None
        t = subgraph.tensors[index]
        buffer = model.buffers[t.buffer] if t.buffer < len(model.buffers) else None
        constant = buffer is not None and (buffer.data is not None and len(buffer.data) > 0
                                           or bool(getattr(buffer, "size", 0)))
        q = t.quantization
        scale = float(q.scale[0]) if q is not None and q.scale is not None and len(q.scale) else None
        zero = int(q.zeroPoint[0]) if q is not None and q.zeroPoint is not None and len(q.zeroPoint) else None
        return Tensor((t.name or b"").decode(), tuple(int(d) for d in (t.shape if t.shape is not None else ())),
                      type_names.get(t.type, str(t.type)), constant, scale, zero)

    ops = []
    for number, subgraph in enumerate(model.subgraphs):
        for op in subgraph.operators or []:
            code = model.operatorCodes[op.opcodeIndex]
            # Codes above 127 live in builtinCode; older files keep them in the deprecated field.
            name = op_names.get(max(code.builtinCode, code.deprecatedBuiltinCode), "UNKNOWN")
            if name == "CUSTOM":
                name = (code.customCode or b"CUSTOM").decode()
            ops.append(Op(name, tuple(tensor(subgraph, i) for i in op.inputs),
                          tuple(tensor(subgraph, i) for i in op.outputs), number))
    main = model.subgraphs[0]
    inputs = tuple(tensor(main, i) for i in main.inputs)
    outputs = tuple(tensor(main, i) for i in main.outputs)
    signature = next((s for s in model.signatureDefs or [] if s.subgraphIndex == 0), None)

    def names(indices, tensors, maps) -> tuple[str, ...]:
        by_index = {m.tensorIndex: m.name.decode() for m in maps or []}
        return tuple(by_index.get(int(i), t.name) for i, t in zip(indices, tensors, strict=True))

    return Graph(tuple(ops), inputs, outputs,
                 names(main.inputs, inputs, signature.inputs if signature else None),
                 names(main.outputs, outputs, signature.outputs if signature else None))
