/**
 * One writer per run: a lock file (`run.lock` in the run folder, or `<file>.lock` beside a
 * journal) created exclusively and holding the writer's process id, host and command. A second
 * writer finds it and refuses with {@link LockedError}; a lock whose process is gone (a crash,
 * SIGKILL) is stale and taken over.
 *
 * @module
 */
import { z } from "zod";
import { processAlive } from "./processAlive.ts";

/** What a lock file holds. */
const LockInfoSchema = z.object({
  pid: z.number().int().positive(),
  hostname: z.string(),
  started: z.string(),
  command: z.string(),
});

/** What a lock file holds. */
export type LockInfo = z.infer<typeof LockInfoSchema>;

/** Another live process holds the lock. */
export class LockedError extends Error {
  constructor(readonly path: string, readonly holder: LockInfo) {
    super(
      `${path}: in use by process ${holder.pid} on ${holder.hostname} (${holder.command}, ` +
        `since ${holder.started}); wait for it to finish or stop it` +
        (holder.hostname === Deno.hostname()
          ? ""
          : `; if nothing on ${holder.hostname} is writing, delete ${path}`),
    );
    this.name = "LockedError";
  }
}

/** A held lock; `release` removes it (idempotent). */
export interface Lock {
  readonly path: string;
  release(): Promise<void>;
}

async function readHolder(path: string): Promise<LockInfo | "unreadable" | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  try {
    return LockInfoSchema.parse(JSON.parse(text));
  } catch {
    return "unreadable";
  }
}

async function isStale(path: string, holder: LockInfo | "unreadable"): Promise<boolean> {
  if (holder === "unreadable") {
    // A writer killed between creating and filling its lock; give a live one a moment to fill it.
    const mtime = (await Deno.stat(path).catch(() => undefined))?.mtime?.getTime() ?? 0;
    return Date.now() - mtime > 5_000;
  }
  return holder.hostname === Deno.hostname() && !(await processAlive(holder.pid));
}

/**
 * Takes the lock at `path` for this process, taking over a stale one; throws {@link LockedError}
 * while a live process holds it. `command` describes the holder in the other process's message.
 */
export async function acquireLock(path: string, command: string): Promise<Lock> {
  const info: LockInfo = {
    pid: Deno.pid,
    hostname: Deno.hostname(),
    started: new Date().toISOString(),
    command,
  };
  for (let tries = 0;; tries++) {
    try {
      const file = await Deno.open(path, { write: true, createNew: true });
      try {
        await file.write(new TextEncoder().encode(JSON.stringify(info) + "\n"));
      } finally {
        file.close();
      }
      break;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    const holder = await readHolder(path);
    if (holder === undefined) continue; // released meanwhile
    if (tries < 3 && await isStale(path, holder)) {
      // Move the stale lock aside (atomic), so only one taker removes it.
      const aside = `${path}.stale-${Deno.pid}`;
      await Deno.rename(path, aside).then(() => Deno.remove(aside), () => {});
      continue;
    }
    throw new LockedError(
      path,
      holder === "unreadable"
        ? { pid: 0, hostname: "?", started: "?", command: "an unreadable lock" }
        : holder,
    );
  }
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      await Deno.remove(path).catch(() => {});
    },
  };
}
