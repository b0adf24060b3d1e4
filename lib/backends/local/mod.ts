/**
 * The local backend: small llama-style models on ggml through Deno's FFI, their tokenizer, LoRA
 * tuning and generation, and their pretraining corpus.
 *
 * @module
 */
export * from "./engine.ts";
export * from "./models.ts";
export * from "./tune.ts";
export * from "./corpus.ts";
export * from "./pretrain.ts";
export * from "./probe.ts";
export * from "./kindLoss.ts";
export * from "./listMass.ts";
export { type ChatMessage, Tokenizer } from "./tokenizer.ts";
