"""Headless Chromium on a web pack, through playwright: the page loads as a person's browser
would load it (from a loopback server), and edgeseq's checks call the page's own module
(window.edgeseq, the Model of edgeseq.js). Arrays cross as base64 float32, both ways, so
nothing is rounded on the way.

`PageRunner` is a Runner and `PageStreamer` a Streamer: parity.check and stream_parity.compare
judge the browser exactly as they judge onnxruntime or TFLM.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import numpy as np

from ...checks.stream_parity import Streamer
from ...errors import EdgeseqError
from ...runtimes.base import Runner, TensorSpec
from . import require_browser
from .pack import PAGE_JSON
from .serve import serving

LOAD_TIMEOUT_MS = 120_000

#: helpers put into the page once it has loaded: base64 ⇄ Float32Array, and the calls below
HELPERS = """() => {
  const toF32 = (b64) => { const s = atob(b64); const u = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i += 1) u[i] = s.charCodeAt(i); return new Float32Array(u.buffer); };
  const toB64 = (f32) => { const u = new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength); let s = '';
    for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode.apply(null, u.subarray(i, i + 0x8000));
    return btoa(s); };
  const m = window.edgeseq;
  window.edgeseqCheck = {
    async predict(feed) {
      const named = Object.fromEntries(Object.entries(feed).map(([k, v]) => [k, { data: toF32(v.b64), dims: v.dims }]));
      const out = await m.predict(named);
      return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { b64: toB64(v.data), dims: v.dims }]));
    },
    // Each sequence (batch, T, ...frame) through one stream, reset before each: the outputs of
    // every step, step-major (T, batch, ...).
    async stream(sequences) {
      const results = [];
      let stream = null;
      for (const seq of sequences) {
        const data = toF32(seq.b64);
        const [batch, steps] = seq.dims;
        const frame = data.length / (batch * steps);
        stream = stream ?? m.stream(batch);
        stream.reset();
        const chunks = []; let dims = null;
        for (let t = 0; t < steps; t += 1) {
          const x = new Float32Array(batch * frame);
          for (let b = 0; b < batch; b += 1) {
            const at = (b * steps + t) * frame;
            x.set(data.subarray(at, at + frame), b * frame);
          }
          const out = await stream.step(x);
          chunks.push(out.data); dims = out.dims;
        }
        const all = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
        let at = 0; for (const c of chunks) { all.set(c, at); at += c.length; }
        results.push({ b64: toB64(all), dims: [steps, ...dims] });
      }
      return results;
    },
    // One step from each given state, all in one batch (stream parity's anchored check):
    // steps (N, ...frame) and states (N, S) → the outputs and the next states.
    async anchored(steps, states) {
      const stream = m.stream(states.dims[0]);
      stream.state = toF32(states.b64);
      const out = await stream.step(toF32(steps.b64));
      return { output: { b64: toB64(out.data), dims: out.dims },
               state: { b64: toB64(stream.state), dims: states.dims } };
    },
    // Per-call latency: `rounds` rounds of `calls` calls, µs per call in each round
    // (performance.now is coarse, 100 µs, in a page that is not cross-origin isolated).
    // mode: window (predict), step (one streamed step), floor (floor.onnx, one Reshape, on a
    // bare onnxruntime-web session: the runtime's own cost of a call), session (the window
    // model on a bare session: what edgeseq.js's predict adds is the difference).
    async bench(feed, rounds, calls, mode, minRoundMs) {
      const named = Object.fromEntries(Object.entries(feed).map(([k, v]) => [k, { data: toF32(v.b64), dims: v.dims }]));
      const first = Object.values(named)[0];
      let once;
      if (mode === 'step') {
        const stream = m.stream(first.dims[0]);
        once = () => stream.step(first.data);
      } else if (mode === 'floor' || mode === 'session') {
        const { ort } = await import('./edgeseq.js');
        const file = mode === 'floor' ? 'floor.onnx' : m.spec.model;
        const options = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
        const session = await ort.InferenceSession.create(file, options);
        const x = new ort.Tensor('float32', first.data, first.dims);
        once = () => session.run({ [session.inputNames[0]]: x });
      } else {
        once = () => m.predict(named);
      }
      const time = async (n) => { const t0 = performance.now(); for (let i = 0; i < n; i += 1) await once();
        return performance.now() - t0; };
      // warm-up for a second: in a freshly started browser the first calls run 2-4x slower
      // (the wasm and JS tiers settle), and edgeseq times pages just opened
      for (const t0 = performance.now(); performance.now() - t0 < 1000;) await time(10);
      // at least `calls` a round, doubled until a round lasts minRoundMs (≥ 50× the timer's step)
      let n = calls;
      while (n < 1e6 && (await time(n)) < minRoundMs) n *= 2;
      const perCall = [];
      for (let r = 0; r < rounds; r += 1) perCall.push(((await time(n)) * 1000) / n);
      return { per_call_us: perCall, calls_per_round: n, threads: m.threads, isolated: self.crossOriginIsolated };
    },
  };
}"""


class _Driver:
    """One playwright driver per process, shared by the pages open at once (its sync API
    cannot be started twice in one thread); stopped when the last page closes."""

    playwright = None
    users = 0

    @classmethod
    def acquire(cls):
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 - the [web] extra

        if cls.playwright is None:
            cls.playwright = sync_playwright().start()
        cls.users += 1
        return cls.playwright

    @classmethod
    def release(cls) -> None:
        cls.users -= 1
        if cls.users == 0 and cls.playwright is not None:
            cls.playwright.stop()
            cls.playwright = None


def encode(array: np.ndarray) -> dict:
    array = np.ascontiguousarray(array, np.float32)
    return {"b64": base64.b64encode(array.tobytes()).decode("ascii"), "dims": list(array.shape)}


def decode(value: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(value["b64"]), np.float32).reshape(value["dims"]).copy()


class BrowserPage:
    """index.html of a pack, open in headless Chromium for the life of the `with` block.
    `isolated` serves it cross-origin isolated (wasm threads possible); `threads` is passed to
    load() as ?threads=N. `from_file`: standalone.html opened from file://, no server."""

    def __init__(self, pack: Path, isolated: bool = False, threads: int = 1, query: str = "",
                 from_file: bool = False):
        self.pack, self.isolated, self.threads, self.query = Path(pack), isolated, threads, query
        self.from_file = from_file
        self.errors: list[str] = []
        self.page_json = json.loads((self.pack / PAGE_JSON).read_text())

    def __enter__(self) -> BrowserPage:
        executable = require_browser()
        from playwright.sync_api import Error  # noqa: PLC0415 - the [web] extra

        self._serving = serving(self.pack, self.isolated)
        self.url = self._serving.__enter__()
        self._playwright = _Driver.acquire()
        try:
            # --no-sandbox: Chromium's sandbox refuses to start as root (CI runs as root)
            args = ["--no-sandbox"] if os.geteuid() == 0 else []
            self._browser = self._playwright.chromium.launch(executable_path=str(executable), headless=True,
                                                             args=args)
            self.page = self._browser.new_page()
            self.page.on("pageerror", lambda e: self.errors.append(str(e)))
            self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
            self.page.on("response", lambda r: r.status >= 400 and self.errors.insert(0, f"{r.url}: HTTP {r.status}"))
            page = (self.pack.resolve() / "standalone.html").as_uri() if self.from_file else f"{self.url}index.html"
            self.page.goto(f"{page}?threads={self.threads}{self.query}")
            self.page.wait_for_selector("body[data-ready=true]", state="attached", timeout=LOAD_TIMEOUT_MS)
            self.page.evaluate(HELPERS)
        except Error as exc:
            self.__exit__(None, None, None)
            detail = self.errors[0] if self.errors else str(exc).splitlines()[0]
            raise EdgeseqError(f"the page did not load in Chromium: {detail}") from None
        return self

    def __exit__(self, *exc) -> None:
        if getattr(self, "_browser", None) is not None:
            self._browser.close()
        _Driver.release()
        self._serving.__exit__(None, None, None)

    def call(self, expression: str, arg=None):
        from playwright.sync_api import Error  # noqa: PLC0415

        try:
            return self.page.evaluate(expression, arg)
        except Error as exc:
            raise EdgeseqError(f"in the page: {str(exc).splitlines()[0]}") from None


