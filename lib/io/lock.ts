/**
 * One writer per run: a lock file (`run.lock` in the run folder, or `<file>.lock` beside a
 * journal) held with an exclusive advisory lock (`flock`) and holding the writer's process id,
 * host and command. A second writer finds the file locked and refuses with {@link LockedError},
 * naming the holder. The operating system drops the lock when its process ends, however it ends
 * (a crash, SIGKILL), so a lock file left behind is free to take and there is no stale-lock
 * takeover to race on: taking the lock is one atomic step in the kernel.
 *
 * A release removes the file while still holding its lock. A process that opened the old file
 * just before may then lock it; it sees that the path no longer leads to the file it locked and
 * starts over, so two processes never hold the lock at one path.
 *
 * @module
 */
import type { z } from "zod";

/** What a lock file holds. */
export interface LockInfo {
  pid: number;
  hostname: string;
  started: string;
  command: string;
}

let lockInfoSchema: z.ZodType<LockInfo> | undefined;

/**
 * The zod schema of a lock file, made on first use: zod is loaded only by a command that finds a
 * lock held, not by every command that imports this folder.
 */
async function lockInfo(): Promise<z.ZodType<LockInfo>> {
  if (!lockInfoSchema) {
    const { z } = await import("zod");
    lockInfoSchema = z.object({
      pid: z.number().int().positive(),
      hostname: z.string(),
      started: z.string(),
      command: z.string(),
    });
  }
  return lockInfoSchema;
}

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

async function readHolder(file: Deno.FsFile): Promise<LockInfo | "unreadable"> {
  const schema = await lockInfo();
  // The holder writes its details right after taking the lock; give it a moment to.
  for (let tries = 0;; tries++) {
    await file.seek(0, Deno.SeekMode.Start);
    const bytes = new Uint8Array(4096);
    let got = 0;
    for (;;) {
      const n = await file.read(bytes.subarray(got));
      if (n === null || n === 0) break;
      got += n;
      if (got === bytes.length) break;
    }
    try {
      return schema.parse(JSON.parse(new TextDecoder().decode(bytes.subarray(0, got))));
    } catch {
      if (tries >= 10) return "unreadable";
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Whether `path` still names the very file `file` has open. */
async function stillAtPath(file: Deno.FsFile, path: string): Promise<boolean> {
  const [open, named] = await Promise.all([file.stat(), Deno.stat(path).catch(() => undefined)]);
  return named !== undefined && named.ino === open.ino && named.dev === open.dev;
}

/**
 * Takes the lock at `path` for this process; throws {@link LockedError} while another process
 * (or another open lock of this one) holds it. `command` describes the holder in the other
 * process's message.
 */
export async function acquireLock(path: string, command: string): Promise<Lock> {
  const info: LockInfo = {
    pid: Deno.pid,
    hostname: Deno.hostname(),
    started: new Date().toISOString(),
    command,
  };
  for (;;) {
    const file = await Deno.open(path, { read: true, write: true, create: true });
    let held = false;
    try {
      if (!(await file.tryLock(true))) {
        const holder = await readHolder(file);
        throw new LockedError(
          path,
          holder === "unreadable"
            ? { pid: 0, hostname: "?", started: "?", command: "an unreadable lock" }
            : holder,
        );
      }
      // Locked the file a releasing holder had just removed: start over on the new one.
      if (!(await stillAtPath(file, path))) continue;
      await file.truncate(0);
      await file.seek(0, Deno.SeekMode.Start);
      const bytes = new TextEncoder().encode(JSON.stringify(info) + "\n");
      for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
      held = true;
    } finally {
      if (!held) file.close();
    }
    let released = false;
    return {
      path,
      async release() {
        if (released) return;
        released = true;
        // Removed while still locked (see the module doc), then unlocked by the close.
        if (await stillAtPath(file, path).catch(() => false)) {
          await Deno.remove(path).catch(() => {});
        }
        file.close();
      },
    };
  }
}
