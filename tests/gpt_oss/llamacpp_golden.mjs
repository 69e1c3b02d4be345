// llama.cpp's side of the gpt-oss goldens, through the prebuilt CPU library of node-llama-cpp:
//   node llamacpp_golden.mjs --module DIR MODEL.gguf IN.json OUT.json [--threads 2]
// DIR: where node-llama-cpp 3.21.1 is installed (default ~/.cache/fare/node-llama-cpp-3.21.1).
// IN.json: {"prompts": [{"name", "text", "ids", "tokens"}]}. For each prompt:
//   - llama.cpp's own tokenization of `text` (special-token text parsed as special tokens);
//   - teacher forcing: `tokens` as one batch (512-token micro-batches), the top-20 of every position;
//   - greedy: `ids`, then 32 tokens one decode step at a time (an end-of-generation token does not
//     stop it), with the top-20 of every step.
// Top-20: a top-k(20), temperature-1 sampler chain, which leaves the logits untouched, so
// ln(p_i / p_top) = logit_i - logit_top. F32 K/V cache, flash attention off, 2 threads.
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
};
const moduleDir = flag("--module", path.join(os.homedir(), ".cache/fare/node-llama-cpp-3.21.1"));
const threads = Number(flag("--threads", 2));
const [modelPath, inPath, outPath] = argv;
if (!modelPath || !inPath || !outPath) {
  console.error("usage: node llamacpp_golden.mjs [--module DIR] MODEL.gguf IN.json OUT.json [--threads N]");
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(moduleDir), "package.json"));
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(require.resolve("node-llama-cpp")).href);

const kTopK = 20, kGenerate = 32;
const prompts = JSON.parse(readFileSync(inPath, "utf8")).prompts;
const llama = await getLlama({ gpu: false, build: "never", skipDownload: true, maxThreads: threads,
  logLevel: LlamaLogLevel.warn });
const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
const longest = Math.max(...prompts.map((p) => Math.max(p.tokens.length, p.ids.length + kGenerate)));
const contextOptions = {
  contextSize: Math.ceil((longest + 64) / 256) * 256, batchSize: 512, threads: { ideal: threads, min: threads },
  flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32",
};
const context = await model.createContext(contextOptions);
const sequence = context.getSequence();
const want = { generateNext: { probabilities: true, options: { temperature: 1, topK: kTopK } } };

// Map<token, p> -> ids by descending probability (ties: lower id) and ln(p / p_top).
function top(probabilities) {
  const entries = [...probabilities.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, kTopK);
  const p0 = entries[0][1];
  return { ids: entries.map((e) => e[0]), rel: entries.map((e) => (e[1] > 0 ? Math.log(e[1] / p0) : null)) };
}

const out = {
  package: "node-llama-cpp@3.21.1", release: llama.llamaCppRelease, system_info: llama.systemInfo,
  file: path.basename(modelPath), context: { ...contextOptions, threads, sequences: 1 }, prompts: [],
};
for (const p of prompts) {
  const r = { name: p.name, tokenized: Array.from(model.tokenize(p.text, true)) };
  await sequence.clearHistory();
  const tf = await sequence.controlledEvaluate(p.tokens.map((t) => [t, want]));
  r.top_ids = [];
  r.top_rel = [];
  for (let i = 0; i < p.tokens.length; i++) {
    const t = top(tf[i].next.probabilities);
    r.top_ids.push(t.ids);
    r.top_rel.push(t.rel);
  }
  await sequence.clearHistory();
  const input = p.ids.map((t, i) => (i === p.ids.length - 1 ? [t, want] : t));
  let res = await sequence.controlledEvaluate(input);
  let step = top(res[p.ids.length - 1].next.probabilities);
  r.greedy = [];
  r.greedy_top_ids = [];
  r.greedy_top_rel = [];
  for (let j = 0; j < kGenerate; j++) {
    r.greedy.push(step.ids[0]);
    r.greedy_top_ids.push(step.ids);
    r.greedy_top_rel.push(step.rel);
    if (j + 1 === kGenerate) break;
    res = await sequence.controlledEvaluate([[step.ids[0], want]]);
    step = top(res[0].next.probabilities);
  }
  out.prompts.push(r);
  console.error(`llama.cpp ${path.basename(modelPath)} ${p.name}: ${p.tokens.length} positions, greedy ${r.greedy.slice(0, 8).join(",")}...`);
}
writeFileSync(outPath, JSON.stringify(out) + "\n");
await llama.dispose();
