// Per-call latency of an ONNX model in onnxruntime-node, timed as edgeseq's page times
// onnxruntime-web (rounds of awaited calls, doubled until a round lasts min_round_ms), so
// tools/web_latency.py can put the two side by side.
//   node tools/ort_node_latency.mjs NODE_MODULES_DIR MODEL.onnx INPUT.f32 DIMS(1,5,10) ROUNDS MIN_ROUND_MS THREADS
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [modules, model, input, dims, rounds, minRoundMs, threads] = process.argv.slice(2);
const ort = createRequire(join(modules, 'noop.js'))('onnxruntime-node');
const session = await ort.InferenceSession.create(model, {
  executionProviders: ['cpu'], intraOpNumThreads: Number(threads), interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
});
const bytes = readFileSync(input);
const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
const feed = { [session.inputNames[0]]: new ort.Tensor('float32', data, dims.split(',').map(Number)) };
const time = async (n) => {
  const t0 = performance.now();
  for (let i = 0; i < n; i += 1) await session.run(feed);
  return performance.now() - t0;
};
await time(50);
let n = 40;
while ((await time(n)) < Number(minRoundMs)) n *= 2;
const perCall = [];
for (let r = 0; r < Number(rounds); r += 1) perCall.push(((await time(n)) * 1000) / n);
console.log(JSON.stringify({ per_call_us: perCall, calls_per_round: n, version: ort.env.versions?.common ?? null }));
