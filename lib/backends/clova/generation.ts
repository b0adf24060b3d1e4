/**
 * The two generations of the CLOVA Studio API this client speaks, chosen by the credentials:
 *
 * | | `current` | `legacy-2024` |
 * |---|---|---|
 * | auth | `Authorization: Bearer nv-…` (or the older key pair) | client id/secret → `/v1/auth/token` |
 * | host | `clovastudio.stream.ntruss.com` | `api-hyperclova.navercorp.com` (the cookbook's) |
 * | create task | `POST /tuning/v2/tasks`, JSON, dataset in NCP Object Storage | `POST /v2/tasks`, multipart `trainingDataset` file |
 * | dataset | `C_ID,T_ID,Text,Completion`, UTF-8 with BOM, ≥ 100 rows | `Text,Completion` (the cookbook's 50-row set tuned) |
 * | tuned chat | v1 `/v2/tasks/{id}/chat-completions` when the base model is a v1 model, else v3 `/v3/tasks/{id}/chat-completions` | v1 `/v2/tasks/{id}/chat-completions` |
 *
 * @module
 */
import type { ClovaAuth } from "./auth.ts";

/** Which API generation a client talks to. */
export type ApiGeneration = "current" | "legacy-2024";

/** The generations, for flag parsing and schemas. */
export const API_GENERATIONS: readonly ApiGeneration[] = ["current", "legacy-2024"];

/** Column layout of a tuning CSV: the current `C_ID,T_ID,Text,Completion` or the 2024 two columns. */
export type DatasetLayout = "single-turn" | "text-completion";

/** What a generation expects of tuning data and how it takes it. */
export interface GenerationProfile {
  generation: ApiGeneration;
  /** Base path of the tuning API. */
  tasksPath: string;
  /** How the dataset reaches the service. */
  datasetTransport: "object-storage" | "multipart";
  /** The CSV layout it documents. */
  datasetLayout: DatasetLayout;
  /** Fewest data rows a tuning set may have (0 = no documented minimum). */
  minRows: number;
}

/** The profiles of both generations. */
export const GENERATION_PROFILES: Readonly<Record<ApiGeneration, GenerationProfile>> = {
  current: {
    generation: "current",
    tasksPath: "/tuning/v2/tasks",
    datasetTransport: "object-storage",
    datasetLayout: "single-turn",
    minRows: 100,
  },
  "legacy-2024": {
    generation: "legacy-2024",
    tasksPath: "/v2/tasks",
    datasetTransport: "multipart",
    datasetLayout: "text-completion",
    minRows: 0,
  },
};

/** The generation credentials of `kind` belong to. */
export function generationFor(kind: ClovaAuth["kind"]): ApiGeneration {
  return kind === "client-credentials" ? "legacy-2024" : "current";
}
