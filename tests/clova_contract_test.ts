// Contract tests: the client against the local emulator over real HTTP on 127.0.0.1 — the shared
// suite (tests/clova_contract_suite.ts) plus what only an emulator can stage on demand: every
// retryable fault class, token expiry and refresh, rate limiting, paging over many tasks, the
// legacy (cookbook) tuning API.
import assert from "node:assert/strict";
import { type Emulator, startEmulator } from "../lib/backends/emulator/mod.ts";
import {
  type ClovaClientOptions,
  ClovaStudioClient,
  ClovaStudioError,
  objectStorageConfig,
} from "../lib/backends/clova/mod.ts";
import { registerContractSuite, tuningCsv } from "./clova_contract_suite.ts";

const API_KEY = "nv-contract-test-key";
const PAIR = { clovaStudioApiKey: "contract-app-key", apigwApiKey: "contract-apigw-key" };
const CLIENT = { clientId: "contract-client", clientSecret: "contract-client-secret" };
const CREDENTIALS = { apiKeys: [API_KEY], keyPairs: [PAIR], clients: [CLIENT] };
const FAST_RETRY = { maxAttempts: 6, baseDelayMs: 2, maxDelayMs: 10 };
const MSGS = [{
  role: "user" as const,
  content: "목록에서 나라를 대륙별로 분류해줘.\n\n일본, 독일",
}];

function optionsFor(
  emu: Emulator,
): Record<"api-key" | "key-pair" | "client-credentials", ClovaClientOptions> {
  return {
    "api-key": { baseUrl: emu.url, auth: { kind: "api-key", apiKey: API_KEY }, retry: FAST_RETRY },
    "key-pair": { baseUrl: emu.url, auth: { kind: "key-pair", ...PAIR }, retry: FAST_RETRY },
    "client-credentials": {
      baseUrl: emu.url,
      auth: { kind: "client-credentials", ...CLIENT },
      retry: FAST_RETRY,
    },
  };
}

registerContractSuite("contract suite against the emulator", async () => {
  const emu = await startEmulator({
    credentials: CREDENTIALS,
    seed: 7,
    rateLimits: false,
    trainingSpeed: 5000,
    waitMs: 20,
  });
  return {
    target: {
      name: "emulator",
      auth: optionsFor(emu),
      badAuth: {
        baseUrl: emu.url,
        auth: { kind: "api-key", apiKey: "nv-wrong" },
        retry: FAST_RETRY,
      },
      v1Model: "HCX-003",
      v3Model: "HCX-005",
      tuning: { model: "HCX-003", pollIntervalMs: 10, timeoutMs: 20_000 },
      objectStorage: objectStorageConfig({
        endpoint: emu.objectStorageUrl,
        bucket: "contract-bucket",
        accessKey: "contract-access-key",
        secretKey: "contract-s3-secret-key",
      }),
    },
    close: () => emu.close(),
  };
});

async function withEmulator(
  opts: Partial<Parameters<typeof startEmulator>[0]>,
  fn: (emu: Emulator) => Promise<void>,
): Promise<void> {
  const emu = await startEmulator({
    credentials: CREDENTIALS,
    seed: 11,
    rateLimits: false,
    ...opts,
  });
  try {
    await fn(emu);
  } finally {
    await emu.close();
  }
}

/** Runs `n` sequential chats, collecting the codes the client retried on. */
async function chatMany(c: ClovaStudioClient, n: number, stream = false) {
  for (let i = 0; i < n; i++) {
    const r = stream
      ? await c.chatStream({ model: "HCX-003" }, { messages: MSGS, seed: i + 1 })
      : await c.chat({ model: "HCX-003" }, { messages: MSGS, seed: i + 1 });
    assert.ok(r.text.length > 0);
  }
}

Deno.test("emulator faults: 42900/42901/42902, 50000, 50400 and dropped connections are retried", async () => {
  await withEmulator({
    faults: { seed: 3, rate429: 0.15, rate500: 0.15, rate504: 0.15, drop: 0.15 },
  }, async (emu) => {
    const codes = new Set<string>();
    const delays: number[] = [];
    const c = new ClovaStudioClient({
      ...optionsFor(emu)["api-key"],
      retry: { maxAttempts: 12, baseDelayMs: 1, maxDelayMs: 4 },
      onRetry: ({ error, delayMs }) => {
        codes.add(error.code);
        delays.push(delayMs);
        assert.ok(error.requestId);
      },
    });
    await chatMany(c, 24);
    for (const code of ["42900", "42901", "42902", "50000", "50400", "NETWORK"]) {
      assert.ok(codes.has(code), `no retry on ${code}: ${[...codes]}`);
    }
    // the emulator's 429s carry Retry-After: 1, honoured
    assert.ok(delays.some((d) => d >= 1000));
    const s = emu.stats();
    assert.ok(
      s.fault429 > 0 && s.fault500 > 0 && s.fault504 > 0 && s.faultDrop > 0,
      JSON.stringify(s),
    );
  });
});

