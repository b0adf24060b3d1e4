// Secret hygiene: run a full client session against the emulator (all three auth schemes, token
// expiry, faults, failing calls, Object Storage upload, tuning, chat, streaming) with known fake
// secrets, collect everything the client and the emulator wrote — console output, error
// messages and stacks, Deno.inspect / JSON / toString of every object handed back, the files the
// emulator persisted and the files we wrote from the results — and assert no secret appears.
import assert from "node:assert/strict";
import { startEmulator } from "../lib/backends/emulator/mod.ts";
import {
  clovaOptionsFromEnv,
  ClovaStudioClient,
  objectStorageConfig,
  objectStorageFromEnv,
  preflightTuningCsvBytes,
} from "../lib/backends/clova/mod.ts";
import { tuningCsv } from "./clova_contract_suite.ts";

const SECRETS = {
  apiKey: "nv-SECRET-apikey-7f3a9c",
  appKey: "SECRET-appkey-51be02",
  apigwKey: "SECRET-apigw-c88d1e",
  clientId: "SECRET-clientid-0a6b44",
  clientSecret: "SECRET-clientsecret-93e7f0",
  s3Access: "SECRET-s3access-2d19aa",
  s3Secret: "SECRET-s3secret-e40c5b",
};

const MSGS = [{
  role: "user" as const,
  content: "목록에서 나라를 대륙별로 분류해줘.\n\n일본, 독일",
}];

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await filesUnder(p));
    else if (e.isFile) out.push(await Deno.readTextFile(p));
  }
  return out;
}

function findSecrets(text: string): string[] {
  const found: string[] = [];
  for (const s of Object.values(SECRETS)) {
    if (text.includes(s)) found.push(s);
    // also base64 of id:secret (Basic header) and of the secret alone
    if (text.includes(btoa(s))) found.push(`base64(${s})`);
  }
  if (text.includes(btoa(`${SECRETS.clientId}:${SECRETS.clientSecret}`))) {
    found.push("basic header");
  }
  return found;
}

Deno.test("secret detector finds planted secrets (control)", () => {
  assert.deepEqual(findSecrets(`x ${SECRETS.s3Secret} y`), [SECRETS.s3Secret]);
  assert.ok(findSecrets(`Basic ${btoa(`${SECRETS.clientId}:${SECRETS.clientSecret}`)}`).length > 0);
});

