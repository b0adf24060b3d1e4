/**
 * Prompt and tuning sheets in the encodings people save them in: UTF-8 with and without a
 * byte-order mark, UTF-16 with one, and Excel's Korean CSV (CP949 / EUC-KR), each read as the
 * same text; UTF-16 without a mark and bytes in no accepted encoding refused in one line that
 * says how to re-save. The CP949 files are made here, by inverting the WHATWG `euc-kr` decoder.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { readPromptSheet } from "../lib/answers/promptSheet.ts";
import { readTuningCsv, SheetError } from "../lib/datasets/sheets.ts";
import { decodeText, detectEncoding } from "../lib/sheets/textEncoding.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const dir = await Deno.makeTempDir({ prefix: "text_encoding_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

/** Every two-byte CP949 character, by the decoder's own table: character → its bytes. */
const CP949 = (() => {
  const map = new Map<string, [number, number]>();
  const decoder = new TextDecoder("euc-kr", { fatal: true });
  for (let lead = 0x81; lead <= 0xfe; lead++) {
    for (let trail = 0x41; trail <= 0xfe; trail++) {
      try {
        const ch = decoder.decode(new Uint8Array([lead, trail]));
        if ([...ch].length === 1 && !map.has(ch)) map.set(ch, [lead, trail]);
      } catch {
        // not a character
      }
    }
  }
  return map;
})();

function cp949(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code < 0x80) out.push(code);
    else {
      const bytes = CP949.get(ch);
      if (!bytes) throw new Error(`no CP949 bytes for ${ch}`);
      out.push(...bytes);
    }
  }
  return new Uint8Array(out);
}

function utf16(text: string, endian: "le" | "be", bom: boolean): Uint8Array {
  const body = (bom ? "\ufeff" : "") + text;
  const out = new Uint8Array(body.length * 2);
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    out[2 * i + (endian === "le" ? 0 : 1)] = c & 0xff;
    out[2 * i + (endian === "le" ? 1 : 0)] = c >> 8;
  }
  return out;
}

const utf8 = (text: string, bom: boolean) => new TextEncoder().encode((bom ? "\ufeff" : "") + text);

const PROMPTS_CSV = "system,user,countries\r\n" +
  '너는 분류 전문가야,"목록에서 나라를 대륙별로 분류해줘.\n\n프랑스, 일본, 대한민국",' +
  '"프랑스,일본,대한민국"\r\n' +
  ',"케냐, 브라질을 대륙별로 묶어줘","케냐,브라질"\r\n';

const TUNING_CSV = "C_ID,T_ID,Text,Completion\r\n" +
  '0,0,"프랑스, 일본을 분류해줘","아시아: 일본\n유럽: 프랑스"\r\n' +
  '1,0,"케냐, 칠레를 분류해줘","아프리카: 케냐\n남아메리카: 칠레"\r\n';

const ENCODINGS: [string, (text: string) => Uint8Array][] = [
  ["UTF-8", (t) => utf8(t, false)],
  ["UTF-8 with BOM", (t) => utf8(t, true)],
  ["UTF-16LE with BOM", (t) => utf16(t, "le", true)],
  ["UTF-16BE with BOM", (t) => utf16(t, "be", true)],
  ["CP949 (Excel's Korean CSV)", cp949],
];

Deno.test("encodings: a prompt CSV reads the same in UTF-8 (±BOM), UTF-16 with BOM and CP949", async () => {
  const expected = await readPromptSheet(await write("expected.csv", utf8(PROMPTS_CSV, false)));
  assertEquals(expected.map((p) => p.countries), [["프랑스", "일본", "대한민국"], [
    "케냐",
    "브라질",
  ]]);
  for (const [name, encode] of ENCODINGS) {
    const path = await write(`prompts-${name.replace(/\W+/g, "_")}.csv`, encode(PROMPTS_CSV));
    assertEquals(await readPromptSheet(path), expected, name);
  }
});

