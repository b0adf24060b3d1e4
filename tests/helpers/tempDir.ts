/**
 * A temporary folder for one test: made with `prefix`, removed with everything in it afterwards.
 *
 * @module
 */

/** Runs `fn` in a fresh temporary folder and removes the folder however `fn` ends. */
export async function withTempDir(
  prefix: string,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
