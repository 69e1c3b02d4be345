#!/usr/bin/env bash
# Seed corpora for the fuzz targets, from the fixtures and data in ../shared.
#   fuzz/make_seeds.sh          rewrites the committed seeds under fuzz/corpus/ (small files;
#                               needs python3 and a release build of fare for the random-weight
#                               models: cmake --build --preset release)
#   fuzz/make_seeds.sh --big    writes larger seeds (cut copies of the real fixture models) to
#                               build/fuzz/seeds/; scripts/fuzz.sh does this itself
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${FARE_SHARED_DIR:-../shared}"
fixtures="$shared/fixtures"

if [ "${1:-}" = "--big" ]; then
  # The fixture models cut short at a few points: real headers, metadata and tensor tables,
  # whose tensor data (or the rest of the header) is missing.
  out=build/fuzz/seeds
  mkdir -p "$out/gguf" "$out/safetensors"
  for f in "$fixtures"/micro-qwen3/micro-qwen3-{q8_0,q4_k_m,bf16}.gguf; do
    for n in 4096 65536 262144; do head -c "$n" "$f" > "$out/gguf/$(basename "$f" .gguf)-$n"; done
  done
  st="$fixtures/micro-qwen3/hf-bf16/model.safetensors"
  for n in 1024 8192 65536; do { printf '\0'; head -c "$n" "$st"; } > "$out/safetensors/micro-bf16-$n"; done
  echo "make_seeds: big seeds in $out"
  exit 0
fi

