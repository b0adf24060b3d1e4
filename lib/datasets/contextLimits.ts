/**
 * The context check's limits for a run's models, each counted with the tokenizer its backend
 * uses: the local models' own vocabulary (one token per character, whole-word tokens for the words
 * they were pretrained on, the chat template's markers) for `local-1m` / `local-250k`, the emulator
 * tokenizer for the others.
 *
 * @module
 */
import { isLocalModel } from "../backends/mod.ts";
import { MODELS } from "../backends/emulator/mod.ts";
import type { ContextLimit, ContextRow } from "../tasks/mod.ts";

/**
 * The context of each of `models` the emulator's model table knows, with its tokenizer's count.
 * A local model counts a row as its tuning step does (the chat template with the completion and
 * `</s>`) and a prompt as its chat does (the template up to `<assistant>`, plus the first answer
 * token, which must fit too).
 */
export async function contextLimits(models: readonly string[]): Promise<ContextLimit[]> {
  const limits: ContextLimit[] = [];
  for (const model of models) {
    const spec = MODELS[model];
    if (!spec) continue;
    if (!isLocalModel(model)) {
      limits.push({ model, maxInputTokens: spec.maxInputTokens });
      continue;
    }
    const { loadLocalTokenizer } = await import("../backends/local/mod.ts");
    const tokenizer = await loadLocalTokenizer(model);
    limits.push({
      model,
      maxInputTokens: spec.maxInputTokens,
      tokenizer: `${model}'s tokenizer`,
      count: (row: ContextRow) => {
        const messages = [
          ...(row.system ? [{ role: "system" as const, content: row.system }] : []),
          { role: "user" as const, content: row.user },
        ];
        return row.completion === undefined
          ? tokenizer.encodeChat(messages).ids.length + 1
          : tokenizer.encodeChat(messages, row.completion).ids.length;
      },
    });
  }
  return limits;
}
