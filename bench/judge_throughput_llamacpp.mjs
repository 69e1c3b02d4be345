// The llama.cpp side of bench/judge_throughput.sh: the prompts fare rendered (token ids, one JSON
// line each), each followed by a fixed number of greedy tokens (the end token does not stop it),
// one sequence after another or N sequences of one context at once (llama.cpp batches the
// evaluations of concurrent sequences).
// usage: node judge_throughput_llamacpp.mjs MODEL.gguf PROMPTS.jsonl [--tokens 128] [--sequences 1] [--threads 2]
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import fs from "node:fs";

const args = process.argv.slice(2);
const [modelPath, promptsPath] = args;
if (!modelPath || !promptsPath) { console.error("usage: node judge_throughput_llamacpp.mjs MODEL.gguf PROMPTS.jsonl [--tokens N] [--sequences N] [--threads N]"); process.exit(2); }
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const TOKENS = +opt("--tokens", 128), SEQS = +opt("--sequences", 1), THREADS = +opt("--threads", 2);
const prompts = fs.readFileSync(promptsPath, "utf8").trim().split("\n").map(l => JSON.parse(l).ids);
const longest = Math.max(...prompts.map(p => p.length));

const llama = await getLlama({gpu: false, build: "never", skipDownload: true, maxThreads: THREADS,
  logLevel: LlamaLogLevel.warn});
let t = performance.now();
const model = await llama.loadModel({modelPath, gpuLayers: 0});
const loadS = (performance.now() - t) / 1000;
// The context holds every sequence's prompt and output (llama.cpp splits it between sequences).
const perSeq = longest + TOKENS + 64;
const ctx = await model.createContext({contextSize: perSeq * SEQS, sequences: SEQS, batchSize: 512,
  threads: {ideal: THREADS, min: THREADS}, flashAttention: false});

let next = 0, generated = 0;
const ttft = [];
async function worker() {
  const seq = ctx.getSequence();
  for (let k; (k = next++) < prompts.length;) {
    await seq.clearHistory();
    const t0 = performance.now();
    let n = 0;
    for await (const _tok of seq.evaluate(prompts[k], {temperature: 0, yieldEogToken: true})) {
      if (n === 0) ttft.push((performance.now() - t0) / 1000);
      if (++n >= TOKENS) break;
    }
    generated += n;
  }
  seq.dispose();
}
t = performance.now();
await Promise.all(Array.from({length: SEQS}, worker));
const wall = (performance.now() - t) / 1000;
ttft.sort((a, b) => a - b);
const hwm = +(fs.readFileSync("/proc/self/status", "utf8").match(/VmHWM:\s+(\d+)/) || [0, 0])[1] * 1024;
console.log(JSON.stringify({engine: "llama.cpp", release: llama.llamaCppRelease, model: modelPath, threads: THREADS,
  sequences: SEQS, judgments: prompts.length, tokens_each: TOKENS, load_s: loadS, wall_s: wall,
  judgments_per_hour: prompts.length * 3600 / wall, generated_tokens: generated, generated_tok_per_s: generated / wall,
  prompt_tokens: prompts.reduce((a, p) => a + p.length, 0), ttft_median_s: ttft[Math.floor(ttft.length / 2)],
  peak_rss_bytes: hwm}, null, 1));
await llama.dispose();
