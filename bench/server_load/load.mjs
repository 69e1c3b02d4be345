// Load and faults against a running `fare serve` (started by bench/server_load.sh):
//   node load.mjs BASE_URL SERVER_PID SECONDS BODY_LIMIT_BYTES
// For SECONDS: 32 autocannon connections cycling valid chat, completion and judge requests,
// malformed JSON; beside them oversized bodies, slow senders (a body trickled over seconds),
// clients that leave mid-stream, and bursts of 64 requests at once beyond the queue. Every valid
// request must be answered 200 or refused 429/503; the bad ones 400/413; no 5xx ever, the server
// alive at the end with nothing running or holding KV blocks. Prints a JSON summary; exit 1 on
// any violation.
import autocannon from "autocannon";
import net from "node:net";
import fs from "node:fs";

const [base, pidText, secondsText, limitText] = process.argv.slice(2);
const pid = Number(pidText), seconds = Number(secondsText), bodyLimit = Number(limitText);
const url = new URL(base);
const violations = [];
const tally = {};  // kind -> status -> count
function count(kind, status) {
  tally[kind] ??= {};
  tally[kind][status] = (tally[kind][status] ?? 0) + 1;
}
function expect(kind, status, allowed) {
  count(kind, status);
  if (!allowed.includes(status) && violations.length < 50) violations.push(`${kind}: status ${status}`);
}

const chat = (n) => JSON.stringify({ messages: [{ role: "user", content: `Question ${n}: which answer is right?` }],
                                     max_tokens: 16, temperature: 0.7, seed: n });
const judge = JSON.stringify({ task: "pairwise", instruction: "What is 2+2?", response_a: "4", response_b: "5",
                               options: { max_tokens: 16 } });
const completion = JSON.stringify({ prompt: "The judge reads both answers and", max_tokens: 16 });
const json = { "content-type": "application/json" };
const ok = [200, 429, 503];

// RSS of the server, sampled every 250 ms.
const rss = [];
const rssTimer = setInterval(() => {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
    if (m) rss.push(Number(m[1]) / 1024);
  } catch { violations.push("the server process is gone"); }
}, 250);

// A body sent one byte every 200 ms (a slow sender); the server must still answer it.
function slowSender() {
  return new Promise((resolve) => {
    const body = chat(1);
    const s = net.connect(Number(url.port), url.hostname);
    let i = 0, reply = "";
    s.on("connect", () => {
      s.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
      const t = setInterval(() => {
        if (i < Math.min(body.length, 15)) s.write(body[i++]);
        else { clearInterval(t); s.write(body.slice(i)); }
      }, 200);
    });
    s.on("data", (d) => { reply += d; });
    s.on("close", () => {
      const status = Number(reply.split(" ")[1]);
      // The server's read timeout may give up on a sender this slow: a 4xx or a closed socket is
      // an answer too; a 5xx is not.
      if (status >= 500 || Number.isNaN(status)) count("slow sender", Number.isNaN(status) ? "closed" : status);
      else count("slow sender", status);
      if (status >= 500) violations.push(`slow sender: status ${status}`);
      resolve();
    });
    s.on("error", () => resolve());
  });
}

// A streaming request abandoned after its first chunk.
async function leaver() {
  const ac = new AbortController();
  try {
    const r = await fetch(`${base}/v1/chat/completions`, { method: "POST", headers: json, signal: ac.signal,
      body: JSON.stringify({ messages: [{ role: "user", content: "Tell a long story" }], max_tokens: 4000, stream: true, ignore_eos: true }) });
    count("leaver", r.status);
    if (r.status >= 500) violations.push(`leaver: status ${r.status}`);
    if (r.status === 200) { const rd = r.body.getReader(); await rd.read(); ac.abort(); }
  } catch (e) { if (e.name !== "AbortError") count("leaver", "error"); }
}

// 64 requests at once: beyond the queue, so some must be refused with 429.
async function burst() {
  const all = await Promise.all(Array.from({ length: 64 }, (_, k) =>
    fetch(`${base}/v1/chat/completions`, { method: "POST", headers: json, body: chat(1000 + k) }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    }).catch(() => "error")));
  for (const s of all) expect("burst", s, ok);
}

// A body over the limit. Not in autocannon's cycle: the server answers 413 and closes without
// reading the body, and autocannon would then pair later answers with the wrong requests.
async function oversized() {
  const s = await fetch(`${base}/v1/chat/completions`, { method: "POST", headers: json, body: "x".repeat(bodyLimit + 1),
                                                         signal: AbortSignal.timeout(10000) })
    .then(async (r) => { await r.arrayBuffer(); return r.status; })
    .catch((e) => (e.name === "TimeoutError" ? "no answer in 10 s" : "reset"));
  // The client may see the reset of a connection closed while it was still sending.
  expect("oversized", s, [413, "reset"]);
}

const side = [];
const end = Date.now() + seconds * 1000;
async function loop(fn, pause) {
  while (Date.now() < end) { await fn(); await new Promise((r) => setTimeout(r, pause)); }
}
side.push(loop(slowSender, 500), loop(leaver, 300), loop(burst, 5000), loop(oversized, 200));

const requests = [
  { method: "POST", path: "/v1/chat/completions", headers: json, body: chat(7), onResponse: (s) => expect("chat", s, ok) },
  { method: "POST", path: "/v1/judge", headers: json, body: judge, onResponse: (s) => expect("judge", s, ok) },
  { method: "POST", path: "/v1/chat/completions", headers: json, body: "{\"messages\": [", onResponse: (s) => expect("malformed JSON", s, [400]) },
  { method: "POST", path: "/v1/completions", headers: json, body: completion, onResponse: (s) => expect("completion", s, ok) },
];
const result = await autocannon({ url: base, connections: 32, duration: seconds, requests, timeout: 120 });
await Promise.all(side);
clearInterval(rssTimer);

// Afterwards: alive, idle, no KV blocks held by cancelled work.
let idle = false, metricsText = "";
for (let i = 0; i < 100 && !idle; i++) {
  await new Promise((r) => setTimeout(r, 100));
  metricsText = await (await fetch(`${base}/metrics`)).text();
  const v = (name) => Number((metricsText.match(new RegExp(`^${name}\\{[^}]*\\} (\\S+)`, "m")) ?? [])[1]);
  idle = v("vllm:num_requests_running") === 0 && v("vllm:num_requests_waiting") === 0 && v("vllm:kv_cache_usage_perc") === 0;
}
if (!idle) violations.push("the server did not return to idle with no KV blocks in use");
const health = await fetch(`${base}/health`).then((r) => r.status).catch(() => "down");
if (health !== 200) violations.push(`health after the run: ${health}`);
for (const [code, n] of Object.entries(result.statusCodeStats ?? {}))
  if (Number(code) >= 500 && Number(code) !== 503) violations.push(`autocannon saw ${n} responses ${code}`);

const summary = {
  seconds, connections: 32,
  requests: result.requests.total, throughput_rps: result.requests.average,
  latency_ms: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
  autocannon_errors: result.errors, autocannon_timeouts: result.timeouts,
  by_kind: tally,
  // Before the load, then at each tenth of the run: growth that levels off is pools and stacks
  // filling; a leak keeps climbing.
  rss_mib: { before: rss[0], max: Math.max(...rss),
             by_tenth: Array.from({ length: 10 }, (_, k) => Math.round(rss[Math.min(rss.length - 1, Math.floor((k + 1) * rss.length / 10) - 1)])) },
  idle_after: idle, violations,
};
console.log(JSON.stringify(summary, null, 2));
process.exit(violations.length ? 1 : 0);
