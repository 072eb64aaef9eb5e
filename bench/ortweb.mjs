// onnxruntime-web (its wasm execution provider) in Node: time `session.run` on one tensor.
// Usage: node ortweb.mjs MODEL.onnx INPUT.f32 THREADS REPEAT  -> one JSON line on stdout.
import * as ort from 'onnxruntime-web';
import fs from 'node:fs';

const [model, input, threads, repeat] = process.argv.slice(2);
ort.env.wasm.numThreads = parseInt(threads, 10);
const buf = fs.readFileSync(input);
const x = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
let t0 = performance.now();
const session = await ort.InferenceSession.create(fs.readFileSync(model), { executionProviders: ['wasm'] });
const createMs = performance.now() - t0;
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x, [1, 3, 224, 224]) };
let out;
for (let i = 0; i < 3; i++) out = await session.run(feeds);
const times = [];
for (let i = 0; i < parseInt(repeat, 10); i++) {
  const a = performance.now();
  out = await session.run(feeds);
  times.push(performance.now() - a);
}
const o = out[session.outputNames[0]].data;
let top = 0;
for (let i = 1; i < o.length; i++) if (o[i] > o[top]) top = i;
console.log(JSON.stringify({ version: ort.env.versions, threads: ort.env.wasm.numThreads, createMs, times, top }));
process.exit(0);