Deno.test("emulator faults: mid-stream error events and drops are retried when no token was shown", async () => {
  await withEmulator(
    { faults: { seed: 5, rate500: 0.25, rate504: 0.15, drop: 0.15 } },
    async (emu) => {
      const codes = new Set<string>();
      const c = new ClovaStudioClient({
        ...optionsFor(emu)["api-key"],
        retry: { maxAttempts: 12, baseDelayMs: 1, maxDelayMs: 4 },
        onRetry: ({ error }) => codes.add(error.code),
      });
      await chatMany(c, 16, true);
      assert.ok(
        codes.has("50000") && codes.has("50400") && codes.has("NETWORK"),
        [...codes].join(),
      );
      // With onToken, a mid-stream error after shown tokens is thrown, not retried.
      let thrown: ClovaStudioError | undefined;
      for (let i = 0; i < 30 && !thrown; i++) {
        const shown: string[] = [];
        try {
          await c.chatStream({ model: "HCX-003" }, { messages: MSGS, seed: 100 + i }, {
            onToken: (d) => shown.push(d),
          });
        } catch (e) {
          assert.ok(e instanceof ClovaStudioError);
          if (shown.length > 0) thrown = e;
        }
      }
      assert.ok(thrown, "expected one mid-stream failure after tokens");
      assert.ok(
        ["50000", "50400", "NETWORK", "STREAM_INCOMPLETE"].includes(thrown.code),
        thrown.code,
      );
    },
  );
});

Deno.test("emulator faults: a stall longer than the request timeout is retried (TIMEOUT)", async () => {
  await withEmulator({ faults: { seed: 2, stall: 0.5, stallMs: 2000 } }, async (emu) => {
    const codes: string[] = [];
    const c = new ClovaStudioClient({
      ...optionsFor(emu)["api-key"],
      requestTimeoutMs: 150,
      retry: { maxAttempts: 10, baseDelayMs: 1, maxDelayMs: 2 },
      onRetry: ({ error }) => codes.push(error.code),
    });
    await chatMany(c, 6);
    assert.ok(codes.includes("TIMEOUT"), codes.join());
  });
});

Deno.test("emulator faults: retries give up after maxAttempts with the last error", async () => {
  await withEmulator({ faults: { seed: 1, rate500: 1 } }, async (emu) => {
    const c = new ClovaStudioClient({
      ...optionsFor(emu)["api-key"],
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    });
    const e = await c.getTask("anything").catch((e) => e);
    assert.ok(e instanceof ClovaStudioError);
    assert.equal(e.code, "50000");
    assert.equal(e.httpStatus, 500);
    assert.equal(e.attempts, 3);
    assert.equal(emu.stats().fault500, 3);
  });
});

Deno.test("emulator rate limit: QPM exceeded → 429 42901 with Retry-After (retryable)", async () => {
  await withEmulator({ rateLimits: { "HCX-003": { qpm: 2, tpm: 1_000_000 } } }, async (emu) => {
    const c = new ClovaStudioClient({ ...optionsFor(emu)["api-key"], retry: { maxAttempts: 1 } });
    await chatMany(c, 2);
    const e = await c.chat({ model: "HCX-003" }, { messages: MSGS }).catch((e) => e);
    assert.ok(e instanceof ClovaStudioError);
    assert.equal(e.httpStatus, 429);
    assert.equal(e.code, "42901");
    assert.equal(e.retryable, true);
    assert.ok(e.retryAfterMs! > 0, "Retry-After given");
  });
});

Deno.test("emulator auth: token expiry (40103) → refetch and retry once; short TTL refreshes", async () => {
  await withEmulator({ credentials: { ...CREDENTIALS, tokenTtlMs: 200 } }, async (emu) => {
    const c = new ClovaStudioClient({
      ...optionsFor(emu)["client-credentials"],
      tokenRefreshMarginMs: 0,
    });
    assert.equal(c.generation, "legacy-2024");
    await c.chat({ model: "HCX-003" }, { messages: MSGS });
    await c.chat({ model: "HCX-003" }, { messages: MSGS });
    assert.equal(c.tokenFetches, 1, "token reused while valid");
    emu.expireTokens();
    await c.chat({ model: "HCX-003" }, { messages: MSGS });
    assert.equal(c.tokenFetches, 2, "40103 → one refetch");
    assert.equal(emu.stats().http401, 1);
    await new Promise((r) => setTimeout(r, 250)); // TTL passes: the cached token is stale
    await c.chat({ model: "HCX-003" }, { messages: MSGS });
    assert.equal(c.tokenFetches, 3);
    // with the default 60 s margin a 200 ms token is never reused
    const eager = new ClovaStudioClient(optionsFor(emu)["client-credentials"]);
    await eager.chat({ model: "HCX-003" }, { messages: MSGS });
    await eager.chat({ model: "HCX-003" }, { messages: MSGS });
    assert.equal(eager.tokenFetches, 2);
  });
});

