/**
 * The local model a bench command line names: a committed model (`local-1m`, `local-250k`), a
 * GGUF file, or a pretraining checkpoint (its weights, read into the committed model of the same
 * name for the shape and vocabulary).
 *
 * @module
 */
import {
  type BaseModel,
  loadBaseModel,
  loadGgufModel,
  type LocalModelName,
} from "../../lib/backends/local/models.ts";
import { copyCheckpointWeights, readCheckpoint } from "../../lib/backends/local/checkpoint.ts";

/** Loads the model `target` names (see the module's doc). */
export async function loadLocalWeights(target: string): Promise<BaseModel> {
  if (target.endsWith(".gguf")) return loadGgufModel(target);
  if (target.endsWith(".checkpoint")) {
    const ck = await readCheckpoint(target);
    const model = await loadBaseModel(ck.header.model as LocalModelName);
    copyCheckpointWeights(ck, target, model.weights, ck.header.model);
    return model;
  }
  return await loadBaseModel(target as LocalModelName);
}
