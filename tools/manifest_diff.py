"""Two manifests of the same export compared, apart from what differs from run to run: the
generation id, the creation time and timings (the route search's µs, parity timestamps).
Issue 25's check that a restructured pipeline writes the same manifest:

    python tools/manifest_diff.py BEFORE/manifest.json AFTER/manifest.json

Prints each differing path and exits 1 when there is one."""

from __future__ import annotations

import json
import sys

#: keys whose values are timings or identities of one run
VOLATILE = {"generation", "created", "convert_s", "p50_us", "p99_us", "mean_us", "timed_calls", "rounds",
            "seconds", "elapsed_s", "us", "ratio", "load_ms", "timings"}


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


def main(argv: list[str]) -> int:
    before, after = (json.load(open(p)) for p in argv)
    found = differences(before, after)
    for line in found:
        print(line)
    print(f"{len(found)} difference(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
