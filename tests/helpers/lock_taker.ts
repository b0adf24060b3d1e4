/**
 * One lock taker for the lock race test: waits until the wall-clock time in ms given as the
 * second argument, tries to take the lock at the first argument, and if it got it holds it for
 * the third argument's ms. Prints `got <pid> <ms>` when it took the lock and `released <ms>` once
 * it has let it go (wall-clock ms, to check holders never overlap), or `locked <pid>`.
 */
import { acquireLock, LockedError } from "../../lib/io/lock.ts";

const [path, at, holdMs] = Deno.args;
await new Promise((r) => setTimeout(r, Math.max(0, Number(at) - Date.now())));
try {
  const lock = await acquireLock(path, "lock race");
  console.log(`got ${Deno.pid} ${Date.now()}`);
  await new Promise((r) => setTimeout(r, Number(holdMs)));
  // The time is taken before the release: the lock is let go after it.
  const released = Date.now();
  await lock.release();
  console.log(`released ${released}`);
} catch (e) {
  if (!(e instanceof LockedError)) throw e;
  console.log(`locked ${Deno.pid}`);
}
