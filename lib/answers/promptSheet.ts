/**
 * Prompt sheets (XLSX or CSV) read as a stream of {@link Prompt}s: the cookbook's `system` and
 * `user` columns (both required, header names case-insensitive; `system` may be empty in a row,
 * `user` may not), plus our optional metadata (`prompt_id`, `country_count`, `continent_count`,
 * `countries`). XLSX by default, CSV when the name ends in `.csv`. Blank rows are skipped.
 *
 * Every problem — unreadable or non-XLSX file, empty file, workbook or sheet, a missing column, an
 * empty prompt, a malformed number, a repeated prompt id — is a {@link SheetError} naming the
 * file, sheet, row and column.
 *
 * {@link openPromptSheet} reads a sheet's rows as they come (csv-parse's stream for a CSV, the
 * sheet's XML inflated and parsed as it is read for an XLSX: `lib/sheets/xlsxStream.ts`), so a sheet of
 * a million prompts is never held in memory. The batch
 * runner reads a sheet once to check it and once per repeat. {@link readPromptSheet} collects a
 * small sheet.
 *
 * @module
 */
import type { Writable } from "node:stream";
import { createReadStream } from "node:fs";
import { parse } from "csv-parse";
import { z } from "zod";
import type { Prompt } from "../run/mod.ts";
import { SheetError } from "../sheets/mod.ts";
import {
  decodeTextStream,
  openXlsxSheet,
  TextEncodingError,
  XlsxFormatError,
} from "../sheets/mod.ts";

/** Options for {@link openPromptSheet} and {@link readPromptSheet}. */
export interface ReadPromptSheetOptions {
  /** Worksheet name (XLSX); default the first sheet. */
  sheet?: string;
}

/** A prompt sheet that can be read (as a stream) as often as needed. */
export interface PromptSheet {
  readonly path: string;
  /** Streams the sheet's prompts in row order; throws {@link SheetError} at a bad row. */
  open(): AsyncIterable<Prompt>;
}

const optionalCount = z.string().trim().refine(
  (s) => s === "" || /^[1-9]\d*$/.test(s),
  { message: "expected a positive whole number" },
).transform((s) => (s === "" ? undefined : Number(s)));

const promptRowSchema = z.object({
  system: z.string(),
  user: z.string().refine((s) => s.trim() !== "", { message: "the prompt is empty" }),
  prompt_id: z.string().trim(),
  country_count: optionalCount,
  continent_count: optionalCount,
  countries: z.string(),
});

/** One row of a sheet as strings (by 0-based column). */
interface Row {
  row: number;
  cells: string[];
}

/** Where a sheet's rows come from. */
interface RowSource {
  /** The worksheet's name (XLSX), once known. */
  sheet(): string | undefined;
  rows: AsyncIterable<Row>;
  /** Column label for messages, by 0-based index (e.g. `B` for XLSX, `2` for CSV). */
  columnLabel: (index: number) => string;
}

function columnLetter(index: number): string {
  let n = index + 1;
  let s = "";
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

async function firstBytes(path: string, n: number): Promise<Uint8Array> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw new SheetError({ file: path }, `cannot read the file: ${(e as Error).message}`);
  }
  try {
    const buf = new Uint8Array(n);
    const got = (await file.read(buf)) ?? 0;
    return buf.subarray(0, got);
  } finally {
    file.close();
  }
}

/**
 * The rows of an XLSX sheet, streamed (`lib/sheets/xlsxStream.ts`): memory stays flat however many
 * prompts the sheet holds.
 */
function xlsxRows(path: string, sheetName: string | undefined): RowSource {
  let name: string | undefined;
  async function* rows(): AsyncGenerator<Row> {
    let opened: Awaited<ReturnType<typeof openXlsxSheet>>;
    try {
      opened = await openXlsxSheet(path, sheetName);
    } catch (e) {
      if (e instanceof XlsxFormatError && /has no sheets/.test(e.message)) {
        throw new SheetError({ file: path }, "the workbook has no sheets");
      }
      throw new SheetError({ file: path }, `cannot read the workbook: ${(e as Error).message}`);
    }
    if (sheetName !== undefined && !opened.sheets.includes(sheetName)) {
      throw new SheetError(
        { file: path, sheet: sheetName },
        `no such sheet; the workbook has ${opened.sheets.map((w) => `"${w}"`).join(", ")}`,
      );
    }
    name = opened.sheet;
    try {
      for await (const r of opened.rows) {
        const cells = r.cells.map((c, i) => {
          if (typeof c === "string") return c;
          throw new SheetError(
            { file: path, sheet: name, row: r.row, column: columnLetter(i) },
            "the cell holds an error value",
          );
        });
        yield { row: r.row, cells };
      }
    } catch (e) {
      if (e instanceof SheetError) throw e;
      throw new SheetError({ file: path }, `cannot read the workbook: ${(e as Error).message}`);
    }
  }
  return { sheet: () => name, rows: rows(), columnLabel: columnLetter };
}

/**
 * Waits until `stream` drains or closes (a destroyed stream closes), leaving no listener behind:
 * a sheet read many times would otherwise pile up one `close` listener per wait.
 */
function drainedOrClosed(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}

