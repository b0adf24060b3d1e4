// Unit tests of the CLOVA Studio client's pure pieces: SSE parser, backoff, Retry-After, parameter
// schemas, env reading, error classification, token expiry, redaction.
import assert from "node:assert/strict";
import {
  backoffDelayMs,
  checkChatRequest,
  checkCreateTaskParams,
  clovaOptionsFromEnv,
  ClovaRequestInvalidError,
  ClovaStudioClient,
  ClovaStudioError,
  CURRENT_BASE_URL,
  isRetryableCode,
  LEGACY_BASE_URL,
  objectStorageFromEnv,
  parseDotEnv,
  parseRetryAfter,
  parseServiceDate,
  readEnvironment,
  redactSecrets,
  type SseEvent,
  SseParser,
  tokenExpiryMs,
} from "../lib/backends/clova/mod.ts";
import { parseSseStream } from "../lib/backends/clova/sse.ts";

const SAMPLE = 'id: a1\nevent: token\ndata: {"message":{"role":"assistant","content":"안녕"}}\n\n' +
  'id:a2\r\nevent:result\r\ndata:{"message":{"role":"assistant","content":"안녕하세요"},"stopReason":"end_token"}\r\n\r\n' +
  'event: signal\rdata: {"data":"[DONE]"}\r\r';

function parseAll(chunks: string[]): SseEvent[] {
  const p = new SseParser();
  return [...chunks.flatMap((c) => p.push(c)), ...p.end()];
}

Deno.test("sse: one chunk, mixed LF/CRLF/CR endings, with and without space", () => {
  const evs = parseAll([SAMPLE]);
  assert.deepEqual(evs.map((e) => e.event), ["token", "result", "signal"]);
  assert.equal(evs[0].id, "a1");
  assert.equal(evs[1].id, "a2");
  assert.equal(JSON.parse(evs[1].data).stopReason, "end_token");
  assert.equal(JSON.parse(evs[2].data).data, "[DONE]");
});

Deno.test("sse: every possible split point gives the same events", () => {
  const whole = parseAll([SAMPLE]);
  for (let i = 1; i < SAMPLE.length; i++) {
    assert.deepEqual(parseAll([SAMPLE.slice(0, i), SAMPLE.slice(i)]), whole, `split at ${i}`);
  }
  // and one character at a time
  assert.deepEqual(parseAll([...SAMPLE]), whole);
});

Deno.test("sse: multi-line data, comments, unknown fields, missing final blank line", () => {
  const evs = parseAll([
    ": keep-alive\nretry: 10\nfoo: bar\nevent: x\ndata: a\ndata:b\n\ndata: tail",
  ]);
  assert.deepEqual(evs, [
    { event: "x", data: "a\nb", id: undefined },
    { event: "message", data: "tail", id: undefined },
  ]);
});

Deno.test("sse: byte stream with a UTF-8 character split across chunks", async () => {
  const bytes = new TextEncoder().encode(SAMPLE);
  const cut = bytes.indexOf(0xec) + 1; // inside "안"
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(bytes.slice(0, cut));
      c.enqueue(bytes.slice(cut));
      c.close();
    },
  });
  const evs: SseEvent[] = [];
  for await (const e of parseSseStream(body)) evs.push(e);
  assert.equal(JSON.parse(evs[0].data).message.content, "안녕");
  assert.equal(evs.length, 3);
});

