/**
 * Request bodies read under a byte limit while they stream in (rule: limits.body,
 * limits.dataset): a declared `Content-Length` over the limit is refused before reading, and a
 * body that grows past it is cancelled at the first chunk that crosses it, so the emulator never
 * holds more than the limit of any one request.
 *
 * @module
 */

/** The body is larger than the route allows. */
export class BodyTooLargeError extends Error {
  /** The limit that was crossed (bytes). */
  readonly limit: number;
  constructor(limit: number) {
    super(`request body over ${limit} bytes`);
    this.name = "BodyTooLargeError";
    this.limit = limit;
  }
}

/**
 * The body ended before its declared length, or its connection failed while it came in
 * (rule: limits.body-complete): a client error, answered 400.
 */
export class BodyIncompleteError extends Error {
  constructor(detail: string) {
    super(`the request body was cut short (${detail})`);
    this.name = "BodyIncompleteError";
  }
}

/** The body did not come in within the time allowed (rule: limits.body-complete). */
export class BodyTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the request body did not arrive within ${timeoutMs / 1000} s`);
    this.name = "BodyTimeoutError";
  }
}

/** How long a request body may take to arrive, from the first read (ms). */
export const BODY_TIMEOUT_MS = 30_000;

/** A body error that is the client's doing: too large, cut short or too slow. */
export function isClientBodyError(e: unknown): boolean {
  return e instanceof BodyTooLargeError || e instanceof BodyIncompleteError ||
    e instanceof BodyTimeoutError;
}

/** Documented body limits per kind of route (bytes). */
export const BODY_LIMITS = {
  /** JSON routes (chat, tokenize, current tuning create): 50 MB (rule: limits.body). */
  json: 50 * 1024 * 1024,
} as const;

function declaredLength(req: Request): number | undefined {
  const v = req.headers.get("content-length");
  if (v === null || !/^\d+$/.test(v.trim())) return undefined;
  return Number(v);
}

/**
 * The request body as a stream that errors with {@link BodyTooLargeError} once more than
 * `limit` bytes have come in (the rest is never read).
 */
export function limitedBody(req: Request, limit: number): ReadableStream<Uint8Array> | null {
  const declared = declaredLength(req);
  if (declared !== undefined && declared > limit) {
    req.body?.cancel().catch(() => {});
    throw new BodyTooLargeError(limit);
  }
  if (!req.body) return null;
  const reader = req.body.getReader();
  let seen = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      seen += value.byteLength;
      if (seen > limit) {
        reader.cancel().catch(() => {});
        controller.error(new BodyTooLargeError(limit));
        return;
      }
      controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** Reads the whole body (at most `limit` bytes) or throws {@link BodyTooLargeError}. */
export async function readBodyBytes(req: Request, limit: number): Promise<Uint8Array> {
  const body = limitedBody(req, limit);
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.byteLength;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Reads the body as UTF-8 text under `limit`. */
export async function readBodyText(req: Request, limit: number): Promise<string> {
  return new TextDecoder().decode(await readBodyBytes(req, limit));
}

/** Parses a multipart body under `limit` (the parser only ever sees the limited stream). */
export async function readBodyForm(req: Request, limit: number): Promise<FormData> {
  const body = limitedBody(req, limit);
  const limited = new Request(req.url, {
    method: req.method,
    headers: req.headers,
    body,
    // @ts-ignore: `duplex` is required for a streamed request body.
    duplex: "half",
  });
  try {
    return await limited.formData();
  } catch (e) {
    if (isClientBodyError(e)) throw e;
    // formData() wraps stream errors; look through the cause chain.
    let c: unknown = (e as Error)?.cause;
    while (c) {
      if (isClientBodyError(c)) throw c;
      c = (c as Error).cause;
    }
    throw e;
  }
}

/**
 * Decodes a percent-encoded path segment; undefined when it is not valid percent-encoding
 * (rule: path.percent-encoding).
 */
export function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
