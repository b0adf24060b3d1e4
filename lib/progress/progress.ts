/**
 * Progress lines for long work (tuning polls, batch runs), shown the same way everywhere:
 * a live bar on a terminal (cli-progress), a line every few seconds when output is piped (CI
 * logs), and an updating HTML bar inside a Jupyter notebook (Deno kernel).
 *
 * @module
 */
import type CliProgress from "cli-progress";
import { createRequire } from "node:module";
import process from "node:process";

/**
 * cli-progress, loaded when a terminal bar is first drawn: loading it takes about a tenth of a
 * second, which commands that never draw one (and every `--help`) do without.
 */
function loadCliProgress(): typeof CliProgress {
  return createRequire(import.meta.url)("cli-progress");
}

/** One reading of a long task's progress. */
export interface ProgressSnapshot {
  /** What is running, e.g. `HCX-003 · 500 rows` or `answers · task abc123`. */
  label: string;
  /** Units finished so far. */
  done: number;
  /** Units in all (0 when unknown). */
  total: number;
  /** Extra state to show after the counts: status, retries, errors, back-off, loss… */
  detail?: string;
  /** Seconds left when the caller knows better than the rate (e.g. keys waiting out a back-off). */
  etaSeconds?: number;
}

/** Where progress goes. */
export type ProgressMode = "auto" | "terminal" | "lines" | "jupyter" | "silent";

/**
 * A live progress display; call `update` as often as you like (it throttles), `finish` once.
 * `etaSeconds` replaces the rate-based ETA when given.
 */
export interface Progress {
  update(done: number, detail?: string, total?: number, etaSeconds?: number): void;
  finish(detail?: string): void;
}

/** Options for {@link createProgress}. */
export interface ProgressOptions {
  mode?: ProgressMode;
  /** Minimum milliseconds between two printed lines in `lines` mode (default 2000). */
  lineIntervalMs?: number;
  /** Where `lines` mode writes (default: stderr). */
  write?: (line: string) => void;
  /** Clock, for tests. */
  now?: () => number;
}

interface JupyterApi {
  broadcast(
    msgType: string,
    content: Record<string, unknown>,
  ): Promise<void> | void;
}

function jupyterApi(): JupyterApi | undefined {
  try {
    // deno-lint-ignore no-explicit-any
    const j = (Deno as any).jupyter;
    if (j && typeof j.broadcast === "function" && Deno.env.get("JPY_SESSION_NAME") !== undefined) {
      return j as JupyterApi;
    }
    // The Deno kernel does not always set JPY_* variables; its `Deno.jupyter` only exists there.
    if (j && typeof j.broadcast === "function" && !Deno.stdout.isTerminal()) return j as JupyterApi;
  } catch {
    // not in a kernel
  }
  return undefined;
}

/** Formats seconds as `1h02m`, `3m05s` or `12.3s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "–";
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** Rate (units/s) and ETA (s) from elapsed time and counts. */
export function rateAndEta(
  done: number,
  total: number,
  elapsedMs: number,
): { rate: number; etaSeconds: number } {
  const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0;
  const etaSeconds = rate > 0 && total > 0 ? Math.max(0, total - done) / rate : NaN;
  return { rate, etaSeconds };
}

