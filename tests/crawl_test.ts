import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
  rejects as assertRejects,
} from "node:assert/strict";
import {
  buildCountriesData,
  continentFromRegion,
  crawlCountries,
  CrawlError,
  readCountriesData,
  readSource,
  type SourceCountry,
  SourceSchema,
} from "../lib/crawl/crawl.ts";
import { writeFileAtomic } from "../lib/io/mod.ts";
import { main } from "../lib/cli/crawl.ts";
import { UsageError } from "../lib/cli/args.ts";
import { getTaxonomy } from "../lib/countries/taxonomy.ts";
import { COOKBOOK_COUNTRIES } from "../lib/cookbook.ts";

const FIXTURE = new URL("../data/mledoze-countries.json", import.meta.url).pathname;
const COMMITTED = new URL("../data/countries.json", import.meta.url).pathname;
const fixtureEntries: SourceCountry[] = SourceSchema.parse(
  JSON.parse(await Deno.readTextFile(FIXTURE)),
);

Deno.test("fixture: 193 members, the Vatican excluded as an observer", () => {
  const data = buildCountriesData(fixtureEntries);
  assertEquals(data.source.entries, 250);
  assertEquals(data.source.unMembersInSource, 194);
  assertEquals(data.count, 193);
  assertEquals(data.countries.length, 193);
  assert(!data.countries.some((c) => c.code === "VA"));
  assertEquals(data.corrections.map((c) => c.code), ["VA"]);
  const va = data.nonMembers.find((n) => n.code === "VA");
  assertEquals(va?.status, "observer");
});

Deno.test("fixture: diff against the cookbook finds DR Congo and the typo", () => {
  const diff = buildCountriesData(fixtureEntries).cookbookDiff;
  assertEquals(diff.missingFromCookbook.map((m) => [m.code, m.continent]), [["CD", "아프리카"]]);
  assertEquals(diff.firstListingTypos, [{
    listed: "도미니카 공화국터",
    intended: "도미니카 공화국",
    listedResolvesTo: null,
    intendedResolvesTo: "DO",
  }]);
  assertEquals(diff.unresolvedCookbookNames, []);
  assertEquals(diff.continentDifferences, []);
  const spelling = new Map(diff.spellingDifferences.map((d) => [d.code, d]));
  assertEquals(spelling.get("AE")?.spacingOnly, true);
  assertEquals(spelling.get("AU")?.source, "호주");
  assertEquals(spelling.get("DM")?.source, "도미니카 공화국");
  assertEquals(spelling.get("MR")?.cookbook, "모리타니아");
  assert(!spelling.has("FR"));
});

Deno.test("fixture: continents follow the cookbook for all 192 listed names", () => {
  const data = buildCountriesData(fixtureEntries);
  for (const [continent, names] of Object.entries(COOKBOOK_COUNTRIES)) {
    for (const name of names) {
      const c = data.countries.find((x) => x.name === name);
      assertEquals(c?.continent, continent, name);
    }
  }
  assertEquals(continentFromRegion("Americas", "Caribbean"), "북아메리카");
  assertEquals(continentFromRegion("Americas", "South America"), "남아메리카");
  assertEquals(continentFromRegion("Antarctic", ""), undefined);
});

Deno.test("fixture: output equals the committed data/countries.json byte for byte", async () => {
  const { text } = await crawlCountries({ source: FIXTURE });
  assertEquals(text, await Deno.readTextFile(COMMITTED));
  const again = await crawlCountries({ source: FIXTURE });
  assertEquals(again.text, text);
  assertEquals(getTaxonomy().countries.length, 193);
});

Deno.test("crawl over real HTTP writes atomically and leaves no temp file", async () => {
  const body = await Deno.readFile(FIXTURE);
  const dir = await Deno.makeTempDir();
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(body, { headers: { "content-type": "application/json" } }),
  );
  const url = `http://127.0.0.1:${server.addr.port}/v3.1/all`;
  const out = `${dir}/countries.json`;
  await Deno.writeTextFile(out, "OLD");
  const result = await crawlCountries({ source: url, out });
  assertEquals(result.written, out);
  assertEquals(result.data.source.kind, "url");
  assertEquals(result.data.source.location, url);
  assertEquals(result.data.count, 193);
  const written = await Deno.readTextFile(out);
  assertEquals(written, result.text);
  const names = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  assertEquals(names, ["countries.json"]);
  await Deno.remove(dir, { recursive: true });
});

/** Starts a local server with bad responses; returns its base URL. */
function badServer() {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/html") {
      return new Response("<html><body>Service Unavailable</body></html>", {
        headers: { "content-type": "text/html" },
      });
    }
    if (path === "/wrong") {
      return Response.json([{ name: "France", code: "FR", member: true }]);
    }
    if (path === "/half") {
      return Response.json([{ name: { common: "X", official: "X" }, cca2: "XX", unMember: "yes" }]);
    }
    return new Response("nope", { status: 404, statusText: "Not Found" });
  });
}

