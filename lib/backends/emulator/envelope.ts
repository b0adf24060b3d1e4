/**
 * CLOVA Studio response envelopes and error codes as the emulator sends them
 * (`../shared/reference/clova-studio-api.md` §5): native `{"status":{"code":"20000",…},"result"}`
 * with the code as a **string**, and the OpenAI-compatible `{"error":{message,type,param,code}}`.
 *
 * @module
 */

/** One documented error: HTTP status, `status.code` string and literal message. */
export interface ApiError {
  http: number;
  code: string;
  message: string;
  /** Seconds for a `Retry-After` header (429s). */
  retryAfterSeconds?: number;
}

/** The documented errors the emulator uses, keyed by code (rules: envelope, errors.http). */
export const ERRORS = {
  "40000": { http: 400, code: "40000", message: "Bad request" },
  "40001": { http: 400, code: "40001", message: "Invalid parameter" },
  "40002": { http: 400, code: "40002", message: "Unsupported parameter" },
  "40003": { http: 400, code: "40003", message: "Context length exceeded" },
  "40004": { http: 400, code: "40004", message: "Text empty" },
  "40009": { http: 400, code: "40009", message: "Unsupported function" },
  "40080": { http: 400, code: "40080", message: "Model not found" },
  "40083": { http: 400, code: "40083", message: "Model no resource" },
  "40084": { http: 400, code: "40084", message: "Unsupported API for model" },
  "40100": { http: 401, code: "40100", message: "Unauthorized" },
  "40101": { http: 401, code: "40101", message: "Invalid signature" },
  "40102": { http: 401, code: "40102", message: "Invalid access token" },
  "40103": { http: 401, code: "40103", message: "Access token expired" },
  "40104": { http: 401, code: "40104", message: "Invalid key" },
  "40400": { http: 404, code: "40400", message: "Not found" },
  "41300": { http: 413, code: "41300", message: "Request body size exceeded" },
  "41500": { http: 415, code: "41500", message: "MediaType error" },
  "41501": { http: 415, code: "41501", message: "No multipart boundary Content-Type" },
  "42900": { http: 429, code: "42900", message: "Too many requests" },
  "42901": { http: 429, code: "42901", message: "Too many requests - rate exceeded" },
  "42902": { http: 429, code: "42902", message: "Too many requests - overloaded" },
  "50000": { http: 500, code: "50000", message: "Internal Server Error" },
  "50400": { http: 504, code: "50400", message: "Gateway timeout" },
} as const satisfies Record<string, ApiError>;

/** A documented error code known to the emulator. */
export type ErrorCode = keyof typeof ERRORS;

/** Builds an {@link ApiError}, optionally with a more specific message. */
export function apiError(code: ErrorCode, message?: string, retryAfterSeconds?: number): ApiError {
  const e = ERRORS[code];
  return { http: e.http, code: e.code, message: message ?? e.message, retryAfterSeconds };
}

/** Thrown inside handlers; the router turns it into the right envelope. */
export class ApiErrorException extends Error {
  /** The error to send. */
  readonly error: ApiError;
  constructor(error: ApiError) {
    super(`${error.code} ${error.message}`);
    this.error = error;
  }
}

/** Throws {@link ApiErrorException} for `code`. */
export function fail(code: ErrorCode, message?: string): never {
  throw new ApiErrorException(apiError(code, message));
}

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };

/** `{"status":{"code":"20000","message":"OK"},"result":…}` (result omitted when undefined). */
export function okResponse(result: unknown, headers: HeadersInit = {}): Response {
  const body = result === undefined
    ? { status: { code: "20000", message: "OK" } }
    : { status: { code: "20000", message: "OK" }, result };
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: { ...JSON_HEADERS, ...Object.fromEntries(new Headers(headers)) },
  });
}

function errorHeaders(e: ApiError, headers: HeadersInit): Record<string, string> {
  const h: Record<string, string> = {
    ...JSON_HEADERS,
    ...Object.fromEntries(new Headers(headers)),
  };
  if (e.retryAfterSeconds !== undefined) h["retry-after"] = String(e.retryAfterSeconds);
  return h;
}

/** Native error envelope `{"status":{"code","message"}}` with the documented HTTP status. */
export function errorResponse(e: ApiError, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify({ status: { code: e.code, message: e.message } }), {
    status: e.http,
    headers: errorHeaders(e, headers),
  });
}

/** OpenAI-compatible error `{"error":{"message","type":null,"param":null,"code"}}`. */
export function openAiErrorResponse(e: ApiError, headers: HeadersInit = {}): Response {
  const body = { error: { message: e.message, type: null, param: null, code: e.code } };
  return new Response(JSON.stringify(body), { status: e.http, headers: errorHeaders(e, headers) });
}

/** Formats a time the way the service does: `2024-05-13T15:42:50+0900` (KST). */
export function kstDate(ms: number): string {
  const d = new Date(ms + 9 * 3600_000);
  return d.toISOString().slice(0, 19) + "+0900";
}
