/**
 * Atomic file writes, the one way every file of a run (other than the append-only journal) is
 * written: the content goes to a temp file in the same folder, which is synced to disk and then
 * renamed over the target. A reader, or a crash at any moment, sees the old file or the new one,
 * never a part; on failure the temp file is removed and the target is left as it was. The rename
 * alone is enough when only the process dies; the sync is what keeps it so across an operating
 * system crash or a power cut, after which a renamed but unsynced file can come back empty or cut
 * short (a tuning CSV cut at a row boundary would still upload, and train a paid task on fewer
 * rows).
 *
 * Temp files are named `.<name>.<pid>-<random>.tmp`; one left behind by a killed process is
 * removed by the next write of the same file.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { processAlive } from "./processAlive.ts";

/**
 * Writing a file failed (a full disk, an I/O error, a missing folder, …). The message names the
 * file that was being written (not its temp file) and the system's reason, on one line.
 */
export class FileWriteError extends Error {
  /** The system's error code (`ENOSPC`, `EIO`, …), when it gave one. */
  readonly code: string | undefined;
  constructor(readonly path: string, cause: unknown) {
    const code = (cause as { code?: unknown })?.code;
    const reason = cause instanceof Error ? cause.message : String(cause);
    const what = code === "ENOSPC"
      ? "the disk is full"
      : code === "EIO"
      ? "the disk reported an I/O error"
      : code === "EDQUOT"
      ? "the disk quota is exceeded"
      : undefined;
    super(
      `cannot write ${path}: ${what ? `${what} (${reason})` : reason}`.replace(/\s*\n\s*/g, " "),
      { cause },
    );
    this.name = "FileWriteError";
    this.code = typeof code === "string" ? code : undefined;
  }
}

/** `e` as a {@link FileWriteError} for `path` (unchanged when it already is one). */
export function writeFailure(path: string, e: unknown): FileWriteError {
  return e instanceof FileWriteError ? e : new FileWriteError(path, e);
}

const TEMP = /^\.(.+)\.(\d+)-[0-9a-f]{8}\.tmp$/;

async function removeStaleTemps(dir: string, name: string): Promise<void> {
  try {
    for await (const e of Deno.readDir(dir)) {
      const m = TEMP.exec(e.name);
      if (m && m[1] === name && !(await processAlive(Number(m[2])))) {
        await Deno.remove(join(dir, e.name)).catch(() => {});
      }
    }
  } catch {
    // the folder is about to be created or is unreadable: nothing to sweep
  }
}

/** Options of {@link writeAtomic} and {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /**
   * Work to do while the written file is synced to disk (the sync waits on the disk, not on
   * this thread); the file is renamed into place once both are done, and not if it throws.
   */
  whileSyncing?: () => void | Promise<void>;
}

/**
 * Writes `path` atomically: `fill(tmpPath)` writes the whole content to `tmpPath` (any way it
 * likes: a library's file writer, a stream), then the file is synced and renamed over `path`.
 * The folder must exist (a missing folder is an error, not created silently).
 */
export async function writeAtomic(
  path: string,
  fill: (tmpPath: string) => Promise<void>,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const dir = dirname(path);
  const name = basename(path);
  const random = crypto.getRandomValues(new Uint32Array(1))[0].toString(16).padStart(8, "0");
  const tmp = join(dir, `.${name}.${Deno.pid}-${random}.tmp`);
  try {
    // The sweep never removes this process's own temp file, so it runs while the file is
    // written; and the write starts before this function first waits, so a caller that goes on
    // computing while it waits for the write overlaps the two.
    await Promise.all([fill(tmp), removeStaleTemps(dir, name)]);
    const file = await Deno.open(tmp, { read: true, write: true });
    try {
      const work = async () => await options.whileSyncing?.();
      await Promise.all([file.syncData(), work()]);
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    // A disk that cannot take the bytes (full, failing, read-only) names the file that was
    // being written; other errors (a missing folder, a bad value) pass through as they are.
    throw isFileSystemError(e) ? writeFailure(path, e) : e;
  }
}

/** System error codes that mean the disk could not take the bytes (not a bad path). */
const DISK_FAILURES = new Set(["ENOSPC", "EIO", "EDQUOT", "EROFS", "EFBIG"]);

function isFileSystemError(e: unknown): boolean {
  if (e instanceof FileWriteError) return true;
  const code = (e as { code?: unknown })?.code;
  return typeof code === "string" && DISK_FAILURES.has(code);
}

/**
 * Writes text, bytes or a stream of byte chunks to `path` atomically (see {@link writeAtomic}).
 * A chunk is still being written when the next one is asked for: a producer must not reuse it.
 */
export function writeFileAtomic(
  path: string,
  data: string | Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: AtomicWriteOptions = {},
): Promise<void> {
  return writeAtomic(path, async (tmp) => {
    if (typeof data === "string") return await Deno.writeTextFile(tmp, data);
    if (data instanceof Uint8Array) return await Deno.writeFile(tmp, data);
    const file = await Deno.open(tmp, { write: true, createNew: true });
    const writeAll = async (chunk: Uint8Array) => {
      let at = 0;
      while (at < chunk.length) at += await file.write(chunk.subarray(at));
    };
    // A chunk is written while the next one is made: its write is waited for only once the
    // next chunk is in hand.
    let writing: Promise<void> = Promise.resolve();
    try {
      for await (const chunk of data) {
        await writing;
        writing = writeAll(chunk);
        // A failed write surfaces where it is awaited, not as an unhandled rejection while an
        // asynchronous producer makes the next chunk.
        writing.catch(() => {});
      }
      await writing;
    } finally {
      await writing.catch(() => {});
      file.close();
    }
  }, options);
}

/** Writes `value` as pretty-printed JSON (with a final newline) to `path` atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/**
 * One write at a time for files rewritten whole as their state changes: each call waits for the
 * write before it, then `write` runs with the call's arguments and reads the state as it is then.
 * Two atomic writes started together can land in either order, so without this an older state
 * can be renamed over a newer one; with it the last call always writes the last state. A failed
 * write rejects its own call only.
 */
export function oneWriteAtATime<A extends unknown[]>(
  write: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  let last: Promise<unknown> = Promise.resolve();
  return (...args: A) => {
    const run = () => write(...args);
    const next = last.then(run, run);
    last = next.catch(() => {});
    return next;
  };
}
