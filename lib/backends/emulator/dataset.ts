/**
 * Tuning-dataset checks as the emulator applies them when a task leaves `WAIT`, producing the
 * documented `failureReason` / `message` pairs (sources in `rules.ts`):
 *
 * | check | rule | failureReason | message |
 * |---|---|---|---|
 * | name not `.csv` / `.jsonl` | dataset.extension | `file.extension` | `Unavailable file extension. Please check the file extension again.` |
 * | larger than the limit | limits.dataset | `file.size` | `Exceeded the disk usage limit. Please check if the file size is {limit} or less.` |
 * | no UTF-8 byte-order mark (strict), not UTF-8, UTF-16 BOM | dataset.encoding | `file.encoding` | `Unsupported charset` |
 * | a `.jsonl` line is not a JSON object | dataset.columns | `file.format` | `Invalid json format. {reason}` |
 * | a required column missing (C_ID, T_ID (strict), Text, Completion) or a value empty | dataset.columns, dataset.required | `file.format` | `Invalid dataset: required field empty. {column}` |
 * | unknown column | dataset.columns | `file.format` | `Invalid dataset: unexpected column. {column}` |
 * | names equal ignoring case | dataset.columns | `file.format` | `Invalid dataset: duplicate columns. {column}` |
 * | order ≠ `System_Prompt, C_ID, T_ID, Text, Completion` | dataset.columns | `file.format` | `Invalid dataset: column order` |
 * | `C_ID`/`T_ID` not 0,1,2… | dataset.ids | `file.format` | `Invalid dataset: {column}` |
 * | fewer than 100 rows (strict) | dataset.min-rows | `file.format` | `Invalid dataset: at least 100 rows are required (found N)` (emulator wording) |
 * | malformed CSV | dataset.columns | `file.format` | `Invalid dataset: malformed CSV. {detail}` (emulator wording) |
 *
 * Under `cookbook-2024` the BOM, the C_ID/T_ID columns and the row minimum are not required
 * (the cookbook uploaded plain-UTF-8 `Text,Completion` files of 50 rows and they tuned).
 *
 * @module
 */
import { parse } from "csv-parse/sync";
import { countTokens } from "./tokenizer.ts";
import { type DatasetRules, datasetRules } from "./rules.ts";

/** One training row after checking. */
export interface DatasetRow {
  system?: string;
  text: string;
  completion: string;
}

/** Outcome of {@link checkDataset}. */
export type DatasetCheck =
  | { ok: true; rows: DatasetRow[]; tokens: number }
  | { ok: false; failureReason: string; message: string };

/** The documented column order. */
export const COLUMN_ORDER = ["System_Prompt", "C_ID", "T_ID", "Text", "Completion"] as const;

/** Default maximum dataset size (bytes) the emulator accepts. */
export const DEFAULT_MAX_DATASET_BYTES = 100 * 1024 * 1024;

function failure(failureReason: string, message: string): DatasetCheck {
  return { ok: false, failureReason, message };
}

function formatSize(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)}MB`;
  if (bytes % 1024 === 0) return `${bytes / 1024}KB`;
  return `${bytes}B`;
}

/**
 * Checks a dataset file (name + bytes) under `rules` (default: strict) and returns its rows or
 * the documented failure.
 */
export function checkDataset(
  fileName: string,
  bytes: Uint8Array,
  opts: { maxBytes?: number; rules?: DatasetRules } = {},
): DatasetCheck {
  const rules = opts.rules ?? datasetRules("strict");
  // rule: dataset.extension
  const lower = fileName.toLowerCase();
  const kind = lower.endsWith(".csv") ? "csv" : lower.endsWith(".jsonl") ? "jsonl" : undefined;
  if (!kind) {
    return failure(
      "file.extension",
      "Unavailable file extension. Please check the file extension again.",
    );
  }
  const max = opts.maxBytes ?? DEFAULT_MAX_DATASET_BYTES;
  if (bytes.length > max) {
    return failure(
      "file.size",
      `Exceeded the disk usage limit. Please check if the file size is ${formatSize(max)} or less.`,
    );
  }
  // rule: dataset.encoding
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return failure("file.encoding", "Unsupported charset");
  }
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  if (rules.requireBom && !bom) return failure("file.encoding", "Unsupported charset");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return failure("file.encoding", "Unsupported charset");
  }
  let header: string[];
  let records: string[][];
  if (kind === "csv") {
    try {
      const all = parse(text, { relax_quotes: false, skip_empty_lines: true }) as string[][];
      header = all[0] ?? [];
      records = all.slice(1);
    } catch (e) {
      const detail = e instanceof Error ? e.message.split("\n")[0] : String(e);
      return failure("file.format", `Invalid dataset: malformed CSV. ${detail}`);
    }
  } else {
    const parsed = parseJsonl(text);
    if ("error" in parsed) return failure("file.format", `Invalid json format. ${parsed.error}`);
    [header, records] = [parsed.header, parsed.records];
  }
  return checkTable(header.map((h) => h.trim()), records, rules);
}

function parseJsonl(
  text: string,
): { header: string[]; records: string[][] } | { error: string } {
  const header: string[] = [];
  const objects: Record<string, unknown>[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(lines[i]);
    } catch (e) {
      return { error: `line ${i + 1}: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (!value || typeof value !== "object" || Array.isArray(value)) {
      return { error: `line ${i + 1}: not a JSON object` };
    }
    for (const k of Object.keys(value)) if (!header.includes(k)) header.push(k);
    objects.push(value as Record<string, unknown>);
  }
  const records = objects.map((o) =>
    header.map((h) => (o[h] === undefined || o[h] === null ? "" : String(o[h])))
  );
  return { header, records };
}