/** Renders a snapshot as one plain-text line: `label  40/100 (40%) · 12.0/s · ETA 5.0s · detail`. */
export function formatProgressLine(s: ProgressSnapshot, elapsedMs: number): string {
  const { rate, etaSeconds: byRate } = rateAndEta(s.done, s.total, elapsedMs);
  const etaSeconds = s.etaSeconds ?? byRate;
  const pct = s.total > 0 ? ` (${Math.floor((100 * s.done) / s.total)}%)` : "";
  const counts = s.total > 0 ? `${s.done}/${s.total}${pct}` : `${s.done}`;
  const parts = [
    `${s.label}  ${counts}`,
    `${rate.toFixed(1)}/s`,
    `elapsed ${formatDuration(elapsedMs / 1000)}`,
  ];
  if (s.total > 0 && s.done < s.total) parts.push(`ETA ${formatDuration(etaSeconds)}`);
  if (s.detail) parts.push(s.detail);
  return parts.join(" · ");
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

let displayCounter = 0;

/**
 * Starts a progress display for `total` units of `label`. In `auto` mode it picks Jupyter when
 * running inside the Deno kernel, a live bar on a terminal, and throttled lines otherwise.
 */
export function createProgress(
  label: string,
  total: number,
  options: ProgressOptions = {},
): Progress {
  const now = options.now ?? (() => performance.now());
  const started = now();
  let mode = options.mode ?? "auto";
  const jupyter = mode === "auto" || mode === "jupyter" ? jupyterApi() : undefined;
  if (mode === "auto") {
    mode = jupyter ? "jupyter" : Deno.stderr.isTerminal() ? "terminal" : "lines";
  }
  let snapshot: ProgressSnapshot = { label, done: 0, total };

  if (mode === "silent") {
    return { update() {}, finish() {} };
  }

  if (mode === "jupyter" && jupyter) {
    const displayId = `progress-${Date.now()}-${displayCounter++}`;
    let lastSent = -Infinity;
    let first = true;
    const send = (final: boolean) => {
      const elapsed = now() - started;
      if (!final && elapsed - lastSent < 250) return;
      lastSent = elapsed;
      const line = formatProgressLine(snapshot, elapsed);
      const max = Math.max(snapshot.total, 1);
      const html =
        `<div style="font-family:monospace"><progress value="${snapshot.done}" max="${max}"` +
        ` style="width:240px"></progress> ${escapeHtml(line)}</div>`;
      const msg = first ? "display_data" : "update_display_data";
      first = false;
      // In some Deno versions broadcast returns undefined rather than a promise.
      Promise.resolve(
        jupyter.broadcast(msg, {
          data: { "text/plain": line, "text/html": html },
          metadata: {},
          transient: { display_id: displayId },
        }),
      ).catch(() => {});
    };
    send(true);
    return {
      update(done, detail, newTotal, etaSeconds) {
        snapshot = { ...snapshot, done, detail, total: newTotal ?? snapshot.total, etaSeconds };
        send(false);
      },
      finish(detail) {
        snapshot = { ...snapshot, detail: detail ?? snapshot.detail };
        send(true);
      },
    };
  }

  if (mode === "terminal") {
    const cliProgress = loadCliProgress();
    const bar = new cliProgress.SingleBar(
      {
        format: "{label} [{bar}] {value}/{total} · {rate}/s · ETA {eta} · {detail}",
        stream: process.stderr,
        hideCursor: false,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(total, 0), 0, { label, rate: "0.0", eta: "–", detail: "" });
    const payload = () => {
      const { rate, etaSeconds } = rateAndEta(snapshot.done, snapshot.total, now() - started);
      return {
        label,
        detail: snapshot.detail ?? "",
        rate: rate.toFixed(1),
        eta: formatDuration(snapshot.etaSeconds ?? etaSeconds),
      };
    };
    return {
      update(done, detail, newTotal, etaSeconds) {
        snapshot = { ...snapshot, done, detail, total: newTotal ?? snapshot.total, etaSeconds };
        if (newTotal !== undefined) bar.setTotal(newTotal);
        bar.update(done, payload());
      },
      finish(detail) {
        snapshot = { ...snapshot, detail: detail ?? snapshot.detail };
        bar.update(snapshot.done, payload());
        bar.stop();
      },
    };
  }

  const write = options.write ?? ((line: string) => console.error(line));
  const interval = options.lineIntervalMs ?? 2000;
  let lastLine = -Infinity;
  return {
    update(done, detail, newTotal, etaSeconds) {
      snapshot = { ...snapshot, done, detail, total: newTotal ?? snapshot.total, etaSeconds };
      const elapsed = now() - started;
      if (elapsed - lastLine >= interval) {
        lastLine = elapsed;
        write(formatProgressLine(snapshot, elapsed));
      }
    },
    finish(detail) {
      snapshot = { ...snapshot, detail: detail ?? snapshot.detail };
      write(formatProgressLine(snapshot, now() - started));
    },
  };
}
