/**
 * Raw-HTTP tests of the CLOVA Studio emulator (fetch only, no client library): envelopes and
 * codes, auth schemes and failures, token expiry, the task lifecycle and dataset failures,
 * paging, delete, Object Storage, SSE framing, OpenAI shapes, rate limits, seeded fault replay,
 * state-dir persistence, the tokenizer and the reference learner.
 */
import nodeAssert from "node:assert/strict";
import { AwsClient } from "aws4fetch";
import { COMPLETION_PREFIX, CONTINENTS, COOKBOOK_COUNTRIES, TEXT_PREFIX } from "../lib/cookbook.ts";
import {
  type Emulator,
  type EmulatorOptions,
  startEmulator,
} from "../lib/backends/emulator/mod.ts";
import { answer, baseModel, parseCountryList, train } from "../lib/backends/emulator/learner.ts";
import { countTokens, streamPieces, truncateTokens } from "../lib/backends/tokenizer.ts";
import { checkDataset } from "../lib/backends/emulator/dataset.ts";
import { datasetRules } from "../lib/backends/emulator/rules.ts";
import { consoleSampleResult, readStrictSse } from "./helpers/strict_sse.ts";
import { createRng } from "../lib/backends/emulator/random.ts";

const assert: (value: unknown, message?: string) => asserts value = nodeAssert.ok;
const assertEquals = <T>(actual: T, expected: T, message?: string) =>
  nodeAssert.deepStrictEqual(actual, expected, message);
const assertNotEquals = <T>(actual: T, expected: T, message?: string) =>
  nodeAssert.notDeepStrictEqual(actual, expected, message);
const assertAlmostEquals = (actual: number, expected: number, tolerance: number) =>
  assert(Math.abs(actual - expected) <= tolerance, `${actual} ≉ ${expected}`);

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const API_KEY = "nv-test-emulator-key-0001";
const PAIR = { clovaStudioApiKey: "app-key-test-0001", apigwApiKey: "gw-key-test-0001" };
const CLIENT = { clientId: "client-test", clientSecret: "client-secret-test-0001" };
const BEARER = { authorization: `Bearer ${API_KEY}` };
const JSON_HEADERS = { ...BEARER, "content-type": "application/json" };

function start(extra: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  return startEmulator({
    credentials: { apiKeys: [API_KEY], keyPairs: [PAIR], clients: [CLIENT] },
    waitMs: 30,
    trainingSpeed: 20_000,
    rateLimits: false,
    ...extra,
  });
}

async function withEmulator(
  extra: Partial<EmulatorOptions>,
  fn: (emu: Emulator) => Promise<void>,
): Promise<void> {
  const emu = await start(extra);
  try {
    await fn(emu);
  } finally {
    await emu.close();
  }
}

// deno-lint-ignore no-explicit-any
type Json = any;

async function call(
  emu: Emulator,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: BodyInit } = {},
): Promise<{ status: number; json: Json; headers: Headers }> {
  const res = await fetch(`${emu.url}${path}`, { method, headers: init.headers, body: init.body });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, headers: res.headers };
}

/** Cookbook-style rows (shuffled asked order, continent blocks), seeded. */
function cookbookRows(n: number, seed: number): { text: string; completion: string }[] {
  const rng = createRng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng.next() * xs.length)];
  const rows = [];
  for (let i = 0; i < n; i++) {
    const continents = [...CONTINENTS].sort(() => rng.next() - 0.5).slice(0, 2 + (i % 5));
    const groups = continents.map((c) => {
      const set = new Set<string>();
      while (set.size < 2) set.add(pick(COOKBOOK_COUNTRIES[c]));
      return { c, countries: [...set] };
    });
    const asked = groups.flatMap((g) => g.countries).sort(() => rng.next() - 0.5);
    rows.push({
      text: TEXT_PREFIX + asked.join(", "),
      completion: COMPLETION_PREFIX + groups.map((g) => `${g.c}: ${g.countries.join(", ")}`)
        .join("\n\n"),
    });
  }
  return rows;
}

function toCsv(rows: { text: string; completion: string }[], header = "Text,Completion"): string {
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  return [header, ...rows.map((r) => `${q(r.text)},${q(r.completion)}`)].join("\n") + "\n";
}

const enc = (text: string) => new TextEncoder().encode(text);

/** The current format: `C_ID,T_ID,Text,Completion`, one conversation per row, UTF-8 with BOM. */
function instructionCsv(
  rows: { text: string; completion: string }[],
  opts: { bom?: boolean } = {},
): string {
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const lines = rows.map((r, i) => `${i},0,${q(r.text)},${q(r.completion)}`);
  return (opts.bom === false ? "" : "\uFEFF") + ["C_ID,T_ID,Text,Completion", ...lines].join("\n") +
    "\n";
}

/** `POST /tuning/v2/tasks` (JSON) for an object already in bucket `bkt`. */
function createCurrent(emu: Emulator, fields: Record<string, unknown>, key: string) {
  return call(emu, "POST", "/tuning/v2/tasks", {
    headers: JSON_HEADERS,
    body: JSON.stringify({
      model: "HCX-003",
      trainingDatasetBucket: "bkt",
      trainingDatasetFilePath: key,
      trainingDatasetAccessKey: "ak",
      trainingDatasetSecretKey: "sk",
      ...fields,
    }),
  });
}

function taskForm(
  fields: Record<string, string>,
  file?: { name: string; bytes: Uint8Array | string },
): FormData {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.set(k, v);
  if (file) fd.set("trainingDataset", new File([file.bytes as BlobPart], file.name));
  return fd;
}

const COOKBOOK_FIELDS = {
  name: "test",
  model: "HCX-003",
  method: "LORA",
  taskType: "GENERATION",
  trainEpochs: "4",
  learningRate: "1e-4",
};

async function waitStatus(emu: Emulator, id: string, done: string[] = ["SUCCEEDED", "FAILED"]) {
  const seen: Json[] = [];
  for (let i = 0; i < 500; i++) {
    const r = await call(emu, "GET", `/tuning/v2/tasks/${id}`, { headers: BEARER });
    assertEquals(r.status, 200);
    seen.push(r.json.result);
    if (done.includes(r.json.result.status)) return { task: r.json.result, seen };
    await new Promise((res) => setTimeout(res, 5));
  }
  throw new Error(`task ${id} did not finish`);
}

function parseSse(text: string): { id?: string; event?: string; data?: string }[] {
  return text.split("\n\n").filter((b) => b.trim()).map((block) => {
    const e: { id?: string; event?: string; data?: string } = {};
    for (const line of block.split("\n")) {
      const i = line.indexOf(":");
      const k = line.slice(0, i);
      const v = line.slice(i + 1).trimStart();
      if (k === "id" || k === "event" || k === "data") e[k] = v;
    }
    return e;
  });
}

const ASK = TEXT_PREFIX + "독일, 일본, 브라질, 케냐, 피지, 캐나다";

// ------------------------------------------------------------------ auth and envelope

Deno.test("auth: envelope codes are strings, every scheme and failure", async () => {
  await withEmulator(
    { credentials: { ...{ apiKeys: [API_KEY], keyPairs: [PAIR] } } },
    async (emu) => {
      const body = JSON.stringify({ messages: [{ role: "user", content: ASK }] });
      const chat = (headers: Record<string, string>, prefix = "") =>
        call(emu, "POST", `${prefix}/v1/chat-completions/HCX-003`, {
          headers: { "content-type": "application/json", ...headers },
          body,
        });
      let r = await chat({});
      assertEquals([r.status, r.json.status.code], [401, "40100"]);
      assertEquals(typeof r.json.status.code, "string");
      r = await chat({ authorization: "Bearer nv-unknown" });
      assertEquals([r.status, r.json.status.code], [401, "40100"]);
      r = await chat({ authorization: "Bearer some-token" });
      assertEquals([r.status, r.json.status.code], [401, "40102"]);
      r = await chat({ authorization: "Basic Zm9vOmJhcg==" });
      assertEquals([r.status, r.json.status.code], [401, "40102"]);
      r = await chat({
        "x-ncp-clovastudio-api-key": PAIR.clovaStudioApiKey,
        "x-ncp-apigw-api-key": "wrong",
      }, "/testapp");
      assertEquals([r.status, r.json.status.code], [401, "40104"]);
      r = await chat({
        "x-ncp-clovastudio-api-key": PAIR.clovaStudioApiKey,
        "x-ncp-apigw-api-key": PAIR.apigwApiKey,
      }, "/testapp");
      assertEquals([r.status, r.json.status], [200, { code: "20000", message: "OK" }]);
      r = await chat({ ...BEARER, "x-ncp-clovastudio-request-id": "req-123" }, "/serviceapp");
      assertEquals(r.status, 200);
      assertEquals(r.headers.get("x-ncp-clovastudio-request-id"), "req-123");
      // Error bodies never echo credentials.
      r = await chat({ authorization: "Bearer nv-unknown-secret-value" });
      assert(!JSON.stringify(r.json).includes("secret-value"));
      r = await call(emu, "GET", "/v1/no-such-route", { headers: BEARER });
      assertEquals([r.status, r.json.status.code], [404, "40400"]);
    },
  );
});

