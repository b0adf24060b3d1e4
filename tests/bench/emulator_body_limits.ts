/**
 * Peak memory of the emulator process under oversized bodies, measured on the whole process
 * (`/proc/<pid>/status` VmRSS and VmHWM, Linux):
 *
 * ```
 * deno run -A tests/bench/emulator_body_limits.ts [path/to/lib/cli/emulator.ts …]
 * ```
 *
 * For each emulator entry point given (default: this checkout's), it starts the emulator as its
 * own process, then streams a 300 MB chat body and three 300 MB object-store PUTs at it (1 MiB
 * chunks, no Content-Length) and prints the HTTP statuses and the process's resident memory
 * before, after the chat body and after the PUTs. Give an older checkout's entry point as a
 * second argument to compare the two in one run.
 *
 * @module
 */

const MB = 1024 * 1024;
const BODY_MB = 300;

function memory(pid: number): { rssMb: number; peakMb: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)![1]);
  return { rssMb: Math.round(kb("VmRSS") / 1024), peakMb: Math.round(kb("VmHWM") / 1024) };
}

function body(mb: number): ReadableStream<Uint8Array> {
  let sent = 0;
  const chunk = new Uint8Array(MB).fill(0x20);
  return new ReadableStream({
    pull(c) {
      if (sent >= mb) return c.close();
      sent++;
      c.enqueue(chunk);
    },
  });
}

async function send(url: string, init: RequestInit): Promise<string> {
  try {
    const res = await fetch(url, { ...init, duplex: "half" } as RequestInit);
    const text = await res.text();
    const code = /"code":"(\d+)"|<Code>(\w+)<\/Code>/.exec(text);
    return `${res.status}${code ? ` ${code[1] ?? code[2]}` : ""}`;
  } catch (e) {
    return `network error (${(e as Error).message.slice(0, 40)})`;
  }
}

async function measure(entry: string): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", entry, "--port", "0", "--no-rate-limits"],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let printed = "";
  while (!printed.includes("Press Ctrl-C")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${entry} did not start: ${printed}`);
    printed += value;
  }
  reader.releaseLock();
  const env = Object.fromEntries([...printed.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [
    m[1],
    m[2],
  ]));
  const url = env.CLOVA_STUDIO_HOST;
  const started = memory(child.pid);
  const chat = await send(`${url}/v1/chat-completions/HCX-003`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${env.CLOVA_STUDIO_API_KEY}`,
      "content-type": "application/json",
    },
    body: body(BODY_MB),
  });
  const afterChat = memory(child.pid);
  const puts: string[] = [];
  for (let i = 0; i < 3; i++) {
    puts.push(
      await send(`${env.NCP_OBJECT_STORAGE_ENDPOINT}/bench/big-${i}.csv`, {
        method: "PUT",
        headers: { authorization: "AWS4-HMAC-SHA256 Credential=bench/20261201/kr-standard/s3" },
        body: body(BODY_MB),
      }),
    );
  }
  const afterPuts = memory(child.pid);
  child.kill("SIGINT");
  await child.status;
  await child.stdout.cancel().catch(() => {});
  console.log(`\n${entry}`);
  console.log(`  started:                      RSS ${started.rssMb} MB`);
  console.log(
    `  ${BODY_MB} MB chat body → ${
      chat.padEnd(10)
    } RSS ${afterChat.rssMb} MB, peak ${afterChat.peakMb} MB`,
  );
  console.log(
    `  3 × ${BODY_MB} MB object PUTs → ${
      puts.join(", ")
    }; RSS ${afterPuts.rssMb} MB, peak ${afterPuts.peakMb} MB`,
  );
}

const entries = Deno.args.length ? Deno.args : ["lib/cli/emulator.ts"];
for (const entry of entries) await measure(entry);
