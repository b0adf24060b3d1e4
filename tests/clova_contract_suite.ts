// The CLOVA Studio client contract suite: the same cases run against the local emulator
// (tests/clova_contract_test.ts) and against the real service when credentials are in the
// environment (tests/clova_real_test.ts). Not a test file itself.
import assert from "node:assert/strict";
import { stringify } from "csv-stringify/sync";
import { COMPLETION_PREFIX, CONTINENTS, COOKBOOK_COUNTRIES, TEXT_PREFIX } from "../lib/cookbook.ts";
import {
  type ClovaClientOptions,
  ClovaRequestInvalidError,
  ClovaStudioClient,
  ClovaStudioError,
  type ObjectStorageConfig,
  type TaskProgress,
  TuningTaskFailedError,
} from "../lib/backends/clova/mod.ts";

/** What the suite runs against. */
export interface ContractTarget {
  /** "emulator" or "CLOVA Studio". */
  name: string;
  /** Client options per auth scheme; absent schemes are skipped. */
  auth: Partial<Record<"api-key" | "key-pair" | "client-credentials", ClovaClientOptions>>;
  /** The same target with a wrong credential (for 401). */
  badAuth: ClovaClientOptions;
  /** v1 base model (HCX-003 / HCX-DASH-001). */
  v1Model: string;
  /** v3 base model (HCX-005 / HCX-DASH-002); absent on hosts without the v3 API. */
  v3Model?: string;
  /** Run tuning cases (create, wait, tuned chat, dataset failures, delete): costs money for real. */
  tuning?: { model: string; pollIntervalMs: number; timeoutMs: number };
  /** Object Storage for the upload path (tuning cases only). */
  objectStorage?: ObjectStorageConfig;
}

/** One contract case. */
export interface ContractCase {
  name: string;
  /** Skip unless the target supports it. */
  needs?: "tuning" | "objectStorage" | "v3";
  run(t: ContractTarget): Promise<void>;
}

const ASK = (countries: string[]) => TEXT_PREFIX + countries.join(", ");
const SYSTEM = "당신은 나라를 대륙별로 분류하는 전문가입니다.";
const SAMPLING_V1 = { topP: 0.6, topK: 0, maxTokens: 256, temperature: 0.5, repeatPenalty: 1.2 };
const SAMPLING_V3 = {
  topP: 0.6,
  topK: 0,
  maxTokens: 256,
  temperature: 0.5,
  repetitionPenalty: 1.1,
};

/**
 * A cookbook-style tuning CSV (UTF-8 with BOM) of `rows` rows, deterministic: the current
 * `C_ID,T_ID,Text,Completion` layout by default, the cookbook's `Text,Completion` on request.
 */
export function tuningCsv(
  rows: number,
  opts: { bom?: boolean; layout?: "single-turn" | "text-completion" } = {},
): Uint8Array {
  const ids = (opts.layout ?? "single-turn") === "single-turn";
  const out: (string | number)[][] = [
    ids ? ["C_ID", "T_ID", "Text", "Completion"] : ["Text", "Completion"],
  ];
  for (let i = 0; i < rows; i++) {
    const picks = CONTINENTS.slice(i % 3, (i % 3) + 3).map((c) => {
      const list = COOKBOOK_COUNTRIES[c];
      return { continent: c, country: list[(i * 7) % list.length] };
    });
    const completion = COMPLETION_PREFIX +
      picks.map((p) => `${p.continent}: ${p.country}`).join("\n\n");
    const text = ASK(picks.map((p) => p.country));
    out.push(ids ? [i, 0, text, completion] : [text, completion]);
  }
  return new TextEncoder().encode((opts.bom === false ? "" : "\uFEFF") + stringify(out));
}

function client(t: ContractTarget, extra: Partial<ClovaClientOptions> = {}): ClovaStudioClient {
  const base = t.auth["api-key"] ?? t.auth["key-pair"] ?? t.auth["client-credentials"];
  if (!base) throw new Error("no credentials for the contract target");
  return new ClovaStudioClient({ ...base, ...extra });
}

async function rejects(p: Promise<unknown>): Promise<ClovaStudioError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ClovaStudioError, `not a ClovaStudioError: ${e}`);
    return e;
  }
  throw new Error("expected a ClovaStudioError");
}

const countries = ["일본", "독일", "브라질"];
const messages = [
  { role: "system" as const, content: SYSTEM },
  { role: "user" as const, content: ASK(countries) },
];