async function assertFailsUntouched(source: string, stage: string, pattern: RegExp) {
  const dir = await Deno.makeTempDir();
  const out = `${dir}/countries.json`;
  await Deno.writeTextFile(out, "OLD CONTENT");
  await assertRejects(crawlCountries({ source, out, timeoutMs: 5000 }), (err: unknown) => {
    assert(err instanceof CrawlError, String(err));
    assertEquals(err.stage, stage);
    assertEquals(err.source, source);
    assert(err.message.includes(source), err.message);
    assertMatch(err.message, pattern);
    return true;
  });
  assertEquals(await Deno.readTextFile(out), "OLD CONTENT");
  const names = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  assertEquals(names, ["countries.json"]);
  await Deno.remove(dir, { recursive: true });
}

Deno.test("a non-JSON body is a clear parse error and leaves the file untouched", async () => {
  await using server = badServer();
  const base = `http://127.0.0.1:${server.addr.port}`;
  await assertFailsUntouched(`${base}/html`, "parse", /not JSON.*<html>/s);
});

Deno.test("a wrong-schema body is a clear schema error and leaves the file untouched", async () => {
  await using server = badServer();
  const base = `http://127.0.0.1:${server.addr.port}`;
  await assertFailsUntouched(`${base}/wrong`, "schema", /schema[\s\S]*cca2/);
  await assertFailsUntouched(`${base}/half`, "schema", /unMember/);
});

Deno.test("an HTTP error status is a fetch error and leaves the file untouched", async () => {
  await using server = badServer();
  await assertFailsUntouched(`http://127.0.0.1:${server.addr.port}/missing`, "fetch", /404/);
});

Deno.test("an unreachable URL is a fetch error and leaves the file untouched", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(),
  );
  const port = server.addr.port;
  await server.shutdown();
  await assertFailsUntouched(`http://127.0.0.1:${port}/v3.1/all`, "fetch", /request failed/);
});

Deno.test("a missing file and a wrong member count are clear errors", async () => {
  await assertFailsUntouched("/nonexistent/countries-source.json", "fetch", /cannot read file/);
  const dir = await Deno.makeTempDir();
  const short = `${dir}/short.json`;
  const raw = JSON.parse(await Deno.readTextFile(FIXTURE)) as { cca2: string }[];
  await Deno.writeTextFile(short, JSON.stringify(raw.filter((e) => e.cca2 !== "FR")));
  await assertFailsUntouched(short, "content", /expected 193 UN members.*found 192/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("readSource tolerates unknown fields and records the file's hash", async () => {
  const { entries, info } = await readSource(FIXTURE);
  assertEquals(entries.length, 250);
  assertEquals(info.kind, "file");
  assertEquals(info.location, "mledoze-countries.json");
  assertMatch(info.sha256, /^[0-9a-f]{64}$/);
  assert("capital" in entries[0]);
});

Deno.test("writeFileAtomic replaces the target in one step", async () => {
  const dir = await Deno.makeTempDir();
  const out = `${dir}/x.json`;
  await writeFileAtomic(out, "one");
  await writeFileAtomic(out, "two");
  assertEquals(await Deno.readTextFile(out), "two");
  await assertRejects(writeFileAtomic(`${dir}/missing-dir/x.json`, "three"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("CLI: --file writes, a bad --url exits 1, bad flags are a UsageError", async () => {
  const dir = await Deno.makeTempDir();
  const out = `${dir}/countries.json`;
  const log = console.log, error = console.error;
  const printed: string[] = [];
  console.log = (...a: unknown[]) => printed.push(a.join(" "));
  console.error = (...a: unknown[]) => printed.push(a.join(" "));
  try {
    assertEquals(await main(["--file", FIXTURE, "--out", out]), 0);
    assertEquals(await Deno.readTextFile(out), await Deno.readTextFile(COMMITTED));
    assertMatch(printed.join("\n"), /missing from the cookbook: 콩고 민주 공화국/);
    assertMatch(printed.join("\n"), /도미니카 공화국터/);
    await using server = badServer();
    assertEquals(
      await main(["--url", `http://127.0.0.1:${server.addr.port}/html`, "--out", out]),
      1,
    );
    await assertRejects(() => main(["--bogus"]), new UsageError("unknown flag --bogus"));
    await assertRejects(
      () => main(["--url", "http://x", "--file", FIXTURE]),
      new UsageError("give --url or --file, not both"),
    );
  } finally {
    console.log = log;
    console.error = error;
  }
  assertEquals(await Deno.readTextFile(out), await Deno.readTextFile(COMMITTED));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("readCountriesData validates the committed file, recorded diff included", async () => {
  const data = await readCountriesData();
  assertEquals(data.count, 193);
  assertEquals(data.source.location, "mledoze-countries.json");
  assertEquals(data.cookbookDiff.missingFromCookbook.map((m) => m.code), ["CD"]);
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify({ ...data, cookbookDiff: {} }));
  await assertRejects(readCountriesData(`${dir}/bad.json`), /not a crawler output/);
  await Deno.remove(dir, { recursive: true });
});
