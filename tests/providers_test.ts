import {
  deepStrictEqual as assertEquals,
  ok as assert,
  rejects as assertRejects,
} from "node:assert/strict";
import {
  ClovaBaseModelProvider,
  clovaChatBody,
  ClovaTunedTaskProvider,
  DEFAULT_SAMPLING,
  errorInfo,
  OpenAICompatibleProvider,
  ProviderError,
  resolveSampling,
} from "../lib/providers.ts";
import { SAMPLING_PARAMETERS } from "../lib/cookbook.ts";
import { ClovaStudioClient, ClovaStudioError, objectStorageConfig } from "../lib/clova/mod.ts";
import { withEmulator } from "./helpers/emulator.ts";
import { generateTrainingSet, tuningCsv } from "../lib/dataset.ts";

const messages = [
  { role: "system" as const, content: "" },
  { role: "user" as const, content: "목록에서 나라를 대륙별로 분류해줘.\n\n프랑스, 일본, 케냐" },
];

interface Seen {
  headers: Headers;
  body: Record<string, unknown>;
}

/** A tiny OpenAI-compatible server on 127.0.0.1 whose replies are scripted. */
function openAiServer(reply: (n: number) => Response) {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    seen.push({ headers: req.headers, body: await req.json() });
    return reply(seen.length);
  });
  const url = `http://127.0.0.1:${server.addr.port}/v1`;
  return { url, seen, close: () => server.shutdown() };
}

const completion = (content: string) =>
  Response.json({
    id: "chatcmpl-123",
    object: "chat.completion",
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: { prompt_tokens: 21, completion_tokens: 9, total_tokens: 30 },
  });

Deno.test("sampling defaults are the cookbook's and partial overrides merge", () => {
  assertEquals(DEFAULT_SAMPLING, { ...SAMPLING_PARAMETERS });
  assertEquals(resolveSampling({ temperature: 0.1, topK: undefined }), {
    ...SAMPLING_PARAMETERS,
    temperature: 0.1,
  });
  const v1 = clovaChatBody("v1", messages, { ...DEFAULT_SAMPLING, stop: ["\n\n"] });
  assertEquals(v1.repeatPenalty, 1.2);
  assertEquals(v1.stopBefore, ["\n\n"]);
  assert(!("repetitionPenalty" in v1));
  const v3 = clovaChatBody("v3", messages, DEFAULT_SAMPLING);
  assertEquals(v3.repetitionPenalty, 1.2);
  assert(!("repeatPenalty" in v3) && !("stop" in v3));
});

Deno.test("openai-compatible: request mapping, bearer key, usage and id; key never shown", async () => {
  const srv = openAiServer(() => completion("아시아: 일본"));
  try {
    const secret = "sk-test-SECRET-123";
    const p = new OpenAICompatibleProvider({
      baseUrl: srv.url + "/",
      model: "qwen",
      apiKey: secret,
    });
    const a = await p.answer(messages, DEFAULT_SAMPLING);
    assertEquals(a.text, "아시아: 일본");
    assertEquals([a.inputTokens, a.outputTokens, a.finishReason, a.requestId], [
      21,
      9,
      "stop",
      "chatcmpl-123",
    ]);
    const body = srv.seen[0].body;
    assertEquals(body.model, "qwen");
    assertEquals([body.temperature, body.top_p, body.max_tokens], [0.5, 0.6, 256]);
    assert(!("top_k" in body) && !("repeat_penalty" in body), "no CLOVA extras for a generic URL");
    assertEquals(srv.seen[0].headers.get("authorization"), `Bearer ${secret}`);
    const shown = [JSON.stringify(p.describe()), Deno.inspect(p, { depth: 5 }), String(p)].join();
    assert(!shown.includes(secret), shown);
    // CLOVA extras on request.
    const clova = new OpenAICompatibleProvider({ baseUrl: srv.url, model: "m", clovaExtras: true });
    await clova.answer(messages, DEFAULT_SAMPLING);
    assertEquals([srv.seen[1].body.top_k, srv.seen[1].body.repeat_penalty], [0, 1.2]);
    assertEquals(srv.seen[1].headers.get("authorization"), null);
  } finally {
    await srv.close();
  }
});

Deno.test("openai-compatible: errors carry retryable, Retry-After and code", async () => {
  const srv = openAiServer((n) =>
    n === 1
      ? Response.json(
        { error: { message: "Too many requests - rate exceeded", code: "42901" } },
        { status: 429, headers: { "retry-after": "3" } },
      )
      : n === 2
      ? Response.json({ error: { message: "bad", code: "40002" } }, { status: 400 })
      : Response.json({ nope: true })
  );
  try {
    const p = new OpenAICompatibleProvider({ baseUrl: srv.url, model: "m" });
    await assertRejects(() => p.answer(messages, DEFAULT_SAMPLING), (e: Error) => {
      const info = errorInfo(e);
      assertEquals([info.code, info.httpStatus, info.retryable, info.retryAfterMs], [
        "42901",
        429,
        true,
        3000,
      ]);
      return true;
    });
    await assertRejects(
      () => p.answer(messages, DEFAULT_SAMPLING),
      (e: Error) => e instanceof ProviderError && e.code === "40002" && !e.retryable,
    );
    await assertRejects(
      () => p.answer(messages, DEFAULT_SAMPLING),
      (e: Error) => e instanceof ProviderError && e.code === "BAD_RESPONSE",
    );
  } finally {
    await srv.close();
  }
  // Nothing listening: a retryable network error.
  const dead = new OpenAICompatibleProvider({ baseUrl: srv.url, model: "m" });
  await assertRejects(
    () => dead.answer(messages, DEFAULT_SAMPLING),
    (e: Error) => errorInfo(e).code === "NETWORK" && errorInfo(e).retryable,
  );
});