Deno.test("retry-after: seconds, fractions, HTTP date, garbage", () => {
  assert.equal(parseRetryAfter("3"), 3000);
  assert.equal(parseRetryAfter("0.5"), 500);
  const now = Date.parse("2025-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("Wed, 01 Jan 2025 00:00:07 GMT", now), 7000);
  assert.equal(parseRetryAfter("Tue, 31 Dec 2024 23:00:00 GMT", now), 0);
  assert.equal(parseRetryAfter("soon"), undefined);
  assert.equal(parseRetryAfter(null), undefined);
});

Deno.test("backoff: exponential with equal jitter, capped, Retry-After wins when longer", () => {
  const p = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(backoffDelayMs(1, p, undefined, () => 0), 50);
  assert.equal(backoffDelayMs(1, p, undefined, () => 1), 100);
  assert.equal(backoffDelayMs(3, p, undefined, () => 1), 400);
  assert.equal(backoffDelayMs(10, p, undefined, () => 1), 1000);
  assert.equal(backoffDelayMs(10, p, undefined, () => 0), 500);
  assert.equal(backoffDelayMs(1, p, 2500, () => 0), 2500);
  assert.equal(backoffDelayMs(1, p, 10, () => 1), 100);
  assert.equal(backoffDelayMs(1, p, 10 * 60_000, () => 0), 300_000);
});

Deno.test("errors: retryable classification and secret-free JSON", () => {
  for (
    const c of ["42900", "42901", "42902", "42903", "50000", "50400", "40800", "NETWORK", "TIMEOUT"]
  ) {
    assert.ok(isRetryableCode(c), c);
  }
  for (const c of ["40000", "40001", "40100", "40103", "40300", "40400", "41300", "50100"]) {
    assert.ok(!isRetryableCode(c), c);
  }
  const e = new ClovaStudioError({
    httpStatus: 429,
    code: "42901",
    message: "Too many requests - rate exceeded",
    requestId: "r-1",
    retryAfterMs: 1000,
  });
  assert.equal(e.retryable, true);
  assert.equal(e.serviceMessage, "Too many requests - rate exceeded");
  assert.match(e.message, /42901 \(HTTP 429\).*\[request r-1\]/);
  assert.deepEqual(JSON.parse(JSON.stringify(e)).code, "42901");
});

Deno.test("params: v1 ranges (cookbook parameters pass; out-of-range and v3 names fail)", () => {
  const messages = [{ role: "user" as const, content: "hi" }];
  const ok = checkChatRequest("v1", "HCX-003", {
    messages,
    topP: 0.6,
    topK: 0,
    maxTokens: 256,
    temperature: 0.5,
    repeatPenalty: 1.2,
    includeAiFilters: false,
  });
  assert.equal(ok.maxTokens, 256);
  const bad = [
    { temperature: 0 }, // v1: 0 < t
    { temperature: 1.01 },
    { topK: 129 },
    { topK: 1.5 },
    { topP: 0 },
    { repeatPenalty: 10.5 },
    { maxTokens: 0 },
    { maxTokens: 4097 },
    { seed: -1 },
    { seed: 4294967296 },
    { repetitionPenalty: 1.1 }, // v3 name on v1
    { stop: ["x"] },
  ];
  for (const b of bad) {
    const e = assertThrowsInvalid(() => checkChatRequest("v1", "HCX-003", { messages, ...b }));
    assert.equal(e.code, "40001");
    assert.equal(e.httpStatus, 0);
    assert.equal(e.retryable, false);
    assert.equal(e.sent, false);
    assert.ok(e.issues.length > 0, JSON.stringify(b));
  }
  assertThrowsInvalid(() => checkChatRequest("v1", "HCX-003", { messages: [] }));
  assertThrowsInvalid(() =>
    checkChatRequest("v1", "HCX-003", { messages: [{ role: "tool", content: "x" }] })
  );
  assertThrowsInvalid(() => checkChatRequest("v1", "HCX-005", { messages }));
});

Deno.test("params: v3 ranges differ from v1", () => {
  const messages = [{ role: "user" as const, content: "hi" }];
  assert.equal(checkChatRequest("v3", "HCX-005", { messages, temperature: 0 }).temperature, 0);
  checkChatRequest("v3", "HCX-007", {
    messages,
    maxCompletionTokens: 20000,
    thinking: { effort: "high" },
  });
  for (
    const b of [
      { repetitionPenalty: 2.5 },
      { repeatPenalty: 1.2 },
      { stopBefore: ["x"] },
      { maxTokens: 10, maxCompletionTokens: 10 },
      { maxTokens: 5000 }, // HCX-005 output cap 4096
      { thinking: { effort: "low" }, maxTokens: 100 },
      { temperature: -0.1 },
    ]
  ) {
    assertThrowsInvalid(() => checkChatRequest("v3", "HCX-005", { messages, ...b }));
  }
  assertThrowsInvalid(() =>
    checkChatRequest("v3", "HCX-005", {
      messages: [{ role: "system", content: "a" }, { role: "system", content: "b" }, ...messages],
    })
  );
  assertThrowsInvalid(() => checkChatRequest("v3", "HCX-003", { messages }));
});

Deno.test("params: createTask ranges", () => {
  checkCreateTaskParams({
    model: "HCX-003",
    trainEpochs: 4,
    learningRate: 1e-4,
    method: "LORA",
    taskType: "GENERATION",
  });
  checkCreateTaskParams({
    model: "HCX-003",
    trainEpochs: 20,
    learningRate: 1,
    loraR: 64,
    loraAlpha: 512,
    validationSplitRatio: 0.1,
  });
  for (
    const b of [
      { trainEpochs: 0 },
      { trainEpochs: 21 },
      { learningRate: 1e-7 },
      { learningRate: 2 },
      { loraR: 1 },
      { loraAlpha: 513 },
      { validationSplitRatio: 0.2 },
      { tuningType: "FULL" },
      { unknownField: 1 },
    ]
  ) {
    assertThrowsInvalid(() => checkCreateTaskParams({ model: "HCX-003", ...b }));
  }
  assertThrowsInvalid(() => checkCreateTaskParams({ trainEpochs: 4 }));
});

function assertThrowsInvalid(fn: () => unknown): ClovaRequestInvalidError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ClovaRequestInvalidError, String(e));
    assert.ok(e instanceof ClovaStudioError);
    return e;
  }
  throw new Error("expected ClovaRequestInvalidError");
}

