/**
 * What every CLI does the same way: strict flag parsing, one clear line and the usage (exit 2) for
 * a wrong flag or value, one line (exit 1) for any other error — never a stack trace (set
 * `TRACE=1` to see one) — and Ctrl-C that stops work gracefully.
 *
 * ```ts
 * const OPTIONS = { rows: { type: "string" }, validate: { type: "boolean" } } as const;
 * export async function main(args: string[]): Promise<number> {
 *   const values = parseFlags(args, OPTIONS); // `--help`/`-h` is always accepted
 *   if (values.help) return printUsage(USAGE);
 *   const rows = intFlag("rows", values.rows) ?? 100;
 *   …
 * }
 * if (import.meta.main) await runCli("dataset", USAGE, main);
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { dirname } from "node:path";
// The package's ES module build: its default entry is CommonJS, whose loader costs every command
// tens of milliseconds at start-up.
import { closest, distance } from "fastest-levenshtein/esm/mod.js";

/** A wrong flag or value: printed as one line plus the usage, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** One flag's definition, as `node:util`'s `parseArgs` takes it. */
export interface FlagOption {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
}

/** Flag definitions by name (without the leading `--`). */
export type FlagOptions = Readonly<Record<string, FlagOption>>;

type Scalar<T extends FlagOption["type"]> = T extends "boolean" ? boolean : string;
type FlagValue<O extends FlagOption> = O extends { multiple: true } ? Scalar<O["type"]>[]
  : Scalar<O["type"]>;

/** Parsed flag values, typed by their definitions; `help` is always there. */
export type FlagValues<O extends FlagOptions> =
  & { -readonly [K in keyof O]?: FlagValue<O[K]> }
  & { help?: boolean };

const HELP = { help: { type: "boolean", short: "h" } } as const;

/** The flag a `parseArgs` message quotes first, e.g. `--url` of `Option '--url <value>' …`. */
function quotedFlag(message: string): string | undefined {
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? "";
  return quoted.match(/--?[\w-]+/g)?.at(-1);
}

/**
 * The known flag nearest to `flag` (`--size` → `sizes`): within one edit per three characters
 * (at least one), or one that starts with what was typed; undefined when none is near.
 */
export function nearestFlag(flag: string, known: readonly string[]): string | undefined {
  const name = flag.replace(/^--?/, "").replace(/=.*$/, "");
  if (name === "" || known.length === 0) return undefined;
  const best = closest(name, [...known]);
  if (distance(name, best) <= Math.max(1, Math.floor(name.length / 3))) return best;
  const prefixed = known.filter((k) => name.length >= 3 && k.startsWith(name));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/**
 * Parses `args` strictly (unknown flags, missing values and stray arguments are a
 * {@link UsageError} naming the flag). A string flag's value may start with a dash when it is a
 * number (`--seed -5`); `--help` and `-h` are always accepted. With `positionals`, arguments that
 * are not flags are returned in order instead of being refused.
 */
export function parseCommandLine<O extends FlagOptions>(
  args: readonly string[],
  options: O,
  { positionals = false }: { positionals?: boolean } = {},
): { values: FlagValues<O>; positionals: string[] } {
  const all: FlagOptions = { ...options, ...HELP };
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = /^--([^=]+)$/.exec(args[i])?.[1];
    if (name && all[name]?.type === "string" && /^-\.?\d/.test(args[i + 1] ?? "")) {
      joined.push(`--${name}=${args[++i]}`);
    } else joined.push(args[i]);
  }
  try {
    const parsed = parseArgs({
      args: joined,
      options: all as Record<string, FlagOption>,
      strict: true,
      allowPositionals: positionals,
    });
    return { values: parsed.values as FlagValues<O>, positionals: parsed.positionals };
  } catch (e) {
    const err = e as Error & { code?: string };
    const flag = quotedFlag(err.message) ?? "a flag";
    switch (err.code) {
      case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
        const near = nearestFlag(flag, Object.keys(all));
        throw new UsageError(`unknown flag ${flag}${near ? ` (did you mean --${near}?)` : ""}`);
      }
      case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
        throw new UsageError(
          /does not take an argument/.test(err.message)
            ? `${flag} takes no value`
            : `${flag} needs a value`,
        );
      case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL": {
        const arg = /'([^']*)'/.exec(err.message)?.[1] ?? err.message;
        throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
      }
      default:
        throw new UsageError(err.message);
    }
  }
}

