"""Serve a web pack on loopback: `edgeseq serve` for a quick look, and the page the browser
checks load. Only 127.0.0.1: this is a preview server, not a host for others.

Cross-origin isolation (COOP/COEP headers) is what lets onnxruntime-web use wasm threads
(SharedArrayBuffer); without it the page runs on one thread. A static host can send the same
two headers.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

HOST = "127.0.0.1"
ISOLATION = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}


class _Handler(http.server.SimpleHTTPRequestHandler):
    # wasm must be application/wasm for streaming compilation; .mjs is JavaScript
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript",
                      ".json": "application/json", ".onnx": "application/octet-stream"}
    isolated = False

    def end_headers(self):
        if self.isolated:
            for name, value in ISOLATION.items():
                self.send_header(name, value)
        self.send_header("Cache-Control", "no-store")  # a re-run `edgeseq web` is seen at once
        super().end_headers()

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass


def server(root: Path, port: int = 0, isolated: bool = False) -> http.server.ThreadingHTTPServer:
    handler = type("Handler", (_Handler,), {"isolated": isolated})
    return http.server.ThreadingHTTPServer((HOST, port), functools.partial(handler, directory=str(root)))


@contextlib.contextmanager
def serving(root: Path, isolated: bool = False) -> Iterator[str]:
    """A server on a free loopback port in a thread for the block; yields its base URL."""
    httpd = server(root, 0, isolated)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
