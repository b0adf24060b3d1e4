/**
 * The chat tokenizer API (`POST /v1/api-tools/chat-tokenize/{model}`) and a dataset token counter
 * for tuning cost and TPM estimates.
 * @module
 */
import { ClovaStudioError } from "./errors.ts";
import type { HttpCore } from "./http.ts";
import { type ChatMessage, checkTokenizeMessages, tokenizeResultSchema } from "./params.ts";
import { CLIENT_CODES } from "./errors.ts";

/** Per-message token counts. */
export interface TokenizeResult {
  messages: { role: string; content: string; count: number }[];
  total: number;
  requestId: string;
}

/** Count the tokens of `messages` as `model` sees them. */
export async function tokenize(
  http: HttpCore,
  model: string,
  messages: ChatMessage[],
  opts: { signal?: AbortSignal } = {},
): Promise<TokenizeResult> {
  const msgs = checkTokenizeMessages(messages);
  const r = await http.json({
    method: "POST",
    path: `/v1/api-tools/chat-tokenize/${encodeURIComponent(model)}`,
    json: { messages: msgs },
    prefixed: true,
    signal: opts.signal,
  });
  const p = tokenizeResultSchema.safeParse(r.result);
  if (!p.success || p.data.messages.length !== msgs.length) {
    throw new ClovaStudioError({
      httpStatus: r.httpStatus,
      code: CLIENT_CODES.badResponse,
      message: "tokenize result does not match the messages sent",
      requestId: r.requestId,
      retryable: false,
    });
  }
  const out = p.data.messages.map((m, i) => ({
    role: m.role,
    content: typeof m.content === "string" ? m.content : msgs[i].content,
    count: m.count,
  }));
  return { messages: out, total: out.reduce((a, m) => a + m.count, 0), requestId: r.requestId };
}

/** One tuning row (Text + Completion, optional system prompt). */
export interface TokenRow {
  text: string;
  completion: string;
  system?: string;
}

/** Token totals of a dataset. */
export interface DatasetTokenCount {
  rows: number;
  /** Tokens of all Text (+ System_Prompt) cells. */
  inputTokens: number;
  /** Tokens of all Completion cells. */
  completionTokens: number;
  total: number;
  /** Per-row totals, in row order. */
  perRow: number[];
  /** Tokenizer calls made. */
  requests: number;
}

/**
 * Count a dataset's tokens with the service tokenizer. Rows are packed into requests of at most
 * `maxCharsPerRequest` characters (default 4,000); a batch refused as too long (40003) is split
 * in half and retried. Multiply `total` by the epochs for trained tokens.
 */
export async function countDatasetTokens(
  tok: (messages: ChatMessage[]) => Promise<TokenizeResult>,
  rows: readonly TokenRow[],
  opts: { maxCharsPerRequest?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<DatasetTokenCount> {
  const budget = opts.maxCharsPerRequest ?? 4000;
  const perRow = new Array<number>(rows.length).fill(0);
  let inputTokens = 0;
  let completionTokens = 0;
  let requests = 0;
  let done = 0;
  const messagesOf = (r: TokenRow): ChatMessage[] => [
    ...(r.system ? [{ role: "system" as const, content: r.system }] : []),
    { role: "user", content: r.text },
    { role: "assistant", content: r.completion },
  ];
  const run = async (idx: number[]): Promise<void> => {
    const msgs: ChatMessage[] = [];
    const owner: number[] = [];
    for (const i of idx) {
      for (const m of messagesOf(rows[i])) {
        msgs.push(m);
        owner.push(i);
      }
    }
    let res: TokenizeResult;
    try {
      requests++;
      res = await tok(msgs);
    } catch (e) {
      if (e instanceof ClovaStudioError && e.code === "40003" && idx.length > 1) {
        const mid = Math.ceil(idx.length / 2);
        await run(idx.slice(0, mid));
        await run(idx.slice(mid));
        return;
      }
      throw e;
    }
    res.messages.forEach((m, k) => {
      perRow[owner[k]] += m.count;
      if (msgs[k].role === "assistant") completionTokens += m.count;
      else inputTokens += m.count;
    });
    done += idx.length;
    opts.onProgress?.(done, rows.length);
  };
  let batch: number[] = [];
  let chars = 0;
  for (let i = 0; i < rows.length; i++) {
    const c = rows[i].text.length + rows[i].completion.length + (rows[i].system?.length ?? 0);
    if (batch.length && chars + c > budget) {
      await run(batch);
      batch = [];
      chars = 0;
    }
    batch.push(i);
    chars += c;
  }
  if (batch.length) await run(batch);
  return {
    rows: rows.length,
    inputTokens,
    completionTokens,
    total: inputTokens + completionTokens,
    perRow,
    requests,
  };
}
