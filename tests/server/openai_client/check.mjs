// The official openai client against a running `fare serve`: every call a client makes for
// chat, streaming, several choices, log-probabilities, legacy completions (whole and streamed) and models, with the
// fields the client and its users read asserted present and typed. Exits non-zero on the first
// missing field.
//   node check.mjs http://127.0.0.1:PORT/v1   (the API key in FARE_API_KEY)
import OpenAI from "openai";
import assert from "node:assert/strict";

const baseURL = process.argv[2];
const apiKey = process.env.FARE_API_KEY;
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const messages = [{ role: "user", content: "Which answer is right, A or B?" }];

function isNum(v, what) { assert.equal(typeof v, "number", `${what} is ${JSON.stringify(v)}`); }
function isStr(v, what) { assert.equal(typeof v, "string", `${what} is ${JSON.stringify(v)}`); }

function checkUsage(u, what) {
  assert.ok(u, `${what}: usage missing`);
  isNum(u.prompt_tokens, `${what} usage.prompt_tokens`);
  isNum(u.completion_tokens, `${what} usage.completion_tokens`);
  assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens, `${what} usage.total_tokens`);
}

async function plain() {
  const models = [];
  for await (const m of client.models.list()) models.push(m);
  assert.ok(models.length >= 1);
  isStr(models[0].id, "model.id");
  assert.equal(models[0].object, "model");
  const model = models[0].id;

  const r = await client.chat.completions.create({ model, messages, max_tokens: 8, temperature: 0 });
  isStr(r.id, "id");
  assert.equal(r.object, "chat.completion");
  isNum(r.created, "created");
  assert.equal(r.model, model);
  assert.equal(r.choices.length, 1);
  const c = r.choices[0];
  assert.equal(c.index, 0);
  assert.equal(c.message.role, "assistant");
  isStr(c.message.content, "message.content");
  assert.ok(["stop", "length", "tool_calls"].includes(c.finish_reason), c.finish_reason);
  checkUsage(r.usage, "chat");
  assert.equal(r.usage.completion_tokens, 8);
  return { model, text: c.message.content, reasoning: c.message.reasoning_content };
}

async function streaming(model, whole) {
  const stream = await client.chat.completions.create({
    model, messages, max_tokens: 8, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let text = "", reasoning = "", finish = null, usage = null, chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    assert.equal(chunk.object, "chat.completion.chunk");
    isStr(chunk.id, "chunk.id");
    if (chunk.usage) usage = chunk.usage;
    for (const ch of chunk.choices) {
      text += ch.delta.content ?? "";
      reasoning += ch.delta.reasoning_content ?? "";
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  assert.ok(chunks >= 3, `${chunks} chunks`);
  assert.equal(text, whole.text, "streamed content differs from the whole answer");
  assert.equal(reasoning, whole.reasoning ?? "");
  assert.equal(finish, "length");
  checkUsage(usage, "stream");

  // The client's own stream helper assembles a whole completion from the chunks.
  const runner = client.chat.completions.stream({ model, messages, max_tokens: 8, temperature: 0 });
  const final = await runner.finalChatCompletion();
  assert.equal(final.choices[0].message.content, whole.text);
}

async function choicesAndLogprobs(model) {
  const r = await client.chat.completions.create({
    model, messages, max_tokens: 5, temperature: 0.8, seed: 7, n: 3, logprobs: true, top_logprobs: 2,
  });
  assert.equal(r.choices.length, 3);
  r.choices.forEach((c, i) => {
    assert.equal(c.index, i);
    const lp = c.logprobs?.content;
    assert.ok(Array.isArray(lp) && lp.length === 5, `choice ${i}: logprobs.content`);
    for (const t of lp) {
      isStr(t.token, "logprob token");
      isNum(t.logprob, "logprob");
      assert.ok(Array.isArray(t.bytes));
      assert.equal(t.top_logprobs.length, 2);
      isNum(t.top_logprobs[0].logprob, "top logprob");
    }
  });
  assert.equal(r.usage.completion_tokens, 15);
}

async function legacy(model) {
  const r = await client.completions.create({ model, prompt: "The judge reads", max_tokens: 3, temperature: 0, echo: true, logprobs: 1 });
  assert.equal(r.object, "text_completion");
  const c = r.choices[0];
  assert.ok(c.text.startsWith("The judge reads"));
  const lp = c.logprobs;
  assert.equal(lp.tokens.length, lp.token_logprobs.length);
  assert.equal(lp.token_logprobs[0], null);
  isNum(lp.token_logprobs[1], "token_logprobs[1]");
  assert.equal(lp.top_logprobs.length, lp.tokens.length);
  checkUsage(r.usage, "completions");

  const stream = await client.completions.create({ model, prompt: "The judge reads", max_tokens: 3, temperature: 0, stream: true });
  let text = "";
  for await (const chunk of stream) for (const ch of chunk.choices) text += ch.text;
  assert.equal("The judge reads" + text, c.text, "streamed completion differs from the echoed whole one");
}

async function errors(model) {
  await assert.rejects(client.chat.completions.create({ model, messages: [], max_tokens: 2 }),
                       (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && typeof e.message === "string");
  const noKey = new OpenAI({ baseURL, apiKey: "wrong", maxRetries: 0 });
  await assert.rejects(noKey.chat.completions.create({ model, messages, max_tokens: 2 }),
                       (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
}

const whole = await plain();
await streaming(whole.model, whole);
await choicesAndLogprobs(whole.model);
await legacy(whole.model);
await errors(whole.model);
console.log("openai client: all checks passed");
