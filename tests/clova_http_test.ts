// Client error paths against tiny purpose-built servers on 127.0.0.1 (paths the emulator may not
// produce on demand): Retry-After, envelope-less errors, dropped and refused connections, stalls,
// SSE chunking and mid-stream failures, token expiry (40103) and reuse, key-pair headers, abort.
import assert from "node:assert/strict";
import {
  type ClovaClientOptions,
  ClovaStudioClient,
  ClovaStudioError,
  type TuningTask,
} from "../lib/backends/clova/mod.ts";

interface Seen {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

async function withServer(
  handler: (req: Request, seen: Seen, n: number) => Response | Promise<Response>,
  fn: (url: string, seen: Seen[]) => Promise<void>,
): Promise<void> {
  const seen: Seen[] = [];
  const ac = new AbortController();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", signal: ac.signal, onListen: () => {} },
    async (req) => {
      const u = new URL(req.url);
      const s = {
        method: req.method,
        path: u.pathname + u.search,
        headers: req.headers,
        body: await req.text(),
      };
      seen.push(s);
      return await handler(req, s, seen.length);
    },
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    ac.abort();
    await server.finished;
  }
}

const ok = (result: unknown, init: ResponseInit = {}) =>
  Response.json({ status: { code: "20000", message: "OK" }, result }, init);
const fail = (http: number, code: string, message: string, headers: HeadersInit = {}) =>
  Response.json({ status: { code, message } }, { status: http, headers });

const V1_RESULT = {
  message: { role: "assistant", content: "아시아: 일본" },
  stopReason: "LENGTH",
  inputLength: 12,
  outputLength: 5,
  seed: 42,
  extraField: { tolerated: true },
};
const MSGS = [{ role: "user" as const, content: "일본" }];
/** A dataset already in Object Storage (the current API's create takes only references). */
const REF = { bucket: "b", path: "runs/train.csv", accessKey: "ak", secretKey: "sk" };

function client(url: string, extra: Partial<ClovaClientOptions> = {}): ClovaStudioClient {
  return new ClovaStudioClient({
    baseUrl: url,
    auth: { kind: "api-key", apiKey: "nv-http-test" },
    retry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20 },
    ...extra,
  });
}

async function rejects(p: Promise<unknown>): Promise<ClovaStudioError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ClovaStudioError, `not a ClovaStudioError: ${e}`);
    return e;
  }
  throw new Error("expected a rejection");
}

Deno.test("http: request id on every request, kept across retries, on results and errors", async () => {
  await withServer(
    (_r, _s, n) => n === 1 ? fail(500, "50000", "Internal server error") : ok(V1_RESULT),
    async (url, seen) => {
      const r = await client(url).chat({ model: "HCX-003" }, { messages: MSGS }, {
        requestId: "my-req-1",
      });
      assert.equal(r.requestId, "my-req-1");
      assert.equal(r.attempts, 2);
      assert.deepEqual(seen.map((s) => s.headers.get("x-ncp-clovastudio-request-id")), [
        "my-req-1",
        "my-req-1",
      ]);
      assert.equal(seen[0].headers.get("authorization"), "Bearer nv-http-test");
      assert.equal(seen[0].path, "/v1/chat-completions/HCX-003");
      assert.equal(r.text, "아시아: 일본");
      assert.equal(r.finishReason, "length");
      assert.deepEqual([r.inputTokens, r.outputTokens, r.seed], [12, 5, 42]);
    },
  );
  await withServer(() => fail(400, "40001", "Invalid parameter"), async (url, seen) => {
    const e = await rejects(client(url).chat({ model: "HCX-003" }, { messages: MSGS }));
    assert.match(e.requestId!, /^[0-9a-f-]{36}$/);
    assert.equal(e.requestId, seen[0].headers.get("x-ncp-clovastudio-request-id"));
    assert.equal(e.code, "40001");
    assert.equal(e.httpStatus, 400);
    assert.equal(e.retryable, false);
    assert.equal(seen.length, 1, "non-retryable errors fail at once");
  });
});