Deno.test("emulator auth: wrong secret / key pair / missing key are 401s with their codes", async () => {
  await withEmulator({}, async (emu) => {
    const cases: [ClovaClientOptions["auth"], string][] = [
      [{ kind: "client-credentials", clientId: CLIENT.clientId, clientSecret: "nope" }, "40101"],
      [{ kind: "client-credentials", clientId: "nobody", clientSecret: "x" }, "40104"],
      [
        { kind: "key-pair", clovaStudioApiKey: PAIR.clovaStudioApiKey, apigwApiKey: "wrong" },
        "40104",
      ],
      [{ kind: "key-pair", clovaStudioApiKey: "unknown", apigwApiKey: "x" }, "40100"],
      [{ kind: "api-key", apiKey: "nv-unknown" }, "40100"],
    ];
    for (const [auth, code] of cases) {
      const e = await new ClovaStudioClient({ baseUrl: emu.url, auth }).chat({ model: "HCX-003" }, {
        messages: MSGS,
      })
        .catch((e) => e);
      assert.ok(e instanceof ClovaStudioError);
      assert.equal(e.code, code, JSON.stringify(auth.kind));
      assert.equal(e.httpStatus, 401);
      assert.equal(e.attempts, 1);
    }
  });
});

Deno.test("emulator tuning: legacy-2024 API (cookbook flow: client credentials, /v2/tasks, LORA, 4 epochs, 50 two-column rows)", async () => {
  await withEmulator({ trainingSpeed: 5000, waitMs: 10, compat: "cookbook-2024" }, async (emu) => {
    const c = new ClovaStudioClient(optionsFor(emu)["client-credentials"]);
    assert.equal(c.generation, "legacy-2024");
    const task = await c.createTask({
      name: "cookbook",
      model: "HCX-DASH-001",
      method: "LORA",
      taskType: "GENERATION",
      trainEpochs: 4,
      learningRate: 1e-4,
      dataset: {
        file: { name: "train_50.csv", bytes: tuningCsv(50, { layout: "text-completion" }) },
      },
    });
    assert.equal(task.method, "LORA");
    assert.equal(task.trainEpochs, 4);
    assert.equal(task.model, "HCX-DASH-001");
    const done = await c.waitForTask(task.id, { pollIntervalMs: 10 });
    assert.equal(done.statusInfo.totalTrainEpochs, 4);
    const r = await c.chat({ taskId: task.id }, {
      messages: MSGS,
      topP: 0.6,
      topK: 0,
      maxTokens: 256,
      temperature: 0.5,
      repeatPenalty: 1.2,
    });
    assert.match(r.text, /아시아|유럽/);
  });
});

Deno.test("emulator tuning: paging over many tasks, key-pair auth", async () => {
  await withEmulator({ trainingSpeed: 5000 }, async (emu) => {
    const c = new ClovaStudioClient(optionsFor(emu)["key-pair"]);
    emu.putObject("bkt", "t.csv", tuningCsv(100));
    const ref = { bucket: "bkt", path: "t.csv", accessKey: "ak", secretKey: "sk" };
    const ids = new Set<string>();
    for (let i = 0; i < 7; i++) {
      const t = await c.createTask({ model: "HCX-003", dataset: { objectStorage: ref } });
      ids.add(t.id);
    }
    for (const size of [1, 3, 7, 100]) {
      const listed: string[] = [];
      for await (const t of c.listTasks({ pageSize: size })) listed.push(t.id);
      assert.equal(listed.length, 7, `page size ${size}`);
      assert.deepEqual(new Set(listed), ids);
    }
    await assert.rejects(
      (async () => {
        for await (const _ of c.listTasks({ pageSize: 101 })) { /* no-op */ }
      })(),
      (e) => e instanceof ClovaStudioError && e.code === "40001" && e.httpStatus === 0,
    );
  });
});

Deno.test("emulator tuning: a task name over 30 characters is refused (rule tuning.create.name)", async () => {
  await withEmulator({ trainingSpeed: 5000 }, async (emu) => {
    const c = new ClovaStudioClient(optionsFor(emu)["api-key"]);
    emu.putObject("bkt", "t.csv", tuningCsv(100));
    const ref = { bucket: "bkt", path: "t.csv", accessKey: "ak", secretKey: "sk" };
    for (const name of ["20261207-095048-HCX-DASH-001-10000", "x".repeat(31), "x"]) {
      const e = await c.createTask({ name, model: "HCX-003", dataset: { objectStorage: ref } })
        .catch((e) => e);
      assert.ok(e instanceof ClovaStudioError, `${name}: ${e}`);
      assert.equal(e.httpStatus, 400, name);
      assert.equal(e.code, "40001", name);
      assert.match(e.message, /Invalid parameter: name/, name);
    }
    const t = await c.createTask({
      name: "x".repeat(30),
      model: "HCX-003",
      dataset: { objectStorage: ref },
    });
    assert.equal(t.name, "x".repeat(30));
  });
});
