/**
 * Whether a process is running on this machine: what the run lock (`./lock.ts`) and the atomic
 * writer's sweep of stale temp files (`./atomicFile.ts`) ask of a recorded process id.
 *
 * @module
 */

/** Whether process `pid` is running on this machine. */
export async function processAlive(pid: number): Promise<boolean> {
  if (pid === Deno.pid) return true;
  try {
    await Deno.stat(`/proc/${pid}`);
    return true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) return true;
  }
  try {
    await Deno.stat("/proc/self");
    return false; // a /proc without this pid: not running
  } catch {
    // no /proc (macOS, BSD): ask kill(1)
  }
  try {
    const out = await new Deno.Command("kill", {
      args: ["-0", String(pid)],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return true; // cannot tell: assume it runs
  }
}