Deno.test("http: Retry-After (seconds and HTTP date) sets the retry delay", async () => {
  const date = () => new Date(Date.now() + 1500).toUTCString();
  await withServer(
    (_r, _s, n) =>
      n === 1
        ? fail(429, "42901", "Too many requests - rate exceeded", { "retry-after": "0.2" })
        : n === 2
        ? fail(429, "42902", "Too many requests - overloaded", { "retry-after": date() })
        : ok(V1_RESULT),
    async (url) => {
      const delays: number[] = [];
      const codes: string[] = [];
      const c = client(url, {
        retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
        onRetry: ({ delayMs, error }) => {
          delays.push(delayMs);
          codes.push(error.code);
        },
      });
      const ac = new AbortController();
      const p = c.chat({ model: "HCX-003" }, { messages: MSGS }, { signal: ac.signal });
      // The second delay (an HTTP date ~1.5 s ahead) is honoured; abort instead of waiting for it.
      const aborted = p.then(() => "done", (e) => e?.name);
      while (delays.length < 2) await new Promise((r) => setTimeout(r, 5));
      ac.abort();
      assert.equal(await aborted, "AbortError");
      assert.deepEqual(codes, ["42901", "42902"]);
      assert.equal(delays[0], 200);
      assert.ok(delays[1] >= 500 && delays[1] <= 1500, String(delays[1]));
    },
  );
});

Deno.test("http: envelope-less and OpenAI-style errors map to string codes", async () => {
  await withServer(
    () => new Response("<html>bad gateway</html>", { status: 502 }),
    async (url, seen) => {
      const e = await rejects(client(url).getTask("abc"));
      assert.equal(e.code, "50200");
      assert.equal(e.retryable, false);
      assert.equal(seen.length, 1);
    },
  );
  await withServer(
    (_r, _s, n) => n < 3 ? new Response("", { status: 504 }) : ok({ id: "abc", status: "WAIT" }),
    async (url, seen) => {
      const t = await client(url).getTask("abc");
      assert.equal(t.status, "WAIT");
      assert.equal(seen.length, 3, "504 without envelope → 50400 → retried");
    },
  );
  await withServer(
    () =>
      Response.json({
        error: { message: "Unsupported parameter", type: null, param: null, code: "40002" },
      }, { status: 400 }),
    async (url) => {
      const e = await rejects(client(url).getTask("abc"));
      assert.equal(e.code, "40002");
    },
  );
  await withServer(() => new Response("not json", { status: 200 }), async (url) => {
    const e = await rejects(client(url).getTask("abc"));
    assert.equal(e.code, "BAD_RESPONSE");
    assert.equal(e.retryable, false);
  });
});

Deno.test("http: retries stop after maxAttempts with the last error", async () => {
  await withServer(() => fail(503, "50000", "Internal server error"), async (url, seen) => {
    const retries: number[] = [];
    const e = await rejects(client(url, { onRetry: (i) => retries.push(i.attempt) }).getTask("x"));
    assert.equal(e.code, "50000");
    assert.equal(e.attempts, 4);
    assert.equal(seen.length, 4);
    assert.deepEqual(retries, [1, 2, 3]);
  });
});

/** A TCP server that reads a request and closes the connection without answering. */
async function withDroppingServer(fn: (url: string, lines: string[]) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const lines: string[] = [];
  const loop = (async () => {
    for await (const conn of listener) {
      const buf = new Uint8Array(65536);
      const n = await conn.read(buf).catch(() => null);
      lines.push(new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0]);
      conn.close();
    }
  })();
  try {
    await fn(`http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`, lines);
  } finally {
    listener.close();
    await loop.catch(() => {});
  }
}

Deno.test("http: dropped connections are retried for reads; a create is never blindly repeated", async () => {
  await withDroppingServer(async (url, lines) => {
    const e = await rejects(client(url).getTask("abc"));
    assert.equal(e.code, "NETWORK");
    assert.equal(e.retryable, true);
    assert.equal(e.attempts, 4);
    assert.equal(lines.length, 4);
  });
  await withDroppingServer(async (url, lines) => {
    const e = await rejects(
      client(url, { requestTimeoutMs: 50 }).createTask({
        model: "HCX-003",
        dataset: { objectStorage: REF },
      }),
    );
    assert.equal(e.code, "NETWORK");
    assert.equal(e.attempts, 1);
    assert.equal(lines.filter((l) => l.startsWith("POST")).length, 1, lines.join("; "));
    assert.ok(
      lines.some((l) => l.startsWith("GET /tuning/v2/tasks?page=0&size=100")),
      "checked the list",
    );
  });
});

