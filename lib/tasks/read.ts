/**
 * Reads a taxonomy you bring: a CSV (UTF-8, with or without BOM) or an Excel workbook (`.xlsx`,
 * its first worksheet) whose header row is `item,group` and, optionally, `aliases` (several
 * aliases in one cell separated by `;` or `|`). Every problem is one line naming the file and the
 * row.
 *
 * @module
 */
import { basename, extname } from "node:path";
import { TaskError } from "../run/mod.ts";
import { csvTable, readTable } from "./table.ts";
import { buildTaxonomy, type TaskTaxonomy, type TaxonomyInput } from "./taxonomy.ts";

const COLUMNS = ["item", "group", "aliases"] as const;
const ALIAS_SEPARATOR = /[;|]/;

/** Splits a table (header first) into taxonomy entries; `where(row)` names a 1-based row. */
function entriesOf(table: readonly (readonly string[])[], file: string): TaxonomyInput[] {
  const name = basename(file);
  if (table.length === 0) throw new TaskError(`${name}: empty file (expected a header item,group)`);
  const header = table[0].map((h) => h.trim().toLowerCase());
  const col = Object.fromEntries(COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<
    typeof COLUMNS[number],
    number
  >;
  if (col.item < 0 || col.group < 0) {
    throw new TaskError(
      `${name}: row 1: the header must name the columns item,group[,aliases] ` +
        `(found ${header.map((h) => JSON.stringify(h)).join(",") || "nothing"})`,
    );
  }
  const unknown = header.filter((h) => h !== "" && !(COLUMNS as readonly string[]).includes(h));
  if (unknown.length) {
    throw new TaskError(`${name}: row 1: unknown column ${JSON.stringify(unknown[0])}`);
  }
  const entries: TaxonomyInput[] = [];
  for (let r = 1; r < table.length; r++) {
    const row = table[r];
    const cell = (c: number) => (c >= 0 ? (row[c] ?? "").trim() : "");
    if (row.every((v) => v.trim() === "")) continue;
    entries.push({
      item: cell(col.item),
      group: cell(col.group),
      aliases: cell(col.aliases).split(ALIAS_SEPARATOR).map((a) => a.trim()).filter(Boolean),
      where: `${name}: row ${r + 1}`,
    });
  }
  if (entries.length === 0) throw new TaskError(`${name}: no items under the header`);
  return entries;
}

/**
 * Reads an `item,group[,aliases]` taxonomy from a `.csv` or `.xlsx` file and builds it (see
 * `buildTaxonomy` for what is refused). The taxonomy is named after the file.
 */
export async function readTaxonomyFile(path: string): Promise<TaskTaxonomy> {
  const table = await readTable(path, "a taxonomy");
  return buildTaxonomy(entriesOf(table, path), { name: basename(path, extname(path)) });
}

/** Reads an `item,group[,aliases]` taxonomy from CSV text (`file` names it in errors). */
export function parseTaxonomyCsv(text: string, file: string): TaskTaxonomy {
  return buildTaxonomy(entriesOf(csvTable(text, file), file), {
    name: basename(file, extname(file)),
  });
}
