/**
 * Tuning-dataset pre-flight: applies the documented rules (extension, size, UTF-8 with BOM,
 * columns and their order, duplicate columns, empty fields, C_ID/T_ID sequences, row minimum) to
 * a CSV before upload. Each problem mirrors the `failureReason` / `message` the service would put
 * on the FAILED task, so a bad dataset is caught before it costs a queue slot.
 * @module
 */
import { parse } from "csv-parse/sync";

/** One finding. */
export interface PreflightProblem {
  /** "error": the service would fail the task (or the guide forbids it); "warning": advice. */
  severity: "error" | "warning";
  /** Stable id of the rule, e.g. "encoding.bom", "columns.order", "rows.minimum". */
  rule: string;
  /** The service's `failureReason` this mirrors ("file.encoding", "file.format", …). */
  failureReason: string;
  /** The service's `message` (templated as documented), or the guide's rule for client-only checks. */
  message: string;
  /** 1-based CSV record number (1 = header) when the problem is in one record. */
  record?: number;
  column?: string;
}

/** Result of {@link preflightTuningCsv}. */
export interface PreflightReport {
  /** No errors (warnings allowed). */
  ok: boolean;
  fileName?: string;
  bytes: number;
  /** Data rows (records after the header). */
  rows: number;
  format: "text-completion" | "instruction" | "unknown";
  /** Header as written. */
  columns: string[];
  problems: PreflightProblem[];
}

/** Options of {@link preflightTuningCsv}. */
export interface PreflightOptions {
  /** File name for the extension check (defaults to the path's name). */
  fileName?: string;
  /** Minimum data rows (guide: 100). */
  minRows?: number;
  /**
   * Require the `C_ID` and `T_ID` columns, as the current instruction-dataset guide does (the
   * 2024 API took `Text,Completion`). Default false.
   */
  requireIds?: boolean;
  /** Size limit in bytes (default 100 MB, the legacy API upload limit). */
  maxBytes?: number;
  /** Per-rule cap on reported row-level problems (default 10). */
  maxPerRule?: number;
}

/** Documented column order of the instruction format. */
export const INSTRUCTION_COLUMNS = ["System_Prompt", "C_ID", "T_ID", "Text", "Completion"] as const;

const MESSAGES = {
  extension: "Unavailable file extension. Please check the file extension again.",
  size: (limit: string) =>
    `Exceeded the disk usage limit. Please check if the file size is ${limit} or less.`,
  encoding: "Unsupported charset",
  requiredEmpty: (c: string) => `Invalid dataset: required field empty. ${c}`,
  unexpected: (c: string) => `Invalid dataset: unexpected column. ${c}`,
  duplicate: (c: string) => `Invalid dataset: duplicate columns. ${c}`,
  order: "Invalid dataset: column order",
  column: (c: string) => `Invalid dataset: ${c}`,
} as const;