Deno.test("auth: legacy token flow, reuse, expiry (40103) and bad client", async () => {
  await withEmulator({
    credentials: { clients: [CLIENT], tokenTtlMs: 60_000 },
  }, async (emu) => {
    const basic = (id: string, secret: string) => ({
      authorization: `Basic ${btoa(`${id}:${secret}`)}`,
    });
    let r = await call(emu, "GET", "/v1/auth/token", {
      headers: basic(CLIENT.clientId, "wrong"),
    });
    assertEquals([r.status, r.json.status.code], [401, "40101"]);
    r = await call(emu, "GET", "/v1/auth/token", { headers: basic("nobody", "x") });
    assertEquals([r.status, r.json.status.code], [401, "40104"]);
    r = await call(emu, "GET", "/v1/auth/token");
    assertEquals([r.status, r.json.status.code], [401, "40100"]);

    const before = Date.now();
    r = await call(emu, "GET", "/v1/auth/token?existingToken=true", {
      headers: basic(CLIENT.clientId, CLIENT.clientSecret),
    });
    assertEquals(r.status, 200);
    const { accessToken, tokenType, expiresIn } = r.json.result;
    assertEquals(tokenType, "Bearer");
    assert(expiresIn >= before + 60_000 && expiresIn <= Date.now() + 60_000, "epoch-ms expiry");
    r = await call(emu, "GET", "/v1/auth/token?existingToken=true", {
      headers: basic(CLIENT.clientId, CLIENT.clientSecret),
    });
    assertEquals(r.json.result.accessToken, accessToken, "existingToken reuses the live token");
    r = await call(emu, "GET", "/v1/auth/token", {
      headers: basic(CLIENT.clientId, CLIENT.clientSecret),
    });
    assertNotEquals(r.json.result.accessToken, accessToken, "without it a new token is minted");

    const tokenHeaders = { authorization: `Bearer ${accessToken}` };
    r = await call(emu, "GET", "/v2/tasks", { headers: tokenHeaders });
    assertEquals(r.status, 200);
    emu.expireTokens();
    r = await call(emu, "GET", "/v2/tasks", { headers: tokenHeaders });
    assertEquals([r.status, r.json.status], [401, {
      code: "40103",
      message: "Access token expired",
    }]);
  });
  // Real expiry by TTL.
  await withEmulator({ credentials: { clients: [CLIENT], tokenTtlMs: 30 } }, async (emu) => {
    const r = await call(emu, "GET", "/v1/auth/token", {
      headers: { authorization: `Basic ${btoa(`${CLIENT.clientId}:${CLIENT.clientSecret}`)}` },
    });
    await new Promise((res) => setTimeout(res, 60));
    const again = await call(emu, "GET", "/v2/tasks", {
      headers: { authorization: `Bearer ${r.json.result.accessToken}` },
    });
    assertEquals(again.json.status.code, "40103");
  });
});

// ------------------------------------------------------------------ tuning

Deno.test("tuning: the 2024 multipart flow (cookbook-2024) moves WAIT → RUNNING → SUCCEEDED with real loss", async () => {
  await withEmulator({ trainingSpeed: 200, waitMs: 150, compat: "cookbook-2024" }, async (emu) => {
    const rows = cookbookRows(300, 7);
    // The cookbook's own file: two columns, plain UTF-8.
    const r = await call(emu, "POST", "/v2/tasks", {
      headers: BEARER,
      body: taskForm(COOKBOOK_FIELDS, { name: "train.csv", bytes: toCsv(rows) }),
    });
    assertEquals(r.status, 200);
    assertEquals(r.json.status.code, "20000");
    const t = r.json.result;
    assertEquals(t.status, "WAIT");
    assert(/^[a-z0-9]{8}$/.test(t.id));
    assertEquals([t.method, t.tuningType, t.taskType, t.trainEpochs, t.learningRate], [
      "LORA",
      "PEFT",
      "GENERATION",
      4,
      0.0001,
    ]);
    assertEquals(t.statusInfo.currStep, null);
    assertEquals(t.statusInfo.uploadedWeights, []);
    assertEquals(t.dataset.rowCount, 300);
    assertEquals(t.dataset.fileName, "train.csv");
    assertEquals(t.dataset.secretKey, null);
    assert(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0900$/.test(t.createdDate));

    const { task, seen } = await waitStatus(emu, t.id);
    const statuses = [...new Set(seen.map((s: Json) => s.status))];
    assertEquals(statuses, ["WAIT", "RUNNING", "SUCCEEDED"]);
    const steps = seen.filter((s: Json) => s.status === "RUNNING").map((s: Json) =>
      s.statusInfo.currStep
    );
    assert(steps.every((s: number, i: number) => i === 0 || s >= steps[i - 1]), "steps move up");
    const info = task.statusInfo;
    assertEquals(info.totalTrainSteps, Math.ceil(300 / 16) * 4);
    assertEquals(info.currStep, info.totalTrainSteps);
    assertEquals([info.currEpoch, info.totalTrainEpochs, info.dataRows], [4, 4, 300]);
    assert(info.trainLoss > 0 && info.trainLoss < Math.log(6), "loss below chance");
    assert(info.lossDiff < 0, "last epoch better than the one before");
    assertEquals(info.sendWeightSuccess, true);
    assert(info.endDatetime);
    assertEquals(info.failureReason, null);
    // The 2024 GET works too.
    const legacy = await call(emu, "GET", `/v2/tasks/${t.id}`, { headers: BEARER });
    assertEquals(legacy.json.result.status, "SUCCEEDED");
  });
});

Deno.test("tuning: current JSON create from Object Storage with a current-format CSV succeeds", async () => {
  await withEmulator({}, async (emu) => {
    emu.putObject("bkt", "data/train.csv", enc(instructionCsv(cookbookRows(120, 3))));
    const r = await createCurrent(emu, { name: "os", trainEpochs: "2" }, "data/train.csv");
    assertEquals([r.status, r.json.status.code, r.json.result.status], [200, "20000", "WAIT"]);
    assertEquals([r.json.result.method, r.json.result.trainEpochs], ["LoRA", 2]);
    const { task } = await waitStatus(emu, r.json.result.id);
    assertEquals([task.status, task.statusInfo.dataRows], ["SUCCEEDED", 120]);
    // Defaults of the current API: 8 epochs.
    const d = await createCurrent(emu, {}, "data/train.csv");
    assertEquals(d.json.result.trainEpochs, 8);
  });
});

