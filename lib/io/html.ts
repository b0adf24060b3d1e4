/**
 * Small HTML helpers shared by the report and notebooks: escaping and plain tables.
 *
 * Everything that can carry model output or file contents goes through {@link escapeHtml};
 * the table helpers escape every cell unless it is explicitly marked as trusted HTML.
 * @module
 */

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes `& < > " '` so the text is safe in HTML element content and quoted attributes. */
export function escapeHtml(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** A cell value that is already HTML (built from escaped parts); inserted verbatim. */
export interface TrustedHtml {
  readonly html: string;
}

/** Marks an HTML fragment as trusted so table helpers insert it without escaping. */
export function trustedHtml(html: string): TrustedHtml {
  return { html };
}

/** A table cell: plain text/number (escaped), `null`/`undefined` (shown as "–"), or trusted HTML. */
export type Cell = string | number | null | undefined | TrustedHtml;

function isTrusted(cell: Cell): cell is TrustedHtml {
  return typeof cell === "object" && cell !== null && "html" in cell;
}

/** Renders one cell's content (escaped unless trusted). Numbers that are NaN show as "–". */
export function cellHtml(cell: Cell): string {
  if (isTrusted(cell)) return cell.html;
  if (cell === null || cell === undefined) return "–";
  if (typeof cell === "number" && Number.isNaN(cell)) return "–";
  return escapeHtml(cell);
}

/** Options for {@link htmlTable}. */
export interface TableOptions {
  /** Caption shown above the table (escaped). */
  caption?: string;
  /** CSS class on the `<table>`. */
  className?: string;
  /** Column indexes that hold numbers (right-aligned). */
  numeric?: readonly number[];
  /** Optional header rows above `headers` (cells may span columns). */
  groupHeaders?: readonly { label: string; span: number }[];
}

/** Renders a table with one header row and escaped cells. */
export function htmlTable(
  headers: readonly Cell[],
  rows: readonly (readonly Cell[])[],
  opts: TableOptions = {},
): string {
  const numeric = new Set(opts.numeric ?? []);
  const cls = opts.className ? ` class="${escapeHtml(opts.className)}"` : "";
  const caption = opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : "";
  const group = opts.groupHeaders
    ? `<tr>${
      opts.groupHeaders.map((g) =>
        `<th scope="colgroup" colspan="${g.span}">${escapeHtml(g.label)}</th>`
      ).join("")
    }</tr>`
    : "";
  const head = `<tr>${headers.map((h) => `<th scope="col">${cellHtml(h)}</th>`).join("")}</tr>`;
  const body = rows.map((row) =>
    `<tr>${
      row.map((c, i) => `<td${numeric.has(i) ? ' class="num"' : ""}>${cellHtml(c)}</td>`).join("")
    }</tr>`
  ).join("\n");
  return `<table${cls}>${caption}<thead>${group}${head}</thead><tbody>\n${body}\n</tbody></table>`;
}

/** Renders a two-column key/value table (keys as row headers). */
export function keyValueTable(
  entries: readonly (readonly [string, Cell])[],
  opts: { caption?: string; className?: string } = {},
): string {
  const cls = opts.className ? ` class="${escapeHtml(opts.className)}"` : "";
  const caption = opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : "";
  const body = entries.map(([k, v]) =>
    `<tr><th scope="row">${escapeHtml(k)}</th><td>${cellHtml(v)}</td></tr>`
  ).join("\n");
  return `<table${cls}>${caption}<tbody>\n${body}\n</tbody></table>`;
}
