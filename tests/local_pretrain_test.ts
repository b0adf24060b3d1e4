/**
 * Pretraining mechanics of the local models (lib/local/pretrain.ts, checkpoint.ts,
 * teacherForced.ts): decoding computes what the training forward pass computes, the committed
 * weights predict country names at least as well as their manifests say, a checkpoint resumed
 * continues exactly, and a stage ends at its probe exit. Few steps, tiny sets.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { copyPrompt, CORPUS_KINDS, CORPUS_MIX, labelPrompt } from "../lib/backends/local/corpus.ts";
import { lossByKind, RANDOM_ORDER_KINDS } from "../lib/backends/local/kindLoss.ts";
import { Trainer } from "../lib/backends/local/train.ts";
import { Generator } from "../lib/backends/local/generate.ts";
import {
  loadBaseModel,
  LOCAL_MODEL_NAMES,
  LOCAL_MODELS,
  readManifest,
  sha256File,
  weightsPath,
} from "../lib/backends/local/models.ts";
import { pretrain, type PretrainStage } from "../lib/backends/local/pretrain.ts";
import { meetsExit, stagedRecipe } from "../lib/backends/local/recipe.ts";
import type { ProbeResult } from "../lib/backends/local/probe.ts";
import { nameAccuracy, teacherForcedArgmax } from "../lib/backends/local/teacherForced.ts";
import { TOKEN } from "../lib/backends/local/tokenizer.ts";
import { getTaxonomy } from "../lib/countries/taxonomy.ts";

const GREEDY = { temperature: 0, topP: 1, topK: 0, repeatPenalty: 1, maxTokens: 400, seed: 1 };

Deno.test("local pretrain: greedy decoding picks the training forward pass's argmax at every answer position", async () => {
  const model = await loadBaseModel("local-250k");
  const gen = new Generator(model.config, model.weights, undefined, model.tokenizer.tokens, 4);
  try {
    const names = getTaxonomy("un").countries.map((c) => c.name);
    const prompts = [
      copyPrompt(names.slice(0, 10).join(", ")),
      labelPrompt(names.slice(40, 52).join(", ")),
    ];
    let positions = 0;
    for (const prompt of prompts) {
      const ids = model.tokenizer.encodeChat([{ role: "user", content: prompt }]).ids;
      const out = await gen.generate(ids, GREEDY);
      const answer = out.finishReason === "stop" ? [...out.ids, TOKEN.eos] : out.ids;
      const forced = await teacherForcedArgmax(model, {
        ids: [...ids, ...answer],
        lossFrom: ids.length,
      });
      assert.deepEqual(forced, answer);
      positions += answer.length;
    }
    assert.ok(positions >= 20, `only ${positions} positions compared`);
  } finally {
    await gen.close();
    model.weights.free();
  }
});

for (const name of LOCAL_MODEL_NAMES) {
  Deno.test(`local pretrain: ${name}'s teacher-forced name accuracy is at least its manifest's`, async () => {
    const manifest = await readManifest(name);
    assert.ok(manifest.nameAccuracy, `${name}.json records no nameAccuracy`);
    const model = await loadBaseModel(name);
    try {
      const got = await nameAccuracy(model, {
        lists: manifest.nameAccuracy.lists,
        seed: manifest.nameAccuracy.seed,
      });
      assert.equal(got.names, manifest.nameAccuracy.names);
      assert.ok(
        got.accuracy >= manifest.nameAccuracy.accuracy - 0.002,
        `${got.accuracy} < ${manifest.nameAccuracy.accuracy}`,
      );
    } finally {
      model.weights.free();
    }
  });
}

Deno.test("local pretrain: held-out loss by kind gives kinds answered in a random order a floor above 0 that the model stays above", async () => {
  const model = await loadBaseModel("local-250k");
  const trainer = new Trainer(model.config, model.weights, undefined);
  try {
    const byKind = await lossByKind((b) => trainer.evaluate(b), model.tokenizer, {
      context: model.config.context,
      examples: 8,
    });
    assert.deepEqual(Object.keys(byKind), [...CORPUS_KINDS]);
    for (const kind of CORPUS_KINDS) {
      const { loss, floor } = byKind[kind];
      assert.ok(Number.isFinite(loss) && loss >= 0, `${kind}: loss ${loss}`);
      if (!RANDOM_ORDER_KINDS.includes(kind)) {
        assert.equal(floor, undefined, kind);
        continue;
      }
      assert.ok(floor !== undefined && floor > 0.1 && floor < 2, `${kind}: floor ${floor}`);
      assert.ok(loss >= floor, `${kind}: loss ${loss} below its floor ${floor}`);
    }
    // One continent's countries are fewer than the whole list's: less order to guess per token.
    assert.ok(byKind["find-any-order"].floor! < byKind.shuffle.floor!);
    assert.ok(byKind.copy.loss < 0.1, `copy loss ${byKind.copy.loss}`);
  } finally {
    trainer.free();
    model.weights.free();
  }
});

function tinyStages(steps: number): PretrainStage[] {
  return [{
    name: "pretrain",
    mix: CORPUS_MIX,
    curriculum: { startItems: 6, fullAt: 0.5 },
    learningRate: 3e-3,
    warmupSteps: 2,
    steps,
  }];
}

Deno.test("local pretrain: a run stopped at a checkpoint and resumed gives the uninterrupted run's losses and weights", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const spec = LOCAL_MODELS["local-250k"];
    const common = { spec, seed: 5, stages: tinyStages(4), probeLists: 1 };
    const whole: number[] = [];
    const a = await pretrain({
      ...common,
      outDir: join(dir, "a"),
      onStep: (s) => whole.push(s.loss),
    });
    assert.ok(a);
    const stop = new AbortController();
    const checkpoint = join(dir, "b.checkpoint");
    const first: number[] = [];
    const stopped = await pretrain({
      ...common,
      outDir: join(dir, "b"),
      checkpoint,
      signal: stop.signal,
      onStep: (s) => {
        first.push(s.loss);
        if (s.step === 2) stop.abort();
      },
    });
    assert.equal(stopped, undefined);
    const midway = await pretrain({
      ...common,
      outDir: join(dir, "midway"),
      checkpoint,
      exportOnly: true,
      onStep: () => assert.fail("an export trains no step"),
    });
    assert.ok(midway);
    assert.deepEqual(midway.unfinished, { stage: "pretrain", stageStep: 2, maxSteps: 4 });
    assert.equal(midway.pretrain.steps, 2);
    assert.equal(midway.sittings?.length, 1);
    assert.equal(await sha256File(weightsPath("local-250k", join(dir, "midway"))), midway.sha256);
    assert.ok((await Deno.stat(checkpoint)).isFile, "the export keeps the checkpoint");
    await assert.rejects(
      pretrain({
        ...common,
        outDir: join(dir, "midway"),
        checkpoint: join(dir, "none"),
        exportOnly: true,
      }),
      /no checkpoint to export/,
    );
    await assert.rejects(
      pretrain({ ...common, outDir: join(dir, "b"), checkpoint }),
      /holds a checkpoint of an unfinished run: continue it with --resume/,
    );
    await assert.rejects(
      pretrain({ ...common, seed: 6, outDir: join(dir, "b"), checkpoint, resume: true }),
      /is a checkpoint of another run/,
    );
    const rest: number[] = [];
    const b = await pretrain({
      ...common,
      outDir: join(dir, "b"),
      checkpoint,
      resume: true,
      onStep: (s) => rest.push(s.loss),
    });
    assert.ok(b);
    assert.equal(b.unfinished, undefined);
    assert.deepEqual([...first, ...rest], whole);
    assert.equal(b.sha256, a.sha256);
    assert.equal(b.sittings?.length, 2);
    assert.deepEqual(b.lossCurve, a.lossCurve);
    assert.deepEqual(Object.keys(b.heldOutLossByKind ?? {}), [...CORPUS_KINDS]);
    assert.deepEqual(b.heldOutLossByKind, a.heldOutLossByKind);
    await assert.rejects(Deno.stat(checkpoint), Deno.errors.NotFound);
    assert.equal(await sha256File(weightsPath("local-250k", join(dir, "b"))), b.sha256);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("local pretrain: a stage ends at the first probe that meets its exit, and the manifest says when", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [first] = tinyStages(6);
    const m = await pretrain({
      spec: LOCAL_MODELS["local-250k"],
      seed: 5,
      outDir: dir,
      stages: [{ ...first, name: "first", exit: { copy: 0 } }, {
        ...first,
        name: "second",
        steps: 2,
      }],
      probeEvery: 2,
      probeLists: 1,
    });
    assert.ok(m);
    assert.equal(m.pretrain.steps, 4);
    assert.deepEqual(m.stages?.map((s) => [s.name, s.steps, s.exitMetAt]), [
      ["first", 2, 2],
      ["second", 2, null],
    ]);
    assert.ok(m.nameAccuracy && m.nameAccuracy.names > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("local pretrain: the staged recipe's find and order stages come last, leave out stages of 0 steps, and exit on every skill", () => {
  assert.deepEqual(stagedRecipe(1e-3, { copy: 1, skills: 3000 }).map((s) => s.name), [
    "copy",
    "skills",
  ]);
  const [find] = stagedRecipe(1e-3, { copy: 0, skills: 0, find: 50 });
  assert.equal(find.name, "find");
  assert.equal(find.mix["filter-after"]! > 0 && find.mix["first-block"]! > 0, true);
  const score = (recall: number) => ({ recall, extraPerAnswer: 0 });
  const probe = (over: Partial<ProbeResult>): ProbeResult => ({
    copy: score(1),
    label: score(0.95),
    filter: score(0.95),
    filterAfter: score(0.95),
    block: score(0.95),
    anyOrder: score(0.95),
    lists: 32,
    seed: 1,
    ...over,
  });
  assert.ok(meetsExit(probe({}), find.exit!));
  assert.ok(!meetsExit(probe({ filterAfter: score(0.5) }), find.exit!));
  assert.ok(!meetsExit(probe({ block: score(0.5) }), find.exit!));
  assert.ok(!meetsExit(probe({ label: score(0.5) }), find.exit!));
  const skills = stagedRecipe(1e-3, { copy: 1, skills: 10 })[1];
  assert.ok(meetsExit(probe({ filterAfter: score(0), block: score(0) }), skills.exit!));
  assert.ok(meetsExit(probe({ anyOrder: score(0) }), find.exit!));
  assert.deepEqual(
    stagedRecipe(1e-3, { copy: 0, skills: 0, find: 5, order: 0 }),
    stagedRecipe(1e-3, { copy: 0, skills: 0, find: 5 }),
    "a stage of 0 steps leaves the plan as it was",
  );
  const [order] = stagedRecipe(1e-3, { copy: 0, skills: 0, find: 0, order: 50 });
  assert.equal(order.name, "order");
  assert.equal(order.mix["find-any-order"]! > 0, true);
  assert.ok(meetsExit(probe({}), order.exit!));
  assert.ok(!meetsExit(probe({ anyOrder: score(0.5) }), order.exit!));
  assert.ok(!meetsExit(probe({ block: score(0.5) }), order.exit!));
});
