// edgeseq.js: an edgeseq export in the browser, on onnxruntime-web's wasm backend.
// Written by `edgeseq web`; the model files and page.json sit beside it, the runtime in ort/.
//
//   import { load } from './edgeseq.js';
//   const model = await load('.');                 // page.json, the window model, its step model
//   model.predict({ input: { data, dims } })       // → { output: { data: Float32Array, dims } }
//   const s = model.stream(); s.step(frame); s.reset();   // the step model, packed state kept here
//   model.encode('4,3,6,6,6') / model.answer(outputs)     // the problem's own terms (page.json io)
import * as ort from './ort/ort.wasm.bundle.min.mjs';

export { ort };

const product = (dims) => dims.reduce((a, b) => a * b, 1);

function tensor(value, spec) {
  // A bare Float32Array is a batch of the input's own frame shape.
  const { data, dims } = value instanceof Float32Array ? { data: value, dims: null } : value;
  const frame = spec.shape.slice(1);
  const shape = dims ?? [data.length / product(frame), ...frame];
  if (!Number.isInteger(shape[0]) || product(shape) !== data.length) {
    throw new Error(`${spec.name}: ${data.length} values do not fill shape [${shape}]`);
  }
  return new ort.Tensor('float32', Float32Array.from(data), shape);
}

const plain = (outputs) => Object.fromEntries(
  Object.entries(outputs).map(([name, t]) => [name, { data: t.data, dims: Array.from(t.dims) }]));

async function session(url, options) {
  return ort.InferenceSession.create(url, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
    ...options.session,
  });
}

// Runs sessions one at a time: onnxruntime-web refuses a run while another is in flight on
// the same session ("Session already started"), and the page's buttons can overlap.
class Queue {
  constructor() { this.last = Promise.resolve(); }
  run(job) {
    const next = this.last.then(job, job);
    this.last = next.catch(() => {});
    return next;
  }
}

class Model {
  constructor(spec, window, step, decoder) {
    Object.assign(this, { spec, window, step, decoder, queue: new Queue() });
  }

  get inputs() { return this.spec.inputs; }
  get outputs() { return this.spec.outputs; }

  /** Named batches in, named batches out, as edgeseq's Python runners do. A model with one
   * input also takes the batch itself ({ data, dims } or a Float32Array). */
  async predict(feed) {
    const single = feed instanceof Float32Array || feed.data instanceof Float32Array;
    const named = single ? { [this.inputs[0].name]: feed } : feed;
    const tensors = {};
    for (const spec of this.inputs) {
      if (!(spec.name in named)) throw new Error(`missing input ${spec.name}`);
      tensors[spec.name] = tensor(named[spec.name], spec);
    }
    return plain(await this.queue.run(() => this.window.run(tensors)));
  }

  /** A stream over the step model (batch streams side by side), or null when the export
   * cannot stream (page.json's streaming.reason says why). */
  stream(batch = 1) {
    if (!this.step) return null;
    return new Stream(this, batch);
  }

  encode(text) { return encode(this.spec.io.input, this.spec.inputs[0], text); }
  encodeStep(text) { return encodeStep(this.spec.io.input, text); }
  answer(outputs, row = 0) { return answer(this.spec.io.output, outputs, row); }
}

class Stream {
  constructor(model, batch) {
    const s = model.spec.streaming;
    Object.assign(this, { model, batch, section: s });
    this.frame = s.inputs[0].shape.slice(1);
    this.reset();
  }

  /** Back to the zero state: the manifest's reset value. */
  reset() { this.state = new Float32Array(this.batch * this.section.state.size); }