Deno.test("http: createTask after an ambiguous failure finds the task it made, or creates it again", async () => {
  // 504 after the task was stored: found in the list, not created twice.
  const tasks: { id: string; name: string; status: string; createdDate: string }[] = [];
  let posts = 0;
  await withServer((req, s) => {
    if (req.method === "POST") {
      posts++;
      const name = JSON.parse(s.body).name;
      tasks.push({ id: `t${posts}`, name, status: "WAIT", createdDate: new Date().toISOString() });
      return posts === 1 ? fail(504, "50400", "Gateway timeout") : ok(tasks.at(-1));
    }
    return ok({ totalPages: 1, totalElements: tasks.length, content: tasks });
  }, async (url) => {
    const t = await client(url, { requestTimeoutMs: 100 }).createTask({
      model: "HCX-003",
      dataset: { objectStorage: REF },
    });
    assert.equal(t.id, "t1");
    assert.equal(posts, 1);
    assert.match(t.name!, /^\d{6}-\d{6}-[0-9a-f]{6}$/, "unique default name");
  });
  // 500 before anything was stored: not in the list → sent again.
  posts = 0;
  await withServer((req) => {
    if (req.method === "POST") {
      posts++;
      return posts === 1
        ? fail(500, "50000", "Internal server error")
        : ok({ id: "n2", name: "x", status: "WAIT" });
    }
    return ok({ totalPages: 0, totalElements: 0, content: [] });
  }, async (url) => {
    const t = await client(url).createTask({
      name: "mine",
      model: "HCX-003",
      dataset: { objectStorage: REF },
    });
    assert.equal(t.id, "n2");
    assert.equal(posts, 2);
  });
});

Deno.test("http: a create that outlives the request timeout or a gateway's 504 is never sent twice", async () => {
  // The service's side of each case: how long its create handler runs before the task exists,
  // and whether the client sees that handler's answer, a gateway's 504 at once, or nothing.
  const T = 150;
  const cases = [
    { what: "stalls past the timeout, then creates", holdMs: 2 * T + 50, answer: "late" },
    { what: "504 at once, the task appears later", holdMs: 2 * T, answer: "504" },
    { what: "stalls past the timeout and never creates", holdMs: T + 50, answer: "lost" },
  ] as const;
  for (const c of cases) {
    const tasks: { id: string; name: string; status: string; createdDate: string }[] = [];
    const events: string[] = [];
    let posts = 0;
    let firstPostAt = 0;
    const listedAt: number[] = [];
    await withServer(async (req, s) => {
      if (req.method !== "POST") {
        listedAt.push(performance.now() - firstPostAt);
        events.push(`list ${tasks.length}`);
        return ok({ totalPages: 1, totalElements: tasks.length, content: tasks });
      }
      const n = ++posts;
      if (n === 1) firstPostAt = performance.now();
      events.push(`post ${n}`);
      const task = {
        id: `t${n}`,
        name: JSON.parse(s.body).name,
        status: "WAIT",
        createdDate: new Date().toISOString(),
      };
      const store = () => {
        tasks.push(task);
        events.push(`stored t${n}`);
      };
      if (n > 1) {
        store();
        return ok(task);
      }
      if (c.answer === "504") {
        setTimeout(store, c.holdMs);
        return fail(504, "50400", "Gateway timeout");
      }
      await new Promise((r) => setTimeout(r, c.holdMs));
      if (c.answer === "late") store();
      return ok(task);
    }, async (url) => {
      const t = await client(url, { requestTimeoutMs: T }).createTask({
        name: "run-HCX-003-100",
        model: "HCX-003",
        dataset: { objectStorage: REF },
      });
      // Give any late handler time to finish before counting.
      await new Promise((r) => setTimeout(r, 2 * T));
      assert.equal(tasks.length, 1, `${c.what}: ${events.join(", ")}`);
      assert.equal(t.id, tasks[0].id, c.what);
      assert.equal(posts, c.answer === "lost" ? 2 : 1, `${c.what}: ${events.join(", ")}`);
      // The list is read only once the first request is over, at least twice the timeout after
      // it was sent; and twice before a second create.
      assert.ok(listedAt.length >= 1 && listedAt[0] >= 2 * T, `${c.what}: ${listedAt}`);
      if (c.answer === "lost") assert.deepEqual(events.slice(0, 3), ["post 1", "list 0", "list 0"]);
    });
  }
});

