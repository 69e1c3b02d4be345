// The golden prompts of a gpt-oss fixture, tokenized as Hugging Face does:
//   node prompts.mjs HF_DIR OUT.json
// HF_DIR holds the fixture's tokenizer.json, tokenizer_config.json and chat_template.jinja.
// Tokens come from @lenml/tokenizers (a port of transformers.js) built from that tokenizer.json,
// special-token text mapped to its id, no BOS/EOS added. The judge prompt is a FARE pairwise prompt
// rendered with gpt-oss's chat template by @huggingface/jinja (add_generation_prompt, default
// reasoning effort, strftime_now pinned to 2025-08-05). Every id list is checked to decode back to
// its text. Writes {"prompts": [{"name", "text", "ids"}]}.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { TokenizerLoader } from "@lenml/tokenizers";
import { Environment, Interpreter, Template } from "@huggingface/jinja";

const here = dirname(fileURLToPath(import.meta.url));
const [hfDir, outPath] = process.argv.slice(2);
if (!hfDir || !outPath) {
  console.error("usage: node prompts.mjs HF_DIR OUT.json");
  process.exit(2);
}
const readJson = (p) => JSON.parse(readFileSync(p, "utf8"));
const tok = TokenizerLoader.fromPreTrained({
  tokenizerJSON: readJson(join(hfDir, "tokenizer.json")),
  tokenizerConfig: readJson(join(hfDir, "tokenizer_config.json")),
});
const kDate = "2025-08-05";

function renderChat(messages) {
  const template = new Template(readFileSync(join(hfDir, "chat_template.jinja"), "utf8"));
  const env = new Environment();
  for (const [k, v] of Object.entries({ false: false, true: true, none: null, True: true, False: false, None: null })) {
    env.set(k, v);
  }
  env.set("raise_exception", (msg) => { throw new Error(msg); });
  env.set("strftime_now", (format) => {
    if (format !== "%Y-%m-%d") throw new Error(`unexpected strftime_now format ${format}`);
    return kDate;
  });
  env.set("messages", messages);
  env.set("add_generation_prompt", true);
  return new Interpreter(env).run(template.parsed).value;
}

// The same texts as the Qwen3 goldens (../shared/fixtures/README.md §3).
const kShort = "Once upon a time, in a small village by the sea, there lived";
const fareDir = join(here, "../../../shared/fare/templates");
const fill = (s, vars) => s.replace(/\{(instruction|response_a|response_b)\}/g, (_, k) => vars[k]);
const pairwiseVars = {
  instruction: "Is 91 a prime number? Answer briefly.",
  response_a: "No. 91 = 7 × 13, so it has divisors other than 1 and itself and is not prime.",
  response_b: "Yes, 91 is prime: it is odd and it is not divisible by 3 or 5.",
};
const judge = renderChat([
  { role: "system", content: readFileSync(join(fareDir, "pairwise.system.txt"), "utf8") },
  { role: "user", content: fill(readFileSync(join(fareDir, "pairwise.user.txt"), "utf8"), pairwiseVars) },
]);
const kParagraphs = [
  "The history of computing is a story of abstraction layered on abstraction. Early machines were programmed by rewiring panels; later, stored programs let instructions live in memory next to data. Assemblers, compilers and operating systems followed, each hiding more detail from the programmer while exposing a cleaner model of the machine.",
  "A good evaluation starts with a clear question. Before comparing two answers, a careful reviewer writes down what a correct answer must contain, which mistakes are disqualifying, and which differences are merely stylistic. Only then does the reviewer read the candidates, so that the first answer seen does not quietly become the standard.",
  "Rivers shape the land slowly. Over thousands of years a meandering river cuts into the outer bank of each bend and deposits sand on the inner bank, so the loops drift downstream and grow until floodwater breaks through the narrow neck. The abandoned loop becomes an oxbow lake, which fills with sediment and eventually turns into a marsh.",
  "In numerical linear algebra, the condition number of a matrix measures how much the solution of a linear system can change when the input changes slightly. A well-conditioned system forgives rounding errors; an ill-conditioned one amplifies them. That is why solvers prefer orthogonal transformations, which never make the condition number worse.",
  "def fibonacci(n: int) -> list[int]:\n    \"\"\"Return the first n Fibonacci numbers.\"\"\"\n    seq = [0, 1]\n    while len(seq) < n:\n        seq.append(seq[-1] + seq[-2])\n    return seq[:n]\n\n\nif __name__ == \"__main__\":\n    for i, x in enumerate(fibonacci(10)):\n        print(f\"{i:2d}: {x}\")\n",
  "Bread dough rises because yeast ferments sugars and releases carbon dioxide, which gluten traps in small elastic pockets. Kneading aligns the gluten strands, resting lets them relax, and the final bake sets the structure as water turns to steam and the proteins coagulate. Too little kneading gives a dense crumb; too much heat burns the crust.",
];
const encode = (text) => {
  const ids = tok.encode(text, { add_special_tokens: false });
  const back = tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  assert.equal(back, text, `decode(encode(text)) differs for ${JSON.stringify(text.slice(0, 60))}`);
  return ids;
};
// Grown paragraph by paragraph until it reaches the target length in this tokenizer's tokens.
function longText(target) {
  let text = "";
  for (let i = 0; ; i++) {
    text += (i ? "\n\n" : "") + kParagraphs[i % kParagraphs.length];
    if (encode(text).length >= target) return text;
  }
}

const prompts = [
  { name: "short", text: kShort },
  { name: "judge_pairwise", text: judge },
  { name: "long_600", text: longText(600) },
].map((p) => ({ ...p, ids: encode(p.text) }));
writeFileSync(outPath, JSON.stringify({ date: kDate, prompts }, null, 1) + "\n");
for (const p of prompts) console.error(`${p.name}: ${p.ids.length} tokens`);
