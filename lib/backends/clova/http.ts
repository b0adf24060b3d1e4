/**
 * The HTTP core of the client: URL building, auth headers, request ids, per-attempt timeouts,
 * envelope/error mapping and the retry loop (jittered backoff honouring `Retry-After`, one
 * re-authentication on `40103`).
 * @module
 */
import { describeFetchFailure } from "../../io/fetchFailure.ts";
import {
  type AccessToken,
  basicAuthorization,
  type ClovaAuth,
  TokenCache,
  tokenExpiryMs,
} from "./auth.ts";
import { backoffDelayMs, parseRetryAfter, type RetryPolicy, sleep } from "./backoff.ts";
import { CLIENT_CODES, ClovaStudioError } from "./errors.ts";
import { envelopeSchema, openAiErrorSchema, tokenResultSchema } from "./params.ts";

/** Callback told about each retry (for progress displays). */
export type OnRetry = (info: { attempt: number; delayMs: number; error: ClovaStudioError }) => void;

/**
 * Which failures a request may be retried on:
 * - "all": every retryable code and network failure (reads, chat, tokenize, delete);
 * - "unsent": only failures where the service certainly did not act on the request — 429
 *   rejections and connections refused before the body left (used for non-idempotent create,
 *   so a dropped connection after upload never creates a second, billed task).
 */
export type RetryMode = "all" | "unsent";

/** One logical request. */
export interface RequestSpec {
  method: "GET" | "POST" | "DELETE" | "PUT";
  /** Path below the base URL, e.g. "/tuning/v2/tasks". */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  form?: FormData;
  /** Expect an SSE stream (`Accept: text/event-stream`). */
  stream?: boolean;
  /** Apply the key-pair path prefix (`/testapp`) — inference and api-tools paths only. */
  prefixed?: boolean;
  retryMode?: RetryMode;
  signal?: AbortSignal;
  /** Caller-chosen `X-NCP-CLOVASTUDIO-REQUEST-ID`; default a random UUID. */
  requestId?: string;
  /** Fixed Authorization header instead of the configured scheme (token endpoint). */
  authorization?: string;
  /** Per-attempt timeout; for streams an idle timeout between chunks. */
  timeoutMs?: number;
}

/** A successful JSON call. */
export interface JsonResponse {
  result: unknown;
  requestId: string;
  attempts: number;
  httpStatus: number;
}

/** A successful stream call; `body` is the open SSE byte stream. */
export interface StreamResponse {
  body: ReadableStream<Uint8Array>;
  requestId: string;
  attempts: number;
}

/** Settings of {@link HttpCore}. */
export interface HttpCoreOptions {
  baseUrl: string;
  auth: ClovaAuth;
  pathPrefix: string;
  retry: RetryPolicy;
  onRetry?: OnRetry;
  requestTimeoutMs: number;
  tokenRefreshMarginMs: number;
  fetch?: typeof fetch;
}

const REQUEST_ID_HEADER = "X-NCP-CLOVASTUDIO-REQUEST-ID";

function isConnectFailure(e: unknown): boolean {
  const m = e instanceof Error ? `${e.message} ${String(e.cause ?? "")}` : String(e);
  return /\(Connect\)|connection refused|ECONNREFUSED|os error 111/i.test(m);
}

/** Whether a failed request certainly never reached the service (its connection was refused). */
export function neverSent(e: ClovaStudioError): boolean {
  return e.httpStatus === 0 && e.code === CLIENT_CODES.network && isConnectFailure(e.cause);
}

class AttemptTimeout extends Error {}

/** Sends requests; owns the credentials (in private fields) and the token cache. */
export class HttpCore {
  readonly baseUrl: string;
  readonly pathPrefix: string;
  readonly authKind: ClovaAuth["kind"];
  #auth: ClovaAuth;
  #retry: RetryPolicy;
  #onRetry?: OnRetry;
  #timeoutMs: number;
  #fetch: typeof fetch;
  #tokens?: TokenCache;
  /** Errors that already went through a retry loop (token fetch inside a request). */
  #exhausted = new WeakSet<object>();

  constructor(o: HttpCoreOptions) {
    this.baseUrl = o.baseUrl.replace(/\/+$/, "");
    this.pathPrefix = o.pathPrefix;
    this.authKind = o.auth.kind;
    this.#auth = { ...o.auth } as ClovaAuth;
    this.#retry = o.retry;
    this.#onRetry = o.onRetry;
    this.#timeoutMs = o.requestTimeoutMs;
    this.#fetch = o.fetch ?? fetch;
    if (this.#auth.kind === "client-credentials") {
      this.#tokens = new TokenCache((signal) => this.#fetchToken(signal), o.tokenRefreshMarginMs);
    }
  }

  /** The per-attempt timeout in force (ms). */
  get requestTimeoutMs(): number {
    return this.#timeoutMs;
  }

  /** The retry policy in force. */
  get retryPolicy(): RetryPolicy {
    return this.#retry;
  }