/** The shared cases. */
export const CONTRACT_CASES: ContractCase[] = [
  {
    name: "chat v1 on a base model (every auth scheme available)",
    async run(t) {
      for (const [kind, opts] of Object.entries(t.auth)) {
        const c = new ClovaStudioClient(opts!);
        const r = await c.chat({ model: t.v1Model }, { messages, ...SAMPLING_V1 }, {
          requestId: `contract-${kind}-${crypto.randomUUID()}`,
        });
        assert.ok(r.text.length > 0, kind);
        assert.ok(r.requestId.startsWith(`contract-${kind}-`));
        assert.equal(r.api, "v1");
        assert.ok(["end_token", "length", "stop_before"].includes(r.finishReason), r.finishReason);
        assert.ok(r.inputTokens! > 0 && r.outputTokens! > 0, kind);
      }
    },
  },
  {
    name: "chat v3 on a base model",
    needs: "v3",
    async run(t) {
      const r = await client(t).chat({ model: t.v3Model! }, { messages, ...SAMPLING_V3 });
      assert.equal(r.api, "v3");
      assert.ok(r.text.length > 0);
      assert.ok(["stop", "length"].includes(r.finishReason), r.finishReason);
      assert.ok(r.inputTokens! > 0 && r.outputTokens! > 0);
    },
  },
  {
    name: "streaming v1 and v3: deltas add up to the result",
    async run(t) {
      const c = client(t);
      const models = [[t.v1Model, SAMPLING_V1], [t.v3Model, SAMPLING_V3]] as const;
      for (const [model, params] of models) {
        if (!model) continue;
        const deltas: string[] = [];
        const r = await c.chatStream({ model }, { messages, ...params }, {
          onToken: (d) => deltas.push(d),
        });
        assert.ok(deltas.length > 0, model);
        assert.equal(deltas.join(""), r.text, model);
        assert.ok(r.outputTokens! > 0, model);
      }
    },
  },
  {
    name: "tokenize counts each message",
    async run(t) {
      const r = await client(t).tokenize(t.v1Model, messages);
      assert.equal(r.messages.length, 2);
      assert.ok(r.messages.every((m) => m.count > 0));
      assert.equal(r.total, r.messages[0].count + r.messages[1].count);
      const ds = await client(t).countDatasetTokens(t.v1Model, [
        { text: ASK(["일본"]), completion: `${COMPLETION_PREFIX}아시아: 일본` },
        { text: ASK(["독일"]), completion: `${COMPLETION_PREFIX}유럽: 독일` },
      ]);
      assert.equal(ds.rows, 2);
      assert.equal(ds.total, ds.perRow[0] + ds.perRow[1]);
      assert.ok(ds.completionTokens > 0 && ds.inputTokens > 0);
    },
  },
  {
    name: "out-of-range parameters: refused before sending, and the service agrees (40001)",
    async run(t) {
      const c = client(t);
      const local = await rejects(c.chat({ model: t.v1Model }, { messages, temperature: 3 }));
      assert.ok(local instanceof ClovaRequestInvalidError);
      const remote = await rejects(
        c.chat({ model: t.v1Model }, { messages, temperature: 3 }, { validate: false }),
      );
      assert.equal(remote.httpStatus, 400);
      assert.equal(remote.code, "40001");
      assert.equal(remote.retryable, false);
      assert.equal(remote.attempts, 1);
      assert.ok(remote.requestId);
    },
  },
  {
    name: "wrong credentials: 401, not retried",
    async run(t) {
      const e = await rejects(
        new ClovaStudioClient(t.badAuth).chat({ model: t.v1Model }, { messages }),
      );
      assert.equal(e.httpStatus, 401);
      assert.match(e.code, /^401\d\d$/);
      assert.equal(e.retryable, false);
      assert.equal(e.attempts, 1);
    },
  },
  {
    name: "unknown task: 404 40400 on get, delete and chat is an error",
    async run(t) {
      const c = client(t);
      const e = await rejects(c.getTask("zz00zz00"));
      assert.equal(e.httpStatus, 404);
      assert.equal(e.code, "40400");
      assert.equal(e.retryable, false);
      const d = await rejects(c.deleteTask("zz00zz00"));
      assert.equal(d.code, "40400");
      const ch = await rejects(c.chat({ taskId: "zz00zz00" }, { messages }));
      assert.ok(ch.httpStatus >= 400 && ch.httpStatus < 500);
    },
  },
  {
    name: "listTasks: the same tasks whatever the page size",
    async run(t) {
      const c = client(t);
      const big: string[] = [];
      for await (const task of c.listTasks({ pageSize: 100 })) big.push(task.id);
      const small: string[] = [];
      for await (const task of c.listTasks({ pageSize: 2 })) small.push(task.id);
      assert.deepEqual(small, big);
    },
  },
  {
    name: "tuning (current API): a 100-row CSV uploaded to Object Storage → WAIT → SUCCEEDED " +
      "with progress; tuned chat v1 and v3; found by name; deleted",
    needs: "objectStorage",
    async run(t) {
      const c = client(t, { objectStorage: t.objectStorage });
      assert.equal(c.generation, "current");
      const tune = t.tuning!;
      const made: string[] = [];
      try {
        const name = `contract-${Date.now()}-${crypto.randomUUID().slice(0, 6)}`;
        const ref = await c.uploadDataset(
          { name: "train_100.csv", bytes: tuningCsv(100) },
          { key: `contract-tests/${name}/train_100.csv` },
        );
        assert.equal(ref.bucket, t.objectStorage!.bucket);
        const task = await c.createTask({
          name,
          model: tune.model,
          trainEpochs: 2,
          learningRate: 1e-4,
          dataset: { objectStorage: ref },
        });
        made.push(task.id);
        assert.match(task.id, /^[a-z0-9]+$/);
        assert.equal(task.status, "WAIT");
        assert.ok(task.requestId);
        assert.ok(!stringLeaves(task).includes(t.objectStorage!.secretKey), "secret not echoed");
        assert.deepEqual((await c.findTasksByName(name)).map((x) => x.id), [task.id]);
        const seen: TaskProgress[] = [];
        const done = await c.waitForTask(task.id, {
          pollIntervalMs: tune.pollIntervalMs,
          maxPollIntervalMs: tune.pollIntervalMs * 4,
          timeoutMs: tune.timeoutMs,
          onProgress: (p) => seen.push(p),
        });
        assert.equal(done.status, "SUCCEEDED");
        const last = seen.at(-1)!;
        assert.equal(last.status, "SUCCEEDED");
        assert.ok(last.totalTrainSteps! > 0 && last.currStep === last.totalTrainSteps);
        assert.equal(last.totalTrainEpochs, 2);
        assert.equal(typeof last.trainLoss, "number");
        const target = { taskId: task.id, baseModel: tune.model };
        const v1 = await c.chat(target, { messages, ...SAMPLING_V1 }, { api: "v1" });
        assert.ok(v1.text.length > 0);
        const v3 = await c.chat(target, { messages, ...SAMPLING_V3 }, { api: "v3" });
        assert.equal(v3.api, "v3");
        assert.ok(v3.text.length > 0);
        const streamed: string[] = [];
        const s3 = await c.chatStream(target, { messages, ...SAMPLING_V3 }, {
          api: "v3",
          onToken: (d) => streamed.push(d),
        });
        assert.equal(streamed.join(""), s3.text);
        await c.deleteTask(task.id);
        made.pop();
        const gone = await rejects(c.getTask(task.id));
        assert.equal(gone.code, "40400");
      } finally {
        for (const id of made) await c.deleteTask(id).catch(() => {});
      }
    },
  },
  {
    name: "tuning (current API): bad datasets are accepted, then FAILED with the documented reason",
    needs: "objectStorage",
    async run(t) {
      const c = client(t, { objectStorage: t.objectStorage });
      const enc = (s: string) => new TextEncoder().encode(s);
      const cases: { name: string; bytes: Uint8Array; reason: string; message: RegExp }[] = [
        {
          name: "cp949.csv",
          bytes: new Uint8Array([0x54, 0x65, 0x78, 0x74, 0x2c, 0xc7, 0xd1, 0xb1, 0xdb, 0x0a]),
          reason: "file.encoding",
          message: /^Unsupported charset$/,
        },
        {
          name: "label.csv",
          bytes: enc("\uFEFFC_ID,T_ID,Text,Completion,Label\n0,0,a,b,c\n"),
          reason: "file.format",
          message: /^Invalid dataset: unexpected column\. Label$/,
        },
        {
          name: "dup.csv",
          bytes: enc("\uFEFFC_ID,T_ID,Text,Completion,TEXT\n0,0,a,b,c\n"),
          reason: "file.format",
          message: /^Invalid dataset: duplicate columns\. TEXT$/,
        },
        {
          name: "order.csv",
          bytes: enc("\uFEFFC_ID,T_ID,Completion,Text\n0,0,b,a\n"),
          reason: "file.format",
          message: /^Invalid dataset: column order$/,
        },
        {
          name: "empty.csv",
          bytes: enc("\uFEFFC_ID,T_ID,Text,Completion\n0,0,a,\n"),
          reason: "file.format",
          message: /^Invalid dataset: required field empty\. Completion$/,
        },
        {
          name: "cid.csv",
          bytes: enc("\uFEFFC_ID,T_ID,Text,Completion\n0,0,a,b\n2,0,a,b\n"),
          reason: "file.format",
          message: /^Invalid dataset: C_ID$/,
        },
      ];
      const prefix = `contract-tests/bad-${Date.now()}-${crypto.randomUUID().slice(0, 6)}`;
      const created: { k: (typeof cases)[number]; id: string }[] = [];
      try {
        // A wrong extension is refused before anything is uploaded.
        const viaUpload = await rejects(
          c.createTask({
            model: t.tuning!.model,
            dataset: {
              upload: {
                file: { name: "train.txt", bytes: tuningCsv(100) },
                storage: t.objectStorage!,
                key: `${prefix}/train.txt`,
              },
            },
          }),
        );
        assert.ok(viaUpload instanceof ClovaRequestInvalidError, "extension refused before upload");
        for (const k of cases) {
          const task = await c.createTask({
            model: t.tuning!.model,
            dataset: {
              upload: { file: k, storage: t.objectStorage!, key: `${prefix}/${k.name}` },
            },
          });
          assert.equal(task.status, "WAIT", k.name);
          created.push({ k, id: task.id });
        }
        for (const { k, id } of created) {
          try {
            await c.waitForTask(id, {
              pollIntervalMs: t.tuning!.pollIntervalMs,
              timeoutMs: t.tuning!.timeoutMs,
            });
            assert.fail(`${k.name} should fail`);
          } catch (e) {
            assert.ok(e instanceof TuningTaskFailedError, `${k.name}: ${e}`);
            assert.equal(e.taskId, id);
            assert.equal(e.failureReason, k.reason, k.name);
            assert.match(e.detail, k.message, k.name);
          }
        }
      } finally {
        for (const { id } of created) await c.deleteTask(id).catch(() => {});
      }
    },
  },
  {
    name: "tuning (current API): an object missing from the bucket is refused (40400 File not " +
      "found) or fails the task, as the docs describe both",
    needs: "objectStorage",
    async run(t) {
      const c = client(t, { objectStorage: t.objectStorage });
      const ref = {
        bucket: t.objectStorage!.bucket,
        path: `contract-tests/missing/${crypto.randomUUID()}.csv`,
        accessKey: t.objectStorage!.accessKey,
        secretKey: t.objectStorage!.secretKey,
      };
      let task;
      try {
        task = await c.createTask({ model: t.tuning!.model, dataset: { objectStorage: ref } });
      } catch (e) {
        assert.ok(e instanceof ClovaStudioError, String(e));
        assert.equal(e.httpStatus, 404);
        assert.equal(e.code, "40400");
        assert.equal(e.serviceMessage, "File not found");
        return;
      }
      try {
        await c.waitForTask(task.id, {
          pollIntervalMs: t.tuning!.pollIntervalMs,
          timeoutMs: t.tuning!.timeoutMs,
        });
        assert.fail("missing object should fail the task");
      } catch (e) {
        assert.ok(e instanceof TuningTaskFailedError, String(e));
        assert.match(e.failureReason, /^file\.(noexist|error)$|^File not found$/);
      } finally {
        await c.deleteTask(task.id).catch(() => {});
      }
    },
  },
];

function stringLeaves(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (v && typeof v === "object") return Object.values(v).flatMap(stringLeaves);
  return [];
}

/** Whether the suite's client speaks the current API (an API key or the key pair). */
function currentApi(t: ContractTarget): boolean {
  return Boolean(t.auth["api-key"] ?? t.auth["key-pair"]);
}

/** Register the suite as one Deno test with a step per case. */
export function registerContractSuite(
  title: string,
  setup: () => Promise<{ target: ContractTarget; close(): Promise<void> } | undefined>,
  opts: { ignore?: boolean } = {},
): void {
  Deno.test(
    { name: title, ignore: opts.ignore, sanitizeOps: false, sanitizeResources: false },
    async (tc) => {
      const env = await setup();
      if (!env) return;
      try {
        for (const k of CONTRACT_CASES) {
          const skip = (k.needs === "tuning" && !env.target.tuning) ||
            (k.needs === "v3" && !env.target.v3Model) ||
            (k.needs === "objectStorage" &&
              !(env.target.tuning && env.target.objectStorage && currentApi(env.target)));
          await tc.step({ name: k.name, ignore: skip, fn: () => k.run(env.target) });
        }
      } finally {
        await env.close();
      }
    },
  );
}
