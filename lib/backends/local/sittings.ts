/**
 * Where a long pretraining run's time went: each sitting (a start or resume until a stop or the
 * end) with its wall and CPU seconds and the machine's load average when it began and ended.
 *
 * @module
 */
import process from "node:process";

/** One stretch of training between a start or resume and a stop or the end. */
export interface Sitting {
  fromStep: number;
  toStep: number;
  seconds: number;
  cpuSeconds: number;
  loadAverageStart: number[];
  loadAverageEnd: number[];
}

/** The 1, 5 and 15 minute load averages (empty where `/proc/loadavg` cannot be read). */
export function loadAverage(): number[] {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).map(Number);
  } catch {
    return [];
  }
}

/** This process's nice value (null where `/proc/self/stat` cannot be read). */
export function niceness(): number | null {
  try {
    return Number(Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ")[16]);
  } catch {
    return null;
  }
}

function cpuSecondsNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Rounds `x` to `d` decimals. */
export const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;

/** The sitting under way: started when constructed. */
export class SittingClock {
  readonly #load = loadAverage();
  readonly #cpu = cpuSecondsNow();
  readonly #at = performance.now();

  /** The load average when this sitting began. */
  get loadAverageStart(): number[] {
    return this.#load;
  }

  /** This sitting so far, from step `fromStep` to `toStep`. */
  sitting(fromStep: number, toStep: number): Sitting {
    return {
      fromStep,
      toStep,
      seconds: round((performance.now() - this.#at) / 1000, 1),
      cpuSeconds: round(cpuSecondsNow() - this.#cpu, 1),
      loadAverageStart: this.#load,
      loadAverageEnd: loadAverage(),
    };
  }
}
