/**
 * Tuning-task routes (sources in `rules.ts`):
 *
 * - `POST /tuning/v2/tasks` (current): a JSON body whose training set is in Object Storage
 *   (`trainingDatasetBucket`, `trainingDatasetFilePath`, `trainingDatasetAccessKey`,
 *   `trainingDatasetSecretKey`). Any other media type, multipart included, is 415 `41500`; a
 *   `trainingDataset` field or any undocumented field is 400 `40001`; an object that is not in
 *   the bucket is 404 `40400` `File not found` and no task is made.
 * - `POST /v2/tasks` (the 2024 API the cookbook used): multipart with text fields and a
 *   `trainingDataset` file part; another media type is 415 `41500`, a multipart type without a
 *   boundary 415 `41501`.
 * - `GET …/tasks/{id}`, `GET …/tasks?page=&size=`, `DELETE …/tasks/{id}` on both paths.
 *
 * Other synchronous errors: missing `model` or out-of-range numbers 400 `40001`; unknown model
 * 400 `40080`; a model that cannot be tuned or `tuningType` ≠ `PEFT` 400 `40009`; unknown task
 * 404 `40400`. Dataset problems are **asynchronous**: create answers `20000` + `WAIT`, and the
 * task turns `FAILED` with the documented `failureReason`/`message` (see `dataset.ts`).
 * Defaults: `trainEpochs` 4 on `/v2/tasks` (2024 docs and the cookbook) and 8 on
 * `/tuning/v2/tasks`; `learningRate` 1e-4; `method` echoed as `LORA` (2024) / `LoRA` (current).
 *
 * @module
 */
import { z } from "zod";
import { fail, okResponse } from "./envelope.ts";
import { BODY_LIMITS, BodyTooLargeError, readBodyForm, readBodyText } from "./body.ts";
import { bump, type EmulatorState, type RequestContext } from "./context.ts";
import { servedModel } from "./models.ts";
import type { DatasetSource } from "./tasks.ts";

const num = z.union([
  z.number(),
  z.string().trim().regex(/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?$/).transform((s) =>
    Number(s.replace(/[fFdD]$/, ""))
  ),
]);

/** Fields of the current create (rule: tuning.create.current.fields). */
const CURRENT_FIELDS = new Set([
  "name",
  "model",
  "tuningType",
  "taskType",
  "trainEpochs",
  "learningRate",
  "validationSplitRatio",
  "loraR",
  "loraAlpha",
  "trainingDatasetBucket",
  "trainingDatasetFilePath",
  "trainingDatasetAccessKey",
  "trainingDatasetSecretKey",
]);

// rule: tuning.create.params
const createSchema = z.object({
  // rule: tuning.create.name
  name: z.string().min(2).max(30).optional(),
  model: z.string().min(1),
  method: z.string().regex(/^lora$/i).optional(),
  tuningType: z.string().optional(),
  taskType: z.string().optional(),
  trainEpochs: num.pipe(z.number().int().min(1).max(20)).optional(),
  learningRate: num.pipe(z.number().min(1e-6).max(1)).optional(),
  validationSplitRatio: num.pipe(z.number().min(0).max(0.1)).optional(),
  loraR: num.pipe(z.number().int().min(2).max(64)).optional(),
  loraAlpha: num.pipe(z.number().int().min(2).max(512)).optional(),
  trainingDatasetBucket: z.string().min(1).optional(),
  trainingDatasetFilePath: z.string().min(1).optional(),
  trainingDatasetAccessKey: z.string().min(1).optional(),
  trainingDatasetSecretKey: z.string().min(1).optional(),
});

/** Multipart allowance above the dataset limit (field parts and boundaries). */
const MULTIPART_OVERHEAD = 1024 * 1024;

/** rule: tuning.create.legacy-2024 — multipart fields and the `trainingDataset` file. */
async function readLegacyBody(
  req: Request,
  maxDatasetBytes: number,
): Promise<{ fields: Record<string, unknown>; file?: File }> {
  const type = req.headers.get("content-type") ?? "";
  if (!/^multipart\/form-data/i.test(type)) fail("41500");
  if (!/boundary=/i.test(type)) fail("41501");
  let form: FormData;
  try {
    // rule: limits.dataset
    form = await readBodyForm(req, maxDatasetBytes + MULTIPART_OVERHEAD);
  } catch (e) {
    if (e instanceof BodyTooLargeError) throw e;
    fail("40000", "Bad request: malformed multipart body");
  }
  const fields: Record<string, unknown> = {};
  let file: File | undefined;
  for (const [k, v] of form) {
    if (k === "trainingDataset") {
      if (typeof v === "string") fail("40001", "Invalid parameter (trainingDataset)");
      file = v;
    } else if (typeof v === "string") fields[k] = v;
  }
  return { fields, file };
}

/** A JSON object and nothing else (rule: tuning.create.current.json). */
async function readCurrentBody(req: Request): Promise<Record<string, unknown>> {
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/json/i.test(type)) fail("41500");
  let body: unknown;
  try {
    // rule: limits.body
    body = JSON.parse(await readBodyText(req, BODY_LIMITS.json));
  } catch (e) {
    if (e instanceof BodyTooLargeError) throw e;
    fail("40000", "Bad request: body is not valid JSON");
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) fail("40001");
  const unknown = Object.keys(body).find((k) => !CURRENT_FIELDS.has(k));
  if (unknown !== undefined) fail("40001", `Invalid parameter (${unknown})`);
  return body as Record<string, unknown>;
}