Deno.test("strict: multipart on /tuning/v2/tasks, a two-column or 50-row CSV and a missing object are refused as documented", async () => {
  const cookbookFile = toCsv(cookbookRows(50, 4)); // two columns, 50 rows, no BOM
  await withEmulator({}, async (emu) => {
    // rule: tuning.create.current.json — the 2024 multipart upload.
    const multipart = await call(emu, "POST", "/tuning/v2/tasks", {
      headers: BEARER,
      body: taskForm({ model: "HCX-003" }, { name: "train.csv", bytes: cookbookFile }),
    });
    assertEquals([multipart.status, multipart.json.status], [415, {
      code: "41500",
      message: "MediaType error",
    }]);
    // rule: tuning.create.current.object-storage — a file field is not part of the current body.
    const fileField = await call(emu, "POST", "/tuning/v2/tasks", {
      headers: JSON_HEADERS,
      body: JSON.stringify({ model: "HCX-003", trainingDataset: cookbookFile }),
    });
    assertEquals([fileField.status, fileField.json.status.code], [400, "40001"]);
    // rule: tuning.create.missing-object — 404 40400 and no task.
    const missing = await createCurrent(emu, {}, "nowhere/train.csv");
    assertEquals([missing.status, missing.json.status], [404, {
      code: "40400",
      message: "File not found",
    }]);
    assertEquals(emu.stats().tasksCreated ?? 0, 0);
    // rules: dataset.columns, dataset.min-rows, dataset.encoding — accepted, then FAILED.
    const cases: [string, string, string, string][] = [
      [
        "two-columns.csv",
        "\uFEFF" + toCsv(cookbookRows(120, 5)),
        "file.format",
        "Invalid dataset: required field empty. C_ID",
      ],
      [
        "fifty.csv",
        instructionCsv(cookbookRows(50, 6)),
        "file.format",
        "Invalid dataset: at least 100 rows are required (found 50)",
      ],
      [
        "no-bom.csv",
        instructionCsv(cookbookRows(120, 7), { bom: false }),
        "file.encoding",
        "Unsupported charset",
      ],
    ];
    for (const [key, text, reason, message] of cases) {
      emu.putObject("bkt", key, enc(text));
      const r = await createCurrent(emu, {}, key);
      assertEquals([r.status, r.json.result.status], [200, "WAIT"], key);
      const { task } = await waitStatus(emu, r.json.result.id);
      assertEquals(
        [task.status, task.statusInfo.failureReason, task.statusInfo.message],
        ["FAILED", reason, message],
        key,
      );
    }
    // rule: tuning.create.legacy-2024 — /v2/tasks takes multipart only.
    const json2024 = await call(emu, "POST", "/v2/tasks", {
      headers: JSON_HEADERS,
      body: JSON.stringify({ model: "HCX-003" }),
    });
    assertEquals([json2024.status, json2024.json.status.code], [415, "41500"]);
  });
  // cookbook-2024 relaxes exactly the dataset rules the cookbook's file broke.
  await withEmulator({ compat: "cookbook-2024" }, async (emu) => {
    emu.putObject("bkt", "cookbook.csv", enc(cookbookFile));
    const r = await createCurrent(emu, {}, "cookbook.csv");
    assertEquals((await waitStatus(emu, r.json.result.id)).task.status, "SUCCEEDED");
    const multipart = await call(emu, "POST", "/tuning/v2/tasks", {
      headers: BEARER,
      body: taskForm({ model: "HCX-003" }, { name: "train.csv", bytes: cookbookFile }),
    });
    assertEquals(multipart.status, 415, "the request format is not relaxed");
  });
});

Deno.test("tuning: bad datasets fail asynchronously with the documented reasons", async () => {
  await withEmulator({}, async (emu) => {
    const good = cookbookRows(5, 1);
    const bytes = new TextEncoder();
    const BOM = "\uFEFF";
    const ids = (rows: { text: string; completion: string }[]) =>
      rows.map((r, i) => `${i},0,${JSON.stringify(r.text)},${JSON.stringify(r.completion)}`);
    const cases: [string, Uint8Array | string, string, string][] = [
      [
        "train.txt",
        instructionCsv(cookbookRows(120, 1)),
        "file.extension",
        "Unavailable file extension.",
      ],
      [
        "cp949.csv",
        new Uint8Array([0xef, 0xbb, 0xbf, 0x54, 0x65, 0xb1, 0xb9, 0xb0, 0xa1, 0x0a]),
        "file.encoding",
        "Unsupported charset",
      ],
      [
        "utf16.csv",
        new Uint8Array([0xff, 0xfe, ...bytes.encode("Text,Completion\n")]),
        "file.encoding",
        "Unsupported charset",
      ],
      [
        "extra.csv",
        `${BOM}C_ID,T_ID,Text,Completion,Extra\n0,0,a,b,c\n`,
        "file.format",
        "Invalid dataset: unexpected column. Extra",
      ],
      [
        "dup.csv",
        `${BOM}C_ID,T_ID,Text,text\n0,0,a,b\n`,
        "file.format",
        "Invalid dataset: duplicate columns.",
      ],
      [
        "order.csv",
        `${BOM}C_ID,T_ID,Completion,Text\n0,0,b,a\n`,
        "file.format",
        "Invalid dataset: column order",
      ],
      [
        "nocompletion.csv",
        `${BOM}C_ID,T_ID,Text\n0,0,a\n`,
        "file.format",
        "Invalid dataset: required field empty. Completion",
      ],
      [
        "emptytext.csv",
        `${BOM}C_ID,T_ID,Text,Completion\n0,0,"",x\n`,
        "file.format",
        "Invalid dataset: required field empty. Text",
      ],
      [
        "cid.csv",
        `${BOM}C_ID,T_ID,Text,Completion\n0,0,a,b\n2,0,c,d\n`,
        "file.format",
        "Invalid dataset: C_ID",
      ],
      [
        "tid.csv",
        `${BOM}C_ID,T_ID,Text,Completion\n0,0,a,b\n0,2,c,d\n`,
        "file.format",
        "Invalid dataset: T_ID",
      ],
      [
        "train.jsonl",
        `${BOM}{"C_ID":0,"T_ID":0,"Text":"a","Completion":"b"}\nnot json\n`,
        "file.format",
        "Invalid json",
      ],
    ];
    const created: string[] = [];
    for (const [name, content] of cases) {
      emu.putObject("bkt", name, typeof content === "string" ? enc(content) : content);
      const r = await createCurrent(emu, {}, name);
      assertEquals([r.status, r.json.status.code, r.json.result.status], [200, "20000", "WAIT"]);
      created.push(r.json.result.id);
    }
    for (let i = 0; i < cases.length; i++) {
      const { task } = await waitStatus(emu, created[i]);
      const [name, , reason, message] = cases[i];
      assertEquals(task.status, "FAILED", name);
      assertEquals(task.statusInfo.failureReason, reason, name);
      assert(task.statusInfo.message.startsWith(message), `${name}: ${task.statusInfo.message}`);
      assert(task.statusInfo.endDatetime);
    }
    // A valid multi-turn file with System_Prompt first succeeds.
    const rows = cookbookRows(120, 9);
    const multiTurn = `${BOM}System_Prompt,C_ID,T_ID,Text,Completion\n` +
      rows.map((r, i) =>
        `sys,${Math.floor(i / 2)},${i % 2},${JSON.stringify(r.text)},${
          JSON.stringify(r.completion)
        }`
      ).join("\n");
    emu.putObject("bkt", "multi.csv", enc(multiTurn));
    const ok = await createCurrent(emu, {}, "multi.csv");
    assertEquals((await waitStatus(emu, ok.json.result.id)).task.status, "SUCCEEDED");
    assertEquals(ids(good).length, 5);
  });
});