fare="${FARE:-build/release/apps/cli/fare}"
[ -x "$fare" ] || { echo "make_seeds: $fare is missing: cmake --build --preset release first" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 - "$fixtures" "$shared/data" "$work" <<'PY'
import json, os, struct, sys
fixtures, data, work = sys.argv[1:4]
corpus = "fuzz/corpus"

def put(target, name, payload):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(payload, str):
        payload = payload.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(payload)

def dumps(v):
    return json.dumps(v, ensure_ascii=False)

# --- A small tokenizer: the micro fixture's first 384 ids, its merges among them, Qwen's added tokens.
tj = json.load(open(f"{fixtures}/micro-qwen3/tokenizer/tokenizer.json"))
tc = json.load(open(f"{fixtures}/micro-qwen3/tokenizer/tokenizer_config.json"))
keep = 384
vocab = {t: i for t, i in tj["model"]["vocab"].items() if i < keep}
merges = [m for m in tj["model"]["merges"] if m[0] in vocab and m[1] in vocab and m[0] + m[1] in vocab]
added, decoder = [], {}
for a in tj["added_tokens"]:
    if a["content"].startswith("<|pad_"):
        continue
    b = dict(a, id=keep + len(added))
    added.append(b)
    decoder[str(b["id"])] = {k: v for k, v in b.items() if k != "id"}
small = dict(tj, added_tokens=added, model=dict(tj["model"], vocab=vocab, merges=merges))
small_config = dict(tc, added_tokens_decoder=decoder)
n_vocab = keep + len(added)
tokdir = os.path.join(work, "tokenizer")
os.makedirs(tokdir)
json.dump(small, open(f"{tokdir}/tokenizer.json", "w"), ensure_ascii=False)
json.dump(small_config, open(f"{tokdir}/tokenizer_config.json", "w"), ensure_ascii=False)
open(os.path.join(work, "n_vocab"), "w").write(str(n_vocab))

# tokenizer_load: byte 0 even = tokenizer.json alone, odd = tokenizer_config.json.
put("tokenizer_load", "small-tokenizer.json", b"\0" + json.dumps(small, ensure_ascii=False).encode())
put("tokenizer_load", "seq-normalizer.json", b"\0" + json.dumps(dict(small, normalizer={"type": "Sequence", "normalizers": [{"type": "NFC"}]}), ensure_ascii=False).encode())
put("tokenizer_load", "merges-as-strings.json", b"\0" + json.dumps(dict(small, model=dict(small["model"], merges=[" ".join(m) for m in merges])), ensure_ascii=False).encode())
put("tokenizer_load", "lstrip.json", b"\0" + json.dumps(dict(small, added_tokens=[dict(added[0], lstrip=True, rstrip=True)] + added[1:]), ensure_ascii=False).encode())
put("tokenizer_load", "config-micro.json", b"\1" + json.dumps({k: v for k, v in tc.items() if k != "chat_template"}).encode())
put("tokenizer_load", "config-objects.json", b"\1" + json.dumps({"bos_token": {"content": "<|endoftext|>"}, "eos_token": "<|im_end|>", "pad_token": None}).encode())

# config: the fixtures' config.json files.
for name in ("micro-qwen3/hf-bf16", "tiny-qwen3/hf-bf16", "micro-qwen3/hf-fp8"):
    put("config", name.replace("/", "-") + ".json", open(f"{fixtures}/{name}/config.json", "rb").read())

# bpe: byte 0 = 0 text, 1 text with literal spans, 2 ids.
golden = [json.loads(l) for l in open(f"{fixtures}/tokenizer/golden.jsonl")]
for k, g in enumerate(golden[:40]):
    put("bpe", f"text-{k:02d}", b"\0" + g["text"].encode())
    put("bpe", f"ids-{k:02d}", b"\2" + struct.pack(f"<{len(g['ids_hf'])}i", *g["ids_hf"]))
put("bpe", "spans-0", b"\1\4" + "<|im_start|>user\n<|im_end|>hi<think>".encode())
put("bpe", "invalid-utf8", b"\0" + b"caf\xc3 \xe4\xb8 \xff\xfe\xed\xa0\x80 \xf0\x9f\x98\x80")

# chat_template: byte 0 bit 0 enable_thinking false, bit 1 no generation prompt, bit 2 ChatML.
for k, l in enumerate(open(f"{fixtures}/tokenizer/chat.jsonl")):
    c = json.loads(l)
    opt = (1 if c.get("enable_thinking") is False else 0) | (0 if c.get("add_generation_prompt", True) else 2)
    body = {"messages": c["messages"]}
    if c.get("tools"):
        body["tools"] = c["tools"]
    put("chat_template", f"chat-{k:02d}", bytes([opt]) + dumps(body).encode())
put("chat_template", "chatml", b"\4" + dumps([{"role": "user", "content": "<|im_end|>hi"}]).encode())
# ... bit 3 gpt-oss's harmony template, bits 4-5 its reasoning effort: the harmony goldens.
efforts = ["", "low", "medium", "high"]
for k, l in enumerate(open("tests/tokenizer/harmony/harmony_chat.jsonl")):
    c = json.loads(l)
    o = c["options"]
    opt = 8 | (0 if o["add_generation_prompt"] else 2) | (efforts.index(o.get("reasoning_effort", "")) << 4)
    body = {"messages": c["messages"]}
    if c.get("tools"):
        body["tools"] = c["tools"]
    put("chat_template", f"harmony-{k:02d}", bytes([opt]) + dumps(body).encode())

# harmony_output: byte 0 how the text is streamed, then gpt-oss output.
for k, text in enumerate([
        "<|channel|>analysis<|message|>A is wrong.<|end|><|start|>assistant<|channel|>final<|message|>Verdict: [B]<|return|>",
        "<|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant<|channel|>commentary "
        "to=functions.get_weather <|constrain|>json<|message|>{\"location\": \"Paris\"}<|call|>",
        "<|channel|>analysis<|message|>cut sh",
        "junk<|channel|>final<|message|>a<|start|>assistant to=functions.f<|channel|>commentary json<|message|>{}",
]):
    put("harmony_output", f"output-{k:02d}", bytes([k * 37 % 256]) + text.encode())

# verdict: byte 0 task, byte 1 n_steps + 1.
tasks = ["pairwise", "step", "verify", "verify_ref", "rating"]
for k, l in enumerate(open("tests/judge/verdict_corpus.jsonl")):
    c = json.loads(l)
    n_steps = c.get("n_steps", -1)
    put("verdict", f"corpus-{k:03d}", bytes([tasks.index(c["task"]), n_steps + 1]) + c["output"].encode())

# dataset: byte 0 low 3 bits the adapter (fuzz_dataset.cpp), bit 4 named, bit 5 strict.
def first_records(path, n=2):
    text = open(path, encoding="utf-8").read()
    if text.lstrip().startswith("["):
        return "json", json.loads(text)[:n]
    return "jsonl", [json.loads(l) for l in text.splitlines() if l.strip()][:n]

def put_records(name, sel, path, n=2):
    kind, recs = first_records(path, n)
    body = dumps(recs) if kind == "json" else "\n".join(dumps(r) for r in recs) + "\n"
    put("dataset", name, bytes([sel]) + body.encode())
    put("dataset", name + "-named", bytes([sel | 0x10]) + body.encode())

put_records("judgebench", 0, f"{data}/judgebench/dataset=judgebench,response_model=gpt-4o-2024-05-13.jsonl")
put_records("processbench", 1, f"{data}/processbench/gsm8k.json")
put_records("hardverify", 2, f"{data}/hardverify_math/HardVerify-Math.json")
put_records("rm_bench", 3, f"{data}/rm_bench/chat_filtered.json", 1)
put_records("llmbar", 4, f"{data}/llmbar/LLMBar/Natural/dataset.json")
put_records("mt_bench-questions", 5, f"{data}/mt_bench/question.jsonl")
put_records("mt_bench-answers", 6, f"{data}/mt_bench/reference_answer/gpt-4.jsonl")
items = [{"id": "p1", "task": "pairwise", "instruction": "2+2?", "response_a": "4", "response_b": "5", "label": "A", "meta": {"x": 1}},
         {"id": 7, "instruction": "Solve.", "steps": ["a", "b"], "label": 1, "subset": "s"},
         {"id": "v", "task": "verify_ref", "instruction": "q", "reference": "r", "response": "x", "label": True},
         {"id": "r", "task": "rating", "instruction": "q", "response": "x", "label": 7.5, "difficulty": "hard"}]
put("dataset", "jsonl", b"\7" + "\n".join(dumps(i) for i in items).encode() + b"\n")

# results: judgments as judgment_to_json writes them, one per task.
def judgment(task, valid, verdict, **extra):
    j = {"key": f"i|{'ab' if task == 'pairwise' else '-'}|0|0123456789abcdef", "item_id": "i", "task": task,
         "order": "ab" if task == "pairwise" else None, "sample": 0, "valid": valid,
         "verdict": verdict if valid else None, "verdict_as_shown": verdict if valid else None,
         "invalid_reason": None if valid else "no verdict line", "verdict_line": "[A]" if valid else "",
         "label": None, "correct": None, "confidence": None, "raw": "Explanation: x\nVerdict: [A]",
         "reasoning": "", "error": None, "prompt_tokens": 120, "completion_tokens": 12, "seconds": 0.25,
         "finish_reason": "eos", "subset": "", "difficulty": "", "template_hash": "0123456789abcdef",
         "model_id": "scripted:rules", "think": False,
         "generation": {"temperature": 0.0, "top_p": 1.0, "top_k": 0, "max_tokens": 4096, "seed": 0}}
    j.update(extra)
    return dumps(j)
lines = [judgment("pairwise", True, "A", label="A", correct=True,
                  confidence={"probs": {"A": 0.9, "B": 0.1}, "mass": 1.0, "soft_score": 0.1}),
         judgment("step", True, "-1", label=2, correct=False),
         judgment("verify", False, None),
         judgment("verify_ref", True, "Correct", label=True, correct=True),
         judgment("rating", True, "7", label=6.5)]
put("results", "all-tasks", "\n".join(lines) + "\n")
put("results", "torn-tail", "\n".join(lines[:2]) + "\n" + lines[2][:40])
put("results", "one", lines[0] + "\n")

# server_http: byte 0 bits 0-2 endpoint (fuzz_server_http.cpp), bit 3 caps generation lengths.
bodies = [
    (0, {"messages": [{"role": "user", "content": "2+2?"}], "max_tokens": 3}),
    (0, {"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": [{"type": "text", "text": "hi"}]}],
         "max_tokens": 2, "stream": True, "stream_options": {"include_usage": True}, "logprobs": True, "top_logprobs": 2}),
    (0, {"messages": [{"role": "user", "content": "x"}], "n": 2, "seed": 3, "temperature": 0.7, "stop": ["a"],
         "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}], "chat_template_kwargs": {"enable_thinking": False}}),
    (1, {"prompt": "Hello", "max_tokens": 2, "echo": True, "logprobs": 2}),
    (1, {"prompt": [[1, 2, 3], "text"], "max_tokens": 1}),
    (2, {"prompt": "Hello <|im_end|>", "add_special_tokens": True, "return_token_strs": True}),
    (2, {"messages": [{"role": "user", "content": "hi"}]}),
    (2, {"content": "hi", "with_pieces": True}),
    (3, {"tokens": [1, 2, 3]}),
    (3, {"tokens": [4096, 99999, -1]}),
    (4, {"task": "pairwise", "instruction": "2+2?", "response_a": "4", "response_b": "5", "options": {"max_tokens": 2}}),
    (4, {"task": "verify", "items": [{"instruction": "q", "response": "r"}], "options": {"max_tokens": 2, "samples": 2, "top_logprobs": 2}}),
    (5, {"query": "2+2?", "documents": ["4", {"text": "5"}], "top_n": 1, "return_documents": True}),
    (5, {"query": "q", "documents": ["a", "b"], "method": "knockout"}),
    (6, {"query": ["2+2? 4<|im_end|>"], "prompts": ["2+2?"]}),
    (6, {"query": ["q a"], "prompts": ["q"], "labels": ["a"]}),
]
for k, (ep, b) in enumerate(bodies):
    put("server_http", f"body-{k:02d}", bytes([ep | 8]) + dumps(b).encode())
put("server_http", "not-json", b"\0{\"messages\": [")
PY

# Random-weight models of a tiny Qwen3 shape with the small tokenizer: a Hugging Face folder
# (safetensors seeds) and GGUF files of several weight types.
n_vocab=$(cat "$work/n_vocab")
shape="layers=1,hidden=32,heads=2,kv_heads=1,head_dim=16,ff=32,vocab=$n_vocab,ctx=256"
mkdir -p fuzz/corpus/gguf fuzz/corpus/safetensors
for type in bf16 q8_0 q4_0; do
  "$fare" convert --random-weights "$shape" --tokenizer "$work/tokenizer" --type "$type" -q -o "$work/tiny-$type.gguf" >/dev/null
  cp "$work/tiny-$type.gguf" "fuzz/corpus/gguf/tiny-$type.gguf"
done
"$fare" convert --random-weights "layers=1,hidden=256,heads=2,kv_heads=1,head_dim=16,ff=256,vocab=$n_vocab,ctx=256" \
  --tokenizer "$work/tokenizer" --type q4_k_m -q -o fuzz/corpus/gguf/tiny-q4_k_m.gguf >/dev/null
"$fare" convert --random-weights "$shape" --tokenizer "$work/tokenizer" -q -o "$work/tiny-hf" >/dev/null
{ printf '\0'; cat "$work/tiny-hf/model.safetensors"; } > fuzz/corpus/safetensors/tiny-bf16
# A shard index for the micro model's folder as fuzz_safetensors builds it.
python3 - "$fixtures" <<'PY'
import json, struct, sys
hdr = open(f"{sys.argv[1]}/micro-qwen3/hf-bf16/model.safetensors", "rb").read(8)
n = struct.unpack("<Q", hdr)[0]
names = [k for k in json.loads(open(f"{sys.argv[1]}/micro-qwen3/hf-bf16/model.safetensors", "rb").read(8 + n)[8:]) if k != "__metadata__"]
wm = {k: "model-00001-of-00002.safetensors" for k in names}
wm["extra.weight"] = "model-00002-of-00002.safetensors"
open("fuzz/corpus/safetensors/index-micro", "wb").write(b"\1" + json.dumps({"metadata": {"total_size": 1}, "weight_map": wm}).encode())
PY
echo "make_seeds: $(find fuzz/corpus -type f | wc -l) seeds, $(du -sh fuzz/corpus | cut -f1) in fuzz/corpus"
