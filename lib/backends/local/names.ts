/**
 * Names of the local models and the cookbook model each stands in for — a module without
 * native code, for the emulator's model table and the report.
 *
 * @module
 */

/** Names of the local models, larger first. */
export const LOCAL_MODEL_NAMES = ["local-1m", "local-250k"] as const;
/** A local model's name. */
export type LocalModelName = typeof LOCAL_MODEL_NAMES[number];

/** The cookbook model each local model stands in for (larger for larger). */
export const COOKBOOK_COUNTERPART: Readonly<Record<LocalModelName, string>> = {
  "local-1m": "HCX-003",
  "local-250k": "HCX-DASH-001",
};

/** Whether `name` is a local model. */
export function isLocalModel(name: string): name is LocalModelName {
  return (LOCAL_MODEL_NAMES as readonly string[]).includes(name);
}

/** The cookbook model whose published figures sit beside `model`'s (itself for HCX models). */
export function cookbookCounterpart(model: string): string {
  return isLocalModel(model) ? COOKBOOK_COUNTERPART[model] : model;
}