/** {@link parseCommandLine} for a CLI that takes flags only. */
export function parseFlags<O extends FlagOptions>(
  args: readonly string[],
  options: O,
): FlagValues<O> {
  return parseCommandLine(args, options).values;
}

/** "a, b or c". */
function oneOf(choices: readonly string[]): string {
  return choices.length < 2
    ? choices.join("")
    : `${choices.slice(0, -1).join(", ")} or ${choices.at(-1)}`;
}

/**
 * A whole-number flag's value (`undefined` when not given), at least `min` (default 1) and at
 * most `max`; anything else is a {@link UsageError} like `--rows -5: expected a whole number
 * above 0`. `limit` is an upper bound with its reason, said when a number is above it:
 * `--rows 2000000: at most 1,000,000 (…)`.
 */
export function intFlag(
  flag: string,
  raw: string | undefined,
  { min = 1, max = Number.MAX_SAFE_INTEGER, limit }: {
    min?: number;
    max?: number;
    limit?: { max: number; why: string };
  } = {},
): number | undefined {
  if (raw === undefined) return undefined;
  const n = /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (limit && !Number.isNaN(n) && n >= min && n > limit.max) {
    throw new UsageError(
      `--${flag} ${raw}: at most ${limit.max.toLocaleString("en")} (${limit.why})`,
    );
  }
  if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
  const range = max < Number.MAX_SAFE_INTEGER
    ? `from ${min} to ${max}`
    : min === 1
    ? "above 0"
    : `≥ ${min}`;
  throw new UsageError(`--${flag} ${raw}: expected a whole number ${range}`);
}

/**
 * A number flag's value (`undefined` when not given) within `[min, max]` (or above `above`);
 * anything else is a {@link UsageError} like `--fault-429 2: expected a number from 0 to 1`.
 */
export function numberFlag(
  flag: string,
  raw: string | undefined,
  { min = 0, max = Infinity, above }: { min?: number; max?: number; above?: number } = {},
): number | undefined {
  if (raw === undefined) return undefined;
  const n = raw.trim() === "" ? NaN : Number(raw);
  const low = above === undefined ? n >= min : n > above;
  if (Number.isFinite(n) && low && n <= max) return n;
  const range = above !== undefined
    ? `above ${above}`
    : max === Infinity
    ? `≥ ${min}`
    : `from ${min} to ${max}`;
  throw new UsageError(`--${flag} ${raw}: expected a number ${range}`);
}

/** A flag's value among `choices` (`undefined` when not given); else a {@link UsageError}. */
export function choiceFlag<T extends string>(
  flag: string,
  raw: string | undefined,
  choices: readonly T[],
): T | undefined {
  if (raw === undefined || (choices as readonly string[]).includes(raw)) return raw as T;
  throw new UsageError(`--${flag} ${raw}: expected ${oneOf(choices)}`);
}

/** Checks that `path`, given with `--flag`, exists and is a file (or a folder). */
export async function checkInput(
  flag: string,
  path: string,
  kind: "file" | "folder" = "file",
): Promise<void> {
  let info: Deno.FileInfo | undefined;
  try {
    info = await Deno.stat(path);
  } catch {
    // reported below
  }
  if (!info) throw new UsageError(`--${flag} ${path}: no such ${kind}`);
  if (kind === "file" ? !info.isFile : !info.isDirectory) {
    throw new UsageError(`--${flag} ${path}: not a ${kind}`);
  }
}

