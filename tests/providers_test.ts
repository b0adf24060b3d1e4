import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  type ChatMessage,
  ClovaBaseModelProvider,
  clovaChatBody,
  ClovaTunedTaskProvider,
  DEFAULT_SAMPLING,
  OpenAICompatibleProvider,
  type ProviderAnswer,
  type ProviderFailure,
  type ProviderResult,
  resolveSampling,
  type SamplingParams,
} from "../lib/answers/providers.ts";
import { SAMPLING_PARAMETERS } from "../lib/cookbook.ts";
import { ClovaStudioClient, objectStorageConfig } from "../lib/backends/clova/mod.ts";
import { withEmulator } from "./helpers/emulator.ts";
import { generateTrainingSet, tuningCsv } from "../lib/datasets/generator.ts";

const messages = [
  { role: "system" as const, content: "" },
  { role: "user" as const, content: "목록에서 나라를 대륙별로 분류해줘.\n\n프랑스, 일본, 케냐" },
];

/** The answer of a result that must have one. */
function answerOf(r: ProviderResult): ProviderAnswer {
  if (!r.ok) throw new Error(`expected an answer, got ${JSON.stringify(r.failure)}`);
  return r.answer;
}

/** The failure of a result that must have one. */
function failureOf(r: ProviderResult): ProviderFailure {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r.answer)}`);
  return r.failure;
}

/** One call of `p`. */
function ask(
  p: { answer(m: readonly ChatMessage[], s: SamplingParams): Promise<ProviderResult> },
): Promise<ProviderResult> {
  return p.answer(messages, DEFAULT_SAMPLING);
}

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
    const a = answerOf(await ask(p));
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
    answerOf(await ask(clova));
    assertEquals([srv.seen[1].body.top_k, srv.seen[1].body.repeat_penalty], [0, 1.2]);
    assertEquals(srv.seen[1].headers.get("authorization"), null);
  } finally {
    await srv.close();
  }
});

Deno.test("openai-compatible: failures come back classified, with the server's wait and code", async () => {
  const srv = openAiServer((n) =>
    n === 1
      ? Response.json(
        { error: { message: "Too many requests - rate exceeded", code: "42901" } },
        { status: 429, headers: { "retry-after": "3" } },
      )
      : n === 2
      ? Response.json({ error: { message: "bad", code: "40002" } }, { status: 400 })
      : n === 3
      ? Response.json({ error: { message: "no such model" } }, { status: 404 })
      : n === 4
      ? new Response("upstream", { status: 503 })
      : Response.json({ nope: true })
  );
  try {
    const p = new OpenAICompatibleProvider({ baseUrl: srv.url, model: "m" });
    const limited = failureOf(await ask(p));
    assertEquals([limited.kind, limited.code, limited.httpStatus, limited.waitMs], [
      "rate-limited",
      "42901",
      429,
      3000,
    ]);
    const row = failureOf(await ask(p));
    assertEquals([row.kind, row.code], ["failed-row", "40002"]);
    const fatal = failureOf(await ask(p));
    assertEquals([fatal.kind, fatal.code], ["fatal", "HTTP_404"]);
    assert(fatal.advice && /model name/.test(fatal.advice) && !/key/.test(fatal.advice));
    assertEquals(failureOf(await ask(p)).kind, "retry");
    assertEquals(failureOf(await ask(p)).code, "BAD_RESPONSE");
  } finally {
    await srv.close();
  }
  // Nothing listening: a network failure, worth a retry.
  const dead = new OpenAICompatibleProvider({ baseUrl: srv.url, model: "m" });
  const f = failureOf(await ask(dead));
  assertEquals([f.kind, f.code], ["retry", "NETWORK"]);
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
      const a = answerOf(await ask(base));
      assert(a.text.length > 0 && a.inputTokens! > 0 && a.outputTokens! > 0, JSON.stringify(a));
      assert(a.requestId && a.latencyMs >= 0 && a.finishReason);
      const d = JSON.stringify(base.describe()) + Deno.inspect(base, { depth: 6 });
      assert(!d.includes(apiKey), d);
      assertEquals(base.describe().kind, "clova-model");

      // An unknown model ends the run too, without blaming the credentials.
      const unknown = new ClovaBaseModelProvider({
        client,
        model: "HCX-03",
      });
      const missing = failureOf(await ask(unknown));
      assertEquals(missing.kind, "fatal", JSON.stringify(missing));
      assert(/model name/.test(missing.advice ?? "") && !/credential/.test(missing.advice ?? ""));

      const v3 = new ClovaBaseModelProvider({ client, model: "HCX-005", api: "v3" });
      assert(answerOf(await ask(v3)).text.length > 0);
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
      assert(answerOf(await ask(tuned)).text.length > 0);
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
      const o = answerOf(await ask(oa));
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
      rateLimits: false,
    }, async ({ emu, apiKey }) => {
      const p = new ClovaBaseModelProvider({
        client: { baseUrl: emu.url, auth: { kind: "api-key", apiKey } },
        model: "HCX-003",
      });
      const limited = failureOf(await ask(p));
      assertEquals([limited.kind, limited.httpStatus, limited.waitMs], ["rate-limited", 429, 1000]);
      assertEquals(emu.stats().http429, 1);
      // A 401 ends the run, and says to check the credentials.
      const bad = new ClovaBaseModelProvider({
        client: { baseUrl: emu.url, auth: { kind: "api-key", apiKey: "nv-wrong" } },
        model: "HCX-003",
      });
      const denied = failureOf(await ask(bad));
      assertEquals([denied.kind, denied.httpStatus], ["fatal", 401]);
      assert(/credentials/.test(denied.advice ?? ""));
    });
  },
});
