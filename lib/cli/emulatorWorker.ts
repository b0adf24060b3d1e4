/**
 * The local CLOVA Studio emulator in a worker thread, for `deno task evaluate --emulator`: the
 * emulator answers on its own thread (the machine's second core), as a real service would, while
 * the batch runner keeps the main thread. Messages: `{ start: EmulatorOptions }` → `{ url }` (or
 * `{ error }`); `{ close: true }` → `{ closed: true }`.
 *
 * @module
 */
import { type Emulator, type EmulatorOptions, startEmulator } from "../backends/emulator/mod.ts";

/** Starts the emulator in a worker; `close` stops it and ends the worker. */
export async function startEmulatorWorker(
  options: EmulatorOptions,
): Promise<{ url: string; close(): Promise<void> }> {
  const worker = new Worker(import.meta.url, { type: "module" });
  const reply = (): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`emulator worker: ${e.message}`));
      };
    });
  const started = reply();
  worker.postMessage({ start: options });
  const first = await started;
  if (typeof first.error === "string") {
    worker.terminate();
    throw new Error(first.error);
  }
  return {
    url: String(first.url),
    async close() {
      const closed = reply();
      worker.postMessage({ close: true });
      await closed.catch(() => {});
      worker.terminate();
    },
  };
}

// deno-lint-ignore no-explicit-any
const self_ = globalThis as any;
if (typeof self_.WorkerGlobalScope !== "undefined" && self_ instanceof self_.WorkerGlobalScope) {
  let emulator: Emulator | undefined;
  self_.onmessage = async (e: MessageEvent) => {
    try {
      if (e.data.start) {
        emulator = await startEmulator(e.data.start as EmulatorOptions);
        self_.postMessage({ url: emulator.url });
      } else if (e.data.close) {
        await emulator?.close();
        self_.postMessage({ closed: true });
      }
    } catch (err) {
      self_.postMessage({ error: (err as Error).message });
    }
  };
}
