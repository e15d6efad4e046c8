"""A conversion child that speaks tflite_worker's protocol and dies of SIGSEGV on the variant
named "crash", as the TFLite converter has been seen to. Used by test_quantization."""

import json
import os
import signal
import sys
from pathlib import Path

if __name__ == "__main__":
    arch, model, route, out_dir, *variants = sys.argv[1:]
    for variant in variants:
        print(json.dumps({"variant": variant, "status": "start"}), flush=True)
        if variant == "crash":
            os.kill(os.getpid(), signal.SIGSEGV)
        path = Path(out_dir) / f"model.{variant}.tflite"
        path.write_bytes(b"converted")
        print(json.dumps({"variant": variant, "status": "end",
                          "outcome": {"ok": True, "path": str(path), "info": {}}}), flush=True)