  /** Tell the `onRetry` callback about a retry decided outside the core (stream restarts). */
  notifyRetry(info: { attempt: number; delayMs: number; error: ClovaStudioError }): void {
    this.#onRetry?.(info);
  }

  /** Number of access tokens fetched so far (client-credentials only). */
  get tokenFetches(): number {
    return this.#tokens?.fetches ?? 0;
  }

  /** Call a JSON endpoint; resolves with the envelope's `result`. */
  async json(spec: RequestSpec): Promise<JsonResponse> {
    const r = await this.#run(
      spec,
      async (res, requestId) => this.#parseEnvelope(res, await res.text(), requestId),
    );
    return {
      result: r.value.result,
      httpStatus: r.value.httpStatus,
      requestId: r.requestId,
      attempts: r.attempts,
    };
  }

  /** Call an SSE endpoint; resolves once a 2xx `text/event-stream` response has started. */
  async stream(spec: RequestSpec): Promise<StreamResponse> {
    const r = await this.#run({ ...spec, stream: true }, async (res, requestId, keepAlive) => {
      const type = res.headers.get("content-type") ?? "";
      if (!res.ok || !type.includes("text/event-stream") || !res.body) {
        // A body that breaks off while being read surfaces as a network error (retried).
        const env = this.#parseEnvelope(res, await res.text(), requestId);
        // A 2xx JSON answer to a stream request: not what the API documents.
        throw new ClovaStudioError({
          httpStatus: res.status,
          code: CLIENT_CODES.badResponse,
          message: `expected text/event-stream, got ${type || "no content type"} (${
            JSON.stringify(env.result).slice(0, 80)
          })`,
          requestId,
          retryable: false,
        });
      }
      return keepAlive(res.body);
    });
    return { body: r.value, requestId: r.requestId, attempts: r.attempts };
  }

  #url(spec: RequestSpec): string {
    const prefix = spec.prefixed ? this.pathPrefix : "";
    const u = new URL(this.baseUrl + prefix + spec.path);
    for (const [k, v] of Object.entries(spec.query ?? {})) {
      if (v !== undefined) u.searchParams.set(k, String(v));
    }
    return u.toString();
  }

  async #headers(spec: RequestSpec, requestId: string): Promise<Headers> {
    const h = new Headers();
    h.set(REQUEST_ID_HEADER, requestId);
    h.set("Accept", spec.stream ? "text/event-stream" : "application/json");
    if (spec.json !== undefined) h.set("Content-Type", "application/json");
    if (spec.authorization) {
      h.set("Authorization", spec.authorization);
      return h;
    }
    const a = this.#auth;
    switch (a.kind) {
      case "api-key":
        h.set("Authorization", `Bearer ${a.apiKey}`);
        break;
      case "key-pair":
        h.set("X-NCP-CLOVASTUDIO-API-KEY", a.clovaStudioApiKey);
        h.set("X-NCP-APIGW-API-KEY", a.apigwApiKey);
        break;
      case "client-credentials":
        h.set("Authorization", `Bearer ${await this.#tokens!.get(spec.signal)}`);
        break;
    }
    return h;
  }

  async #fetchToken(signal?: AbortSignal): Promise<AccessToken> {
    const a = this.#auth;
    if (a.kind !== "client-credentials") throw new Error("no client credentials");
    const r = await this.json({
      method: "GET",
      path: "/v1/auth/token",
      query: { existingToken: true },
      authorization: basicAuthorization(a.clientId, a.clientSecret),
      signal,
    });
    const parsed = tokenResultSchema.safeParse(r.result);
    if (!parsed.success) {
      throw new ClovaStudioError({
        httpStatus: r.httpStatus,
        code: CLIENT_CODES.badResponse,
        message: "token response without result.accessToken",
        requestId: r.requestId,
        retryable: false,
      });
    }
    return {
      accessToken: parsed.data.accessToken,
      expiresAtMs: tokenExpiryMs(parsed.data.expiresIn ?? undefined),
    };
  }

  #parseEnvelope(
    res: Response,
    text: string,
    requestId: string,
  ): { result: unknown; httpStatus: number } {
    let body: unknown = undefined;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"));
    const env = envelopeSchema.safeParse(body);
    if (env.success) {
      const { code, message } = env.data.status;
      if (code === "20000" && res.ok) return { result: env.data.result, httpStatus: res.status };
      if (res.ok && code.startsWith("2")) {
        return { result: env.data.result, httpStatus: res.status };
      }
      throw new ClovaStudioError({
        httpStatus: res.status,
        code,
        message: message ?? "",
        requestId,
        retryAfterMs,
      });
    }
    const oai = openAiErrorSchema.safeParse(body);
    if (oai.success && !res.ok) {
      throw new ClovaStudioError({
        httpStatus: res.status,
        code: String(oai.data.error.code ?? res.status * 100),
        message: oai.data.error.message ?? "",
        requestId,
        retryAfterMs,
      });
    }
    if (res.ok && res.status === 204) return { result: undefined, httpStatus: res.status };
    // No envelope: derive the code from the HTTP status (429 → 42900, 504 → 50400 …).
    throw new ClovaStudioError({
      httpStatus: res.status,
      code: res.ok ? CLIENT_CODES.badResponse : String(res.status * 100),
      message: res.ok
        ? "response is not a CLOVA Studio envelope"
        : (res.statusText || "no CLOVA Studio envelope in the error response"),
      requestId,
      retryAfterMs,
      retryable: res.ok ? false : undefined,
    });
  }

  async #run<T>(
    spec: RequestSpec,
    handle: (
      res: Response,
      requestId: string,
      keepAlive: (body: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>,
    ) => Promise<T>,
  ): Promise<{ value: T; requestId: string; attempts: number }> {
    const requestId = spec.requestId ?? crypto.randomUUID();
    const url = this.#url(spec);
    const mode = spec.retryMode ?? "all";
    let reauthed = false;
    let attempts = 0;
    let retries = 0;
    while (true) {
      attempts++;
      try {
        const value = await this.#attempt(spec, url, requestId, handle);
        return { value, requestId, attempts };
      } catch (e) {
        if (spec.signal?.aborted) throw spec.signal.reason;
        if (!(e instanceof ClovaStudioError) || this.#exhausted.has(e)) throw e;
        e.attempts = attempts;
        if (
          e.code === "40103" && this.#tokens && !reauthed && !spec.authorization
        ) {
          // Legacy token expired: drop it, fetch a new one and retry once.
          reauthed = true;
          this.#tokens.invalidate();
          continue;
        }
        const sendable = mode === "all" ||
          e.code.startsWith("429") ||
          (e.code === CLIENT_CODES.network && isConnectFailure(e.cause));
        if (!e.retryable || !sendable || retries + 1 >= this.#retry.maxAttempts) {
          this.#exhausted.add(e);
          throw e;
        }
        retries++;
        const delayMs = backoffDelayMs(retries, this.#retry, e.retryAfterMs);
        this.#onRetry?.({ attempt: attempts, delayMs, error: e });
        await sleep(delayMs, spec.signal);
      }
    }
  }

  async #attempt<T>(
    spec: RequestSpec,
    url: string,
    requestId: string,
    handle: (
      res: Response,
      requestId: string,
      keepAlive: (body: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>,
    ) => Promise<T>,
  ): Promise<T> {
    const timeoutMs = spec.timeoutMs ?? this.#timeoutMs;
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(spec.signal!.reason);
    spec.signal?.addEventListener("abort", onAbort, { once: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => ctl.abort(new AttemptTimeout()), timeoutMs);
    };
    const disarm = () => {
      clearTimeout(timer);
      spec.signal?.removeEventListener("abort", onAbort);
    };
    let streaming = false;
    const keepAlive = (body: ReadableStream<Uint8Array>) => {
      streaming = true;
      const reader = body.getReader();
      return new ReadableStream<Uint8Array>({
        pull: async (c) => {
          arm();
          try {
            const { value, done } = await reader.read();
            clearTimeout(timer);
            if (done) {
              disarm();
              c.close();
            } else c.enqueue(value);
          } catch (e) {
            disarm();
            c.error(
              e instanceof ClovaStudioError ? e : this.#transportError(e, ctl, requestId, url),
            );
          }
        },
        cancel: (reason) => {
          disarm();
          return reader.cancel(reason);
        },
      });
    };
    arm();
    try {
      const headers = await this.#headers(spec, requestId);
      let res: Response;
      try {
        res = await this.#fetch(url, {
          method: spec.method,
          headers,
          body: spec.form ?? (spec.json === undefined ? undefined : JSON.stringify(spec.json)),
          signal: ctl.signal,
        });
      } catch (e) {
        throw this.#transportError(e, ctl, requestId, url);
      }
      try {
        return await handle(res, requestId, keepAlive);
      } catch (e) {
        if (e instanceof ClovaStudioError) throw e;
        throw this.#transportError(e, ctl, requestId, url);
      }
    } finally {
      if (!streaming) disarm();
    }
  }

  #transportError(e: unknown, ctl: AbortController, requestId: string, url: string): unknown {
    if (ctl.signal.aborted && ctl.signal.reason instanceof AttemptTimeout) {
      return new ClovaStudioError({
        httpStatus: 0,
        code: CLIENT_CODES.timeout,
        message: "no response within the request timeout",
        requestId,
      });
    }
    if (ctl.signal.aborted) return ctl.signal.reason;
    // fetch only fails with TypeError-like errors: refused, reset, dropped mid-body, DNS…
    return new ClovaStudioError({
      httpStatus: 0,
      code: CLIENT_CODES.network,
      // The reason (DNS, TLS, connection) and the host, from the error's cause; no query string.
      message: describeFetchFailure(e, url),
      requestId,
      cause: e,
    });
  }
}