function csvRows(path: string): RowSource {
  async function* rows(): AsyncGenerator<Row> {
    // The bytes are decoded strictly in the encoding they show (UTF-8, UTF-16 with its mark,
    // Excel's Korean CP949) before csv-parse sees them; see lib/sheets/textEncoding.ts.
    const parser = parse({ relax_column_count: true, skip_empty_lines: false });
    const feeding = (async () => {
      try {
        const bytes = createReadStream(path);
        try {
          for await (const text of decodeTextStream(bytes, path)) {
            if (parser.destroyed) return; // the reader stopped early
            if (!parser.write(text)) await drainedOrClosed(parser);
          }
        } finally {
          bytes.destroy();
        }
        if (!parser.destroyed) parser.end();
      } catch (e) {
        parser.destroy(e as Error);
      }
    })();
    let row = 0;
    try {
      for await (const cells of parser) yield { row: ++row, cells: cells as string[] };
      await feeding;
    } catch (e) {
      if (e instanceof TextEncodingError) throw new SheetError({ file: path }, e.reason);
      const lines = (e as { lines?: number }).lines;
      throw new SheetError(
        { file: path },
        `malformed CSV${lines ? ` near line ${lines}` : ""}: ${(e as Error).message}`,
      );
    }
  }
  return { sheet: () => undefined, rows: rows(), columnLabel: (i) => String(i + 1) };
}

/** The prompts of a sheet's rows, with their row numbers. */
async function* promptsOf(
  path: string,
  source: RowSource,
): AsyncGenerator<{ prompt: Prompt; row: number; where: (column: string) => SheetError }> {
  const at = (row?: number, column?: string) => ({
    file: path,
    sheet: source.sheet(),
    row,
    column,
  });
  let header: Row | undefined;
  const index = new Map<string, number>();
  const label = (name: string) => {
    const i = index.get(name);
    return i === undefined ? name : `${source.columnLabel(i)} (${name})`;
  };
  let prompts = 0;
  for await (const r of source.rows) {
    if (!r.cells.some((c) => c.trim() !== "")) continue;
    if (!header) {
      header = r;
      r.cells.forEach((name, i) => {
        const key = name.trim().toLowerCase();
        if (key === "") return;
        if (index.has(key)) {
          throw new SheetError(
            at(r.row, `${source.columnLabel(i)} (${key})`),
            `column "${key}" appears twice`,
          );
        }
        index.set(key, i);
      });
      for (const required of ["system", "user"]) {
        if (!index.has(required)) {
          throw new SheetError(
            at(r.row, required),
            `no "${required}" column in the header (found: ${
              r.cells.filter((c) => c.trim()).map((c) => JSON.stringify(c.trim())).join(", ")
            })`,
          );
        }
      }
      continue;
    }
    const get = (name: string) => {
      const i = index.get(name);
      return i === undefined ? "" : (r.cells[i] ?? "");
    };
    const parsed = promptRowSchema.safeParse({
      system: get("system"),
      user: get("user"),
      prompt_id: get("prompt_id"),
      country_count: get("country_count"),
      continent_count: get("continent_count"),
      countries: get("countries"),
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const column = String(issue.path[0] ?? "");
      const value = get(column);
      throw new SheetError(
        at(r.row, label(column)),
        `${issue.message}${value.trim() === "" ? "" : ` (got ${JSON.stringify(value)})`}`,
      );
    }
    const v = parsed.data;
    const countries = v.countries.split(",").map((s) => s.trim()).filter((s) => s !== "");
    prompts++;
    yield {
      prompt: {
        id: v.prompt_id === "" ? `r${r.row}` : v.prompt_id,
        system: v.system,
        user: v.user,
        countries,
        countryCount: v.country_count ?? countries.length,
        continentCount: v.continent_count ?? 0,
      },
      row: r.row,
      where: (column: string) => new SheetError(at(r.row, label(column)), ""),
    };
  }
  if (!header) throw new SheetError(at(), "the sheet is empty (no header row)");
  if (prompts === 0) throw new SheetError(at(), "the sheet has a header but no prompt rows");
}

async function check(path: string): Promise<void> {
  const head = await firstBytes(path, 4);
  if (head.length === 0) throw new SheetError({ file: path }, "the file is empty");
  const csv = /\.csv$/i.test(path);
  const zip = head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 &&
    head[3] === 0x04;
  if (!csv && !zip) {
    throw new SheetError(
      { file: path },
      "not an XLSX workbook (no ZIP signature; is it a CSV or an old .xls saved under .xlsx?)",
    );
  }
}

function sourceOf(path: string, opts: ReadPromptSheetOptions): RowSource {
  return /\.csv$/i.test(path) ? csvRows(path) : xlsxRows(path, opts.sheet);
}

/**
 * A prompt sheet to stream (see the module doc). The file is checked when it is first read;
 * repeated prompt ids are found by whoever reads all of it (the batch runner checks them before
 * its first request).
 */
export function openPromptSheet(path: string, opts: ReadPromptSheetOptions = {}): PromptSheet {
  return {
    path,
    async *open() {
      await check(path);
      for await (const p of promptsOf(path, sourceOf(path, opts))) yield p.prompt;
    },
  };
}

/**
 * Reads a whole prompt sheet (see the module doc); a repeated prompt id is a {@link SheetError}
 * naming both rows.
 */
export async function readPromptSheet(
  path: string,
  opts: ReadPromptSheetOptions = {},
): Promise<Prompt[]> {
  await check(path);
  const out: Prompt[] = [];
  const seen = new Map<string, number>();
  for await (const { prompt, row, where } of promptsOf(path, sourceOf(path, opts))) {
    const earlier = seen.get(prompt.id);
    if (earlier !== undefined) {
      const e = where("prompt_id");
      throw new SheetError(
        { file: e.file, sheet: e.sheet, row: e.row, column: e.column },
        `prompt id ${JSON.stringify(prompt.id)} repeats row ${earlier}`,
      );
    }
    seen.set(prompt.id, row);
    out.push(prompt);
  }
  return out;
}