Deno.test("tuning: synchronous parameter errors and unknown tasks", async () => {
  // The created task stays WAIT for the whole test (its last check needs it), however slow the
  // machine.
  await withEmulator({ waitMs: 60_000 }, async (emu) => {
    emu.putObject("bkt", "t.csv", enc(instructionCsv(cookbookRows(100, 2))));
    const code = async (p: Promise<{ status: number; json: Json }>) => {
      const r = await p;
      return [r.status, r.json.status.code];
    };
    const create = (fields: Record<string, unknown>) => createCurrent(emu, fields, "t.csv");
    assertEquals(
      await code(call(emu, "POST", "/tuning/v2/tasks", {
        headers: JSON_HEADERS,
        body: JSON.stringify({}),
      })),
      [400, "40001"],
    );
    assertEquals(await code(create({ trainEpochs: "0" })), [400, "40001"]);
    assertEquals(await code(create({ trainEpochs: 21 })), [400, "40001"]);
    assertEquals(await code(create({ learningRate: "2" })), [400, "40001"]);
    assertEquals(await code(create({ loraR: 1 })), [400, "40001"]);
    assertEquals(await code(create({ method: "LORA" })), [400, "40001"], "not a current field");
    assertEquals(await code(create({ model: "NOPE" })), [400, "40080"]);
    assertEquals(await code(create({ model: "HCX-007" })), [400, "40009"]);
    assertEquals(await code(create({ tuningType: "FULL" })), [400, "40009"]);
    assertEquals(await code(create({ trainingDatasetSecretKey: undefined })), [400, "40001"]);
    // The doc example's number forms and the console sample's `1e-5f` string are accepted.
    const forms = await create({ trainEpochs: 8, learningRate: "1e-5f", taskType: "GENERATION" });
    assertEquals(forms.status, 200);
    assertEquals(forms.json.result.learningRate, 1e-5);
    assertEquals(
      await code(call(emu, "POST", "/v2/tasks", {
        headers: { ...BEARER, "content-type": "multipart/form-data" },
        body: "x",
      })),
      [415, "41501"],
    );
    assertEquals(
      await code(call(emu, "POST", "/tuning/v2/tasks", {
        headers: { ...BEARER, "content-type": "text/plain" },
        body: "x",
      })),
      [415, "41500"],
    );
    for (const [m, p] of [["GET", "/tuning/v2/tasks/zzzzzzzz"], ["DELETE", "/v2/tasks/zzzzzzzz"]]) {
      assertEquals(await code(call(emu, m, p, { headers: BEARER })), [404, "40400"]);
    }
    assertEquals(
      await code(call(emu, "POST", "/v2/tasks/zzzzzzzz/chat-completions", {
        headers: JSON_HEADERS,
        body: JSON.stringify({ messages: [{ role: "user", content: "x" }] }),
      })),
      [404, "40400"],
    );
    // A task that is still WAIT cannot answer.
    assertEquals(
      await code(call(emu, "POST", `/v3/tasks/${forms.json.result.id}/chat-completions`, {
        headers: JSON_HEADERS,
        body: JSON.stringify({ messages: [{ role: "user", content: "x" }] }),
      })),
      [400, "40083"],
    );
  });
});

Deno.test("tuning: list paging and delete on both paths", async () => {
  await withEmulator({}, async (emu) => {
    emu.putObject("bkt", "t.csv", enc(instructionCsv(cookbookRows(100, 3))));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await createCurrent(emu, { model: "HCX-DASH-001", name: `t${i}` }, "t.csv");
      ids.push(r.json.result.id);
    }
    let r = await call(emu, "GET", "/tuning/v2/tasks?page=0&size=2", { headers: BEARER });
    const page = r.json.result;
    assertEquals([page.totalPages, page.totalElements, page.size, page.number], [3, 5, 2, 0]);
    assertEquals(r.json.result.content.map((t: Json) => t.name), ["t4", "t3"]);
    r = await call(emu, "GET", "/tuning/v2/tasks?page=2&size=2", { headers: BEARER });
    assertEquals(r.json.result.content.map((t: Json) => t.name), ["t0"]);
    r = await call(emu, "GET", "/tuning/v2/tasks", { headers: BEARER });
    assertEquals([r.json.result.size, r.json.result.content.length], [20, 5]);
    for (const q of ["size=0", "size=101", "page=-1", "page=x"]) {
      r = await call(emu, "GET", `/tuning/v2/tasks?${q}`, { headers: BEARER });
      assertEquals([r.status, r.json.status.code], [400, "40001"], q);
    }
    r = await call(emu, "DELETE", `/tuning/v2/tasks/${ids[0]}`, { headers: BEARER });
    assertEquals([r.status, r.json], [200, { status: { code: "20000", message: "OK" } }]);
    r = await call(emu, "DELETE", `/v2/tasks/${ids[1]}`, { headers: BEARER });
    assertEquals(r.status, 200);
    r = await call(emu, "GET", `/tuning/v2/tasks/${ids[0]}`, { headers: BEARER });
    assertEquals(r.json.status.code, "40400");
    r = await call(emu, "GET", "/tuning/v2/tasks?size=100", { headers: BEARER });
    assertEquals(r.json.result.totalElements, 3);
  });
});

Deno.test("object storage: SigV4-signed S3 subset feeds a current tuning task", async () => {
  await withEmulator({}, async (emu) => {
    const s3 = new AwsClient({
      accessKeyId: "ncp-access",
      secretAccessKey: "ncp-secret-key-0001",
      service: "s3",
      region: "kr-standard",
    });
    const csv = instructionCsv(cookbookRows(100, 3));
    const key = `${emu.objectStorageUrl}/my-bucket/data/train.csv`;
    let res = await s3.fetch(key, { method: "PUT", body: csv });
    assertEquals(res.status, 200);
    assert(res.headers.get("etag"));
    await res.body?.cancel();
    res = await fetch(key, { method: "PUT", body: csv });
    assertEquals(res.status, 403, "unsigned requests are refused");
    await res.body?.cancel();
    res = await s3.fetch(key);
    assertEquals(new Uint8Array(await res.arrayBuffer()), enc(csv), "bytes kept, BOM included");
    res = await s3.fetch(`${emu.objectStorageUrl}/my-bucket/nothing.csv`);
    assertEquals(res.status, 404);
    await res.body?.cancel();
    // Root-level path-style also works for signed requests.
    res = await s3.fetch(`${emu.url}/my-bucket/data/train.csv`, { method: "HEAD" });
    assertEquals(res.status, 200);

    const r = await call(emu, "POST", "/tuning/v2/tasks", {
      headers: JSON_HEADERS,
      body: JSON.stringify({
        name: "os",
        model: "HCX-003",
        trainEpochs: "2",
        learningRate: "1.0E-4",
        trainingDatasetBucket: "my-bucket",
        trainingDatasetFilePath: "data/train.csv",
        trainingDatasetAccessKey: "ncp-access",
        trainingDatasetSecretKey: "ncp-secret-key-0001",
      }),
    });
    assertEquals(r.status, 200);
    assert(!JSON.stringify(r.json).includes("ncp-secret-key-0001"), "secret key not echoed");
    assertEquals(r.json.result.dataset.bucket, "my-bucket");
    const { task } = await waitStatus(emu, r.json.result.id);
    assertEquals([task.status, task.statusInfo.dataRows, task.trainEpochs], ["SUCCEEDED", 100, 2]);
  });
});

Deno.test("limits: bodies are refused while they stream in; malformed percent-encoding is a 400 in the route's envelope", async () => {
  await withEmulator({ maxDatasetBytes: 1024 * 1024 }, async (emu) => {
    // rule: limits.body — declared too large, and streamed without a length.
    let r = await call(emu, "POST", "/v1/chat-completions/HCX-003", {
      headers: JSON_HEADERS,
      body: new Uint8Array(51 * 1024 * 1024),
    });
    assertEquals([r.status, r.json.status.code], [413, "41300"]);
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= 200 * 1024 * 1024) return c.close();
        sent += 1 << 20;
        c.enqueue(new Uint8Array(1 << 20));
      },
    });
    const res = await fetch(`${emu.url}/v3/chat-completions/HCX-005`, {
      method: "POST",
      headers: JSON_HEADERS,
      body: endless,
      // @ts-ignore: a streamed request body needs duplex
      duplex: "half",
    });
    assertEquals([res.status, (await res.json()).status.code], [413, "41300"]);
    assert(sent < 200 * 1024 * 1024, `stopped reading at ${sent >> 20} MB`);
    // rule: limits.dataset — a 2024 multipart create and an object PUT over the dataset limit.
    r = await call(emu, "POST", "/v2/tasks", {
      headers: BEARER,
      body: taskForm(COOKBOOK_FIELDS, { name: "t.csv", bytes: new Uint8Array(3 * 1024 * 1024) }),
    });
    assertEquals([r.status, r.json.status.code], [413, "41300"]);
    const s3 = new AwsClient({ accessKeyId: "a", secretAccessKey: "s", service: "s3" });
    const put = await s3.fetch(`${emu.objectStorageUrl}/bkt/big.csv`, {
      method: "PUT",
      body: new Uint8Array(3 * 1024 * 1024),
    });
    assertEquals(put.status, 400);
    assert((await put.text()).includes("<Code>EntityTooLarge</Code>"));
    assertEquals(emu.stats().tasksCreated ?? 0, 0);
    // rule: path.percent-encoding
    r = await call(emu, "GET", "/tuning/v2/tasks/%ZZ", { headers: BEARER });
    assertEquals([r.status, r.json], [400, { status: { code: "40000", message: "Bad request" } }]);
    r = await call(emu, "POST", "/v2/tasks/%E0%A4%A/chat-completions", {
      headers: JSON_HEADERS,
      body: "{}",
    });
    assertEquals([r.status, r.json.status.code], [400, "40000"]);
    const bad = await s3.fetch(`${emu.objectStorageUrl}/bkt/%ZZ`);
    assertEquals(bad.status, 400);
    assert((await bad.text()).includes("<Code>InvalidURI</Code>"));
    assertEquals(emu.stats().internalErrors ?? 0, 0);
  });
});