function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${+(n / 1024 ** 3).toFixed(1)}GB`;
  if (n >= 1024 ** 2) return `${+(n / 1024 ** 2).toFixed(1)}MB`;
  return `${n}B`;
}

/** Parse CSV text (BOM tolerated) into records; throws csv-parse errors. */
function parseRecords(text: string): string[][] {
  return parse(text, {
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
  }) as string[][];
}

/**
 * Check a tuning CSV given as bytes or a file path. Never throws for dataset problems — they are
 * returned in `problems`; only an unreadable path throws.
 */
export async function preflightTuningCsv(
  input: Uint8Array | string,
  opts: PreflightOptions = {},
): Promise<PreflightReport> {
  const bytes = typeof input === "string" ? await Deno.readFile(input) : input;
  const fileName = opts.fileName ??
    (typeof input === "string" ? input.split(/[\\/]/).pop() : undefined);
  return preflightTuningCsvBytes(bytes, { ...opts, fileName });
}

/** Synchronous core of {@link preflightTuningCsv} for bytes already in memory. */
export function preflightTuningCsvBytes(
  bytes: Uint8Array,
  opts: PreflightOptions = {},
): PreflightReport {
  const problems: PreflightProblem[] = [];
  const maxPerRule = opts.maxPerRule ?? 10;
  const counts = new Map<string, number>();
  const add = (p: Omit<PreflightProblem, "severity"> & { severity?: "error" | "warning" }) => {
    const n = (counts.get(p.rule) ?? 0) + 1;
    counts.set(p.rule, n);
    if (n <= maxPerRule) problems.push({ severity: "error", ...p });
  };
  const report = (
    rows: number,
    format: PreflightReport["format"],
    columns: string[],
  ): PreflightReport => {
    for (const [rule, n] of counts) {
      if (n > maxPerRule) {
        const first = problems.find((p) => p.rule === rule)!;
        problems.push({
          severity: first.severity,
          rule,
          failureReason: first.failureReason,
          message: `… and ${n - maxPerRule} more of this kind`,
        });
      }
    }
    return {
      ok: !problems.some((p) => p.severity === "error"),
      fileName: opts.fileName,
      bytes: bytes.length,
      rows,
      format,
      columns,
      problems,
    };
  };

  if (opts.fileName !== undefined) {
    const lower = opts.fileName.toLowerCase();
    if (lower.endsWith(".jsonl") || lower.endsWith(".json")) {
      add({
        severity: "warning",
        rule: "extension.jsonl",
        failureReason: "file.extension",
        message: "JSONL datasets are accepted by the service but not checked by this pre-flight",
      });
      return report(0, "unknown", []);
    }
    if (!lower.endsWith(".csv")) {
      add({ rule: "extension", failureReason: "file.extension", message: MESSAGES.extension });
    }
  }
  const maxBytes = opts.maxBytes ?? 100 * 1024 * 1024;
  if (bytes.length > maxBytes) {
    add({
      rule: "size",
      failureReason: "file.size",
      message: MESSAGES.size(formatBytes(maxBytes)),
    });
  }
  const hasBom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  if (!hasBom) {
    add({
      rule: "encoding.bom",
      failureReason: "file.encoding",
      message: `${MESSAGES.encoding} (the service requires UTF-8 with BOM, "utf-8-sig")`,
    });
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    add({ rule: "encoding.utf8", failureReason: "file.encoding", message: MESSAGES.encoding });
    return report(0, "unknown", []);
  }
  let records: string[][];
  try {
    records = parseRecords(text);
  } catch (e) {
    add({
      rule: "csv.syntax",
      failureReason: "file.format",
      message: MESSAGES.column(`CSV syntax (${e instanceof Error ? e.message : e})`),
    });
    return report(0, "unknown", []);
  }
  if (records.length === 0) {
    add({
      rule: "columns.required",
      failureReason: "file.format",
      message: MESSAGES.requiredEmpty("Text"),
    });
    return report(0, "unknown", []);
  }
  const header = records[0].map((c) => c.trim());
  const rows = records.length - 1;
  const canon = new Map(INSTRUCTION_COLUMNS.map((c) => [c.toLowerCase(), c]));

  // Columns: duplicates (case-insensitive), unexpected, required, order.
  const seen = new Map<string, string>();
  for (const c of header) {
    const k = c.toLowerCase();
    if (seen.has(k)) {
      add({
        rule: "columns.duplicate",
        failureReason: "file.format",
        message: MESSAGES.duplicate(c),
        column: c,
      });
    } else seen.set(k, c);
    if (!canon.has(k)) {
      add({
        rule: "columns.unexpected",
        failureReason: "file.format",
        message: MESSAGES.unexpected(c),
        column: c,
      });
    }
  }
  const instruction = seen.has("c_id") || seen.has("t_id") || opts.requireIds === true;
  const format: PreflightReport["format"] = instruction ? "instruction" : "text-completion";
  const required = instruction ? ["C_ID", "T_ID", "Text", "Completion"] : ["Text", "Completion"];
  for (const c of required) {
    if (!seen.has(c.toLowerCase())) {
      add({
        rule: "columns.required",
        failureReason: "file.format",
        message: MESSAGES.requiredEmpty(c),
        column: c,
      });
    }
  }
  const known = header.map((c) => c.toLowerCase()).filter((k) => canon.has(k));
  const order = INSTRUCTION_COLUMNS.map((c) => c.toLowerCase());
  const positions = [...new Set(known)].map((k) => order.indexOf(k));
  if (positions.some((p, i) => i > 0 && p < positions[i - 1])) {
    add({ rule: "columns.order", failureReason: "file.format", message: MESSAGES.order });
  }

  // Rows.
  const col = (name: string) => header.findIndex((c) => c.toLowerCase() === name.toLowerCase());
  const iText = col("Text"), iComp = col("Completion"), iC = col("C_ID"), iT = col("T_ID");
  const iSys = col("System_Prompt");
  let prevC = -1, prevT = -1;
  const systemByConversation = new Map<number, string>();
  for (let r = 1; r < records.length; r++) {
    const rec = records[r];
    const record = r + 1;
    if (rec.length !== header.length) {
      add({
        rule: "row.columns",
        failureReason: "file.format",
        message: MESSAGES.column(`row has ${rec.length} fields, header has ${header.length}`),
        record,
      });
    }
    for (const [i, name] of [[iText, "Text"], [iComp, "Completion"]] as const) {
      if (i >= 0 && (rec[i] ?? "").trim() === "") {
        add({
          rule: "row.empty",
          failureReason: "file.format",
          message: MESSAGES.requiredEmpty(name),
          record,
          column: name,
        });
      }
    }
    if (instruction && iC >= 0 && iT >= 0) {
      const c = rec[iC]?.trim() ?? "", t = rec[iT]?.trim() ?? "";
      const cv = /^\d+$/.test(c) ? Number(c) : NaN;
      const tv = /^\d+$/.test(t) ? Number(t) : NaN;
      if (Number.isNaN(cv)) {
        add({
          rule: "row.c_id",
          failureReason: "file.format",
          message: MESSAGES.column("C_ID"),
          record,
          column: "C_ID",
        });
      } else if (!(cv === prevC || cv === prevC + 1)) {
        add({
          rule: "row.c_id",
          failureReason: "file.format",
          message: MESSAGES.column("C_ID"),
          record,
          column: "C_ID",
        });
      }
      if (Number.isNaN(tv)) {
        add({
          rule: "row.t_id",
          failureReason: "file.format",
          message: MESSAGES.column("T_ID"),
          record,
          column: "T_ID",
        });
      } else if (!Number.isNaN(cv)) {
        const expected = cv === prevC ? prevT + 1 : 0;
        if (tv !== expected) {
          add({
            rule: "row.t_id",
            failureReason: "file.format",
            message: MESSAGES.column("T_ID"),
            record,
            column: "T_ID",
          });
        }
      }
      if (!Number.isNaN(cv)) {
        if (iSys >= 0) {
          const sys = rec[iSys] ?? "";
          const before = systemByConversation.get(cv);
          if (before !== undefined && before !== sys) {
            add({
              severity: "warning",
              rule: "row.system_prompt",
              failureReason: "file.format",
              message: "System_Prompt should be the same for every row of one C_ID",
              record,
              column: "System_Prompt",
            });
          } else systemByConversation.set(cv, sys);
        }
        prevT = cv === prevC ? (Number.isNaN(tv) ? prevT + 1 : tv) : (Number.isNaN(tv) ? 0 : tv);
        prevC = cv;
      }
    }
  }
  const minRows = opts.minRows ?? 100;
  if (rows < minRows) {
    add({
      rule: "rows.minimum",
      failureReason: "file.format",
      message: `Invalid dataset: at least ${minRows} rows are required (found ${rows})`,
    });
  }
  return report(rows, format, records[0]);
}

/** Read the Text/Completion (and System_Prompt) cells of a tuning CSV's bytes, for token counting. */
export function readTuningCsvRows(
  bytes: Uint8Array,
): { text: string; completion: string; system?: string }[] {
  const text = new TextDecoder().decode(bytes);
  const records = parseRecords(text);
  if (records.length === 0) return [];
  const header = records[0].map((c) => c.trim().toLowerCase());
  const iText = header.indexOf("text"), iComp = header.indexOf("completion");
  const iSys = header.indexOf("system_prompt");
  if (iText < 0 || iComp < 0) throw new Error("CSV has no Text/Completion columns");
  return records.slice(1).map((r) => ({
    text: r[iText] ?? "",
    completion: r[iComp] ?? "",
    ...(iSys >= 0 && r[iSys] ? { system: r[iSys] } : {}),
  }));
}
