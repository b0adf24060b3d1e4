// Conformance against the documentation, not against the emulator: the request and response
// examples of the public pages (tests/fixtures/clova/, sources in SOURCES.md) are replayed
// against the client's parser over real HTTP, and what the emulator writes is compared with
// them; the strict line reader (tests/helpers/strict_sse.ts) must read every emulator stream.
import assert from "node:assert/strict";
import { ClovaStudioClient, ClovaStudioError } from "../lib/backends/clova/mod.ts";
import { ERRORS } from "../lib/backends/emulator/envelope.ts";
import { type Emulator, startEmulator } from "../lib/backends/emulator/mod.ts";
import { consoleSampleResult, readStrictSse, StrictSseError } from "./helpers/strict_sse.ts";

const DIR = new URL("./fixtures/clova/", import.meta.url);
const fixture = (name: string) => Deno.readTextFile(new URL(name, DIR));
const KEY = "nv-conformance";
const MSGS = [{
  role: "user" as const,
  content: "목록에서 나라를 대륙별로 분류해줘.\n\n독일, 일본",
}];

/**
 * A page's stream example as a transcript: its `...` elision lines (and their blank line)
 * removed, and the blank line that ends the last event, which the pages do not print, added.
 */
function withoutElision(text: string): string {
  const t = text.replace(/^\.\.\.\n\n/gm, "");
  return t.endsWith("\n\n") ? t : `${t}\n`;
}

/** Serves `body` with `type` (and `status`) to every request on 127.0.0.1. */
async function serving<T>(
  body: string,
  type: string,
  fn: (url: string) => Promise<T>,
  status = 200,
): Promise<T> {
  const ac = new AbortController();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: ac.signal, onListen: () => {} },
    async (req) => {
      await req.body?.cancel();
      return new Response(body, { status, headers: { "content-type": type } });
    },
  );
  try {
    return await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    ac.abort();
    await server.finished;
  }
}

function client(url: string, extra: Record<string, unknown> = {}): ClovaStudioClient {
  return new ClovaStudioClient({
    baseUrl: url,
    auth: { kind: "api-key", apiKey: KEY },
    retry: { maxAttempts: 1 },
    ...extra,
  });
}

async function withEmulator(fn: (emu: Emulator) => Promise<void>, faults = {}): Promise<void> {
  const emu = await startEmulator({
    credentials: { apiKeys: [KEY] },
    rateLimits: false,
    waitMs: 10,
    trainingSpeed: 20_000,
    faults,
  });
  try {
    await fn(emu);
  } finally {
    await emu.close();
  }
}

async function emulatorStream(emu: Emulator, path: string): Promise<string> {
  const res = await fetch(`${emu.url}${path}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${KEY}`,
      "content-type": "application/json",
      accept: "text/event-stream",
    },
    body: JSON.stringify({ messages: MSGS, maxTokens: 64, seed: 5 }),
  });
  assert.equal(res.status, 200);
  return await res.text();
}

const keys = (v: unknown) => Object.keys(v as Record<string, unknown>);
/** Keys of the documented object, then at most the emulator's named extension. */
function assertDocumentedKeys(actual: unknown, documented: unknown, what: string) {
  const a = keys(actual);
  assert.deepEqual(a.filter((k) => k !== "emulator"), keys(documented), what);
  assert.ok(a.indexOf("emulator") === -1 || a.at(-1) === "emulator", `${what}: extension last`);
}

// ------------------------------------------------------------------ the documented streams

Deno.test("docs: the function-calling stream is what strict readers read; the other examples are not", async () => {
  const fc = readStrictSse(withoutElision(await fixture("v3-fc-stream.sse")));
  assert.deepEqual(fc.map((e) => e.event), [...Array(7).fill("token"), "result"]);
  assert.equal(new Set(fc.map((e) => e.id)).size, fc.length, "a fresh id per event");
  // The text, structured-output and v1 pages print a space after each colon (and the first two
  // curly quotes instead of JSON): a literal `event:result` match never sees them.
  for (const name of ["v3-text-stream.sse", "v3-so-stream.sse", "v1-stream.sse"]) {
    const text = withoutElision(await fixture(name));
    assert.throws(() => readStrictSse(text), StrictSseError, name);
    assert.equal(consoleSampleResult(text), undefined, name);
  }
});

