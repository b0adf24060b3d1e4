/**
 * The list mass (lib/backends/local/listMass.ts): at each name of a block written in any order,
 * the probability on the listed countries left and on unlisted ones of the block's continent, by
 * how many were left — checked with stand-in probabilities whose answer is known, and once
 * through the committed local-250k.
 */
import assert from "node:assert/strict";
import {
  anyOrderAnswers,
  type BlockAnswer,
  listMass,
  sortedAnswers,
} from "../lib/backends/local/listMass.ts";
import { loadBaseModel } from "../lib/backends/local/models.ts";
import { teacherForcedProbabilities } from "../lib/backends/local/teacherForced.ts";
import type { Example } from "../lib/backends/local/train.ts";
import { getTaxonomy } from "../lib/countries/mod.ts";
import { generateTrainingSet } from "../lib/datasets/mod.ts";

const model = await loadBaseModel("local-250k");
const tok = model.tokenizer;
const vocab = model.config.vocab;

/** Probabilities that put everything on `pick(example, answer position)`. */
function pointing(pick: (e: Example, at: number) => number) {
  return (e: Example) =>
    Promise.resolve(Array.from({ length: e.ids.length - e.lossFrom }, (_, i) => {
      const row = new Float32Array(vocab);
      row[pick(e, e.lossFrom + i)] = 1;
      return row;
    }));
}

const names = (answers: readonly BlockAnswer[]) =>
  answers.reduce((n, a) => n + a.blocks.reduce((k, b) => k + b.countries.length, 0), 0);

Deno.test("list mass: a model that always names the right next country puts all its mass on listed ones", async () => {
  const answers = anyOrderAnswers(12);
  const rows = await listMass(answers, tok, pointing((e, at) => e.ids[at]));
  assert.equal(rows.reduce((n, r) => n + r.positions, 0), names(answers));
  for (const r of rows) {
    assert.deepEqual([r.listed, r.unlisted, r.unlistedFirst], [1, 0, 0]);
  }
  // Every block ends with one listed country left: as many such positions as blocks.
  assert.equal(rows.find((r) => r.remaining === "1")?.positions, answers.length);
});

Deno.test("list mass: a model that names a country of the continent missing from the list is counted as unlisted", async () => {
  const tax = getTaxonomy("un");
  const answers = anyOrderAnswers(12).filter((a) =>
    tax.countriesOf(a.blocks[0].continent).some((c) => !a.list.includes(c.name))
  );
  // Each answer's stand-in names, everywhere, one country of its continent the list lacks.
  const outsider = new Map(answers.map((a) => [
    tok.encodeChat(a.messages, a.answer).ids.join(),
    tok.encode(
      tax.countriesOf(a.blocks[0].continent).find((c) => !a.list.includes(c.name))!.name,
    )[0],
  ]));
  const rows = await listMass(answers, tok, pointing((e) => outsider.get(e.ids.join())!));
  assert.equal(rows.reduce((n, r) => n + r.positions, 0), names(answers));
  for (const r of rows) {
    assert.deepEqual([r.listed, r.unlisted, r.unlistedFirst], [0, 1, r.positions]);
  }
});

Deno.test("list mass: the cookbook's sorted completions count every country of every block", async () => {
  const answers = sortedAnswers(generateTrainingSet({ rows: 8, seed: 11 }));
  assert.ok(answers.some((a) => a.blocks.length > 2));
  const rows = await listMass(answers, tok, pointing((e, at) => e.ids[at]));
  assert.equal(rows.reduce((n, r) => n + r.positions, 0), names(answers));
  assert.equal(
    rows.find((r) => r.remaining === "1")?.positions,
    answers.reduce((n, a) => n + a.blocks.length, 0),
  );
});

Deno.test("list mass: the committed local-250k's probabilities on listed and unlisted countries are shares of one", async () => {
  const answers = anyOrderAnswers(4);
  const rows = await listMass(answers, tok, (e) => teacherForcedProbabilities(model, e));
  assert.equal(rows.reduce((n, r) => n + r.positions, 0), names(answers));
  for (const r of rows) {
    assert.ok(
      r.listed >= 0 && r.unlisted >= 0 && r.listed + r.unlisted <= 1.001,
      JSON.stringify(r),
    );
    assert.ok(r.unlistedFirst <= r.positions);
  }
});