Deno.test("http: refused connections are retried even for createTask (nothing was sent)", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const e = await rejects(
    client(`http://127.0.0.1:${port}`).createTask({
      model: "HCX-003",
      dataset: { objectStorage: REF },
    }),
  );
  assert.equal(e.code, "NETWORK");
  assert.equal(e.attempts, 4);
});

Deno.test("http: createTask retries 429 rejections; a 500 with an unreadable list is thrown", async () => {
  await withServer(
    (_r, _s, n) =>
      n === 1 ? fail(429, "42900", "Too many requests") : ok({ id: "t1", status: "WAIT" }),
    async (url, seen) => {
      const t = await client(url).createTask({
        name: "run-HCX-003-100",
        model: "HCX-003",
        trainEpochs: 4,
        learningRate: 1e-4,
        dataset: { objectStorage: REF },
      });
      assert.equal(t.id, "t1");
      assert.equal(seen.length, 2);
      // The current create: JSON, the dataset by Object Storage reference, the numbers the
      // create page types as String sent as strings.
      assert.equal(seen[0].path, "/tuning/v2/tasks");
      assert.equal(seen[0].headers.get("content-type"), "application/json");
      assert.deepEqual(JSON.parse(seen[0].body), {
        name: "run-HCX-003-100",
        model: "HCX-003",
        tuningType: "PEFT",
        trainEpochs: "4",
        learningRate: "0.0001",
        trainingDatasetFilePath: "runs/train.csv",
        trainingDatasetBucket: "b",
        trainingDatasetAccessKey: "ak",
        trainingDatasetSecretKey: "sk",
      });
    },
  );
  await withServer(() => fail(500, "50000", "Internal server error"), async (url, seen) => {
    const e = await rejects(
      client(url).createTask({ model: "HCX-003", dataset: { objectStorage: REF } }),
    );
    assert.equal(e.code, "50000", "the create's own error, not the failed list's");
    assert.equal(
      seen.filter((s) => s.method === "POST").length,
      1,
      "list unreadable → not re-sent",
    );
  });
});

Deno.test("http: legacy-2024 createTask is the cookbook's multipart POST /v2/tasks", async () => {
  await withServer(() => ok({ id: "t1", status: "WAIT" }), async (url, seen) => {
    const c = client(url, { generation: "legacy-2024" });
    await c.createTask({
      name: "run-HCX-003-50",
      model: "HCX-003",
      method: "LORA",
      taskType: "GENERATION",
      trainEpochs: 4,
      learningRate: 1e-4,
      dataset: {
        file: { name: "train.csv", bytes: new TextEncoder().encode("\uFEFFText,Completion\n") },
      },
    });
    assert.equal(seen[0].path, "/v2/tasks");
    assert.match(seen[0].headers.get("content-type")!, /^multipart\/form-data; boundary=/);
    assert.match(seen[0].body, /name="trainingDataset"; filename="train.csv"/);
    assert.match(seen[0].body, /name="method"\r\n\r\nLORA/);
    assert.match(seen[0].body, /name="taskType"\r\n\r\nGENERATION/);
    assert.match(seen[0].body, /name="trainEpochs"\r\n\r\n4/);
  });
});

