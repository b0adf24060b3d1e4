/**
 * Runs a test body against a fresh local CLOVA Studio emulator on 127.0.0.1 with a throwaway API
 * key and a temp directory, closing the emulator and removing the directory afterwards.
 */
import {
  type Emulator,
  type EmulatorOptions,
  startEmulator,
} from "../../lib/backends/emulator/mod.ts";

/** What {@link withEmulator} hands the test body. */
export interface EmulatorFixture {
  emu: Emulator;
  apiKey: string;
  /** A temp directory for journals and sheets. */
  dir: string;
}

/**
 * Starts an emulator (quiet, no rate limits unless `options` say otherwise) that accepts one fresh
 * `nv-…` key (prefixed by `keyPrefix`), runs `fn`, then cleans up.
 */
export async function withEmulator<T>(
  options: Omit<EmulatorOptions, "credentials">,
  fn: (fixture: EmulatorFixture) => Promise<T>,
  keyPrefix = "nv-",
): Promise<T> {
  const apiKey = `${keyPrefix}${crypto.randomUUID()}`;
  const emu = await startEmulator({
    rateLimits: false,
    quiet: true,
    ...options,
    credentials: { apiKeys: [apiKey] },
  });
  const dir = await Deno.makeTempDir();
  try {
    return await fn({ emu, apiKey, dir });
  } finally {
    await emu.close();
    await Deno.remove(dir, { recursive: true });
  }
}