Deno.test("no secret in anything the client or the emulator wrote during a full session", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clova-secrets-" });
  const stateDir = `${dir}/emulator-state`;
  const outDir = `${dir}/run`;
  await Deno.mkdir(outDir);
  const captured: string[] = [];
  const original = { ...console };
  for (const k of ["log", "error", "warn", "info", "debug"] as const) {
    console[k] = (...args: unknown[]) => {
      captured.push(
        args.map((a) => (typeof a === "string" ? a : Deno.inspect(a, { depth: 8 }))).join(" "),
      );
    };
  }
  const shown: string[] = [];
  const show = (label: string, v: unknown) => {
    const text = [Deno.inspect(v, { depth: 10, showHidden: false }), safeJson(v), String(v)].join(
      "\n",
    );
    shown.push(`${label}: ${text}`);
    console.log(label, v);
  };
  const emu = await startEmulator({
    credentials: {
      apiKeys: [SECRETS.apiKey],
      keyPairs: [{ clovaStudioApiKey: SECRETS.appKey, apigwApiKey: SECRETS.apigwKey }],
      clients: [{ clientId: SECRETS.clientId, clientSecret: SECRETS.clientSecret }],
      tokenTtlMs: 300,
    },
    seed: 9,
    quiet: false,
    stateDir,
    rateLimits: false,
    trainingSpeed: 5000,
    waitMs: 10,
    faults: { seed: 4, rate429: 0.05, rate500: 0.1, drop: 0.05 },
  });
  try {
    const env = {
      CLOVA_STUDIO_API_KEY: SECRETS.apiKey,
      CLOVA_STUDIO_HOST: emu.url,
      NCP_OBJECT_STORAGE_ENDPOINT: emu.objectStorageUrl,
      NCP_OBJECT_STORAGE_BUCKET: "secrets-bucket",
      NCP_ACCESS_KEY: SECRETS.s3Access,
      NCP_SECRET_KEY: SECRETS.s3Secret,
    };
    const opts = clovaOptionsFromEnv(env)!;
    show("options", opts);
    show("storage", objectStorageFromEnv(env));
    const onRetry = (info: unknown) => show("retry", info);
    const retry = { maxAttempts: 10, baseDelayMs: 1, maxDelayMs: 3 };
    // A create whose connection drops is checked for twice this after the drop, never re-sent
    // blindly: keep that wait short here.
    const requestTimeoutMs = 1_000;
    const apiClient = new ClovaStudioClient({ ...opts, retry, onRetry, requestTimeoutMs });
    const pairClient = new ClovaStudioClient({
      baseUrl: emu.url,
      auth: { kind: "key-pair", clovaStudioApiKey: SECRETS.appKey, apigwApiKey: SECRETS.apigwKey },
      retry,
      onRetry,
      requestTimeoutMs,
    });
    const ccClient = new ClovaStudioClient({
      ...clovaOptionsFromEnv({
        CLOVA_STUDIO_CLIENT_ID: SECRETS.clientId,
        CLOVA_STUDIO_CLIENT_SECRET: SECRETS.clientSecret,
        CLOVA_STUDIO_HOST: emu.url,
      })!,
      retry,
      onRetry,
      requestTimeoutMs,
      tokenRefreshMarginMs: 0,
    });
    for (const c of [apiClient, pairClient, ccClient]) show("client", c);

    // Chats on every scheme, with token expiry in between.
    for (const c of [apiClient, pairClient, ccClient]) {
      show("chat", await c.chat({ model: "HCX-003" }, { messages: MSGS }));
      show(
        "stream",
        await c.chatStream({ model: "HCX-005" }, { messages: MSGS }, {
          onToken: (d) => console.log(d),
        }),
      );
    }
    emu.expireTokens();
    show("after-expiry", await ccClient.chat({ model: "HCX-003" }, { messages: MSGS }));
    await new Promise((r) => setTimeout(r, 350));
    show("after-ttl", await ccClient.tokenize("HCX-003", MSGS));

    // Tuning through Object Storage (the S3 keys travel in the create body) and multipart.
    const ref = await apiClient.uploadDataset({ name: "train.csv", bytes: tuningCsv(100) });
    show("ref-keys-are-secret", { bucket: ref.bucket, path: ref.path });
    const t1 = await apiClient.createTask({
      model: "HCX-003",
      trainEpochs: 1,
      dataset: { objectStorage: ref },
    });
    show("created", t1);
    const t2 = await pairClient.createTask({
      model: "HCX-003",
      dataset: {
        upload: {
          file: {
            name: "bad.csv",
            bytes: new TextEncoder().encode("\uFEFFText,Completion,X\na,b,c\n"),
          },
          storage: objectStorageConfig({
            endpoint: emu.objectStorageUrl,
            bucket: "secrets-bucket",
            accessKey: SECRETS.s3Access,
            secretKey: SECRETS.s3Secret,
          }),
        },
      },
    });
    // The 2024 API (client id/secret): the multipart upload.
    const t3 = await ccClient.createTask({
      model: "HCX-003",
      dataset: { file: { name: "train2.csv", bytes: tuningCsv(100) } },
    });
    for (const [c, t] of [[apiClient, t1], [pairClient, t2], [ccClient, t3]] as const) {
      try {
        show(
          "done",
          await c.waitForTask(t.id, { pollIntervalMs: 10, onProgress: (p) => show("progress", p) }),
        );
      } catch (e) {
        show("wait-error", e);
      }
    }
    const all = [];
    for await (const t of apiClient.listTasks({ pageSize: 2 })) all.push(t);
    show("list", all);
    await Deno.writeTextFile(`${outDir}/tasks.json`, JSON.stringify(all, null, 2));
    show("preflight", preflightTuningCsvBytes(tuningCsv(100), { fileName: "train.csv" }));

    // Failures of every kind, shown the way a program would show them.
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const closedUrl = `http://127.0.0.1:${(l.addr as Deno.NetAddr).port}`;
    l.close();
    const failures: (() => Promise<unknown>)[] = [
      () =>
        new ClovaStudioClient({
          ...opts,
          auth: { kind: "api-key", apiKey: `${SECRETS.apiKey}-wrong` },
        }).chat(
          { model: "HCX-003" },
          { messages: MSGS },
        ),
      () =>
        new ClovaStudioClient({
          baseUrl: emu.url,
          auth: {
            kind: "client-credentials",
            clientId: SECRETS.clientId,
            clientSecret: `${SECRETS.clientSecret}x`,
          },
        }).getTask("x"),
      () =>
        new ClovaStudioClient({
          baseUrl: emu.url,
          auth: { kind: "key-pair", clovaStudioApiKey: SECRETS.appKey, apigwApiKey: "wrong" },
        }).chat({ model: "HCX-003" }, { messages: MSGS }),
      () => apiClient.getTask("nope0000"),
      () => apiClient.chat({ model: "HCX-003" }, { messages: MSGS, temperature: 9 }),
      () =>
        apiClient.uploadDataset({ name: "x.csv", bytes: new Uint8Array([1]) }, {
          storage: {
            endpoint: closedUrl,
            bucket: "b",
            accessKey: SECRETS.s3Access,
            secretKey: SECRETS.s3Secret,
          },
        }),
      () =>
        new ClovaStudioClient({ ...opts, baseUrl: closedUrl, retry: { maxAttempts: 1 } }).chat(
          { model: "HCX-003" },
          { messages: MSGS },
        ),
    ];
    const errors: unknown[] = [];
    for (const p of failures) {
      try {
        await p();
        assert.fail("expected a failure");
      } catch (e) {
        errors.push(e);
        show("error", e);
        const err = e as Error;
        shown.push(`${err.name}: ${err.message}\n${err.stack}\n${Deno.inspect(err.cause)}`);
      }
    }
    await Deno.writeTextFile(`${outDir}/errors.jsonl`, errors.map((e) => safeJson(e)).join("\n"));
    assert.equal(errors.length, failures.length);
  } finally {
    await emu.close();
    Object.assign(console, original);
  }
  const files = await filesUnder(dir);
  assert.ok(files.length >= 3, `expected persisted state and our files, found ${files.length}`);
  const corpus = [captured.join("\n"), shown.join("\n"), files.join("\n")].join("\n");
  assert.ok(captured.some((l) => l.startsWith("emulator:")), "emulator request log captured");
  assert.ok(corpus.includes("[redacted]"), "redaction visible");
  assert.ok(corpus.includes("40100") && corpus.includes("40400"), "error output captured");
  const leaks = findSecrets(corpus);
  if (leaks.length) {
    const where = corpus.split("\n").filter((l) => findSecrets(l).length).slice(0, 5).join("\n");
    assert.fail(`secrets leaked: ${leaks.join(", ")}\n${where}`);
  }
  await Deno.remove(dir, { recursive: true });
});

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? "undefined";
  } catch {
    return "(unserializable)";
  }
}