Deno.test("http: each generation refuses the other's dataset transport before sending", async () => {
  await withServer(() => ok({ id: "t1", status: "WAIT" }), async (url, seen) => {
    const file = { name: "train.csv", bytes: new TextEncoder().encode("\uFEFFText,Completion\n") };
    const current = await rejects(client(url).createTask({ model: "HCX-003", dataset: { file } }));
    assert.equal(current.httpStatus, 0);
    assert.match(current.message, /Object Storage/);
    const method = await rejects(
      client(url).createTask({ model: "HCX-003", method: "LORA", dataset: { objectStorage: REF } }),
    );
    assert.match(method.message, /method: a 2024 field/);
    const legacy = await rejects(
      client(url, { generation: "legacy-2024" }).createTask({
        model: "HCX-003",
        dataset: { objectStorage: REF },
      }),
    );
    assert.match(legacy.message, /multipart trainingDataset/);
    assert.equal(seen.length, 0, "nothing was sent");
  });
});

Deno.test("http: a stalled response times out (TIMEOUT, retryable) and is retried", async () => {
  await withServer(async (req, _s, n) => {
    if (n < 2) {
      await new Promise((r) => setTimeout(r, 400));
      return ok({ id: "late", status: "WAIT" });
    }
    void req;
    return ok({ id: "t", status: "RUNNING" });
  }, async (url, seen) => {
    const t = await client(url, { requestTimeoutMs: 100 }).getTask("t");
    assert.equal(t.status, "RUNNING");
    assert.equal(seen.length, 2);
  });
});