Deno.test({
  name: "clova providers against the emulator: base model (v1/v3), tuned task, openai-compatible",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withEmulator({}, async ({ emu, apiKey }) => {
      const client = { baseUrl: emu.url, auth: { kind: "api-key" as const, apiKey } };
      const base = new ClovaBaseModelProvider({ client, model: "HCX-003" });
      assertEquals(base.label, "HCX-003");
      const a = await base.answer(messages, DEFAULT_SAMPLING);
      assert(a.text.length > 0 && a.inputTokens! > 0 && a.outputTokens! > 0, JSON.stringify(a));
      assert(a.requestId && a.latencyMs >= 0 && a.finishReason);
      const d = JSON.stringify(base.describe()) + Deno.inspect(base, { depth: 6 });
      assert(!d.includes(apiKey), d);
      assertEquals(base.describe().kind, "clova-model");

      const v3 = new ClovaBaseModelProvider({ client, model: "HCX-005", api: "v3" });
      assert((await v3.answer(messages, DEFAULT_SAMPLING)).text.length > 0);
      const v3ByDefault = new ClovaBaseModelProvider({ client, model: "HCX-005" });
      assertEquals(v3ByDefault.describe().api, "v3", "v1 lists only HCX-003 and HCX-DASH-001");

      // Tune a small task, then answer through it.
      const c = new ClovaStudioClient(client);
      const rows = generateTrainingSet({ rows: 100, seed: 3 });
      const bytes = new TextEncoder().encode(tuningCsv(rows, { format: "single-turn" }));
      const storage = objectStorageConfig({
        endpoint: emu.objectStorageUrl,
        bucket: "providers",
        accessKey: "local-access",
        secretKey: "local-secret",
      });
      const created = await c.createTask({
        name: "providers-test",
        model: "HCX-003",
        trainEpochs: 4,
        learningRate: 1e-4,
        dataset: { upload: { file: { name: "train.csv", bytes }, storage } },
      });
      const task = await c.waitForTask(created.id, { pollIntervalMs: 50, maxPollIntervalMs: 100 });
      const tuned = new ClovaTunedTaskProvider({
        client,
        taskId: task.id,
        model: "HCX-003",
        size: 100,
      });
      assertEquals(tuned.label, "HCX-003@100");
      assertEquals(tuned.describe().target, task.id);
      assert((await tuned.answer(messages, DEFAULT_SAMPLING)).text.length > 0);
      assertEquals(
        new ClovaTunedTaskProvider({ client, taskId: "abc" }).label,
        "task-abc",
      );

      // The emulator's OpenAI-compatible endpoint gets the CLOVA extras automatically.
      const oa = new OpenAICompatibleProvider({
        baseUrl: `${emu.url}/v1/openai`,
        model: "HCX-003",
        apiKey,
      });
      assertEquals(oa.describe().clovaExtras, true);
      const o = await oa.answer(messages, DEFAULT_SAMPLING);
      assert(o.text.length > 0 && o.inputTokens! > 0, JSON.stringify(o));
    }, "nv-SECRET-");
  },
});

Deno.test({
  name: "clova providers make exactly one attempt per call (the runner owns retries)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withEmulator({
      faults: { rate429: 1 },
    }, async ({ emu, apiKey }) => {
      const p = new ClovaBaseModelProvider({
        client: { baseUrl: emu.url, auth: { kind: "api-key", apiKey } },
        model: "HCX-003",
      });
      await assertRejects(() => p.answer(messages, DEFAULT_SAMPLING), (e: Error) => {
        assert(e instanceof ClovaStudioError);
        const info = errorInfo(e);
        assert(info.retryable && info.httpStatus === 429 && info.retryAfterMs === 1000, e.message);
        return true;
      });
      assertEquals(emu.stats().http429, 1);
      // A 401 is not retryable.
      const bad = new ClovaBaseModelProvider({
        client: { baseUrl: emu.url, auth: { kind: "api-key", apiKey: "nv-wrong" } },
        model: "HCX-003",
      });
      await assertRejects(
        () => bad.answer(messages, DEFAULT_SAMPLING),
        (e: Error) => errorInfo(e).httpStatus === 401 && !errorInfo(e).retryable,
      );
    });
  },
});
