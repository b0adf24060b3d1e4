/**
 * The emulator's local engine over real HTTP: a tuning task on `local-250k` really trains (real
 * per-step losses), is answered through chat completions with its adapter, and survives a
 * restart on the same state folder; without `localModels` the local models are not served.
 */
import assert from "node:assert/strict";
import { ClovaStudioClient } from "../lib/backends/clova/mod.ts";
import { SAMPLING_PARAMETERS } from "../lib/cookbook.ts";
import { generateTrainingSet, tuningCsv } from "../lib/datasets/generator.ts";
import { startEmulator } from "../lib/backends/emulator/mod.ts";

const KEY = "nv-local-test";

function client(url: string) {
  return new ClovaStudioClient({
    baseUrl: url,
    auth: { kind: "api-key", apiKey: KEY },
    generation: "legacy-2024",
  });
}

Deno.test("emulator local engine: a task trains for real, answers, and survives a restart", async () => {
  const stateDir = await Deno.makeTempDir();
  const rows = generateTrainingSet({ rows: 16, seed: 5 });
  const { topP, topK, temperature, repeatPenalty } = SAMPLING_PARAMETERS;
  const sampling = { topP, topK, temperature, repeatPenalty, maxTokens: 60, seed: 3 };
  // Started twice on the same state folder: the second run finds the task the first trained.
  const start = () =>
    startEmulator({
      credentials: { apiKeys: [KEY] },
      localModels: true,
      compat: "cookbook-2024",
      stateDir,
      waitMs: 0,
    });
  let emu = await start();
  try {
    const c = client(emu.url);
    const task = await c.createTask({
      name: "local",
      model: "local-250k",
      method: "LORA",
      taskType: "GENERATION",
      trainEpochs: 1,
      learningRate: 1e-4,
      dataset: { file: { name: "train.csv", bytes: new TextEncoder().encode(tuningCsv(rows)) } },
    });
    const seen: number[] = [];
    const done = await c.waitForTask(task.id, {
      pollIntervalMs: 100,
      maxPollIntervalMs: 200,
      onProgress: (p) => p.currStep !== undefined && seen.push(p.currStep),
    });
    assert.equal(done.status, "SUCCEEDED");
    assert.equal(done.statusInfo.totalTrainSteps, 2); // 16 rows, batch 8, 1 epoch
    assert.equal(done.statusInfo.currStep, 2);
    assert.ok(done.statusInfo.trainLoss! > 0 && done.statusInfo.trainLoss! < 10);
    const answer = await c.chat({ taskId: task.id }, {
      messages: [{ role: "user", content: rows[0].text }],
      ...sampling,
    });
    assert.ok(answer.text.length > 0);
    assert.ok(answer.outputTokens! <= 60 + 1);
    const base = await c.chat({ model: "local-250k" }, {
      messages: [{ role: "user", content: rows[0].text }],
      ...sampling,
    }, { api: "v1" });
    assert.ok(base.text.length > 0);
    await emu.close();
    emu = await start();
    const again = await client(emu.url).getTask(task.id);
    assert.equal(again.status, "SUCCEEDED");
    const replay = await client(emu.url).chat({ taskId: task.id }, {
      messages: [{ role: "user", content: rows[0].text }],
      ...sampling,
    });
    assert.equal(replay.text, answer.text, "same adapter, same seed, same answer");
  } finally {
    await emu.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("emulator local engine: without localModels the local models are not served", async () => {
  const emu = await startEmulator({ credentials: { apiKeys: [KEY] } });
  try {
    const res = await fetch(`${emu.url}/v1/chat-completions/local-250k`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "일본" }] }),
    });
    const body = await res.json();
    assert.equal(body.status.code, "40080");
  } finally {
    await emu.close();
  }
});
