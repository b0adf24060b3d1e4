/**
 * The emulator's request router: object store, OpenAI-compatible routes, the legacy token
 * endpoint and the native CLOVA Studio routes (with optional `/testapp` / `/serviceapp`
 * prefixes), with authentication, seeded faults, latency and the documented error envelopes.
 *
 * @module
 */
import {
  type ApiError,
  apiError,
  ApiErrorException,
  errorResponse,
  okResponse,
  openAiErrorResponse,
} from "./envelope.ts";
import { bump, type EmulatorState, type RequestContext } from "./context.ts";
import type { FaultDecision, FaultInjector } from "./faults.ts";
import { isSigV4 } from "./objectStore.ts";
import { chatV1, chatV3, openAiChat, openAiModels, tokenizeV1, tokenizeV3 } from "./chat.ts";
import { createTask, deleteTask, getTask, listTasks } from "./tuning.ts";
import { LEARNER_NAME } from "./learner.ts";
import { BodyIncompleteError, BodyTimeoutError, BodyTooLargeError, decodeSegment } from "./body.ts";
import { TOKENIZER_NAME } from "../mod.ts";

type Handler = (
  state: EmulatorState,
  ctx: RequestContext,
  params: string[],
) => Response | Promise<Response>;

interface Route {
  method: string;
  re: RegExp;
  handler: Handler;
  /** Chat routes that may stream (500/504 faults become SSE error events). */
  streams?: boolean;
}

const SEG = "([^/]+)";

const ROUTES: Route[] = [
  { method: "POST", re: /^\/v2\/tasks\/?$/, handler: (s, c) => createTask(s, c, "legacy") },
  { method: "GET", re: /^\/v2\/tasks\/?$/, handler: (s, c) => listTasks(s, c) },
  {
    method: "GET",
    re: new RegExp(`^/v2/tasks/${SEG}$`),
    handler: (s, c, p) => getTask(s, c, p[0]),
  },
  {
    method: "DELETE",
    re: new RegExp(`^/v2/tasks/${SEG}$`),
    handler: (s, c, p) => deleteTask(s, c, p[0]),
  },
  {
    method: "POST",
    re: /^\/tuning\/v2\/tasks\/?$/,
    handler: (s, c) => createTask(s, c, "current"),
  },
  { method: "GET", re: /^\/tuning\/v2\/tasks\/?$/, handler: (s, c) => listTasks(s, c) },
  {
    method: "GET",
    re: new RegExp(`^/tuning/v2/tasks/${SEG}$`),
    handler: (s, c, p) => getTask(s, c, p[0]),
  },
  {
    method: "DELETE",
    re: new RegExp(`^/tuning/v2/tasks/${SEG}$`),
    handler: (s, c, p) => deleteTask(s, c, p[0]),
  },
  {
    method: "POST",
    re: new RegExp(`^/v1/chat-completions/${SEG}$`),
    handler: (s, c, p) => chatV1(s, c, { model: p[0] }),
    streams: true,
  },
  {
    method: "POST",
    re: new RegExp(`^/v[12]/tasks/${SEG}/chat-completions$`),
    handler: (s, c, p) => chatV1(s, c, { taskId: p[0] }),
    streams: true,
  },
  {
    method: "POST",
    re: new RegExp(`^/v3/chat-completions/${SEG}$`),
    handler: (s, c, p) => chatV3(s, c, { model: p[0] }),
    streams: true,
  },
  {
    method: "POST",
    re: new RegExp(`^/v3/tasks/${SEG}/chat-completions$`),
    handler: (s, c, p) => chatV3(s, c, { taskId: p[0] }),
    streams: true,
  },
  {
    method: "POST",
    re: new RegExp(`^/v1/api-tools/chat-tokenize/${SEG}$`),
    handler: (s, c, p) => tokenizeV1(s, c, p[0]),
  },
  {
    method: "POST",
    re: new RegExp(`^/v3/api-tools/chat-tokenize/${SEG}$`),
    handler: (s, c, p) => tokenizeV3(s, c, p[0]),
  },
];

const OPENAI_ROUTES: Route[] = [
  {
    method: "POST",
    re: /^\/v1\/openai\/chat\/completions\/?$/,
    handler: (s, c) => openAiChat(s, c),
  },
  { method: "GET", re: /^\/v1\/openai\/models\/?$/, handler: (s) => openAiModels(s) },
];