Deno.test("token expiry: epoch ms, epoch seconds, duration seconds", () => {
  const now = 1_700_000_000_000;
  assert.equal(tokenExpiryMs(now + 3600_000, now), now + 3600_000);
  assert.equal(tokenExpiryMs(1_700_003_600, now), 1_700_003_600_000);
  assert.equal(tokenExpiryMs(3600, now), now + 3600_000);
  assert.equal(tokenExpiryMs(undefined, now), now + 3600_000);
});

Deno.test("service dates: +0900 offsets parse", () => {
  assert.equal(parseServiceDate("2024-05-13T15:42:50+0900"), Date.parse("2024-05-13T06:42:50Z"));
  assert.equal(parseServiceDate("2024-05-13T15:42:50+09:00"), Date.parse("2024-05-13T06:42:50Z"));
  assert.equal(parseServiceDate("nope"), undefined);
});

Deno.test("env: .env parsing", () => {
  const env = parseDotEnv(
    '# comment\nexport A=1\nB = "two words"\nC=\'x#y\'\nD=plain # trailing\n\nbad line\nE="l1\\nl2"\n',
  );
  assert.deepEqual(env, { A: "1", B: "two words", C: "x#y", D: "plain", E: "l1\nl2" });
});

Deno.test("env: scheme precedence, defaults, host override", () => {
  assert.equal(clovaOptionsFromEnv({}), undefined);
  assert.equal(clovaOptionsFromEnv({ CLOVA_STUDIO_CLIENT_ID: "id" }), undefined);
  const a = clovaOptionsFromEnv({
    CLOVASTUDIO_API_KEY: "nv-aaa",
    CLOVA_STUDIO_CLIENT_ID: "id",
    CLOVA_STUDIO_CLIENT_SECRET: "sec",
  })!;
  assert.equal(a.auth.kind, "api-key");
  assert.equal(a.baseUrl, CURRENT_BASE_URL);
  assert.equal(a.generation, "current");
  const k = clovaOptionsFromEnv({ CLOVA_STUDIO_APP_KEY: "app", CLOVA_STUDIO_APIGW_KEY: "gw" })!;
  assert.equal(k.auth.kind, "key-pair");
  assert.equal(k.pathPrefix, "/testapp");
  const c = clovaOptionsFromEnv({
    CLOVA_STUDIO_CLIENT_ID: "id",
    CLOVA_STUDIO_CLIENT_SECRET: "sec",
    CLOVA_STUDIO_HOST: "api.hyperclova.ai/",
  })!;
  assert.equal(c.auth.kind, "client-credentials");
  assert.equal(c.generation, "legacy-2024");
  assert.equal(c.baseUrl, "https://api.hyperclova.ai");
  assert.equal(
    clovaOptionsFromEnv({ CLOVA_STUDIO_CLIENT_ID: "i", CLOVA_STUDIO_CLIENT_SECRET: "s" })!.baseUrl,
    LEGACY_BASE_URL,
  );
  const s = objectStorageFromEnv({
    NCP_OBJECT_STORAGE_BUCKET: "b",
    NCP_ACCESS_KEY: "AK",
    NCP_SECRET_KEY: "SK-secret",
    NCP_OBJECT_STORAGE_ENDPOINT: "http://127.0.0.1:9/objectstorage",
  })!;
  assert.equal(s.endpoint, "http://127.0.0.1:9/objectstorage");
  assert.equal(objectStorageFromEnv({ NCP_OBJECT_STORAGE_BUCKET: "b" }), undefined);
});

