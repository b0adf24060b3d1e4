/**
 * Tuning-task routes: legacy `POST /v2/tasks` (cookbook) and current `POST /tuning/v2/tasks`
 * (multipart with a `trainingDataset` file, or JSON/multipart with the Object Storage fields
 * `trainingDatasetBucket`, `trainingDatasetFilePath`, `trainingDatasetAccessKey`,
 * `trainingDatasetSecretKey`), get, list (`page`, `size`) and delete (also on `/v2/tasks/{id}`).
 *
 * Synchronous errors: missing `model`, out-of-range numbers, no dataset or half the Object
 * Storage fields → 400 `40001`; unknown model → 400 `40080`; a model that cannot be tuned,
 * `tuningType` ≠ `PEFT` or `taskType: CLASSIFICATION` → 400 `40009`; multipart without a
 * boundary → 415 `41501`; another content type → 415 `41500`; unknown task → 404 `40400`.
 * Dataset problems are **asynchronous**: create answers `20000` + `WAIT`, and the task turns
 * `FAILED` with the documented `failureReason`/`message` (see `dataset.ts`).
 * Defaults: `trainEpochs` 4 on the legacy path (2024 docs and the cookbook) and 8 on the
 * current path; `learningRate` 1e-4; `method` echoed as `LORA` (legacy) / `LoRA` (current).
 *
 * @module
 */
import { z } from "zod";
import { fail, okResponse } from "./envelope.ts";
import { bump, type EmulatorState, type RequestContext } from "./context.ts";
import { MODELS } from "./models.ts";
import type { DatasetSource } from "./tasks.ts";

const num = z.union([
  z.number(),
  z.string().trim().regex(/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?$/).transform((s) =>
    Number(s.replace(/[fFdD]$/, ""))
  ),
]);

const createSchema = z.object({
  name: z.string().max(200).optional(),
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

async function readCreateBody(
  req: Request,
): Promise<{ fields: Record<string, unknown>; file?: File }> {
  const type = req.headers.get("content-type") ?? "";
  if (/^multipart\/form-data/i.test(type)) {
    if (!/boundary=/i.test(type)) fail("41501");
    let form: FormData;
    try {
      form = await req.formData();
    } catch {
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
  if (/json/i.test(type)) {
    let body: unknown;
    try {
      body = await req.json();
    } catch {
      fail("40000", "Bad request: body is not valid JSON");
    }
    if (!body || typeof body !== "object" || Array.isArray(body)) fail("40001");
    return { fields: body as Record<string, unknown> };
  }
  fail("41500");
}

/** `POST /v2/tasks` (legacy) and `POST /tuning/v2/tasks` (current). */
export async function createTask(
  state: EmulatorState,
  ctx: RequestContext,
  api: "legacy" | "current",
): Promise<Response> {
  const { fields, file } = await readCreateBody(ctx.req);
  const r = createSchema.safeParse(fields);
  if (!r.success) {
    const path = r.error.issues[0]?.path.join(".");
    fail("40001", `Invalid parameter${path ? ` (${path})` : ""}`);
  }
  const b = r.data;
  const spec = MODELS[b.model];
  if (!spec) fail("40080");
  if (!spec.tunable) fail("40009");
  if (b.tuningType !== undefined && b.tuningType !== "PEFT") fail("40009");
  if (b.taskType !== undefined) {
    if (b.taskType === "CLASSIFICATION") fail("40009");
    if (b.taskType !== "GENERATION") fail("40001", "Invalid parameter (taskType)");
  }
  const os = [
    b.trainingDatasetBucket,
    b.trainingDatasetFilePath,
    b.trainingDatasetAccessKey,
    b.trainingDatasetSecretKey,
  ];
  const osCount = os.filter((v) => v !== undefined).length;
  let source: DatasetSource;
  if (file && osCount === 0) {
    source = {
      kind: "upload",
      fileName: file.name || "trainingDataset",
      bytes: new Uint8Array(await file.arrayBuffer()),
    };
  } else if (!file && osCount === 4) {
    const bucket = b.trainingDatasetBucket!;
    const path = b.trainingDatasetFilePath!.replace(/^\/+/, "");
    source = { kind: "objectStorage", bucket, path, bytes: state.objects.read(bucket, path) };
  } else {
    fail("40001", "Invalid parameter (trainingDataset)");
  }
  const method = b.method === "LORA"
    ? "LORA"
    : b.method === undefined && api === "legacy"
    ? "LORA"
    : "LoRA";
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
  return okResponse(state.tasks.view(rec), { "x-ncp-clovastudio-request-id": ctx.requestId });
}

/** `GET …/tasks/{id}`. */
export function getTask(state: EmulatorState, ctx: RequestContext, id: string): Response {
  const rec = state.tasks.get(id);
  if (!rec) fail("40400");
  return okResponse(state.tasks.view(rec), { "x-ncp-clovastudio-request-id": ctx.requestId });
}

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

/** `DELETE …/tasks/{id}` → `{"status":{"code":"20000","message":"OK"}}`. */
export async function deleteTask(
  state: EmulatorState,
  ctx: RequestContext,
  id: string,
): Promise<Response> {
  if (!(await state.tasks.delete(id))) fail("40400");
  bump(state.stats, "tasksDeleted");
  return okResponse(undefined, { "x-ncp-clovastudio-request-id": ctx.requestId });
}
