/**
 * The local neural model (lib/backends/local/): native library loading, committed weights, tokenizer,
 * sampler, corpus, generation and LoRA tuning. Runs on the CPU in well under a minute: it tunes
 * the small model on a few dozen rows for a few steps.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  COMPLETION_PREFIX,
  CONTINENTS,
  SAMPLING_PARAMETERS,
  TEXT_PREFIX,
} from "../lib/cookbook.ts";
import { generateEvalSet, generateTrainingSet } from "../lib/datasets/mod.ts";
import { getTaxonomy } from "../lib/countries/mod.ts";
import {
  ANY_ORDER_MIX,
  BLOCKS_MIX,
  COPY_HEAVY_MIX,
  CORPUS_KINDS,
  CORPUS_MIX,
  CORPUS_VERSION,
  CorpusGenerator,
  type CorpusMix,
  filterAnswer,
  FIND_MIX,
  ORDER_MIX,
  SKILLS_MIX,
} from "../lib/backends/local/corpus.ts";
import { LocalEngine } from "../lib/backends/local/engine.ts";
import { Generator } from "../lib/backends/local/generate.ts";
import { readGguf } from "../lib/backends/local/gguf.ts";
import {
  loadBaseModel,
  LOCAL_MODEL_NAMES,
  readManifest,
  sha256File,
  weightsPath,
} from "../lib/backends/local/models.ts";
import { createRng, mix32 } from "../lib/backends/local/random.ts";
import { RepeatPenalty, sampleToken, type Sampling } from "../lib/backends/local/sampler.ts";
import { TOKEN, Tokenizer } from "../lib/backends/local/tokenizer.ts";
import {
  completionLoss,
  loadAdapter,
  saveAdapter,
  tune,
  type TuningRow,
} from "../lib/backends/local/tune.ts";
import { localVocabulary, maxItemsAt } from "../lib/backends/local/pretrain.ts";
import { scoreAnswer } from "../lib/scoring/score.ts";
import { countTokens } from "../lib/backends/tokenizer.ts";

const SAMPLING: Sampling = { ...SAMPLING_PARAMETERS, seed: 7 };

function rowsOf(seed: number, n: number): TuningRow[] {
  return generateTrainingSet({ rows: n, seed }).map((r) => ({
    messages: [{ role: "user", content: r.text }],
    completion: r.completion,
  }));
}

Deno.test("local model: a missing native library is a clear error naming what to install", async () => {
  const code = `import { loadNative } from "${new URL(
    "../lib/backends/local/native.ts",
    import.meta.url,
  )}";
try { loadNative(); console.log("loaded"); } catch (e) { console.log(e.name + ": " + e.message); }`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    env: { LOCAL_MODEL_LIB_DIR: "/nonexistent/ggml" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.match(text, /^NativeLibraryError: .*@node-llama-cpp\/linux-x64@3\.22\.1.*deno install/m);
});

Deno.test("local model: committed weights match their manifests' SHA-256", async () => {
  for (const name of LOCAL_MODEL_NAMES) {
    const m = await readManifest(name);
    assert.equal(await sha256File(weightsPath(name)), m.sha256, name);
    assert.equal((await Deno.stat(weightsPath(name))).size, m.bytes, name);
    assert.ok(m.lossCurve.length > 0 && m.seconds > 0, name);
  }
});

Deno.test("local model: a corrupted weights file is refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const name = "local-250k";
    await Deno.copyFile(join(weightsPath(name), "..", `${name}.json`), join(dir, `${name}.json`));
    const bytes = await Deno.readFile(weightsPath(name));
    bytes[bytes.length - 1] ^= 0xff;
    await Deno.writeFile(join(dir, `${name}.gguf`), bytes);
    await assert.rejects(() => loadBaseModel(name, dir), /SHA-256 .* does not match/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("local model: the tokenizer covers the task's Korean text and round-trips it", () => {
  const tok = new Tokenizer(localVocabulary());
  const rows = generateTrainingSet({ rows: 200, seed: 3 });
  for (const r of rows) {
    assert.deepEqual(tok.unknownChars(r.text + r.completion), []);
    assert.equal(tok.decode(tok.encode(r.completion)), r.completion);
  }
  const chat = tok.encodeChat([{ role: "user", content: "일본" }], "아시아");
  assert.deepEqual(chat.ids.slice(0, 2), [TOKEN.bos, TOKEN.user]);
  assert.equal(chat.ids[chat.answerStart - 1], TOKEN.assistant);
  assert.equal(chat.ids.at(-1), TOKEN.eos);
  assert.equal(tok.decode(chat.ids.slice(chat.answerStart)), "아시아");
  // names and the separator are whole tokens, the longest that matches; other text is syllables
  const text = "남수단, 수단, 적도 기니는 아프리카에";
  const pieces = tok.encode(text).map((id) => tok.tokens[id]);
  assert.deepEqual(pieces, [
    "남수단",
    ", ",
    "수단",
    ", ",
    "적도 기니",
    "는",
    " ",
    "아프리카",
    "에",
  ]);
  assert.equal(tok.decode(tok.encode(text)), text);
});

Deno.test("local model: the sampler honours temperature, top-k, top-p and repeat penalty", () => {
  const logits = new Float32Array(12);
  logits.set([5, 4.9, 1, 0.5, 0.2], 7);
  const p: Sampling = { temperature: 0, topP: 1, topK: 0, repeatPenalty: 1, maxTokens: 9, seed: 1 };
  assert.equal(sampleToken(logits, [], p, createRng(1)), 7);
  // the penalty divides a positive logit: 5 / 1.2 < 4.9
  assert.equal(sampleToken(logits, [7], { ...p, repeatPenalty: 1.2 }, createRng(1)), 8);
  const draws = (q: Partial<Sampling>) =>
    new Set(
      Array.from({ length: 200 }, (_, i) =>
        sampleToken(logits, [], { ...p, ...q }, createRng(mix32(i)))),
    );
  assert.deepEqual(draws({ temperature: 1, topK: 1 }), new Set([7]));
  assert.deepEqual(draws({ temperature: 1, topP: 0.5 }), new Set([7]));
  assert.deepEqual(draws({ temperature: 1, topK: 2 }), new Set([7, 8]));
  assert.ok(draws({ temperature: 5 }).size > 3);
  for (const t of draws({ temperature: 5 })) assert.ok(t === TOKEN.eos || t >= 7);
});

Deno.test("local model: the repeat penalty applies to repeated words, not to marks, whitespace or shared syllables", () => {
  const tok = new Tokenizer(localVocabulary());
  const penalty = new RepeatPenalty(tok.tokens);
  const id = (text: string) => {
    const ids = tok.encode(text);
    assert.equal(ids.length, 1, text);
    return ids[0];
  };
  const after = (text: string) => penalty.penalised(tok.encode(text));
  const written = after("일본, 케냐\n아시아: 몽골, ");
  assert.ok(written.has(id("일본")), "a name written before is penalised");
  assert.ok(written.has(id("아시아")));
  for (const t of [", ", ":", " ", "\n", "일", "케", "유럽"]) assert.ok(!written.has(id(t)), t);
  // a word spelt in syllables is penalised from its second syllable on
  assert.ok(after("가나다라, 가").has(id("나")));
  assert.ok(!after("가나다라, 다").has(id("나")));
  assert.ok(!after("가나다라, 가").has(id("가")));
  // the penalty (divides 일본's logit by 1.2) puts 일본 below 케냐 only when it is on
  const logits = new Float32Array(tok.size);
  logits[id("일본")] = 5;
  logits[id("케냐")] = 4.5;
  logits[id(", ")] = 4.8;
  const p: Sampling = {
    temperature: 0,
    topP: 1,
    topK: 0,
    repeatPenalty: 1.2,
    maxTokens: 9,
    seed: 1,
  };
  const recent = tok.encode("일본, 몽골, ");
  assert.equal(sampleToken(logits, recent, p, createRng(1), penalty), id(", "));
  logits[id(", ")] = 0;
  assert.equal(sampleToken(logits, recent, p, createRng(1), penalty), id("케냐"));
  assert.equal(
    sampleToken(logits, recent, { ...p, repeatPenalty: 1 }, createRng(1), penalty),
    id("일본"),
  );
});

Deno.test("local model: the curriculum writes short lists first and the cookbook's lengths by its end", () => {
  const c = { startItems: 6, fullAt: 0.5 };
  assert.equal(maxItemsAt(1, 1000, c), 6);
  assert.equal(maxItemsAt(501, 1000, c), 30);
  assert.equal(maxItemsAt(1000, 1000, c), 30);
  const g = new CorpusGenerator(9);
  const longest = (max: number) => {
    g.maxItems = max;
    let most = 0;
    for (const e of g.take(300)) {
      if ("document" in e || e.kind === "question") continue;
      const list = e.messages[0].content.split("\n\n")[1];
      most = Math.max(most, list.split(", ").length);
    }
    return most;
  };
  assert.equal(longest(6), 6);
  assert.equal(longest(30), 30);
});

Deno.test("local model: the corpus never contains the cookbook's continent-sorting format", () => {
  // One `대륙: …` block (the `first-block` and `find-any-order` kinds) is a step of a sorted
  // answer; two blocks, or the cookbook's request or preamble, would be the sorting format itself.
  const block = new RegExp(`^\\s*(${CONTINENTS.join("|")})\\s*:`, "gm");
  const kinds = new Set<string>();
  let oneBlock = 0;
  for (const mix of [CORPUS_MIX, SKILLS_MIX, FIND_MIX, ORDER_MIX, ANY_ORDER_MIX]) {
    for (const e of new CorpusGenerator(2024, undefined, mix).take(3000)) {
      kinds.add(e.kind);
      const text = "document" in e
        ? e.document
        : [...e.messages.map((m) => m.content), e.answer].join("\n");
      assert.ok(!text.includes(COMPLETION_PREFIX.trim()), text);
      assert.ok(!text.includes(TEXT_PREFIX.trim()), text);
      const blocks = text.match(block)?.length ?? 0;
      assert.ok(blocks <= 1, text);
      if (blocks) {
        assert.ok(e.kind === "first-block" || e.kind === "find-any-order", text);
        oneBlock++;
      }
    }
  }
  assert.equal(kinds.size, CORPUS_KINDS.length);
  assert.ok(oneBlock > 0);
});

Deno.test("local model: the corpus's finding tasks pick the right continent's countries, in list order or in any order as asked", () => {
  const taxonomy = getTaxonomy("un");
  const continentOf = new Map(taxonomy.countries.map((c) => [c.name, c.continent]));
  const only = (kind: string) =>
    Object.fromEntries(CORPUS_KINDS.map((k) => [k, k === kind ? 1 : 0])) as typeof CORPUS_MIX;
  // `first-block`: the continent of the list's first country, and its countries, in one block.
  let partial = 0;
  for (const e of new CorpusGenerator(11, taxonomy, only("first-block")).take(200)) {
    assert.ok(!("document" in e));
    const list = e.messages[0].content.split("\n\n")[1].split(", ");
    const cont = continentOf.get(list[0])!;
    const picked = list.filter((c) => continentOf.get(c) === cont);
    assert.equal(e.answer, `${cont}: ${picked.join(", ")}`);
    if (picked.length < list.length) partial++;
  }
  assert.ok(partial > 100, "most lists have countries of other continents to leave out");
  // `filter-after`: the list first, then the continent; answered as `filter` answers.
  for (const e of new CorpusGenerator(12, taxonomy, only("filter-after")).take(200)) {
    assert.ok(!("document" in e));
    const [list, ask] = e.messages[0].content.split("\n\n");
    const cont = CONTINENTS.find((c) => ask.includes(`${c}에`))!;
    const picked = list.split(", ").filter((c) => continentOf.get(c) === cont);
    assert.equal(e.answer, filterAnswer(cont, picked));
  }
  // `find-any-order`: the list first, then the continent; its countries in one block, each once,
  // not always in list order.
  let reordered = 0;
  for (const e of new CorpusGenerator(13, taxonomy, only("find-any-order")).take(200)) {
    assert.ok(!("document" in e));
    const [list, ask] = e.messages[0].content.split("\n\n");
    const cont = CONTINENTS.find((c) => ask.includes(`${c}에`))!;
    const picked = list.split(", ").filter((c) => continentOf.get(c) === cont);
    const [head, names] = e.answer.split(": ");
    assert.equal(head, cont);
    assert.deepEqual(names.split(", ").toSorted(), picked.toSorted());
    if (names !== picked.join(", ")) reordered++;
  }
  assert.ok(reordered > 100, "most answers are in another order than the list's");
});

Deno.test("local model: the corpus streams a checkpoint resumes under are those of its version", async () => {
  // A checkpoint records CORPUS_VERSION and resumes only under it, so the examples a seed and a
  // mix give must not change without it. Digests of the first 400 examples of seed 2024 under
  // each mix of "corpus v3"; a change to them must come with a new version (and these digests).
  assert.equal(CORPUS_VERSION, "corpus v3");
  const expected: [CorpusMix, string][] = [
    [CORPUS_MIX, "8995a70e4fb219058ebf7883882df9113334435ccdf76557e59cb4d3c20a486b"],
    [COPY_HEAVY_MIX, "772c15d55b3490098b9b255ead7938f3c426f6e589ed13d01e6c6575cc928819"],
    [SKILLS_MIX, "5a30fd95de2ea668b18e7c29bb1ce284cd34ae33a3945b9b36bf4f92e8067af6"],
    [BLOCKS_MIX, "b940defa0c1feef911d0258f48e580040c6aade1bca24fe16aa6681266c4ad93"],
  ];
  for (const [mix, digest] of expected) {
    const text = new CorpusGenerator(2024, undefined, mix).take(400)
      .map((e) => JSON.stringify(e) + "\n").join("");
    const bytes = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
    );
    const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
    assert.equal(hex, digest, JSON.stringify(mix));
  }
});

Deno.test("local model: every token of the cookbook's request and preamble is one pretraining uses", () => {
  // Tuning trains LoRA adapters on frozen base weights: a token the corpus never has keeps its
  // untrained embedding and output row, and no amount of tuning teaches a model to write it.
  const vocabulary = localVocabulary();
  // The corpus's templates decide the vocabulary: the committed weights must still fit it.
  for (const name of LOCAL_MODEL_NAMES) {
    const file = readGguf(weightsPath(name));
    assert.deepEqual(file.metadata["tokenizer.tokens"], vocabulary, name);
  }
  const tok = new Tokenizer(vocabulary);
  const used = new Set<number>();
  for (const mix of [CORPUS_MIX, SKILLS_MIX, BLOCKS_MIX, FIND_MIX, ORDER_MIX, ANY_ORDER_MIX]) {
    for (const e of new CorpusGenerator(7, undefined, mix).take(2000)) {
      const ids = "document" in e
        ? tok.encodeDocument(e.document)
        : tok.encodeChat(e.messages, e.answer).ids;
      for (const id of ids) used.add(id);
    }
  }
  for (const text of [TEXT_PREFIX, COMPLETION_PREFIX]) {
    const unused = tok.encode(text).filter((id) => !used.has(id)).map((id) => tok.tokens[id]);
    assert.deepEqual(unused, [], JSON.stringify(text));
  }
});

Deno.test("local model: generation is deterministic for a seed and answers concurrent requests alike", async () => {
  const model = await loadBaseModel("local-250k");
  const gen = new Generator(model.config, model.weights, undefined, model.tokenizer.tokens, 4);
  try {
    const prompt =
      model.tokenizer.encodeChat([{ role: "user", content: `${TEXT_PREFIX}일본, 독일, 케냐` }]).ids;
    const s = { ...SAMPLING, maxTokens: 40 };
    const [a, b, c] = await Promise.all([
      gen.generate(prompt, s),
      gen.generate(prompt, s),
      gen.generate(prompt, { ...s, seed: 8 }),
    ]);
    assert.deepEqual(a, b);
    const again = await gen.generate(prompt, s);
    assert.deepEqual(again, a);
    const others = await Promise.all(
      [9, 10, 11, 12].map((seed) => gen.generate(prompt, { ...s, seed, temperature: 1 })),
    );
    assert.ok(
      [c, ...others].some((o) => o.ids.join() !== a.ids.join()),
      "seeds never changed the answer",
    );
    // maxTokens counts the answer as the emulator counts a service's tokens
    assert.ok(countTokens(model.tokenizer.decode(a.ids)) <= 40);
  } finally {
    await gen.close();
    model.weights.free();
  }
});

Deno.test("local model: the engine makes one generator for chats that ask at once, and closes idle ones past keep", async () => {
  const engine = new LocalEngine({ keep: 1, slots: 4 });
  try {
    const messages = [{ role: "user" as const, content: `${TEXT_PREFIX}일본, 독일, 케냐` }];
    const s = { ...SAMPLING, maxTokens: 20 };
    const answers = await Promise.all(
      [1, 2, 3, 4, 5, 6].map(() => engine.chat("local-250k", undefined, messages, s)),
    );
    assert.equal(engine.openGenerators, 1);
    assert.ok(answers.every((a) => a.text === answers[0].text));
    await engine.chat("local-1m", undefined, messages, s);
    assert.equal(engine.openGenerators, 1, "the idle generator past keep is closed");
  } finally {
    await engine.close();
  }
  assert.equal(engine.openGenerators, 0);
});

Deno.test("local model: an untuned base model's answers are scored with missing, extended or format errors", async () => {
  const model = await loadBaseModel("local-250k");
  const gen = new Generator(model.config, model.weights, undefined, model.tokenizer.tokens, 8);
  try {
    const prompts = generateEvalSet({ seed: 2024, prompts: 8 });
    const scores = await Promise.all(prompts.map(async (p) => {
      const out = await gen.generate(
        model.tokenizer.encodeChat([{ role: "user", content: p.user }]).ids,
        SAMPLING,
      );
      return scoreAnswer(p.countries, model.tokenizer.decode(out.ids));
    }));
    assert.ok(scores.filter((s) => s.hasError).length >= 6, "the base model should mostly fail");
    const missing = scores.reduce((n, s) => n + s.missing, 0);
    const extended = scores.reduce((n, s) => n + s.extended, 0);
    const format = scores.filter((s) => s.formatError).length;
    assert.ok(missing > 0, "no missing countries");
    assert.ok(extended + format > 0, "neither extended countries nor format errors");
  } finally {
    await gen.close();
    model.weights.free();
  }
});

Deno.test("local model: LoRA tuning lowers the held-out completion loss and leaves the base frozen", async () => {
  const model = await loadBaseModel("local-250k");
  const dir = await Deno.makeTempDir();
  try {
    const train = rowsOf(11, 24);
    const held = rowsOf(12, 6);
    const embd = model.weights.read("token_embd.weight");
    const before = await completionLoss(model, undefined, held);
    const steps: number[] = [];
    const r = await tune(model, train, {
      epochs: 2,
      learningRate: 3e-3,
      rank: 8,
      alpha: 16,
      batch: 8,
      seed: 1,
      onStep: (s) => steps.push(s.step),
    });
    assert.equal(r.stepsPerEpoch, 3);
    assert.deepEqual(steps, [1, 2, 3, 4, 5, 6]);
    assert.ok(r.stepLoss.every(Number.isFinite));
    const after = await completionLoss(model, r.lora, held);
    assert.ok(after < before - 0.05, `held-out loss ${before} → ${after}`);
    assert.deepEqual(model.weights.read("token_embd.weight"), embd);
    const path = join(dir, "adapter.gguf");
    await saveAdapter(path, model, r.lora);
    const loaded = loadAdapter(path, model);
    assert.ok(Math.abs((await completionLoss(model, loaded, held)) - after) < 1e-5);
    loaded.params.free();
    r.lora.params.free();
  } finally {
    model.weights.free();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("local model: pretrain writes a loadable model and its manifest; a bad flag exits 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const run = (args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("../lib/cli/pretrain.ts", import.meta.url).pathname, ...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
    const bad = await run(["--model", "hcx"]);
    assert.equal(bad.code, 2);
    assert.match(
      new TextDecoder().decode(bad.stderr),
      /^pretrain: --model hcx: expected local-1m, local-250k or all\n\nusage:/,
    );
    const ok = await run(["--model", "local-250k", "--steps", "2", "--out", dir, "--quiet"]);
    assert.equal(ok.code, 0, new TextDecoder().decode(ok.stderr));
    const m = await readManifest("local-250k", dir);
    assert.equal(m.pretrain.steps, 2);
    const model = await loadBaseModel("local-250k", dir);
    assert.equal(model.weights.count(), m.parameters);
    model.weights.free();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