// ------------------------------------------------------------------ chat

Deno.test("chat: v1/v3 plain responses, parameter ranges and stop reasons", async () => {
  await withEmulator({}, async (emu) => {
    const post = (path: string, body: unknown) =>
      call(emu, "POST", path, { headers: JSON_HEADERS, body: JSON.stringify(body) });
    const messages = [{ role: "system", content: "" }, { role: "user", content: ASK }];
    let r = await post("/v1/chat-completions/HCX-003", { messages, seed: 5, maxTokens: 256 });
    assertEquals(r.status, 200);
    const res = r.json.result;
    assertEquals(res.message.role, "assistant");
    assertEquals(res.stopReason, "end_token");
    assertEquals(res.seed, 5);
    assertEquals(res.inputLength, countTokens(ASK) + 6);
    assertEquals(res.outputLength, countTokens(res.message.content));
    assertEquals(res.emulator.model, "reference learner");
    assertEquals(parseCountryList(ASK).length, 6);
    // Base model: no prefix, every asked country once.
    const answered = res.message.content.split("\n\n").flatMap((b: string) =>
      b.split(": ")[1].split(", ")
    );
    assertEquals(answered.sort(), parseCountryList(ASK).sort());
    // Deterministic per request.
    const again = await post("/v1/chat-completions/HCX-003", { messages, seed: 5, maxTokens: 256 });
    assertEquals(again.json.result.message.content, res.message.content);
    const noSeed = await post("/v1/chat-completions/HCX-003", { messages });
    assert(noSeed.json.result.seed > 0, "seed 0 resolves to a reported seed");

    r = await post("/v1/chat-completions/HCX-003", { messages, maxTokens: 3 });
    assertEquals([r.json.result.stopReason, r.json.result.outputLength], ["length", 3]);
    r = await post("/v1/chat-completions/HCX-003", { messages, stopBefore: [":"] });
    assertEquals(r.json.result.stopReason, "stop_before");
    assert(!r.json.result.message.content.includes(":"));
    r = await post("/v1/chat-completions/HCX-003", { messages, includeAiFilters: true });
    assertEquals(r.json.result.aiFilter[0].score, "2");

    for (
      const bad of [
        { temperature: 0 },
        { temperature: 1.5 },
        { topK: 129 },
        { topP: 0 },
        { repeatPenalty: 11 },
        { maxTokens: 0 },
        { maxTokens: 4097 },
        { seed: -1 },
      ]
    ) {
      r = await post("/v1/chat-completions/HCX-003", { messages, ...bad });
      assertEquals([r.status, r.json.status.code], [400, "40001"], JSON.stringify(bad));
    }
    r = await post("/v1/chat-completions/HCX-003", { messages: [] });
    assertEquals(r.json.status.code, "40001");
    r = await post("/v1/chat-completions/HCX-003", { messages: [{ role: "user", content: " " }] });
    assertEquals(r.json.status.code, "40004");
    r = await post("/v1/chat-completions/HCX-003", {
      messages: [{ role: "user", content: "가".repeat(7601) }],
    });
    assertEquals(r.json.status.code, "40003");
    r = await post("/v1/chat-completions/HCX-005", { messages });
    assertEquals([r.status, r.json.status.code], [400, "40084"]);
    r = await post("/v1/chat-completions/NOPE", { messages });
    assertEquals(r.json.status.code, "40080");

    r = await post("/v3/chat-completions/HCX-005", { messages, temperature: 0, maxTokens: 200 });
    assertEquals(r.status, 200);
    const v3 = r.json.result;
    assertEquals(v3.finishReason, "stop");
    assertEquals(v3.usage.totalTokens, v3.usage.promptTokens + v3.usage.completionTokens);
    assert(typeof v3.created === "number");
    r = await post("/v3/chat-completions/HCX-003", { messages });
    assertEquals(r.json.status.code, "40084");
    r = await post("/v3/chat-completions/HCX-005", {
      messages,
      maxTokens: 5,
      maxCompletionTokens: 5,
    });
    assertEquals(r.json.status.code, "40001");
    r = await post("/v3/chat-completions/HCX-005", { messages, repetitionPenalty: 3 });
    assertEquals(r.json.status.code, "40001");
    r = await post("/v3/chat-completions/HCX-005", {
      messages: [...messages, { role: "system", content: "again" }],
    });
    assertEquals(r.json.status.code, "40001");
  });
});

Deno.test("chat: SSE framing for v1 and v3, and a mid-stream error event", async () => {
  await withEmulator({}, async (emu) => {
    const messages = [{ role: "user", content: ASK }];
    for (const path of ["/v1/chat-completions/HCX-003", "/v3/chat-completions/HCX-DASH-002"]) {
      const res = await fetch(`${emu.url}${path}`, {
        method: "POST",
        headers: { ...JSON_HEADERS, accept: "text/event-stream" },
        body: JSON.stringify({ messages, seed: 9, maxTokens: 256 }),
      });
      assertEquals(res.status, 200);
      assert(res.headers.get("content-type")!.startsWith("text/event-stream"));
      const text = await res.text();
      // rules: sse.framing, sse.signal — the strict reader takes every event as sent.
      const strict = readStrictSse(text);
      assertEquals(strict.length, parseSse(text).length);
      assertEquals(consoleSampleResult(text), strict.at(-2)!.data);
      if (path.startsWith("/v1")) {
        // rule: sse.v1.token
        const first = strict[0].data as Json;
        assertEquals(Object.keys(first), [
          "message",
          "index",
          "inputLength",
          "outputLength",
          "stopReason",
        ]);
        assertEquals([first.index, first.stopReason], [0, null]);
      } else {
        // rules: sse.v3.events, chat.v3.created
        const first = strict[0].data as Json;
        assertEquals(Object.keys(first), ["message", "finishReason", "created", "seed", "usage"]);
        assert(String(first.created).length === 10, `created in seconds: ${first.created}`);
      }
      const events = parseSse(text);
      assert(events.every((e) => e.id && e.event && e.data !== undefined));
      const names = events.map((e) => e.event);
      assertEquals(names.slice(-2), ["result", "signal"]);
      assert(names.slice(0, -2).every((n) => n === "token"));
      assertEquals(JSON.parse(events.at(-1)!.data!), { data: "[DONE]" });
      const joined = events.filter((e) => e.event === "token").map((e) =>
        JSON.parse(e.data!).message.content
      ).join("");
      const result = JSON.parse(events.at(-2)!.data!);
      assertEquals(joined, result.message.content);
      const plain = await call(emu, "POST", path, {
        headers: JSON_HEADERS,
        body: JSON.stringify({ messages, seed: 9, maxTokens: 256 }),
      });
      assertEquals(plain.json.result.message.content, joined, "stream = plain answer");
    }
  });
  await withEmulator({ faults: { rate500: 1 } }, async (emu) => {
    const res = await fetch(`${emu.url}/v1/chat-completions/HCX-003`, {
      method: "POST",
      headers: { ...JSON_HEADERS, accept: "text/event-stream" },
      body: JSON.stringify({ messages: [{ role: "user", content: ASK }] }),
    });
    assertEquals(res.status, 200);
    const text = await res.text();
    const strict = readStrictSse(text);
    assertEquals(strict.at(-1)!.event, "error");
    const events = parseSse(text);
    assertEquals(events.at(-1)!.event, "error");
    assertEquals(JSON.parse(events.at(-1)!.data!), {
      status: { code: "50000", message: "Internal Server Error" },
    });
  });
});

