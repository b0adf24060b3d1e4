/**
 * A small taxonomy made in the tests: 24 foods in four groups, written as a task's CSV.
 *
 * @module
 */
import { join } from "node:path";

/** The foods of each group. */
export const FOOD: Readonly<Record<string, readonly string[]>> = {
  "과일": ["사과", "배", "복숭아", "포도", "자두", "감"],
  "채소": ["당근", "무", "배추", "양파", "마늘", "오이"],
  "곡물": ["쌀", "보리", "밀", "귀리", "수수", "조"],
  "견과": ["호두", "잣", "밤", "땅콩", "아몬드", "캐슈넛"],
};

/**
 * Writes the food taxonomy to `<dir>/food.csv` and returns its path: `item,group`, or with
 * `excel` as Excel saves it (a BOM, CRLF, an empty `aliases` column).
 */
export async function writeFoodCsv(dir: string, opts: { excel?: boolean } = {}): Promise<string> {
  const path = join(dir, "food.csv");
  const rows = Object.entries(FOOD).flatMap(([g, list]) =>
    list.map((i) => opts.excel ? `${i},${g},` : `${i},${g}`)
  );
  await Deno.writeTextFile(
    path,
    opts.excel
      ? "\ufeffitem,group,aliases\r\n" + rows.join("\r\n")
      : "item,group\n" + rows.join("\n"),
  );
  return path;
}