  /** One step (batch × frame values) → that step's output { data, dims }. For an
   * encoder-decoder the decoder runs on the step's encoding: the answer on the steps so far. */
  async step(frame) {
    const s = this.section;
    const feed = {
      [s.inputs[0].name]: new ort.Tensor('float32', Float32Array.from(frame), [this.batch, ...this.frame]),
      [s.state.input]: new ort.Tensor('float32', this.state, [this.batch, s.state.size]),
    };
    const out = await this.model.queue.run(() => this.model.step.run(feed));
    this.state = out[s.state.output].data;
    let result = out[s.outputs[0].name];
    if (this.model.decoder) {
      const d = s.decoder;
      const decoded = await this.model.queue.run(() => this.model.decoder.run({ [d.inputs[0].name]: result }));
      result = decoded[d.outputs[0].name];
    }
    return { data: result.data, dims: Array.from(result.dims) };
  }
}

/**
 * Load an export's web pack: `dir` holds page.json (written by `edgeseq web`) and the models.
 * options.threads: wasm threads (more than 1 needs a cross-origin isolated page);
 * options.session: extra onnxruntime-web session options;
 * options.files: file name → URL in place of dir's files (standalone.html's blob URLs).
 */
export async function load(dir = '.', options = {}) {
  const base = new URL(dir.endsWith('/') ? dir : `${dir}/`, globalThis.location?.href);
  const where = (name) => options.files?.[name] ?? new URL(name, base).href;
  const response = await fetch(where('page.json'));
  if (!response.ok) throw new Error(`page.json: HTTP ${response.status}`);
  const spec = await response.json();
  // The wasm file only: a string prefix would make the bundle fetch its glue (.mjs) too,
  // which it carries built in.
  ort.env.wasm.wasmPaths = { wasm: where('ort/ort-wasm-simd-threaded.wasm') };
  const threads = options.threads ?? 1;
  ort.env.wasm.numThreads = threads;
  const open = (file) => session(where(file), options);
  const s = spec.streaming;
  const [window, step, decoder] = await Promise.all([
    open(spec.model),
    s?.streams ? open(s.artifact) : null,
    s?.decoder ? open(s.decoder.artifact) : null,
  ]);
  const model = new Model(spec, window, step, decoder);
  model.threads = threads;
  return model;
}

// ---- the problem's own terms: page.json's io, declared by the problem (problems/*.py) ----

function fail(message) { throw new Error(message); }

function numbers(text, count, what) {
  const parts = text.replace(/ /g, ',').split(',').map((p) => p.trim()).filter((p) => p);
  if (parts.length !== count) fail(`expected ${count} comma-separated ${what}, got ${parts.length}: '${text}'`);
  return parts;
}

function asInteger(part, text) {
  if (!/^[+-]?\d+$/.test(part)) fail(`'${part}' is not a valid int in '${text}'`);
  return Number.parseInt(part, 10);
}

function asNumber(part, text) {
  const value = Number(part);
  if (part === '' || !Number.isFinite(value)) fail(`'${part}' is not a finite number in '${text}'`);
  return value;
}

function inRange(value, io) {
  if (io.min === undefined) return;
  const upper = io.closed ? value <= io.max : value < io.max;
  if (!(value >= io.min && upper)) fail(`value ${value} is outside [${io.min}, ${io.max}${io.closed ? ']' : ')'}`);
}

function oneHot(indices, depth) {
  const out = new Float32Array(indices.length * depth);
  indices.forEach((v, i) => { out[i * depth + v] = 1; });
  return out;
}

function chars(text, io) {
  const index = new Map([...io.alphabet].map((c, i) => [c, i]));
  const padded = text.padStart(io.width, ' ');
  if (padded.length > io.width) fail(`'${text}' is longer than ${io.width} characters`);
  return oneHot([...padded].map((c) => index.get(c)), io.alphabet.length);
}