/** `POST /v2/tasks` (legacy) and `POST /tuning/v2/tasks` (current). */
export async function createTask(
  state: EmulatorState,
  ctx: RequestContext,
  api: "legacy" | "current",
): Promise<Response> {
  const { fields, file } = api === "legacy"
    ? await readLegacyBody(ctx.req, state.maxDatasetBytes)
    : { fields: await readCurrentBody(ctx.req), file: undefined };
  const r = createSchema.safeParse(fields);
  if (!r.success) {
    const path = r.error.issues[0]?.path.join(".");
    if (path === "name") fail("40001", "Invalid parameter: name");
    fail("40001", `Invalid parameter${path ? ` (${path})` : ""}`);
  }
  const b = r.data;
  // rule: tuning.models
  const spec = servedModel(b.model, state.local !== undefined);
  if (!spec) fail("40080");
  if (!spec.tunable) fail("40009");
  // rule: tuning.create.params
  if (b.tuningType !== undefined && b.tuningType !== "PEFT") fail("40009");
  if (b.taskType !== undefined) {
    if (b.taskType === "CLASSIFICATION") fail("40009");
    if (b.taskType !== "GENERATION") fail("40001", "Invalid parameter (taskType)");
  }
  let source: DatasetSource;
  if (api === "legacy") {
    if (!file) fail("40001", "Invalid parameter (trainingDataset)");
    source = {
      kind: "upload",
      fileName: file.name || "trainingDataset",
      bytes: new Uint8Array(await file.arrayBuffer()),
    };
  } else {
    // rule: tuning.create.current.object-storage
    const missing = [
      "trainingDatasetFilePath",
      "trainingDatasetBucket",
      "trainingDatasetAccessKey",
      "trainingDatasetSecretKey",
    ].find((k) => b[k as keyof typeof b] === undefined);
    if (missing) fail("40001", `Invalid parameter (${missing})`);
    const bucket = b.trainingDatasetBucket!;
    const path = b.trainingDatasetFilePath!.replace(/^\/+/, "");
    const bytes = state.objects.read(bucket, path);
    // rule: tuning.create.missing-object
    if (!bytes) fail("40400", "File not found");
    source = { kind: "objectStorage", bucket, path, bytes };
  }
  const method = b.method === "LORA"
    ? "LORA"
    : b.method === undefined && api === "legacy"
    ? "LORA"
    : "LoRA";
  await state.onCreateReceived?.(b.name);
  const rec = await state.tasks.create({
    name: b.name,
    model: spec.name,
    method,
    tuningType: "PEFT",
    taskType: "GENERATION",
    trainEpochs: b.trainEpochs ?? (api === "legacy" ? 4 : 8),
    learningRate: b.learningRate ?? 1e-4,
    validationSplitRatio: b.validationSplitRatio ?? 0,
    loraR: b.loraR ?? 8,
    loraAlpha: b.loraAlpha ?? 64,
  }, source);
  bump(state.stats, "tasksCreated");
  await state.onTaskStored?.({ id: rec.id, name: rec.params.name, model: rec.params.model });
  return okResponse(state.tasks.view(rec), { "x-ncp-clovastudio-request-id": ctx.requestId });
}

/** `GET …/tasks/{id}`. */
export function getTask(state: EmulatorState, ctx: RequestContext, id: string): Response {
  const rec = state.tasks.get(id);
  if (!rec) fail("40400");
  return okResponse(state.tasks.view(rec), { "x-ncp-clovastudio-request-id": ctx.requestId });
}

// rule: tuning.list
const pageSchema = z.object({
  page: num.pipe(z.number().int().min(0)).default(0),
  size: num.pipe(z.number().int().min(1).max(100)).default(20),
});

/** `GET …/tasks?page=&size=` → `{totalPages, totalElements, size, number, content}`. */
export function listTasks(state: EmulatorState, ctx: RequestContext): Response {
  const q = pageSchema.safeParse({
    page: ctx.url.searchParams.get("page") ?? undefined,
    size: ctx.url.searchParams.get("size") ?? undefined,
  });
  if (!q.success) fail("40001", `Invalid parameter (${q.error.issues[0]?.path.join(".")})`);
  const { page, size } = q.data;
  const all = state.tasks.list();
  const content = all.slice(page * size, (page + 1) * size).map((t) => state.tasks.view(t));
  return okResponse({
    totalPages: Math.ceil(all.length / size),
    totalElements: all.length,
    size,
    number: page,
    content,
  }, { "x-ncp-clovastudio-request-id": ctx.requestId });
}

/** `DELETE …/tasks/{id}` → `{"status":{"code":"20000","message":"OK"}}` (rule: tuning.delete). */
export async function deleteTask(
  state: EmulatorState,
  ctx: RequestContext,
  id: string,
): Promise<Response> {
  if (!(await state.tasks.delete(id))) fail("40400");
  bump(state.stats, "tasksDeleted");
  return okResponse(undefined, { "x-ncp-clovastudio-request-id": ctx.requestId });
}