Deno.test("client: replays every documented stream over HTTP", async () => {
  const sse = "text/event-stream; charset=utf-8";
  const fc = await serving(
    await fixture("v3-fc-stream.sse"),
    sse,
    (url) => client(url).chatStream({ model: "HCX-005" }, { messages: MSGS }),
  );
  assert.deepEqual(
    [fc.text, fc.finishReason, fc.inputTokens, fc.outputTokens, fc.seed],
    ["", "tool_calls", 9, 47, 1775609431],
  );
  const so = await serving(
    await fixture("v3-so-stream.sse"),
    sse,
    (url) => client(url).chatStream({ model: "HCX-007" }, { messages: MSGS }),
  );
  assert.deepEqual(JSON.parse(so.text), {
    temp_high_c: 32,
    temp_low_c: 15,
    precipitation_percent: 30,
  });
  assert.equal(so.finishReason, "stop");
  // Curly quotes are not JSON: a clear, non-retried error, not a wrong answer.
  for (const [name, model] of [["v3-text-stream.sse", "HCX-005"], ["v1-stream.sse", "HCX-003"]]) {
    const e = await serving(
      await fixture(name),
      sse,
      (url) =>
        client(url).chatStream({ model }, { messages: MSGS }).then(
          () => undefined,
          (e) => e,
        ),
    );
    assert.ok(e instanceof ClovaStudioError, name);
    assert.equal(e.code, "BAD_RESPONSE", name);
    assert.equal(e.retryable, false, name);
  }
});

Deno.test("emulator: its v3 stream has the function-calling transcript's framing and keys, created in seconds", async () => {
  const doc = readStrictSse(withoutElision(await fixture("v3-fc-stream.sse")));
  const docToken = doc[0].data as Record<string, unknown>;
  const docResult = doc.at(-1)!.data as Record<string, unknown>;
  await withEmulator(async (emu) => {
    const text = await emulatorStream(emu, "/v3/chat-completions/HCX-005");
    const ours = readStrictSse(text);
    assert.deepEqual(ours.slice(-2).map((e) => e.event), ["result", "signal"]);
    for (const line of text.split("\n").filter(Boolean)) {
      assert.match(line, /^(id:[0-9a-f-]{36}|event:(token|result|signal)|data:\{.*\})$/, line);
    }
    const token = ours[0].data as Record<string, unknown>;
    assertDocumentedKeys(token, docToken, "token");
    const result = ours.at(-2)!.data as Record<string, unknown>;
    assertDocumentedKeys(result, docResult, "result");
    assert.deepEqual(keys(result.usage), keys(docResult.usage));
    assert.equal(String(result.created).length, String(docResult.created).length, "seconds");
    assert.deepEqual(ours.at(-1)!.data, { data: "[DONE]" });
  });
});

Deno.test("emulator: its v1 stream's token events carry what the service sends; the result what the page shows", async () => {
  const observed = (await fixture("v1-token-observed.txt")).trim();
  const [, event, data] = /^[0-9a-f-]{36}event:(\w+)data:(\{.*\})$/.exec(observed)!;
  assert.equal(event, "token");
  const serviceToken = JSON.parse(data);
  // The page's result example is not JSON (curly quotes); its keys, in order:
  const pageResult = (await fixture("v1-stream.sse")).split("\n").find((l) =>
    l.startsWith("data:") && l.includes("inputLength")
  )!;
  const resultKeys = [...pageResult.matchAll(/"(\w+)"\s*:/g)].map((m) => m[1])
    .filter((k) => k !== "role" && k !== "content");
  await withEmulator(async (emu) => {
    const ours = readStrictSse(await emulatorStream(emu, "/v1/chat-completions/HCX-003"));
    const token = ours[0].data as Record<string, unknown>;
    assert.deepEqual(keys(token), keys(serviceToken));
    assert.deepEqual(
      [token.index, token.stopReason, typeof token.inputLength, typeof token.outputLength],
      [0, null, "number", "number"],
    );
    const result = ours.at(-2)!.data as Record<string, unknown>;
    for (const k of resultKeys) assert.ok(k in result, `result has ${k}`);
    assert.ok(["length", "end_token", "stop_before"].includes(result.stopReason as string));
  });
});

