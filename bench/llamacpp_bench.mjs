// Speed of llama.cpp, as shipped prebuilt in the npm package node-llama-cpp, on one GGUF file,
// measured the way `fare bench` measures ours: pp = one N-token prompt into an empty KV cache;
// tg = greedy decode of N tokens after a 16-token prompt, timed from the first generated token.
//   node llamacpp_bench.mjs --module DIR MODEL.gguf [--pp 512] [--tg 64] [--reps 1] [--threads 2]
//                           [--flash-attention]
// DIR is the folder where node-llama-cpp is installed (bench/vs_llamacpp.sh manages it).
// Prints one JSON object on stdout; progress goes to stderr.
import {createRequire} from "node:module";
import path from "node:path";
import {pathToFileURL} from "node:url";

const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
};
const moduleDir = flag("--module", process.cwd());
const pp = Number(flag("--pp", 512)), tg = Number(flag("--tg", 64));
const reps = Number(flag("--reps", 1)), threads = Number(flag("--threads", 2));
const fa = argv.indexOf("--flash-attention");
const flashAttention = fa >= 0;
if (flashAttention) argv.splice(fa, 1);
const modelPath = argv[0];
if (!modelPath) {
  console.error("usage: node llamacpp_bench.mjs --module DIR MODEL.gguf [--pp N] [--tg N] [--reps N] [--threads N]");
  process.exit(2);
}

// Resolved from the install folder, not from this script's folder (the repository has no node_modules).
const require = createRequire(path.join(path.resolve(moduleDir), "package.json"));
const {getLlama, LlamaLogLevel} = await import(pathToFileURL(require.resolve("node-llama-cpp")).href);

// The text fare bench repeats, so that both engines see comparable token streams.
const kText = "The history of computing is a story of abstraction layered on abstraction. Early machines were " +
  "programmed by rewiring panels; later, stored programs let instructions live in memory next to data. ";
const kTgPrompt = 16;

const llama = await getLlama({gpu: false, build: "never", skipDownload: true, maxThreads: threads,
  logLevel: LlamaLogLevel.warn});
let start = performance.now();
const model = await llama.loadModel({modelPath, gpuLayers: 0});
const loadSeconds = (performance.now() - start) / 1000;
// Every size explicit: the defaults would use all cores and a KV cache for the full 40k context.
// Flash attention off (unless asked for) and an F32 KV cache: the same arithmetic fare does.
const context = await model.createContext({
  contextSize: Math.max(1024, pp + tg + 64), batchSize: Math.max(pp, 512),
  threads: {ideal: threads, min: threads}, flashAttention,
  experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32"});
const sequence = context.getSequence();

const unit = Array.from(model.tokenize(kText));
const tokens = [];
while (tokens.length < Math.max(pp, kTgPrompt)) tokens.push(...unit);

const out = {engine: "llama.cpp", release: llama.llamaCppRelease, system_info: llama.systemInfo, model: modelPath,
  flash_attention: flashAttention,
  threads: context.currentThreads,
  load_s: loadSeconds, pp: {tokens: pp, runs: []}, tg: {tokens: tg, prompt_tokens: kTgPrompt, runs: []}};
for (let r = 0; r < reps && pp > 0; r++) {
  await sequence.clearHistory();
  start = performance.now();
  await sequence.evaluateWithoutGeneratingNewTokens(tokens.slice(0, pp));
  const s = (performance.now() - start) / 1000;
  out.pp.runs.push({seconds: s, tok_per_s: pp / s});
  console.error(`llama.cpp pp${pp}: ${(pp / s).toFixed(2)} tok/s`);
}
for (let r = 0; r < reps && tg > 0; r++) {
  await sequence.clearHistory();
  let n = 0, first = 0;
  for await (const _ of sequence.evaluate(tokens.slice(0, kTgPrompt), {temperature: 0, yieldEogToken: true})) {
    if (++n === 1) first = performance.now();
    if (n > tg) break;
  }
  const s = (performance.now() - first) / 1000;
  out.tg.runs.push({seconds: s, tok_per_s: tg / s});
  console.error(`llama.cpp tg${tg}: ${(tg / s).toFixed(3)} tok/s`);
}
const median = (xs) => {
  const v = xs.map((x) => x.tok_per_s).sort((a, b) => a - b);
  return v.length === 0 ? 0 : v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
out.pp.tok_per_s = median(out.pp.runs);
out.tg.tok_per_s = median(out.tg.runs);
console.log(JSON.stringify(out));
await llama.dispose();
