"""Two exports of the same model compared by their manifests, apart from what differs between
any two runs of the same code: the generation id, the creation time, timings, and the names
tf2onnx gives ONNX nodes (it numbers them per process, so model.onnx of two runs differs by a
few bytes: checked here to be the same graph — op types, attributes and weights). Issue 25's
check that the restructured pipeline writes the same export:

    python tools/manifest_diff.py BEFORE_DIR AFTER_DIR

Prints each difference that remains and exits 1 when there is one."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

#: keys whose values are timings or identities of one run
VOLATILE = {"generation", "created", "convert_s", "timed_calls", "rounds", "timings"}
#: route-search fields that carry an ONNX candidate's bytes (the candidates are not kept)
ONNX_ROUTE_FIELDS = re.compile(r"^/routes/onnx/(candidates\[\d+\]/(bytes|sha256|why)|why)$")


def differences(a, b, path="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in sorted(set(a) | set(b)):
            if key in VOLATILE or key.endswith("_us") or key.endswith("_ms"):
                continue
            if key not in a or key not in b:
                found.append(f"{path}/{key}: only in {'after' if key in b else 'before'}")
            else:
                found += differences(a[key], b[key], f"{path}/{key}")
        return found
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items before, {len(b)} after"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} → {b!r}"]


def same_onnx_graph(a: Path, b: Path) -> bool:
    """The same ops with the same attributes, and the same weights: only names differ."""
    import onnx
    from onnx import numpy_helper

    def value(attribute):  # a tensor attribute by its values: its name is tf2onnx's too
        if attribute.type == onnx.AttributeProto.TENSOR:
            return numpy_helper.to_array(attribute.t).tobytes()
        return repr(onnx.helper.get_attribute_value(attribute))

    def shape(path):
        model = onnx.load(str(path))
        # as a multiset: tf2onnx orders independent nodes by their (numbered) names too
        ops = sorted((n.op_type, n.domain, sorted((at.name, value(at)) for at in n.attribute
                                                  if at.type != onnx.AttributeProto.GRAPH))
                     for n in model.graph.node)
        weights = sorted(numpy_helper.to_array(t).tobytes() for t in model.graph.initializer)
        return ops, weights

    return shape(a) == shape(b)


def compare(before: Path, after: Path) -> list[str]:
    a, b = (json.loads((d / "manifest.json").read_text()) for d in (before, after))
    files = {f"/artifacts[{i}]": entry["file"] for i, entry in enumerate(a["artifacts"])}
    results = {f"/parity/results[{i}]": r["artifact"] for i, r in enumerate(a.get("parity", {}).get("results", []))}
    remaining = []
    for line in differences(a, b):
        where = line.split(":", 1)[0]
        parent, _, field = where.rpartition("/")
        name = files.get(parent) or results.get(parent)
        onnx_file = name is not None and name.endswith(".onnx")
        if field in ("sha256", "bytes") and onnx_file and same_onnx_graph(before / name, after / name):
            continue
        if ONNX_ROUTE_FIELDS.match(where):
            continue  # a candidate's few bytes of names; the chosen file is compared above
        remaining.append(line)
    return remaining


def main(argv: list[str]) -> int:
    found = compare(Path(argv[0]), Path(argv[1]))
    for line in found:
        print(line)
    print(f"{len(found)} difference(s) beyond run-to-run ones")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