function sseResponse(parts: string[], delayMs = 2): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async start(c) {
      for (const p of parts) {
        c.enqueue(enc.encode(p));
        await new Promise((r) => setTimeout(r, delayMs));
      }
      c.close();
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

Deno.test("http: streaming — chunks split anywhere, token deltas, result", async () => {
  const text =
    'id: 1\nevent: token\ndata: {"message":{"role":"assistant","content":"아시"},"finishReason":null,"usage":null}\n\n' +
    'id:2\r\nevent:token\r\ndata:{"message":{"role":"assistant","content":"아: 일본"},"finishReason":null}\r\n\r\n' +
    'id: 3\nevent: result\ndata: {"message":{"role":"assistant","content":"아시아: 일본"},"finishReason":"stop","seed":7,' +
    '"usage":{"promptTokens":9,"completionTokens":4,"totalTokens":13}}\n\n';
  const parts = [
    text.slice(0, 7),
    text.slice(7, 50),
    text.slice(50, 51),
    text.slice(51, 200),
    text.slice(200),
  ];
  await withServer(() => sseResponse(parts), async (url, seen) => {
    const deltas: string[] = [];
    const r = await client(url).chatStream({ model: "HCX-005" }, { messages: MSGS }, {
      onToken: (d) => deltas.push(d),
    });
    assert.deepEqual(deltas, ["아시", "아: 일본"]);
    assert.equal(r.text, "아시아: 일본");
    assert.equal(r.finishReason, "stop");
    assert.deepEqual([r.inputTokens, r.outputTokens, r.seed, r.api], [9, 4, 7, "v3"]);
    assert.equal(seen[0].headers.get("accept"), "text/event-stream");
    assert.equal(seen[0].path, "/v3/chat-completions/HCX-005");
  });
});

Deno.test("http: streaming — error event, cut before/after first token, signal [DONE]", async () => {
  await withServer(
    () =>
      sseResponse([
        'event: error\ndata: {"status":{"code":"40003","message":"Context length exceeded"}}\n\n',
      ]),
    async (url, seen) => {
      const e = await rejects(client(url).chatStream({ model: "HCX-003" }, { messages: MSGS }));
      assert.equal(e.code, "40003");
      assert.equal(seen.length, 1);
    },
  );
  const tok = 'event: token\ndata: {"message":{"role":"assistant","content":"아시아"}}\n\n';
  const res =
    'event: result\ndata: {"message":{"role":"assistant","content":"아시아"},"stopReason":"end_token","inputLength":3,"outputLength":1}\n\n';
  await withServer(
    (_r, _s, n) => n === 1 ? sseResponse(["event: tok"]) : sseResponse([tok, res]),
    async (url, seen) => {
      const deltas: string[] = [];
      const r = await client(url).chatStream({ model: "HCX-003" }, { messages: MSGS }, {
        onToken: (d) => deltas.push(d),
      });
      assert.equal(seen.length, 2, "a stream cut before its first token is restarted");
      assert.deepEqual(deltas, ["아시아"]);
      assert.equal(r.finishReason, "end_token");
      assert.equal(r.attempts, 2);
    },
  );
  await withServer(() => sseResponse([tok]), async (url, seen) => {
    const e = await rejects(
      client(url).chatStream({ model: "HCX-003" }, { messages: MSGS }, { onToken: () => {} }),
    );
    assert.equal(e.code, "STREAM_INCOMPLETE");
    assert.equal(seen.length, 1, "no restart once tokens were delivered");
  });
  await withServer(
    () => sseResponse([tok, 'event: signal\ndata: {"data":"[DONE]"}\n\n']),
    async (url) => {
      const r = await client(url).chatStream({ taskId: "abc" }, { messages: MSGS });
      assert.equal(r.text, "아시아");
    },
  );
  await withServer(
    (_r, _s, n) =>
      n === 1 ? fail(429, "42901", "Too many requests - rate exceeded") : sseResponse([tok, res]),
    async (url, seen) => {
      const r = await client(url).chatStream({ taskId: "abc" }, { messages: MSGS });
      assert.equal(r.text, "아시아");
      assert.equal(seen[1].path, "/v2/tasks/abc/chat-completions");
      assert.equal(r.attempts, 2);
    },
  );
});

Deno.test("http: client credentials — Basic token fetch, reuse, 40103 refresh once", async () => {
  let issued = 0;
  let expireNext = false;
  await withServer((req) => {
    const u = new URL(req.url);
    if (u.pathname === "/v1/auth/token") {
      issued++;
      return ok({
        accessToken: `tok-${issued}`,
        tokenType: "Bearer",
        expiresIn: Date.now() + 3600_000,
      });
    }
    const auth = req.headers.get("authorization");
    if (expireNext && auth === "Bearer tok-1") return fail(401, "40103", "Access token expired");
    return ok({ id: "t", status: "WAIT", auth });
  }, async (url, seen) => {
    const c = new ClovaStudioClient({
      baseUrl: url,
      auth: { kind: "client-credentials", clientId: "cid", clientSecret: "csecret" },
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    });
    assert.equal(c.generation, "legacy-2024");
    const [a, b] = await Promise.all([c.getTask("t"), c.getTask("t")]);
    await c.getTask("t");
    assert.equal(c.tokenFetches, 1, "one token for concurrent and later calls");
    assert.equal((a.raw as { auth: string }).auth, "Bearer tok-1");
    assert.equal((b.raw as { auth: string }).auth, "Bearer tok-1");
    const tokenReq = seen.find((s) => s.path.startsWith("/v1/auth/token"))!;
    assert.equal(tokenReq.path, "/v1/auth/token?existingToken=true");
    assert.equal(tokenReq.headers.get("authorization"), `Basic ${btoa("cid:csecret")}`);
    assert.equal(seen.filter((s) => s.path === "/v2/tasks/t").length, 3);
    expireNext = true;
    const t = await c.getTask("t");
    assert.equal((t.raw as { auth: string }).auth, "Bearer tok-2");
    assert.equal(c.tokenFetches, 2);
  });
  // A token that keeps being refused is refreshed once, then the 40103 is thrown.
  await withServer(
    (req) =>
      new URL(req.url).pathname === "/v1/auth/token"
        ? ok({ accessToken: "t", expiresIn: Date.now() + 3600_000 })
        : fail(401, "40103", "Access token expired"),
    async (url, seen) => {
      const c = new ClovaStudioClient({
        baseUrl: url,
        auth: { kind: "client-credentials", clientId: "a", clientSecret: "b" },
      });
      const e = await rejects(c.getTask("x"));
      assert.equal(e.code, "40103");
      assert.equal(seen.filter((s) => s.path === "/v2/tasks/x").length, 2);
      assert.equal(c.tokenFetches, 2);
    },
  );
});

Deno.test("http: token within the refresh margin is fetched again; token errors surface", async () => {
  await withServer(
    (req) =>
      new URL(req.url).pathname === "/v1/auth/token"
        ? ok({ accessToken: "short", expiresIn: Date.now() + 30_000 })
        : ok({ id: "t", status: "WAIT" }),
    async (url) => {
      const c = new ClovaStudioClient({
        baseUrl: url,
        auth: { kind: "client-credentials", clientId: "a", clientSecret: "b" },
      });
      await c.getTask("t");
      await c.getTask("t");
      assert.equal(c.tokenFetches, 2, "expires in 30 s < 60 s margin → refetched");
      const c2 = new ClovaStudioClient({
        baseUrl: url,
        auth: { kind: "client-credentials", clientId: "a", clientSecret: "b" },
        tokenRefreshMarginMs: 1000,
      });
      await c2.getTask("t");
      await c2.getTask("t");
      assert.equal(c2.tokenFetches, 1);
    },
  );
  await withServer(() => fail(401, "40101", "Invalid signature"), async (url, seen) => {
    const c = new ClovaStudioClient({
      baseUrl: url,
      auth: { kind: "client-credentials", clientId: "a", clientSecret: "b" },
    });
    const e = await rejects(c.getTask("t"));
    assert.equal(e.code, "40101");
    assert.equal(seen.length, 1);
  });
});

Deno.test("http: key pair — legacy headers, /testapp on inference paths only", async () => {
  await withServer((req) => {
    const p = new URL(req.url).pathname;
    if (p.includes("chat-completions")) return ok(V1_RESULT);
    if (p.includes("chat-tokenize")) {
      return ok({ messages: [{ role: "user", content: "일본", count: 2 }] });
    }
    return ok({ id: "t", status: "WAIT" });
  }, async (url, seen) => {
    const c = new ClovaStudioClient({
      baseUrl: url,
      auth: { kind: "key-pair", clovaStudioApiKey: "app-key", apigwApiKey: "gw-key" },
    });
    await c.chat({ model: "HCX-DASH-001" }, { messages: MSGS });
    await c.chat({ taskId: "abc" }, { messages: MSGS });
    const tk = await c.tokenize("HCX-003", MSGS);
    await c.getTask("t");
    assert.equal(tk.total, 2);
    assert.deepEqual(seen.map((s) => s.path), [
      "/testapp/v1/chat-completions/HCX-DASH-001",
      "/testapp/v2/tasks/abc/chat-completions",
      "/testapp/v1/api-tools/chat-tokenize/HCX-003",
      "/tuning/v2/tasks/t",
    ]);
    assert.equal(seen[0].headers.get("x-ncp-clovastudio-api-key"), "app-key");
    assert.equal(seen[0].headers.get("x-ncp-apigw-api-key"), "gw-key");
    assert.equal(seen[0].headers.get("authorization"), null);
  });
});

Deno.test("http: validation errors cost nothing (no request sent)", async () => {
  await withServer(() => ok(V1_RESULT), async (url, seen) => {
    const c = client(url);
    const e = await rejects(c.chat({ model: "HCX-003" }, { messages: MSGS, temperature: 3 }));
    assert.equal(e.code, "40001");
    assert.equal(e.httpStatus, 0);
    await rejects(
      c.createTask({ model: "HCX-003", trainEpochs: 50, dataset: { objectStorage: REF } }),
    );
    await rejects(
      client(url, { generation: "legacy-2024" }).createTask({
        model: "HCX-003",
        dataset: { file: { name: "a.xlsx", bytes: new Uint8Array() } },
      }),
    );
    await rejects(c.tokenize("HCX-003", []));
    assert.equal(seen.length, 0);
  });
});

Deno.test("http: waitForTask — backoff polling, progress, FAILED, abort, timeout", async () => {
  const states: Partial<TuningTask>[] = [];
  let polls = 0;
  await withServer(() => {
    polls++;
    const step = Math.min(10, Math.max(0, polls - 2) * 2);
    const status = polls <= 2 ? "WAIT" : step >= 10 ? "SUCCEEDED" : "RUNNING";
    return ok({
      id: "w1",
      status,
      createdDate: new Date(Date.now() - 5000).toISOString().replace("Z", "+0000"),
      statusInfo: status === "WAIT" ? { currStep: null, trainLoss: null } : {
        currStep: step,
        totalTrainSteps: 10,
        currEpoch: Math.ceil(step / 5),
        totalTrainEpochs: 2,
        trainLoss: 1 / (step + 1),
      },
    });
  }, async (url) => {
    const seen: string[] = [];
    const t = await client(url).waitForTask("w1", {
      pollIntervalMs: 5,
      maxPollIntervalMs: 20,
      onProgress: (p) => {
        states.push(p.task);
        seen.push(`${p.status}:${p.currStep ?? "-"}`);
        assert.ok(p.elapsedMs >= 4000, "elapsed counts from createdDate");
      },
    });
    assert.equal(t.status, "SUCCEEDED");
    assert.deepEqual(seen, [
      "WAIT:-",
      "WAIT:-",
      "RUNNING:2",
      "RUNNING:4",
      "RUNNING:6",
      "RUNNING:8",
      "SUCCEEDED:10",
    ]);
  });
  await withServer(() =>
    ok({
      id: "f1",
      status: "FAILED",
      statusInfo: { failureReason: "file.encoding", message: "Unsupported charset" },
    }), async (url) => {
    try {
      await client(url).waitForTask("f1", { pollIntervalMs: 1 });
      assert.fail("expected TuningTaskFailedError");
    } catch (e) {
      assert.equal((e as Error).name, "TuningTaskFailedError");
      const f = e as { taskId: string; failureReason: string; detail: string };
      assert.deepEqual([f.taskId, f.failureReason, f.detail], [
        "f1",
        "file.encoding",
        "Unsupported charset",
      ]);
    }
  });
  await withServer(() => ok({ id: "r", status: "RUNNING", statusInfo: {} }), async (url) => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    await assert.rejects(client(url).waitForTask("r", { pollIntervalMs: 5, signal: ac.signal }), {
      name: "AbortError",
    });
    await assert.rejects(client(url).waitForTask("r", { pollIntervalMs: 5, timeoutMs: 30 }), {
      name: "TaskWaitTimeoutError",
    });
  });
});