function checkTable(header: string[], records: string[][], rules: DatasetRules): DatasetCheck {
  const canonical: (typeof COLUMN_ORDER)[number][] = [];
  const seen = new Set<string>();
  for (const h of header) {
    const key = h.toLowerCase();
    if (seen.has(key)) return failure("file.format", `Invalid dataset: duplicate columns. ${h}`);
    seen.add(key);
    const name = COLUMN_ORDER.find((c) => c.toLowerCase() === key);
    if (!name) return failure("file.format", `Invalid dataset: unexpected column. ${h}`);
    canonical.push(name);
  }
  // rule: dataset.columns (C_ID and T_ID only under strict)
  const required = rules.requireIds
    ? ["C_ID", "T_ID", "Text", "Completion"] as const
    : ["Text", "Completion"] as const;
  for (const name of required) {
    if (!canonical.includes(name)) {
      return failure("file.format", `Invalid dataset: required field empty. ${name}`);
    }
  }
  const hasC = canonical.includes("C_ID");
  const hasT = canonical.includes("T_ID");
  if (hasC !== hasT) {
    return failure(
      "file.format",
      `Invalid dataset: required field empty. ${hasC ? "T_ID" : "C_ID"}`,
    );
  }
  const order = canonical.map((c) => COLUMN_ORDER.indexOf(c));
  for (let i = 1; i < order.length; i++) {
    if (order[i] < order[i - 1]) return failure("file.format", "Invalid dataset: column order");
  }
  if (records.length === 0) {
    return failure("file.format", "Invalid dataset: required field empty. Text");
  }
  const [iS, iC, iT, iX, iY] = COLUMN_ORDER.map((name) => canonical.indexOf(name));
  const rows: DatasetRow[] = [];
  let tokens = 0;
  let prevC = -1;
  let prevT = -1;
  for (const r of records) {
    const text = r[iX] ?? "";
    const completion = r[iY] ?? "";
    // rule: dataset.required
    if (!text.trim()) return failure("file.format", "Invalid dataset: required field empty. Text");
    if (!completion.trim()) {
      return failure("file.format", "Invalid dataset: required field empty. Completion");
    }
    if (hasC) {
      // rule: dataset.ids
      const c = parseId(r[iC]);
      const t = parseId(r[iT]);
      if (c === undefined || (c !== prevC && c !== prevC + 1)) {
        return failure("file.format", "Invalid dataset: C_ID");
      }
      if (t === undefined || (c === prevC ? t !== prevT + 1 : t !== 0)) {
        return failure("file.format", "Invalid dataset: T_ID");
      }
      [prevC, prevT] = [c, t];
    }
    const row: DatasetRow = { text, completion };
    if (iS >= 0) row.system = r[iS] ?? "";
    tokens += countTokens(row.system ?? "") + countTokens(text) + countTokens(completion);
    rows.push(row);
  }
  // rule: dataset.min-rows
  if (rows.length < rules.minRows) {
    return failure(
      "file.format",
      `Invalid dataset: at least ${rules.minRows} rows are required (found ${rows.length})`,
    );
  }
  return { ok: true, rows, tokens };
}

function parseId(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number(value);
}