/** Options the router needs beyond the shared state. */
export interface RouterOptions {
  faults: FaultInjector;
  quiet: boolean;
  /** Aborted when the emulator closes (ends stalls and latency waits). */
  closing: AbortSignal;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * A response whose promised body never comes: headers announce 64 bytes and the body fails
 * before any of them, so the server tears the connection down — the client's read fails with a
 * network `TypeError`.
 */
function dropResponse(): Response {
  const body = new ReadableStream({
    start(controller) {
      controller.error(new Error("connection dropped (fault)"));
    },
  });
  return new Response(body, {
    status: 200,
    headers: { "content-type": "application/json", "content-length": "64" },
  });
}

/** Thrown for a path segment that is not valid percent-encoding (rule: path.percent-encoding). */
class BadEncodingError extends Error {}

function match(routes: Route[], method: string, path: string) {
  let pathMatched = false;
  for (const r of routes) {
    const m = r.re.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (r.method === method) {
      const params = m.slice(1).map(decodeSegment);
      if (params.some((p) => p === undefined)) throw new BadEncodingError();
      return { route: r, params: params as string[] };
    }
  }
  return { route: undefined, pathMatched };
}

/** Builds the fetch-style handler that `http.ts` serves. */
export function createHandler(
  state: EmulatorState,
  opts: RouterOptions,
): (req: Request) => Promise<Response> {
  const respond = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const path = url.pathname;
    bump(state.stats, "requests");

    if (path === "/objectstorage" || path.startsWith("/objectstorage/")) {
      bump(state.stats, "objectStorageRequests");
      return await state.objects.handle(req, url, path.slice("/objectstorage".length));
    }
    if (isSigV4(req, url)) {
      bump(state.stats, "objectStorageRequests");
      return await state.objects.handle(req, url, path);
    }
    if (req.method === "GET" && (path === "/" || path === "/health")) {
      return Response.json({
        service: "CLOVA Studio emulator",
        model: LEARNER_NAME,
        tokenizer: TOKENIZER_NAME,
        tasks: state.tasks.list().length,
      });
    }

    const requestId = req.headers.get("x-ncp-clovastudio-request-id") ?? crypto.randomUUID();
    const idHeader = { "x-ncp-clovastudio-request-id": requestId };
    const openAi = path.startsWith("/v1/openai/");
    const toError = (e: ApiError) =>
      openAi ? openAiErrorResponse(e, idHeader) : errorResponse(e, idHeader);

    try {
      let route: Route | undefined;
      let params: string[] = [];
      const stripped = openAi ? path : path.replace(/^\/(testapp|serviceapp)(?=\/)/, "");
      if (openAi) {
        const m = match(OPENAI_ROUTES, req.method, path);
        if (!m.route) return toError(apiError("40400"));
        const auth = state.auth.checkApiKey(req.headers);
        if (auth !== "api-key") return toError(auth);
        [route, params] = [m.route, m.params];
      } else {
        if (stripped === "/v1/auth/token") {
          if (req.method !== "GET" && req.method !== "POST") return toError(apiError("40400"));
          const existing = url.searchParams.get("existingToken") === "true";
          const r = state.auth.issueToken(req.headers, existing);
          if ("code" in r) return toError(r);
          bump(state.stats, "tokensIssued");
          return okResponse(r, idHeader);
        }
        const m = match(ROUTES, req.method, stripped);
        if (!m.route) return toError(apiError("40400"));
        const auth = state.auth.check(req.headers);
        if (typeof auth !== "string") {
          bump(state.stats, "authFailures");
          return toError(auth);
        }
        [route, params] = [m.route, m.params];
      }

      const fault: FaultDecision = opts.faults.decide();
      const delay = opts.faults.latencyMs();
      if (delay > 0) await sleep(delay, opts.closing);
      const streaming = route.streams === true &&
        (req.headers.get("accept") ?? "").includes("text/event-stream");
      switch (fault.kind) {
        case "429":
          bump(state.stats, "fault429");
          return toError(apiError(fault.code, undefined, 1));
        case "500":
        case "504":
          bump(state.stats, `fault${fault.kind}`);
          if (!streaming) return toError(apiError(fault.kind === "500" ? "50000" : "50400"));
          break;
        case "drop":
          bump(state.stats, "faultDrop");
          return dropResponse();
        case "stall":
          bump(state.stats, "faultStall");
          await sleep(fault.ms, opts.closing);
          break;
      }
      const ctx: RequestContext = { req, url, path: stripped, requestId, fault };
      return await route.handler(state, ctx, params);
    } catch (e) {
      if (e instanceof ApiErrorException) return toError(e.error);
      // rule: path.percent-encoding
      if (e instanceof BadEncodingError) return toError(apiError("40000"));
      // rule: limits.body
      if (e instanceof BodyTooLargeError) {
        bump(state.stats, "bodyTooLarge");
        return toError(apiError("41300"));
      }
      // rule: limits.body-complete
      if (e instanceof BodyIncompleteError || e instanceof BodyTimeoutError) {
        bump(state.stats, "bodyIncomplete");
        return toError(apiError("40000", `Bad request: ${e.message}`));
      }
      bump(state.stats, "internalErrors");
      if (!opts.quiet) {
        console.error(`emulator: internal error on ${req.method} ${path}: ${(e as Error).name}`);
      }
      return toError(apiError("50000"));
    }
  };

  return async (req: Request) => {
    const started = performance.now();
    const res = await respond(req);
    bump(state.stats, `http${res.status}`);
    if (!opts.quiet) {
      const ms = (performance.now() - started).toFixed(1);
      console.error(`emulator: ${req.method} ${new URL(req.url).pathname} → ${res.status} ${ms}ms`);
    }
    return res;
  };
}