Deno.test("chat: OpenAI-compatible shapes, ft:tuning- task models, stream and errors", async () => {
  await withEmulator({}, async (emu) => {
    emu.putObject("bkt", "t.csv", enc(instructionCsv(cookbookRows(100, 4))));
    const up = await createCurrent(emu, {}, "t.csv");
    const id = up.json.result.id;
    await waitStatus(emu, id);
    let r = await call(emu, "GET", "/v1/openai/models", { headers: BEARER });
    assertEquals(r.json.object, "list");
    const ids: string[] = r.json.data.map((m: Json) => m.id);
    // rule: openai.tuned-model
    const tuned = ids.find((m) => m.startsWith("ft:"))!;
    assert(/^ft:tuning-\d+-\d{6}-\d{6}-[a-z0-9]{5}$/.test(tuned), tuned);
    assert(ids.includes("HCX-003"));
    r = await call(emu, "POST", "/v1/openai/chat/completions", {
      headers: JSON_HEADERS,
      body: JSON.stringify({ model: `ft:${id}`, messages: [{ role: "user", content: ASK }] }),
    });
    assertEquals([r.status, r.json.error.code], [400, "40080"], "the task id is not a model id");

    const body = { model: tuned, messages: [{ role: "user", content: ASK }], seed: 3 };
    r = await call(emu, "POST", "/v1/openai/chat/completions", {
      headers: JSON_HEADERS,
      body: JSON.stringify(body),
    });
    assertEquals(r.status, 200);
    assertEquals(r.json.object, "chat.completion");
    assertEquals(r.json.choices[0].message.role, "assistant");
    assertEquals(r.json.choices[0].finish_reason, "stop");
    assert(r.json.choices[0].message.content.startsWith(COMPLETION_PREFIX.trim()));
    assertEquals(
      r.json.usage.total_tokens,
      r.json.usage.prompt_tokens + r.json.usage.completion_tokens,
    );

    const res = await fetch(`${emu.url}/v1/openai/chat/completions`, {
      method: "POST",
      headers: JSON_HEADERS,
      body: JSON.stringify({ ...body, stream: true }),
    });
    const lines = (await res.text()).split("\n\n").filter(Boolean);
    assertEquals(lines.at(-1), "data: [DONE]");
    const chunks = lines.slice(0, -1).map((l) => JSON.parse(l.slice(6)));
    assert(chunks.every((c) => c.object === "chat.completion.chunk"));
    assertEquals(
      chunks.map((c) => c.choices[0].delta.content ?? "").join(""),
      r.json.choices[0].message.content,
    );
    assertEquals(chunks.at(-1).choices[0].finish_reason, "stop");

    r = await call(emu, "POST", "/v1/openai/chat/completions", {
      headers: JSON_HEADERS,
      body: JSON.stringify({ ...body, presence_penalty: 1 }),
    });
    assertEquals([r.status, r.json.error.code, r.json.error.type], [400, "40002", null]);
    r = await call(emu, "POST", "/v1/openai/chat/completions", {
      headers: JSON_HEADERS,
      body: JSON.stringify({ ...body, n: 2 }),
    });
    assertEquals(r.json.error.code, "40001");
    r = await call(emu, "POST", "/v1/openai/chat/completions", {
      headers: {
        "content-type": "application/json",
        "x-ncp-clovastudio-api-key": PAIR.clovaStudioApiKey,
        "x-ncp-apigw-api-key": PAIR.apigwApiKey,
      },
      body: JSON.stringify(body),
    });
    assertEquals([r.status, r.json.error.code], [401, "40100"]);
  });
});

Deno.test("tokenizer: endpoint counts match chat inputLength", async () => {
  assertEquals(countTokens("대한민국"), 4);
  assertEquals(countTokens("HCX-003 model"), 4);
  assertEquals(countTokens("  \n"), 0);
  assertEquals(countTokens("😀!"), 2);
  assertEquals(streamPieces("독일, 일본\n\n케냐").join(""), "독일, 일본\n\n케냐");
  assertEquals(truncateTokens("가 나 다", 2), { text: "가 나", cut: true });
  await withEmulator({}, async (emu) => {
    const messages = [{ role: "system", content: "분류기" }, { role: "user", content: ASK }];
    const r = await call(emu, "POST", "/v1/api-tools/chat-tokenize/HCX-003", {
      headers: JSON_HEADERS,
      body: JSON.stringify({ messages }),
    });
    assertEquals(r.status, 200);
    const counts = r.json.result.messages.map((m: Json) => m.count);
    assertEquals(counts, [3 + 3, countTokens(ASK) + 3]);
    const chat = await call(emu, "POST", "/v1/chat-completions/HCX-003", {
      headers: JSON_HEADERS,
      body: JSON.stringify({ messages }),
    });
    assertEquals(chat.json.result.inputLength, counts[0] + counts[1]);
    const v3 = await call(emu, "POST", "/v3/api-tools/chat-tokenize/HCX-005", {
      headers: JSON_HEADERS,
      body: JSON.stringify({ messages }),
    });
    assertEquals(v3.json.result.messages[1].content.count, countTokens(ASK));
  });
});

// ------------------------------------------------------------------ limits and faults

Deno.test("rate limits: QPM and TPM answer 429 42901 with Retry-After", async () => {
  await withEmulator({ rateLimits: { "HCX-003": { qpm: 3, tpm: 100_000 } } }, async (emu) => {
    const body = JSON.stringify({ messages: [{ role: "user", content: ASK }] });
    const codes = [];
    for (let i = 0; i < 4; i++) {
      const r = await call(emu, "POST", "/v1/chat-completions/HCX-003", {
        headers: JSON_HEADERS,
        body,
      });
      codes.push(r.json.status.code);
      if (r.status === 429) {
        assertEquals(r.json.status.message, "Too many requests - rate exceeded");
        assert(Number(r.headers.get("retry-after")) >= 1);
      }
    }
    assertEquals(codes, ["20000", "20000", "20000", "42901"]);
    // Other models have their own window (defaults from the reference table).
    const other = await call(emu, "POST", "/v1/chat-completions/HCX-DASH-001", {
      headers: JSON_HEADERS,
      body,
    });
    assertEquals(other.status, 200);
  });
  await withEmulator({ rateLimits: { "HCX-003": { qpm: 100, tpm: 400 } } }, async (emu) => {
    const body = JSON.stringify({ messages: [{ role: "user", content: ASK }], maxTokens: 256 });
    const first = await call(emu, "POST", "/v1/chat-completions/HCX-003", {
      headers: JSON_HEADERS,
      body,
    });
    const second = await call(emu, "POST", "/v1/chat-completions/HCX-003", {
      headers: JSON_HEADERS,
      body,
    });
    assertEquals([first.status, second.status, second.json.status.code], [200, 429, "42901"]);
  });
});