/** Text (or, for kind stroke, a list of [row, col] points) → the model's input batch of one. */
export function encode(io, spec, input) {
  const text = typeof input === 'string' ? input : '';
  switch (io.kind) {
    case 'integers': {
      const values = numbers(text, io.count, `integers in ${io.min}..${io.max}`).map((p) => asInteger(p, text));
      for (const v of values) if (v < io.min || v > io.max) fail(`${v} is outside ${io.min}..${io.max} in '${text}'`);
      return { data: oneHot(values, io.depth), dims: [1, io.count, io.depth] };
    }
    case 'sum': {
      const match = new RegExp(io.pattern).exec(text);
      if (!match) fail(`expected ${io.terms} integers joined by '+', e.g. ${io.example}; got '${text}'`);
      const terms = match.slice(1).map((g) => Number.parseInt(g, 10));
      for (const t of terms) if (t < io.min || t > io.max) fail(`${t} is outside ${io.min}..${io.max} in '${text}'`);
      return { data: chars(terms.join('+'), io), dims: [1, io.width, io.alphabet.length] };
    }
    case 'numbers': {
      const values = numbers(text, io.count, io.what).map((p) => asNumber(p, text));
      values.forEach((v) => inRange(v, io));
      return { data: Float32Array.from(values), dims: [1, ...spec.shape.slice(1)] };
    }
    case 'stroke': {
      // Frame f shows every point drawn at steps 0..f (problems/moving_line.py): one point a
      // column, in the order drawn.
      const points = input;
      if (!Array.isArray(points) || points.length !== io.size) fail(`draw a line across all ${io.size} columns`);
      const n = io.size;
      const frames = new Float32Array(n * n * n);
      points.forEach(([row, col], t) => {
        for (let f = t; f < n; f += 1) frames[(f * n + row) * n + col] = 1;
      });
      return { data: frames, dims: [1, n, n, n, 1] };
    }
    case 'rollout':
      return { data: Float32Array.from(io.start), dims: [1, 1, io.start.length] };
    default:
      return fail(`page.json: unknown input kind ${io.kind}`);
  }
}

/** One time step as typed (a line of `edgeseq stream`) → one frame's values. */
export function encodeStep(io, text) {
  if (io.kind === 'integers') {
    const [v] = numbers(text, 1, `integer in ${io.min}..${io.max}`).map((p) => asInteger(p, text));
    if (v < io.min || v > io.max) fail(`${v} is outside ${io.min}..${io.max}`);
    return oneHot([v], io.depth);
  }
  if (io.kind === 'sum') {
    const c = text.trim() || ' ';
    if (c.length !== 1 || !io.alphabet.includes(c)) fail(`expected one character of '${io.alphabet.trim()}', got '${text}'`);
    return chars(c, { ...io, width: 1 });
  }
  const values = numbers(text, io.step_count ?? 1, 'numbers (one time step)').map((p) => asNumber(p, text));
  values.forEach((v) => inRange(v, io));
  return Float32Array.from(values);
}

function argmaxRows(data, width) {
  const out = [];
  for (let i = 0; i < data.length; i += width) {
    let best = 0;
    for (let j = 1; j < width; j += 1) if (data[i + j] > data[i + best]) best = j;
    out.push(best);
  }
  return out;
}

/** Row `row` of the first output, in the problem's terms (problems/*.py decode). */
export function answer(io, outputs, row = 0) {
  const { data, dims } = Object.values(outputs)[0];
  const size = product(dims.slice(1));
  const values = data.subarray(row * size, (row + 1) * size);
  const last = dims[dims.length - 1];
  switch (io.kind) {
    case 'argmax': return argmaxRows(values, last)[0];
    case 'chars': {
      const text = argmaxRows(values, last).map((i) => io.alphabet[i]).join('').trim();
      return /^\d+$/.test(text) ? Number.parseInt(text, 10) : text;
    }
    case 'threshold': {
      const labels = Array.from(values, (v) => (io.labels ? io.labels[Number(v > 0.5)] : Number(v > 0.5)));
      return io.labels ? labels[0] : labels;
    }
    case 'values': return Array.from(values);
    default: return fail(`page.json: unknown output kind ${io.kind}`);
  }
}
