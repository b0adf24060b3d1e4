/**
 * A small S3-compatible object store (the subset NCP Object Storage users need for tuning data),
 * path-style, in memory: `PUT`/`GET`/`HEAD`/`DELETE /{bucket}/{key}`, `PUT`/`HEAD /{bucket}`
 * (create/check bucket; buckets are also created implicitly by the first `PUT`) and
 * `GET /{bucket}?list-type=2[&prefix=]` (ListObjectsV2).
 *
 * It is served under `<emulator url>/objectstorage` (use that as the S3 endpoint) and also at the
 * root for requests signed with AWS SigV4. Every request must carry a SigV4 signature
 * (`Authorization: AWS4-HMAC-SHA256 …` or a presigned `X-Amz-Signature` query); the signature
 * itself is not verified. Unsigned requests get `403 AccessDenied` (rule: objectstore.s3).
 *
 * An object PUT is read under the dataset limit while it streams in; a larger one is refused with
 * S3's `400 EntityTooLarge` without being held (rule: limits.dataset). A key that is not valid
 * percent-encoding is S3's `400 InvalidURI` (rule: path.percent-encoding).
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  BodyIncompleteError,
  BodyTimeoutError,
  BodyTooLargeError,
  decodeSegment,
  readBodyBytes,
} from "./body.ts";

interface StoredObject {
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
  etag: string;
  lastModified: Date;
}

function xml(status: number, code: string, message: string, resource: string): Response {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${
    escapeXml(message)
  }</Message><Resource>${escapeXml(resource)}</Resource></Error>`;
  return new Response(body, { status, headers: { "content-type": "application/xml" } });
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** True when a request carries an AWS SigV4 signature (header or presigned query). */
export function isSigV4(req: Request, url: URL): boolean {
  return (req.headers.get("authorization") ?? "").startsWith("AWS4-HMAC-SHA256") ||
    url.searchParams.has("X-Amz-Signature");
}

/** In-memory buckets and objects. */
export class ObjectStore {
  #buckets = new Map<string, Map<string, StoredObject>>();
  #maxObjectBytes: number;

  /** `maxObjectBytes`: the largest object a PUT may carry. */
  constructor(maxObjectBytes: number) {
    this.#maxObjectBytes = maxObjectBytes;
  }

  /** Reads an object's bytes (used by Object Storage tuning), or undefined. */
  read(bucket: string, key: string): Uint8Array | undefined {
    return this.#buckets.get(bucket)?.get(key.replace(/^\/+/, ""))?.bytes;
  }

  /** Stores an object directly (tests, notebooks). */
  write(bucket: string, key: string, bytes: Uint8Array, contentType = "text/csv"): string {
    const copy = new Uint8Array(bytes);
    let b = this.#buckets.get(bucket);
    if (!b) this.#buckets.set(bucket, b = new Map());
    const etag = `"${createHash("md5").update(bytes).digest("hex")}"`;
    b.set(key.replace(/^\/+/, ""), { bytes: copy, contentType, etag, lastModified: new Date() });
    return etag;
  }

  /** Number of stored objects. */
  get size(): number {
    let n = 0;
    for (const b of this.#buckets.values()) n += b.size;
    return n;
  }

  /** Serves one S3 request; `path` is the part after the endpoint (`/bucket/key…`). */
  async handle(req: Request, url: URL, path: string): Promise<Response> {
    if (!isSigV4(req, url)) {
      return xml(403, "AccessDenied", "Access Denied: request is not signed (AWS SigV4)", path);
    }
    const parts = path.replace(/^\/+/, "").split("/").map(decodeSegment);
    if (parts.some((p) => p === undefined)) {
      return xml(400, "InvalidURI", "Couldn't parse the specified URI.", path);
    }
    const bucket = parts[0] ?? "";
    const key = parts.slice(1).join("/");
    if (!bucket) return xml(400, "InvalidRequest", "Bucket name is required", path);
    const b = this.#buckets.get(bucket);
    if (!key) {
      if (req.method === "PUT") {
        if (!b) this.#buckets.set(bucket, new Map());
        return new Response(null, { status: 200 });
      }
      if (!b) return xml(404, "NoSuchBucket", "The specified bucket does not exist", path);
      if (req.method === "HEAD") return new Response(null, { status: 200 });
      if (req.method === "GET") return this.#list(bucket, b, url.searchParams.get("prefix") ?? "");
      return xml(405, "MethodNotAllowed", "The specified method is not allowed", path);
    }
    switch (req.method) {
      case "PUT": {
        let bytes: Uint8Array;
        try {
          bytes = await readBodyBytes(req, this.#maxObjectBytes);
        } catch (e) {
          if (e instanceof BodyIncompleteError || e instanceof BodyTimeoutError) {
            // rule: limits.body-complete
            return xml(400, "IncompleteBody", e.message, path);
          }
          if (!(e instanceof BodyTooLargeError)) throw e;
          return xml(
            400,
            "EntityTooLarge",
            `Your proposed upload exceeds the maximum allowed size (${this.#maxObjectBytes} bytes)`,
            path,
          );
        }
        const etag = this.write(
          bucket,
          key,
          bytes,
          req.headers.get("content-type") ?? "binary/octet-stream",
        );
        return new Response(null, { status: 200, headers: { etag } });
      }
      case "GET":
      case "HEAD": {
        const o = b?.get(key);
        if (!o) {
          if (req.method === "HEAD") return new Response(null, { status: 404 });
          return xml(404, "NoSuchKey", "The specified key does not exist.", path);
        }
        const headers = {
          "content-type": o.contentType,
          "content-length": String(o.bytes.length),
          etag: o.etag,
          "last-modified": o.lastModified.toUTCString(),
        };
        return new Response(req.method === "HEAD" ? null : o.bytes, { status: 200, headers });
      }
      case "DELETE":
        b?.delete(key);
        return new Response(null, { status: 204 });
      default:
        return xml(405, "MethodNotAllowed", "The specified method is not allowed", path);
    }
  }

  #list(bucket: string, b: Map<string, StoredObject>, prefix: string): Response {
    const keys = [...b.keys()].filter((k) => k.startsWith(prefix)).sort();
    const contents = keys.map((k) => {
      const o = b.get(k)!;
      return `<Contents><Key>${escapeXml(k)}</Key><LastModified>${o.lastModified.toISOString()}` +
        `</LastModified><ETag>${escapeXml(o.etag)}</ETag><Size>${o.bytes.length}</Size>` +
        `<StorageClass>STANDARD</StorageClass></Contents>`;
    }).join("");
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n` +
      `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${
        escapeXml(bucket)
      }</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${keys.length}</KeyCount>` +
      `<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`;
    return new Response(body, { status: 200, headers: { "content-type": "application/xml" } });
  }
}