async function faultSequence(seed: number, n: number): Promise<string[]> {
  const out: string[] = [];
  await withEmulator({
    faults: { seed, rate429: 0.2, rate500: 0.15, rate504: 0.1, drop: 0.1 },
  }, async (emu) => {
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${emu.url}/v1/chat-completions/HCX-003`, {
        method: "POST",
        headers: JSON_HEADERS,
        body: JSON.stringify({ messages: [{ role: "user", content: ASK }] }),
      });
      try {
        const j = await res.json();
        out.push(`${res.status}:${j.status.code}`);
      } catch (e) {
        assert(e instanceof TypeError, "a dropped connection is a network error");
        out.push("drop");
      }
    }
    const s = emu.stats();
    assertEquals(
      (s.fault429 ?? 0) + (s.fault500 ?? 0) + (s.fault504 ?? 0) + (s.faultDrop ?? 0),
      out.filter((o) => !o.startsWith("200")).length,
    );
  });
  return out;
}

Deno.test("faults: same seed replays the same fault sequence; drops are network errors", async () => {
  const a = await faultSequence(42, 60);
  const b = await faultSequence(42, 60);
  const c = await faultSequence(43, 60);
  assertEquals(a, b);
  assertNotEquals(a, c);
  const kinds = new Set(a.map((o) => o === "drop" ? o : o.split(":")[1]));
  for (const k of ["20000", "50000", "50400", "drop"]) assert(kinds.has(k), `saw ${k}`);
  assert(["42900", "42901", "42902"].some((k) => kinds.has(k)));
});

Deno.test("faults: stalls hold then answer; latency is applied", async () => {
  await withEmulator(
    { faults: { stall: 1, stallMs: 30 }, latency: { meanMs: 5, jitterMs: 5 } },
    async (emu) => {
      const r = await call(emu, "GET", "/tuning/v2/tasks", { headers: BEARER });
      assertEquals(r.status, 200);
      assertEquals(emu.stats().faultStall, 1);
    },
  );
  // close() ends a long stall promptly.
  const emu = await start({ faults: { stall: 1, stallMs: 60_000 } });
  const pending = fetch(`${emu.url}/tuning/v2/tasks`, { headers: BEARER }).then(
    (r) => r.body?.cancel(),
    () => {},
  );
  await new Promise((res) => setTimeout(res, 30));
  await emu.close();
  await pending;
});

// ------------------------------------------------------------------ persistence

Deno.test("state dir: a restarted emulator finds its tasks and answers the same", async () => {
  const dir = await Deno.makeTempDir({ prefix: "emu-state-" });
  try {
    let id = "";
    let answerText = "";
    const body = JSON.stringify({ messages: [{ role: "user", content: ASK }], seed: 11 });
    await withEmulator({ stateDir: dir, compat: "cookbook-2024" }, async (emu) => {
      const r = await call(emu, "POST", "/v2/tasks", {
        headers: BEARER,
        body: taskForm(COOKBOOK_FIELDS, { name: "t.csv", bytes: toCsv(cookbookRows(60, 5)) }),
      });
      id = r.json.result.id;
      await waitStatus(emu, id);
      const a = await call(emu, "POST", `/v2/tasks/${id}/chat-completions`, {
        headers: JSON_HEADERS,
        body,
      });
      answerText = a.json.result.message.content;
    });
    const files = [...Deno.readDirSync(`${dir}/tasks`)].map((e) => e.name);
    assertEquals(files, [`${id}.json`]);
    await withEmulator({ stateDir: dir, compat: "cookbook-2024" }, async (emu) => {
      const r = await call(emu, "GET", `/v2/tasks/${id}`, { headers: BEARER });
      assertEquals([r.json.result.status, r.json.result.statusInfo.dataRows], ["SUCCEEDED", 60]);
      const a = await call(emu, "POST", `/v2/tasks/${id}/chat-completions`, {
        headers: JSON_HEADERS,
        body,
      });
      assertEquals(a.json.result.message.content, answerText);
      // New ids never collide with persisted ones.
      const n = await call(emu, "POST", "/v2/tasks", {
        headers: BEARER,
        body: taskForm(COOKBOOK_FIELDS, { name: "t.csv", bytes: toCsv(cookbookRows(3, 5)) }),
      });
      assertNotEquals(n.json.result.id, id);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ------------------------------------------------------------------ learner

Deno.test("learner: counts pairs, answers in the tuning format, guesses unseen by bigrams", () => {
  const rows = [
    `${COMPLETION_PREFIX}아프리카: 남수단, 케냐\n\n유럽: 독일`,
    `${COMPLETION_PREFIX}유럽: 독일, 프랑스\n\n아시아: 일본`,
    `${COMPLETION_PREFIX}아시아: 일본\n\n아프리카: 케냐`,
  ];
  const run = train(rows, { epochs: 3, batchSize: 2 });
  assertEquals(run.stepsPerEpoch, 2);
  assertEquals(run.stepLoss.length, 6);
  assertAlmostEquals(run.stepLoss[0], Math.log(6), 1e-6); // nothing known yet: chance
  assert(run.stepLoss[5] < run.stepLoss[1], "later epochs fit better");
  assertEquals(run.model.counts["독일"]["유럽"], 6); // 2 rows × 3 epochs
  assertEquals(run.model.prefix, COMPLETION_PREFIX.trim());

  const prompt = `${TEXT_PREFIX}일본, 수단, 독일, 케냐`;
  const greedy = answer(run.model, prompt, { temperature: 0, seed: 1, emulatorSeed: 1 });
  assertEquals(
    greedy,
    `${COMPLETION_PREFIX}아시아: 일본\n\n아프리카: 수단, 케냐\n\n유럽: 독일`,
  );
  // Many observations make sampling at the cookbook's temperature reliable too.
  const big = train(Array(200).fill(rows[0]), { epochs: 4, batchSize: 16 });
  for (let seed = 1; seed <= 20; seed++) {
    const a = answer(big.model, `${TEXT_PREFIX}독일, 케냐`, {
      temperature: 0.5,
      seed,
      emulatorSeed: 1,
    });
    assertEquals(a, `${COMPLETION_PREFIX}유럽: 독일\n\n아프리카: 케냐`);
  }
  // A base model knows nothing: no prefix, deterministic guesses.
  const base1 = answer(baseModel(), prompt, { temperature: 0.5, seed: 3, emulatorSeed: 1 });
  assert(!base1.startsWith(COMPLETION_PREFIX.trim()));
  assertEquals(base1, answer(baseModel(), prompt, { temperature: 0.5, seed: 3, emulatorSeed: 1 }));
});

Deno.test("learner: more tuning rows → fewer misplaced countries (over HTTP)", async () => {
  await withEmulator({ compat: "cookbook-2024" }, async (emu) => {
    const evalRows = cookbookRows(40, 999);
    const truth = new Map<string, string>();
    for (const r of evalRows) {
      for (const block of r.completion.split("\n\n").slice(1)) {
        const [c, list] = block.split(": ");
        for (const x of list.split(", ")) truth.set(x, c);
      }
    }
    const wrongFor = async (target: string) => {
      let wrong = 0;
      for (const [i, r] of evalRows.entries()) {
        const res = await call(emu, "POST", target, {
          headers: JSON_HEADERS,
          body: JSON.stringify({
            messages: [{ role: "user", content: r.text }],
            seed: i + 1,
            maxTokens: 256,
          }),
        });
        for (const block of res.json.result.message.content.split("\n\n")) {
          const [c, list] = block.split(": ");
          if (!list) continue;
          for (const x of list.split(", ")) if (truth.get(x) !== c) wrong++;
        }
      }
      return wrong;
    };
    const tuned = async (n: number) => {
      const r = await call(emu, "POST", "/v2/tasks", {
        headers: BEARER,
        body: taskForm(COOKBOOK_FIELDS, { name: "t.csv", bytes: toCsv(cookbookRows(n, n)) }),
      });
      await waitStatus(emu, r.json.result.id);
      return `/v2/tasks/${r.json.result.id}/chat-completions`;
    };
    const base = await wrongFor("/v1/chat-completions/HCX-003");
    const small = await wrongFor(await tuned(50));
    const large = await wrongFor(await tuned(2000));
    assert(base > small && small > large, `base ${base} > 50 rows ${small} > 2000 rows ${large}`);
    assertEquals(large, 0);
  });
});

Deno.test("dataset check: the cookbook's two-column 50-row CSV without BOM passes cookbook-2024 only", () => {
  const bytes = new TextEncoder().encode(toCsv(cookbookRows(50, 1)));
  const relaxed = checkDataset("t.CSV", bytes, { rules: datasetRules("cookbook-2024") });
  assert(relaxed.ok);
  assertEquals(relaxed.rows.length, 50);
  const strict = checkDataset("t.CSV", bytes, { rules: datasetRules("strict") });
  assertEquals(strict, {
    ok: false,
    failureReason: "file.encoding",
    message: "Unsupported charset",
  });
  const withBom = checkDataset(
    "t.csv",
    enc("\uFEFF" + instructionCsv(cookbookRows(100, 1)).slice(1)),
  );
  assert(withBom.ok);
});

Deno.test("rules: every rule the emulator's code cites is in the table with a source, and every rule in the table is cited", async () => {
  const { RULES } = await import("../lib/backends/emulator/rules.ts");
  const dir = new URL("../lib/backends/emulator/", import.meta.url);
  const cited = new Set<string>();
  for await (const e of Deno.readDir(dir)) {
    if (!e.name.endsWith(".ts") || e.name === "rules.ts") continue;
    const text = await Deno.readTextFile(new URL(e.name, dir));
    // Comment citations only: `// rule: x`, ` * rule: x`, `(rule: x, y)`.
    for (const m of text.matchAll(/(?:\/\/ |\* |\()rules?: ([^)\n]*)/g)) {
      for (const part of m[1].split(",")) {
        const id = part.trim().split(/\s/)[0].replace(/[^a-z0-9.-]+$/, "");
        if (id) cited.add(id);
      }
    }
  }
  const ids = new Set(RULES.map((r) => r.id));
  assertEquals([...cited].filter((id) => !ids.has(id)).sort(), [], "cited but not in the table");
  assertEquals([...ids].filter((id) => !cited.has(id)).sort(), [], "in the table but never cited");
  for (const r of RULES) {
    assert(r.sources.length > 0 && r.sources.every((s) => s.page && s.section), r.id);
  }
});

