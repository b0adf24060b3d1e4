/**
 * NCP Object Storage (S3-compatible, `api.ncloud-docs.com/docs/storage-objectstorage`) upload of
 * tuning datasets with aws4fetch (SigV4, path-style `${endpoint}/${bucket}/${key}`). Keys live
 * only in the signer created per call. Nothing here deletes or overwrites a user's object:
 * {@link ensureObject} puts a dataset only where nothing is, and reuses an object that already
 * holds the same bytes.
 * @module
 */
import { createHash } from "node:crypto";
import { AwsClient } from "aws4fetch";
import { makeRedacting } from "./auth.ts";

/** Where and how to reach the bucket. */
export interface ObjectStorageConfig {
  /** e.g. https://kr.object.ncloudstorage.com (emulator: its URL + "/s3" or as it documents). */
  endpoint: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  /** SigV4 region (default "kr-standard"). */
  region?: string;
}

/** Default NCP Object Storage endpoint (Korea). */
export const DEFAULT_OBJECT_STORAGE_ENDPOINT = "https://kr.object.ncloudstorage.com";

/** An upload failure (no secrets: status, bucket, key and the S3 error code only). */
export class ObjectStorageError extends Error {
  /** HTTP status (0 = no response). */
  readonly httpStatus: number;
  /** S3 `<Code>` from the error body, when present. */
  readonly s3Code?: string;

  constructor(message: string, httpStatus: number, s3Code?: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "ObjectStorageError";
    this.httpStatus = httpStatus;
    this.s3Code = s3Code;
  }
}

/** Path-style object URL with each key segment encoded. */
export function objectUrl(
  cfg: Pick<ObjectStorageConfig, "endpoint" | "bucket">,
  key: string,
): string {
  const k = key.replace(/^\/+/, "").split("/").map(encodeURIComponent).join("/");
  return `${cfg.endpoint.replace(/\/+$/, "")}/${encodeURIComponent(cfg.bucket)}/${k}`;
}

/** Wrap a config so `Deno.inspect`/JSON show it with keys redacted. */
export function objectStorageConfig(cfg: ObjectStorageConfig): ObjectStorageConfig {
  return makeRedacting({ ...cfg }, "ObjectStorageConfig");
}

function signer(cfg: ObjectStorageConfig): AwsClient {
  return new AwsClient({
    accessKeyId: cfg.accessKey,
    secretAccessKey: cfg.secretKey,
    service: "s3",
    region: cfg.region ?? "kr-standard",
    retries: 3,
    initRetryMs: 200,
  });
}

async function s3Failure(res: Response, what: string): Promise<ObjectStorageError> {
  const text = await res.text().catch(() => "");
  const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
  return new ObjectStorageError(
    `${what}: HTTP ${res.status}${code ? ` ${code}` : ""}`,
    res.status,
    code,
  );
}

/** PUT `bytes` to `key` in the configured bucket (signed with SigV4). */
export async function uploadObject(
  cfg: ObjectStorageConfig,
  key: string,
  bytes: Uint8Array,
  signal?: AbortSignal,
): Promise<{ bucket: string; key: string; etag?: string }> {
  const what = `Object Storage PUT ${cfg.bucket}/${key}`;
  let res: Response;
  try {
    res = await signer(cfg).fetch(objectUrl(cfg, key), {
      method: "PUT",
      body: bytes as BodyInit,
      headers: { "content-type": "text/csv" },
      signal,
    });
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    throw new ObjectStorageError(`${what}: ${e instanceof Error ? e.message : e}`, 0, undefined, e);
  }
  if (!res.ok) throw await s3Failure(res, what);
  await res.body?.cancel();
  return { bucket: cfg.bucket, key, etag: res.headers.get("etag") ?? undefined };
}

/** GET an object's bytes (used to verify uploads). */
export async function downloadObject(
  cfg: ObjectStorageConfig,
  key: string,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const what = `Object Storage GET ${cfg.bucket}/${key}`;
  const res = await signer(cfg).fetch(objectUrl(cfg, key), { method: "GET", signal });
  if (!res.ok) throw await s3Failure(res, what);
  return new Uint8Array(await res.arrayBuffer());
}

/** What `HEAD` says about an object: absent, or present with its ETag and size. */
export async function headObject(
  cfg: ObjectStorageConfig,
  key: string,
  signal?: AbortSignal,
): Promise<{ etag?: string; size?: number } | undefined> {
  const what = `Object Storage HEAD ${cfg.bucket}/${key}`;
  let res: Response;
  try {
    res = await signer(cfg).fetch(objectUrl(cfg, key), { method: "HEAD", signal });
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    throw new ObjectStorageError(`${what}: ${e instanceof Error ? e.message : e}`, 0, undefined, e);
  }
  await res.body?.cancel();
  if (res.status === 404) return undefined;
  if (!res.ok) throw new ObjectStorageError(`${what}: HTTP ${res.status}`, res.status);
  const length = res.headers.get("content-length");
  return {
    etag: res.headers.get("etag") ?? undefined,
    size: length === null ? undefined : Number(length),
  };
}

/** The ETag S3 gives a single-part PUT of `bytes`: the quoted MD5 hex. */
export function md5Etag(bytes: Uint8Array): string {
  return `"${createHash("md5").update(bytes).digest("hex")}"`;
}

/**
 * Makes `key` hold `bytes` without touching anything else: absent → PUT; present with the same
 * ETag (MD5) → reused as is (a resumed run); present with other content → an
 * {@link ObjectStorageError}, and the object is left alone.
 */
export async function ensureObject(
  cfg: ObjectStorageConfig,
  key: string,
  bytes: Uint8Array,
  signal?: AbortSignal,
): Promise<{ bucket: string; key: string; uploaded: boolean }> {
  const existing = await headObject(cfg, key, signal);
  if (existing) {
    if (existing.etag === md5Etag(bytes)) return { bucket: cfg.bucket, key, uploaded: false };
    throw new ObjectStorageError(
      `Object Storage ${cfg.bucket}/${key} already exists with other content; it is not ` +
        `overwritten (choose another NCP_OBJECT_STORAGE_PREFIX)`,
      409,
    );
  }
  await uploadObject(cfg, key, bytes, signal);
  return { bucket: cfg.bucket, key, uploaded: true };
}