Deno.test("emulator: an error mid-stream is the documented error event, read by the strict reader", async () => {
  const failure = JSON.parse(await fixture("envelope-failure.json"));
  await withEmulator(async (emu) => {
    const ours = readStrictSse(await emulatorStream(emu, "/v1/chat-completions/HCX-003"));
    const last = ours.at(-1)!;
    assert.equal(last.event, "error");
    assert.deepEqual(last.data, failure);
  }, { rate500: 1 });
});

// ------------------------------------------------------------------ envelopes and errors

Deno.test("envelopes: the client reads the documented ones; the emulator writes the same shapes", async () => {
  const failure = await fixture("envelope-failure.json");
  const e = await serving(
    failure,
    "application/json",
    (url) =>
      client(url).chat({ model: "HCX-003" }, { messages: MSGS }).then(() => undefined, (e) => e),
    500,
  );
  assert.ok(e instanceof ClovaStudioError);
  assert.deepEqual([e.httpStatus, e.code, e.serviceMessage], [
    500,
    "50000",
    "Internal Server Error",
  ]);
  // The OpenAI-compatible example is JSON once its `//미지원` comment is removed.
  const openai = JSON.parse(
    (await fixture("envelope-failure-openai.jsonc")).replace(/\s*\/\/.*$/gm, ""),
  );
  await withEmulator(async (emu) => {
    const res = await fetch(`${emu.url}/v1/chat-completions/HCX-003`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ messages: MSGS }),
    });
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), JSON.parse(failure));
    const oa = await fetch(`${emu.url}/v1/openai/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "HCX-003", messages: MSGS }),
    });
    assert.deepEqual(keys((await oa.json()).error), keys(openai.error));
  }, { rate500: 1 });
  const ok = JSON.parse(await fixture("envelope-success.json"));
  await withEmulator(async (emu) => {
    const res = await fetch(`${emu.url}/tuning/v2/tasks`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    const body = await res.json();
    assert.deepEqual(keys(body), keys(ok));
    assert.deepEqual(body.status, ok.status);
  });
});

Deno.test("errors: every code the emulator sends has the HTTP status and a message the 4xx/5xx tables give", async () => {
  const table = new Map<string, { http: number; messages: Set<string> }>();
  for (const name of ["c4xx-table.tsv", "c5xx-table.tsv"]) {
    for (const line of (await fixture(name)).trim().split("\n").slice(1)) {
      const [http, code, message] = line.split("\t");
      const row = table.get(code) ?? { http: Number(http), messages: new Set<string>() };
      row.messages.add(message);
      table.set(code, row);
    }
  }
  // Messages the other pages use for the same codes: the summary page's failure example and
  // the troubleshooting index (40102 `Invalid access token`, 40103 `Access token expired`).
  const elsewhere: Record<string, [number, string]> = {
    "50000": [500, "Internal Server Error"],
    "40102": [401, "Invalid access token"],
    "40103": [401, "Access token expired"],
  };
  for (const [code, [http, message]] of Object.entries(elsewhere)) {
    const row = table.get(code) ?? { http, messages: new Set<string>() };
    row.messages.add(message);
    table.set(code, row);
  }
  for (const e of Object.values(ERRORS)) {
    const row = table.get(e.code);
    assert.ok(row, `${e.code} is documented`);
    assert.equal(e.http, row.http, e.code);
    assert.ok(row.messages.has(e.message), `${e.code} ${e.message}`);
  }
});

// ------------------------------------------------------------------ tuning

Deno.test("create task: the client's JSON body uses only the page's fields; the emulator takes the page's body", async () => {
  const curl = await fixture("posttask-request.sh");
  const docBody = curl.slice(curl.indexOf("--data '") + 8, curl.lastIndexOf("'"));
  const docFields = [...docBody.matchAll(/"(\w+)":/g)].map((m) => m[1]);
  assert.match(curl, /Content-Type: multipart\/form-data/, "the page's header, see rules.ts");
  let sent: Record<string, unknown> | undefined;
  let type: string | null = null;
  const ac = new AbortController();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: ac.signal, onListen: () => {} },
    async (req) => {
      type = req.headers.get("content-type");
      sent = await req.json();
      return new Response(await fixture("posttask-response.json"), {
        headers: { "content-type": "application/json" },
      });
    },
  );
  try {
    const task = await client(`http://127.0.0.1:${server.addr.port}`).createTask({
      name: "generation_task",
      model: "HCX-003",
      trainEpochs: 8,
      learningRate: 1e-5,
      validationSplitRatio: 0,
      loraR: 8,
      loraAlpha: 64,
      dataset: {
        objectStorage: {
          bucket: "bucket_name",
          path: "root_path/sub_path/file_name",
          accessKey: "access_key",
          secretKey: "secret_key",
        },
      },
    });
    // The documented response, parsed.
    assert.deepEqual(
      [task.id, task.name, task.model, task.status, task.trainEpochs, task.learningRate],
      ["czf9fbky", "230821-130704", "HCX-003", "WAIT", 8, 1e-4],
    );
    assert.deepEqual(task.statusInfo, {});
  } finally {
    ac.abort();
    await server.finished;
  }
  assert.equal(type, "application/json");
  assert.deepEqual(new Set(keys(sent)), new Set(docFields));
  // The emulator takes the page's body as JSON (its `1e-5f` written as the console sample
  // writes it, a string) and answers the page's task shape; the page's own header
  // (multipart/form-data around a JSON body) is refused: rules.ts, tuning.create.current.json.
  const docTask = JSON.parse(await fixture("posttask-response.json")).result;
  await withEmulator(async (emu) => {
    emu.putObject("bucket_name", "root_path/sub_path/file_name", csv100());
    const body = docBody.replace("1e-5f", '"1e-5f"');
    const post = (contentType: string) =>
      fetch(`${emu.url}/tuning/v2/tasks`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": contentType },
        body,
      });
    const refused = await post("multipart/form-data");
    assert.equal(refused.status, 415);
    await refused.body?.cancel();
    const res = await post("application/json");
    assert.equal(res.status, 200);
    const ours = (await res.json()).result;
    for (const [k, v] of Object.entries(docTask)) {
      assert.ok(k in ours, `task has ${k}`);
      assert.equal(typeof ours[k], typeof v, k);
    }
    assert.deepEqual(keys(docTask.statusInfo).filter((k) => !(k in ours.statusInfo)), []);
    assert.match(ours.createdDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0900$/);
    assert.equal(ours.status, "WAIT");
    assert.equal(ours.learningRate, 1e-5);
  });
});

Deno.test("chat: the client reads the documented plain results (v1 LENGTH in capitals, v3 seconds)", async () => {
  const v1 = await serving(
    await fixture("v1-response.json"),
    "application/json",
    (url) => client(url).chat({ model: "HCX-003" }, { messages: MSGS }),
  );
  assert.deepEqual([v1.finishReason, v1.inputTokens, v1.outputTokens], ["length", 100, 10]);
  const v3 = await serving(
    await fixture("v3-fc-response.json"),
    "application/json",
    (url) => client(url).chat({ model: "HCX-005" }, { messages: MSGS }),
  );
  assert.deepEqual([v3.finishReason, v3.inputTokens, v3.outputTokens], ["stop", 88, 37]);
  assert.equal(v3.raw.created, 1744218776);
});

function csv100(): Uint8Array {
  const rows = Array.from({ length: 100 }, (_, i) => `${i},0,"질문 ${i}","답 ${i}"`);
  return new TextEncoder().encode("\uFEFF" + ["C_ID,T_ID,Text,Completion", ...rows].join("\n"));
}