// ------------------------------------------------------------------ request bodies on the wire

/** Sends raw bytes on a fresh connection, optionally half-closing it, and reads the answer. */
async function rawRequest(
  emu: Emulator,
  head: string,
  body: string,
  opts: { closeWrite: boolean },
): Promise<{ status: number; text: string; ms: number }> {
  const port = Number(new URL(emu.url).port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const started = performance.now();
  try {
    await conn.write(new TextEncoder().encode(head + body));
    if (opts.closeWrite) await conn.closeWrite();
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
      const text = new TextDecoder().decode(
        new Uint8Array(chunks.flatMap((c) => [...c])),
      );
      const m = /content-length: (\d+)\r\n/i.exec(text);
      const end = text.indexOf("\r\n\r\n");
      if (m && end >= 0 && new TextEncoder().encode(text.slice(end + 4)).length >= Number(m[1])) {
        break;
      }
    }
    const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
    return { status: Number(text.split(" ")[1]), text, ms: performance.now() - started };
  } finally {
    conn.close();
  }
}

const chatHead = (length: number) =>
  `POST /v1/chat-completions/HCX-003 HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${API_KEY}\r\n` +
  `content-type: application/json\r\ncontent-length: ${length}\r\n\r\n`;

Deno.test("bodies: a body cut short of its Content-Length is 400 40000, not 500, and its connection let go (rule limits.body-complete)", async () => {
  const emu = await start();
  try {
    const body = JSON.stringify({ messages: [{ role: "user", content: ASK }] });
    // The client ends its side 100 bytes short: the HTTP server closes the connection (a client
    // that has stopped sending is not answered), and the router counts the request as cut short.
    const r = await rawRequest(emu, chatHead(body.length + 100), body, { closeWrite: true });
    assert(r.ms < 5_000, `the connection was held ${r.ms} ms`);
    for (let i = 0; i < 100 && !emu.stats().bodyIncomplete; i++) await delay(20);
    const stats = emu.stats();
    assertEquals([stats.bodyIncomplete, stats.http400], [1, 1], JSON.stringify(stats));
    assertEquals([stats.internalErrors ?? 0, stats.http500 ?? 0], [0, 0]);
  } finally {
    await emu.close();
  }
});

Deno.test("bodies: a body that does not arrive in time is 400 40000 and its connection let go", async () => {
  const emu = await start({ bodyTimeoutMs: 300 });
  try {
    // Half the body, then nothing: the connection stays open, the rest never comes.
    const r = await rawRequest(emu, chatHead(200), '{"messages": [', { closeWrite: false });
    assertEquals(r.status, 400, r.text);
    assert(r.text.includes("did not arrive within 0.3 s"), r.text);
    assert(r.ms < 5_000, `answered after ${r.ms} ms`);
  } finally {
    await emu.close();
  }
});

Deno.test("bodies: a 20 MB single-word chat is refused for its tokens without holding other requests", async () => {
  const emu = await start();
  try {
    const word = "a".repeat(20 * 1024 * 1024);
    const big = fetch(`${emu.url}/v1/chat-completions/HCX-003`, {
      method: "POST",
      headers: JSON_HEADERS,
      body: JSON.stringify({ messages: [{ role: "user", content: word }] }),
    }).then(async (r) => ({ status: r.status, json: await r.json() }));
    // While it is read and handled, the server keeps answering.
    let slowest = 0;
    let done = false;
    big.finally(() => done = true);
    while (!done) {
      const t = performance.now();
      await (await fetch(`${emu.url}/health`)).body?.cancel();
      slowest = Math.max(slowest, performance.now() - t);
    }
    const r = await big;
    assertEquals([r.status, r.json.status.code], [400, "40003"]);
    assert(slowest < 1_500, `a health check waited ${slowest.toFixed(0)} ms`);
    assertEquals(countTokens("a".repeat(100)), 4, "a long run of letters is several tokens");
    assertEquals(countTokens("Netherlands 2024"), 2, "a word is one token");
  } finally {
    await emu.close();
  }
});

// ------------------------------------------------------------------ request heads on the wire

Deno.test("heads: connections that send their head a byte at a time, or nothing, are closed at the head deadline while others are answered", async () => {
  const emu = await start({ headersTimeoutMs: 1_000 });
  const port = Number(new URL(emu.url).port);
  const head = new TextEncoder().encode(
    `GET /health HTTP/1.1\r\nhost: x\r\nx-padding: ${"a".repeat(200)}\r\n\r\n`,
  );
  const started = performance.now();
  /** One connection that sends `bytesPerTick` bytes of the head every 50 ms for up to 5 s. */
  const dribble = async (bytesPerTick: number) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    let closedAfter: number | undefined;
    let answer = "";
    const reading = (async () => {
      const buf = new Uint8Array(1024);
      for (;;) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null) break;
        answer += new TextDecoder().decode(buf.subarray(0, n));
      }
      closedAfter = performance.now() - started;
    })();
    for (let at = 0; closedAfter === undefined && performance.now() - started < 5_000;) {
      if (bytesPerTick > 0 && at < head.length) {
        const sent = await conn.write(head.subarray(at, at + bytesPerTick)).then(
          () => true,
          () => false,
        );
        if (!sent) break;
        at += bytesPerTick;
      }
      await delay(50);
    }
    conn.close();
    await reading;
    return { closedAfter: closedAfter ?? Infinity, answer };
  };
  try {
    // 40 slow heads (the whole head would take about 12 s) and 10 connections that send nothing.
    const held = [...Array(40).fill(1), ...Array(10).fill(0)].map(dribble);
    await delay(300);
    // Meanwhile an ordinary request is answered at once.
    const t = performance.now();
    const res = await fetch(`${emu.url}/health`);
    assertEquals(res.status, 200);
    await res.body?.cancel();
    assert(performance.now() - t < 1_000, `a health check waited ${performance.now() - t} ms`);
    const results = await Promise.all(held);
    for (const [i, r] of results.entries()) {
      assert(r.closedAfter < 3_000, `connection ${i} was held ${r.closedAfter} ms`);
      assert(r.answer === "" || r.answer.startsWith("HTTP/1.1 408"), r.answer);
    }
    assert(results.some((r) => r.answer.startsWith("HTTP/1.1 408")), "a slow head is told 408");
  } finally {
    await emu.close();
  }
});

Deno.test("heads: a kept-alive connection idle past the head deadline still carries the next request", async () => {
  const emu = await start({ headersTimeoutMs: 300 });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(emu.url).port) });
  try {
    const head = new TextEncoder().encode("GET /health HTTP/1.1\r\nhost: x\r\n\r\n");
    const buf = new Uint8Array(4096);
    const statusLine = async () => {
      await conn.write(head);
      const n = await conn.read(buf);
      return n === null ? "closed" : new TextDecoder().decode(buf.subarray(0, n)).split("\r\n")[0];
    };
    assertEquals(await statusLine(), "HTTP/1.1 200 OK");
    await delay(900);
    assertEquals(await statusLine(), "HTTP/1.1 200 OK");
  } finally {
    conn.close();
    await emu.close();
  }
});