Deno.test("env: .env in cwd is read, the environment wins", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/.env`,
      "CLOVA_UNIT_TEST_ONLY_IN_FILE=file\nCLOVA_UNIT_TEST_BOTH=file\n",
    );
    Deno.env.set("CLOVA_UNIT_TEST_BOTH", "env");
    const env = readEnvironment(dir);
    assert.equal(env.CLOVA_UNIT_TEST_ONLY_IN_FILE, "file");
    assert.equal(env.CLOVA_UNIT_TEST_BOTH, "env");
  } finally {
    Deno.env.delete("CLOVA_UNIT_TEST_BOTH");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("redaction: options from env and the client never print their secrets", () => {
  const secrets = ["nv-unit-secret-key-123", "SK-unit-secret-456", "AK-unit-789"];
  const opts = clovaOptionsFromEnv({
    CLOVA_STUDIO_API_KEY: secrets[0],
    NCP_OBJECT_STORAGE_BUCKET: "bucket",
    NCP_ACCESS_KEY: secrets[2],
    NCP_SECRET_KEY: secrets[1],
  })!;
  const client = new ClovaStudioClient(opts);
  const shown = [
    Deno.inspect(opts, { depth: 10 }),
    Deno.inspect(opts.auth),
    JSON.stringify(opts),
    String(opts),
    Deno.inspect(client, { depth: 10 }),
    JSON.stringify(client),
    String(client),
    `${client}`,
    Deno.inspect(redactSecrets({ nested: { secretKey: secrets[1] } })),
  ].join("\n");
  for (const s of secrets) assert.ok(!shown.includes(s), `leaked ${s}: ${shown}`);
  assert.match(shown, /\[redacted\]/);
  // the options still work as options
  assert.equal((opts.auth as { apiKey: string }).apiKey, secrets[0]);
});

Deno.test("client options are validated", () => {
  assertThrows(() =>
    new ClovaStudioClient({ baseUrl: "nope", auth: { kind: "api-key", apiKey: "x" } })
  );
  assertThrows(() =>
    new ClovaStudioClient({ baseUrl: "http://x", auth: { kind: "api-key", apiKey: "" } })
  );
  assertThrows(() =>
    new ClovaStudioClient({
      baseUrl: "http://x",
      auth: { kind: "key-pair", clovaStudioApiKey: "a" } as never,
    })
  );
});

function assertThrows(fn: () => unknown) {
  assert.throws(fn, (e) => e instanceof ClovaRequestInvalidError);
}

Deno.test("createTask: loraR above 8 is refused before anything is sent, saying why", async () => {
  // A port nothing listens on: a create that got past the check would fail with NETWORK.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const c = new ClovaStudioClient({
    baseUrl: `http://127.0.0.1:${port}`,
    auth: { kind: "api-key", apiKey: "nv-units" },
    retry: { maxAttempts: 1 },
  });
  const ref = { bucket: "b", path: "t.csv", accessKey: "a", secretKey: "s" };
  for (const loraR of [9, 16, 64]) {
    const e = await c.createTask({ model: "HCX-003", loraR, dataset: { objectStorage: ref } })
      .catch((e) => e);
    assert.ok(e instanceof ClovaRequestInvalidError, String(e));
    assert.match(e.message, /loraR/);
    assert.match(e.message, /2–8/);
  }
  const sent = await c.createTask({ model: "HCX-003", loraR: 8, dataset: { objectStorage: ref } })
    .catch((e) => e);
  assert.ok(sent instanceof ClovaStudioError && sent.code === "NETWORK", String(sent));
});
