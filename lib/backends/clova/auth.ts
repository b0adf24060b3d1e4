/**
 * Credentials: the three CLOVA Studio auth schemes, kept private so they never show up in
 * `Deno.inspect`, `JSON.stringify`, `toString` or error messages.
 * @module
 */

/** How to authenticate. */
export type ClovaAuth =
  | { kind: "api-key"; apiKey: string } // Authorization: Bearer nv-…
  | { kind: "key-pair"; clovaStudioApiKey: string; apigwApiKey: string } // legacy headers
  | { kind: "client-credentials"; clientId: string; clientSecret: string }; // /v1/auth/token

/** Field names that hold secrets in any options object of this module. */
export const SECRET_FIELDS: ReadonlySet<string> = new Set([
  "apiKey",
  "clovaStudioApiKey",
  "apigwApiKey",
  "clientSecret",
  "clientId",
  "secretKey",
  "accessKey",
  "secretAccessKey",
  "accessKeyId",
  "trainingDatasetSecretKey",
  "trainingDatasetAccessKey",
  "accessToken",
]);

/** Text shown instead of a secret. */
export const REDACTED = "[redacted]";

/** Deep copy of `value` with every secret field replaced by {@link REDACTED}. */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v)) as T;
  if (value && typeof value === "object" && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_FIELDS.has(k) && v != null && v !== "" ? REDACTED : redactSecrets(v);
    }
    return out as T;
  }
  return value;
}

/**
 * Make `obj` print redacted: adds non-enumerable `Deno.customInspect`, Node's inspect hook,
 * `toJSON` and `toString` that show it with secret fields replaced. Returns the same object.
 */
export function makeRedacting<T extends object>(obj: T, label?: string): T {
  const show = () => redactSecrets({ ...obj });
  const define = (key: PropertyKey, value: unknown) =>
    Object.defineProperty(obj, key, { value, enumerable: false, configurable: true });
  const inspect = (inspectFn?: (v: unknown, o?: unknown) => string, opts?: unknown) => {
    const body = inspectFn ? inspectFn(show(), opts) : JSON.stringify(show());
    return label ? `${label} ${body}` : body;
  };
  define(Symbol.for("Deno.customInspect"), function (
    inspectFn: (v: unknown, o?: unknown) => string,
    opts: unknown,
  ) {
    return inspect(inspectFn, opts);
  });
  define(Symbol.for("nodejs.util.inspect.custom"), () => inspect());
  define("toJSON", show);
  define("toString", () => inspect());
  for (const v of Object.values(obj)) {
    if (v && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array)) {
      makeRedacting(v);
    }
  }
  return obj;
}

/** A one-line, secret-free description of an auth scheme. */
export function describeAuth(kind: ClovaAuth["kind"]): string {
  switch (kind) {
    case "api-key":
      return "api-key (Authorization: Bearer)";
    case "key-pair":
      return "key-pair (X-NCP-CLOVASTUDIO-API-KEY + X-NCP-APIGW-API-KEY)";
    case "client-credentials":
      return "client-credentials (/v1/auth/token)";
  }
}

/**
 * Interpret `expiresIn` of `/v1/auth/token`. The cookbook compares it with `time.time()*1000`,
 * i.e. an absolute epoch-ms expiry; values that look like epoch seconds or a duration in seconds
 * (the open question in the reference) are converted too.
 */
export function tokenExpiryMs(expiresIn: number | null | undefined, now = Date.now()): number {
  if (expiresIn == null || !Number.isFinite(expiresIn) || expiresIn <= 0) return now + 60 * 60_000;
  if (expiresIn > 1e12) return expiresIn; // epoch ms
  if (expiresIn > 1e9) return expiresIn * 1000; // epoch seconds
  return now + expiresIn * 1000; // a duration in seconds
}

/** A fetched access token. */
export interface AccessToken {
  accessToken: string;
  expiresAtMs: number;
}

/**
 * Caches the client-credentials token: reused until `marginMs` before expiry, fetched once for
 * concurrent callers, dropped on `40103`.
 */
export class TokenCache {
  #fetch: (signal?: AbortSignal) => Promise<AccessToken>;
  #marginMs: number;
  #token: AccessToken | undefined;
  #inflight: Promise<AccessToken> | undefined;
  /** How many tokens were fetched (for tests and progress displays). */
  fetches = 0;

  constructor(fetcher: (signal?: AbortSignal) => Promise<AccessToken>, marginMs = 60_000) {
    this.#fetch = fetcher;
    this.#marginMs = marginMs;
  }

  /** A valid token, fetching one if none is cached or it is about to expire. */
  async get(signal?: AbortSignal): Promise<string> {
    const t = this.#token;
    if (t && t.expiresAtMs - this.#marginMs > Date.now()) return t.accessToken;
    if (!this.#inflight) {
      this.fetches++;
      this.#inflight = this.#fetch(signal).then((tok) => {
        this.#token = tok;
        return tok;
      }).finally(() => {
        this.#inflight = undefined;
      });
    }
    return (await this.#inflight).accessToken;
  }

  /** Forget `token` (if it is still the cached one) so the next `get` fetches a new one. */
  invalidate(token?: string): void {
    if (!token || this.#token?.accessToken === token) this.#token = undefined;
  }

  [Symbol.for("Deno.customInspect")](): string {
    return `TokenCache { cached: ${this.#token ? "yes" : "no"}, fetches: ${this.fetches} }`;
  }
}

/** Basic credentials header value for the token endpoint. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const bytes = new TextEncoder().encode(`${clientId}:${clientSecret}`);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return `Basic ${btoa(bin)}`;
}