Deno.test("encodings: a tuning CSV reads the same in UTF-8, UTF-16 with BOM and CP949", async () => {
  const expected = (await readTuningCsv(await write("t.csv", utf8(TUNING_CSV, true)))).rows;
  assertEquals(expected.length, 2);
  for (const [name, encode] of ENCODINGS) {
    const path = await write(`tuning-${name.replace(/\W+/g, "_")}.csv`, encode(TUNING_CSV));
    assertEquals((await readTuningCsv(path)).rows, expected, name);
  }
});

Deno.test("encodings: a large CP949 prompt CSV streams whole, its characters split across chunks", async () => {
  let csv = "system,user\r\n";
  for (let i = 0; i < 4000; i++) {
    csv += `,${i}번 목록에서 나라를 대륙별로 분류해줘: 프랑스와 일본\r\n`;
  }
  const path = await write("big-cp949.csv", cp949(csv));
  const prompts = await readPromptSheet(path);
  assertEquals(prompts.length, 4000);
  assertEquals(prompts[3999].user, "3999번 목록에서 나라를 대륙별로 분류해줘: 프랑스와 일본");
});

Deno.test("encodings: UTF-16 without a BOM, Latin-1 and broken bytes are refused in one line saying how to re-save", async () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ["utf16-nobom.csv", utf16(PROMPTS_CSV, "le", false), /UTF-16 text without a byte-order mark/],
    ["latin1.csv", new Uint8Array([...utf8("system,user\n,caf", false), 0xe9, 0x0a]), /not UTF-8/],
    [
      // CP949 for 64 KiB, then a byte sequence valid in no encoding.
      "cp949-broken.csv",
      new Uint8Array([
        ...cp949("system,user\r\n" + ",프랑스와 일본을 분류해줘\r\n".repeat(3000)),
        0xff,
        0xff,
        0x0a,
      ]),
      /not valid CP949 \(EUC-KR\) text throughout/,
    ],
  ];
  for (const [name, bytes, reason] of cases) {
    const path = await write(name, bytes);
    for (const read of [() => readPromptSheet(path), () => readTuningCsv(path)]) {
      const e = await read().then(() => undefined, (e) => e);
      assert(e instanceof SheetError, `${name}: ${e}`);
      assert(reason.test(e.message), `${name}: ${e.message}`);
      assert(e.message.startsWith(`${path}: `), e.message);
      assert(e.message.includes('re-save it as "CSV UTF-8'), e.message);
      assert(!e.message.includes("\n"), e.message);
    }
  }
});

Deno.test("encodings: detection keeps UTF-8 that happens to be in the first bytes only", () => {
  assertEquals(detectEncoding(utf8("abc", true), "x").encoding, "utf-8");
  assertEquals(detectEncoding(cp949("대한민국"), "x", true).encoding, "euc-kr");
  // A UTF-8 character cut at the end of the head is not a reason to call it CP949.
  assertEquals(detectEncoding(utf8("대한민국", false).subarray(0, 4), "x").encoding, "utf-8");
  assertEquals(decodeText(cp949("system,user\n,대한민국\n"), "x"), "system,user\n,대한민국\n");
});

Deno.test("encodings: evaluate sends a CP949 sheet's Korean text, not mojibake", async () => {
  const input = await write("evaluate-cp949.csv", cp949(PROMPTS_CSV));
  const out = join(dir, "answers.xlsx");
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "lib/cli/evaluate.ts"), "--input", input, "--out", out]
      .concat(["--model", "HCX-003", "--emulator", "--emulator-no-rate-limits"]),
    env: { NO_COLOR: "1", CLOVA_STUDIO_API_KEY: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(r.code, 0, new TextDecoder().decode(r.stderr));
  const lines = (await Deno.readTextFile(join(dir, "answers.jsonl"))).trim().split("\n");
  const users = lines.map((l) => JSON.parse(l).prompt.user).sort();
  assertEquals(users, [
    "목록에서 나라를 대륙별로 분류해줘.\n\n프랑스, 일본, 대한민국",
    "케냐, 브라질을 대륙별로 묶어줘",
  ]);
  assert(!lines.some((l) => l.includes("\ufffd")));
});

async function write(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await Deno.writeFile(path, bytes);
  return path;
}