def _specs(tensors: list[dict]) -> list[TensorSpec]:
    return [TensorSpec(t["name"], tuple(t.get("shape") or ()), t.get("dtype", "float32")) for t in tensors]


class PageRunner(Runner):
    """The page's window model as a Runner: edgeseq.js predict(), in Chromium."""

    runtime = "web"

    def __init__(self, page: BrowserPage):
        self.browser = page
        self.path = page.pack / page.page_json["model"]
        self.inputs, self.outputs = _specs(page.page_json["inputs"]), _specs(page.page_json["outputs"])

    def infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = self.browser.call("(feed) => window.edgeseqCheck.predict(feed)",
                                {name: encode(batch) for name, batch in feed.items()})
        return {name: decode(value) for name, value in out.items()}


class PageStreamer(Streamer):
    """The page's step model (edgeseq.js stream()) as stream parity drives it."""

    def __init__(self, page: BrowserPage):
        self.browser, self.section = page, page.page_json["streaming"]
        self.runtime, self.artifact = "web", self.section["artifact"]

    def _streams(self, sequences: list[np.ndarray]) -> list[np.ndarray]:
        outs = self.browser.call("(s) => window.edgeseqCheck.stream(s)", [encode(s) for s in sequences])
        # step-major (T, batch, ...) → (batch, T, ...), as Stream.run answers
        return [np.moveaxis(decode(o), 0, 1) for o in outs]

    def run(self, sequences: np.ndarray) -> np.ndarray:
        return self._streams([sequences])[0]

    def anchored(self, steps: np.ndarray, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = self.browser.call("([x, s]) => window.edgeseqCheck.anchored(x, s)", [encode(steps), encode(states)])
        return decode(out["output"]), decode(out["state"])

    def reset_is_exact(self, pair: np.ndarray) -> bool:
        fresh = self._streams([pair[1:2]])[0]
        after_reset = self._streams([pair[0:1], pair[1:2]])[1]
        return bool(np.array_equal(fresh, after_reset))