Deno.test("http: listTasks pages lazily; deleteTask treats a gone task after a retry as deleted", async () => {
  let deletes = 0;
  await withServer((req) => {
    const u = new URL(req.url);
    if (req.method === "DELETE") {
      deletes++;
      return u.pathname.endsWith("/flaky") && deletes === 1
        ? fail(504, "50400", "Gateway timeout")
        : fail(404, "40400", "Not found");
    }
    const page = Number(u.searchParams.get("page"));
    const size = Number(u.searchParams.get("size"));
    const all = Array.from(
      { length: 7 },
      (_, i) => ({ id: `t${i}`, status: "SUCCEEDED", secretKey: "S3CR3T" }),
    );
    return ok({
      totalPages: "3,",
      totalElements: 7,
      size,
      number: page,
      content: all.slice(page * size, page * size + size),
    });
  }, async (url, seen) => {
    const c = client(url);
    const ids: string[] = [];
    for await (const t of c.listTasks({ pageSize: 3 })) {
      ids.push(t.id);
      assert.equal(t.raw.secretKey, "[redacted]");
      if (ids.length === 2) assert.equal(seen.length, 1, "second page not fetched yet");
    }
    assert.deepEqual(ids, ["t0", "t1", "t2", "t3", "t4", "t5", "t6"]);
    assert.deepEqual(seen.map((s) => s.path), [
      "/tuning/v2/tasks?page=0&size=3",
      "/tuning/v2/tasks?page=1&size=3",
      "/tuning/v2/tasks?page=2&size=3",
    ]);
    await c.deleteTask("flaky"); // 504 (maybe deleted) then 404 → deleted
    assert.equal(deletes, 2);
    const e = await rejects(c.deleteTask("gone"));
    assert.equal(e.code, "40400", "a first-attempt 404 is an error");
  });
});