/** Checks that `path`, given with `--flag`, can be written as a file: its folder exists. */
export async function checkWritable(flag: string, path: string): Promise<void> {
  try {
    if ((await Deno.stat(path)).isDirectory) {
      throw new UsageError(`--${flag} ${path}: is a folder; give a file name`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const dir = dirname(path);
  let isDir = false;
  try {
    isDir = (await Deno.stat(dir)).isDirectory;
  } catch {
    // reported below
  }
  if (!isDir) throw new UsageError(`--${flag} ${path}: the folder ${dir} does not exist`);
}

/** One usage line: `  --flag ARG   help (default: …)`, aligned. */
export function usageLine(flag: string, help: string, width = 24): string {
  const head = `  ${flag}`;
  return `${head.padEnd(width)}${head.length >= width ? " " : ""}${help}`;
}

/** Prints `usage` for `--help`; returns exit code 0. */
export function printUsage(usage: string): number {
  console.log(usage);
  return 0;
}

/**
 * Prints an error the CLI way and returns its exit code: a {@link UsageError} is `name: message`,
 * a blank line and `usage` (2); any other error is `name: message` (1), with the stack trace
 * only when `TRACE=1`.
 */
export function reportError(name: string, usage: string, e: unknown): number {
  if (e instanceof UsageError) {
    console.error(`${name}: ${e.message}\n\n${usage}`);
    return 2;
  }
  const err = e as Error;
  console.error(`${name}: ${err?.message ?? String(e)}`);
  const next = nextStep(name, e);
  if (next) console.error(next);
  if (Deno.env.get("TRACE") === "1" && err?.stack) console.error(err.stack);
  return 1;
}

/** How each CLI that calls CLOVA Studio runs offline instead. */
const OFFLINE: Readonly<Record<string, string>> = {
  reproduce: "deno task reproduce --backend emulator",
  evaluate: "add --emulator (the local emulator answers instead)",
};

/** The HTTP status an error carries, itself or along its causes (0 or none: no response). */
function httpStatusOf(e: unknown): number | undefined {
  let cur = e;
  for (let depth = 0; cur !== null && typeof cur === "object" && depth < 6; depth++) {
    const o = cur as { httpStatus?: number; failure?: { httpStatus?: number }; cause?: unknown };
    const status = o.httpStatus || o.failure?.httpStatus;
    if (status) return status;
    cur = o.cause;
  }
  return undefined;
}

/**
 * The line that says what to do after an error the service answered with 401 or 403: check the
 * credentials (and, where the CLI has one, the offline way to run); undefined for other errors.
 */
export function nextStep(name: string, e: unknown): string | undefined {
  const status = httpStatusOf(e);
  if (status !== 401 && status !== 403) return undefined;
  const why = status === 401
    ? "were not accepted (wrong, expired, or for the other API generation)"
    : "are not allowed to do this (permissions, or a task of another account)";
  return `next: the CLOVA Studio credentials ${why} (HTTP ${status}); check ` +
    "CLOVA_STUDIO_API_KEY (or CLOVA_STUDIO_APP_KEY + CLOVA_STUDIO_APIGW_KEY, or " +
    "CLOVA_STUDIO_CLIENT_ID + CLOVA_STUDIO_CLIENT_SECRET) in the environment and in .env" +
    (OFFLINE[name] ? `; to run offline: ${OFFLINE[name]}` : "");
}

/** Runs a CLI's `main` and exits with its code; errors are printed by {@link reportError}. */
export async function runCli(
  name: string,
  usage: string,
  main: (args: string[]) => Promise<number>,
): Promise<never> {
  let code: number;
  try {
    code = await main([...Deno.args]);
  } catch (e) {
    code = reportError(name, usage, e);
  }
  Deno.exit(code);
}

/**
 * Ctrl-C handling: the first SIGINT calls `first` (print one line, abort the work); a second one
 * exits at once with 130. Returns a function that removes the handler.
 */
export function onInterrupt(first: () => void): () => void {
  let interrupts = 0;
  const handler = () => {
    interrupts++;
    if (interrupts === 1) first();
    else Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", handler);
  return () => Deno.removeSignalListener("SIGINT", handler);
}
