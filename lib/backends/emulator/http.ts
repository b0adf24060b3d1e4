/**
 * The emulator's HTTP/1.1 server: `node:http`, whose server enforces a deadline on a request's
 * head (`headersTimeout`), with the router's fetch-style handler (`Request` → `Response`) on top.
 *
 * `Deno.serve` calls its handler only once a request's head is complete and has no deadline for
 * it, so a client that sends its head a byte at a time holds a connection for as long as it likes;
 * here such a connection is answered 408 and closed once `headersTimeoutMs` has passed since its
 * first byte, and a connection that sends nothing at all is closed the same way (rule:
 * limits.head-complete).
 *
 * Responses other than event streams are sent whole with a `Content-Length`; an event stream is
 * sent as it is produced. A response body that fails (the emulator's dropped-connection fault)
 * tears the connection down, so the client sees a network error.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BODY_TIMEOUT_MS, BodyIncompleteError, BodyTimeoutError } from "./body.ts";

/** How long a request's head may take to arrive, from its first byte (ms). */
export const HEADERS_TIMEOUT_MS = 10_000;

/** Options for {@link serveHttp}. */
export interface ServeHttpOptions {
  hostname: string;
  /** 0 = a free port. */
  port: number;
  /** How long a request's head may take (ms; default {@link HEADERS_TIMEOUT_MS}). */
  headersTimeoutMs?: number;
  /** How long a request's body may take, from its first read (ms; default {@link BODY_TIMEOUT_MS}). */
  bodyTimeoutMs?: number;
}

/** A listening server. */
export interface HttpServer {
  /** The address it listens on. */
  addr: { hostname: string; port: number };
  /** Stops listening, closes idle connections and the rest once their requests are answered. */
  close(): Promise<void>;
}

/**
 * The request's body as a web stream that pauses the connection while it is not read, guarded
 * (rule: limits.body-complete): it errors with {@link BodyTimeoutError} when it has not all come
 * in `timeoutMs` after its first read, and with {@link BodyIncompleteError} when its connection
 * fails or it ends short of its declared `Content-Length`. `onBroken` is called then (the
 * connection is closed once the request is answered).
 */
function bodyOf(
  req: IncomingMessage,
  timeoutMs: number,
  onBroken: () => void,
): ReadableStream<Uint8Array> {
  const length = req.headers["content-length"];
  const declared = length !== undefined && /^\d+$/.test(length.trim()) ? Number(length) : undefined;
  let seen = 0;
  let settled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let fail = (_: Error) => {};
  return new ReadableStream<Uint8Array>({
    start(controller) {
      fail = (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        onBroken();
        controller.error(error);
      };
      req.on("data", (chunk: Uint8Array) => {
        if (settled) return;
        seen += chunk.byteLength;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) req.pause();
      });
      req.once("end", () => {
        if (declared !== undefined && seen < declared) {
          return fail(new BodyIncompleteError(`${seen} of ${declared} bytes`));
        }
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        controller.close();
      });
      // "close" follows every request, read whole or not: an error is made only for a body cut off.
      const broken = () => {
        if (!settled) fail(new BodyIncompleteError(`${seen} bytes came: the connection closed`));
      };
      req.once("error", broken);
      req.once("close", broken);
    },
    pull() {
      timer ??= setTimeout(() => fail(new BodyTimeoutError(timeoutMs)), timeoutMs);
      req.resume();
    },
    cancel() {
      // The rest is read and dropped, so the connection can carry the next request.
      settled = true;
      clearTimeout(timer);
      req.resume();
    },
  });
}

function toRequest(
  req: IncomingMessage,
  origin: string,
  bodyTimeoutMs: number,
  onBroken: () => void,
): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const target = req.url ?? "/";
  const url = target.startsWith("/") ? origin + target : new URL(target).href;
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(url, {
    method,
    headers,
    body: hasBody ? bodyOf(req, bodyTimeoutMs, onBroken) : null,
    // @ts-ignore: `duplex` is required for a streamed request body.
    duplex: "half",
  });
}

/**
 * Ends the connection under a response whose body failed: what was written (at least the head)
 * goes out, then the connection closes short of the body it announced.
 */
function cutShort(res: ServerResponse, status: number, head: string[]): void {
  if (!res.headersSent) {
    res.writeHead(status, head);
    res.flushHeaders();
  }
  const socket = res.socket;
  if (socket) socket.end(() => socket.destroy());
  else res.destroy();
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  const head: string[] = [];
  response.headers.forEach((value, name) => void head.push(name, value));
  const streams = (response.headers.get("content-type") ?? "").startsWith("text/event-stream");
  if (!streams || !response.body) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch {
      return cutShort(res, response.status, head);
    }
    if (!response.headers.has("content-length")) head.push("content-length", `${bytes.length}`);
    res.writeHead(response.status, head);
    res.end(bytes);
    return;
  }
  res.writeHead(response.status, head);
  res.flushHeaders();
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          res.once("drain", resolve);
          res.once("close", resolve);
        });
      }
      if (res.destroyed) {
        await reader.cancel().catch(() => {});
        return;
      }
    }
  } catch {
    return cutShort(res, response.status, head);
  }
  res.end();
}

/** Serves `handler` over HTTP/1.1 on `hostname:port`; resolves once it listens. */
export async function serveHttp(
  opts: ServeHttpOptions,
  handler: (req: Request) => Promise<Response>,
): Promise<HttpServer> {
  const headersTimeout = opts.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  const bodyTimeoutMs = opts.bodyTimeoutMs ?? BODY_TIMEOUT_MS;
  let origin = "";
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const server = createServer({
    // rule: limits.head-complete
    headersTimeout,
    // The body has its own deadline (`bodyOf`), answered with the service's envelope.
    requestTimeout: 0,
    // How often heads past their deadline are looked for.
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, headersTimeout / 4)),
    keepAliveTimeout: 60_000,
  }, (req, res) => {
    inFlight++;
    res.once("close", () => {
      if (--inFlight === 0) drained?.();
    });
    let request: Request;
    // A body that broke leaves the connection in no state to carry another request.
    const onBroken = () => {
      if (!res.headersSent) res.setHeader("connection", "close");
      else res.shouldKeepAlive = false;
    };
    try {
      request = toRequest(req, origin, bodyTimeoutMs, onBroken);
    } catch {
      res.writeHead(400, { "content-type": "text/plain", connection: "close" });
      res.end("Bad Request");
      return;
    }
    handler(request).then((response) => send(res, response)).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const hostname = address.includes(":") ? `[${address}]` : address;
  origin = `http://${hostname}:${port}`;
  let closed: Promise<void> | undefined;
  return {
    addr: { hostname: address, port },
    close() {
      // Like `Deno.serve`'s shutdown: no new connections, idle ones closed, the requests being
      // answered let finish.
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        drained = () => server.closeAllConnections();
        if (inFlight === 0) drained();
      });
      return closed;
    },
  };
}
