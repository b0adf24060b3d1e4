/**
 * What every CLI does the same way: strict flag parsing, one clear line and the usage (exit 2) for
 * a wrong flag or value, one line (exit 1) for any other error — never a stack trace (set
 * `TRACE=1` to see one) — and Ctrl-C that stops work gracefully.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** A wrong flag or value: printed as one line plus the usage, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Flag definitions as `node:util`'s `parseArgs` takes them. */
export type FlagOptions = Record<
  string,
  { type: "string" | "boolean"; short?: string; multiple?: boolean }
>;

/** Parsed flag values. */
export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/**
 * Parses `args` strictly (unknown flags, missing values and stray arguments are a
 * {@link UsageError} naming the flag).
 */
export function parseFlags(args: readonly string[], options: FlagOptions): FlagValues {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false })
      .values as FlagValues;
  } catch (e) {
    const err = e as Error & { code?: string };
    const flag = /'(-[^' ]+)/.exec(err.message)?.[1];
    const arg = /'([^']+)'/.exec(err.message)?.[1];
    switch (err.code) {
      case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
        throw new UsageError(`unknown flag ${flag ?? arg ?? err.message}`);
      case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
        throw new UsageError(
          /argument missing/.test(err.message)
            ? `${flag ?? "a flag"} needs a value`
            : `${flag ?? "a flag"} takes no value`,
        );
      case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
        throw new UsageError(`unexpected argument ${JSON.stringify(arg ?? err.message)}`);
      default:
        throw new UsageError(err.message);
    }
  }
}

/** One usage line: `  --flag ARG   help (default: …)`, aligned. */
export function usageLine(flag: string, help: string, width = 24): string {
  const head = `  ${flag}`;
  return `${head.padEnd(width)}${head.length >= width ? " " : ""}${help}`;
}

/**
 * Runs a CLI's `main` and exits with its code: a {@link UsageError} prints `name: message`, a
 * blank line and `usage` (exit 2); any other error prints `name: message` (exit 1).
 */
export async function runCli(
  name: string,
  usage: string,
  main: (args: string[]) => Promise<number>,
): Promise<never> {
  let code: number;
  try {
    code = await main([...Deno.args]);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${name}: ${e.message}\n\n${usage}`);
      code = 2;
    } else {
      const err = e as Error;
      console.error(`${name}: ${err?.message ?? String(e)}`);
      if (Deno.env.get("TRACE") === "1" && err?.stack) console.error(err.stack);
      code = 1;
    }
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
