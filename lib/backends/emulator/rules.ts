/**
 * Every rule the emulator enforces, with the public page and section it comes from. Code that
 * enforces a rule names its id in a comment (`rule: dataset.min-rows`), so each behaviour can be
 * traced to its source. Where the sources disagree or say nothing, `choice` says what the emulator
 * does and why. Rules marked `compat` are relaxed by `compat: "cookbook-2024"` (the rules the
 * cookbook's 2024 run did not meet).
 *
 * Page URLs are the Korean originals (`api.ncloud-docs.com/docs/<slug>`,
 * `guide.ncloud-docs.com/docs/<slug>`); copies of the examples quoted in tests live in
 * `tests/fixtures/clova/` with the date they were read.
 *
 * @module
 */

/** Where a rule comes from. */
export interface RuleSource {
  /** Page slug or public code location. */
  page: string;
  /** Section of the page (as titled there). */
  section: string;
}

/** One enforced rule. */
export interface EmulatorRule {
  id: string;
  /** What the emulator does. */
  rule: string;
  sources: RuleSource[];
  /** What was decided where the sources disagree or are silent. */
  choice?: string;
  /** Relaxed under `compat: "cookbook-2024"`. */
  compat?: true;
  /** No public page or real call confirms the behaviour: kept as a guess, said so. */
  unverified?: true;
}

const API = "api.ncloud-docs.com/docs/";
const GUIDE = "guide.ncloud-docs.com/docs/";

/** The rule table (ids are stable; tests and comments refer to them). */
export const RULES: readonly EmulatorRule[] = [
  {
    id: "auth.bearer",
    rule: "`Authorization: Bearer <API key>`; unknown key 401 40100; other schemes 401 40102 " +
      "`Invalid Authentication Type`; legacy header pair and `/testapp` `/serviceapp` prefixes",
    sources: [
      { page: `${API}ai-naver-clovastudio-summary`, section: "요청 헤더; 구 버전 API 키 확인" },
      { page: `${API}clovastudio-troubleshoot-c4xx`, section: "401 40100, 40102, 40104" },
    ],
  },
  {
    id: "auth.token-2024",
    rule: "`GET /v1/auth/token` with Basic client id:secret; expired token 401 40103",
    sources: [
      { page: "the 2024 cookbook (국가 분류 튜닝 task)", section: "CreateTaskExecutor" },
      { page: `${API}clovastudio-troubleshoot-c4xx`, section: "401 40101, 40103" },
    ],
    choice: "`expiresIn` is an absolute epoch-ms expiry, as the cookbook's client compares it " +
      "with `time.time()*1000`; no page documents the field",
  },
  {
    id: "envelope",
    rule: '`{"status":{"code":"20000","message":"OK"},"result":…}` with the code as a string; ' +
      'errors `{"status":{"code","message"}}`; OpenAI-compatible errors ' +
      '`{"error":{"message","type":null,"param":null,"code"}}`',
    sources: [{ page: `${API}ai-naver-clovastudio-summary`, section: "응답 바디; 응답 예시" }],
  },
  {
    id: "errors.http",
    rule: "each code answers with the HTTP status of the 4xx/5xx tables",
    sources: [
      { page: `${API}clovastudio-troubleshoot-c4xx`, section: "table" },
      { page: `${API}clovastudio-troubleshoot-c5xx`, section: "table" },
    ],
  },
  {
    id: "path.percent-encoding",
    rule: "a path segment that is not valid percent-encoding is 400 40000 `Bad request` in the " +
      "route's own envelope (S3 `InvalidURI` on the object store)",
    sources: [{ page: `${API}clovastudio-troubleshoot-c4xx`, section: "400 40000 잘못된 요청" }],
    choice: "the docs do not mention encoding; a malformed request is the table's `Bad request`",
  },
  {
    id: "limits.body",
    rule: "request bodies over 50 MB are refused with 413 41300 while they stream in (the body " +
      "is never held whole)",
    sources: [
      {
        page: `${API}clovastudio-troubleshoot-c4xx`,
        section: "413 41300 Request body size exceeded: 50MB 이하로 수정 후 요청",
      },
      {
        page: `${API}clovastudio-chatcompletionsv3`,
        section: "참고: 전체 Request Body 크기는 50MB 이하",
      },
    ],
  },
  {
    id: "limits.body-complete",
    rule: "a request body that ends short of its `Content-Length`, whose connection fails, or " +
      "that has not all arrived 30 s after it is first read is 400 40000 (Object Storage: 400 " +
      "`IncompleteBody`), and its connection is let go",
    sources: [
      { page: `${API}clovastudio-troubleshoot-c4xx`, section: "400 40000 Bad request" },
      {
        page: "docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html",
        section: "IncompleteBody",
      },
    ],
    choice: "no page gives a body timeout; 30 s keeps slow or stalled clients from holding " +
      "connections, far above what a 100 MB upload on a working link needs",
  },
  {
    id: "limits.head-complete",
    rule: "a request head (request line and headers) that has not all arrived 10 s after its " +
      "first byte, or a connection that sends nothing for 10 s, is answered 408 and closed",
    sources: [
      { page: "www.rfc-editor.org/rfc/rfc9110", section: "15.5.9. 408 Request Timeout" },
    ],
    choice: "no CLOVA Studio page gives a head timeout; 10 s is far above what a head needs on a " +
      "working link and keeps clients that dribble their heads from holding connections",
  },
  {
    id: "limits.dataset",
    rule: "a legacy multipart create and an object-store PUT carry at most the dataset limit " +
      "(default 100 MiB): 413 41300 / S3 `EntityTooLarge`; a dataset over it fails `file.size`",
    sources: [
      { page: `${API}clovastudio-gettask`, section: "failureReason file.size" },
      { page: `${GUIDE}en/clovastudio-dataset`, section: "LK dataset: under 100 MB by API" },
    ],
    choice: "the instruction guide allows 1 TB in Object Storage; the emulator keeps objects in " +
      "memory and caps each at the dataset limit",
  },
  {
    id: "tuning.create.current.json",
    rule: "`POST /tuning/v2/tasks` takes a JSON body; any other media type (multipart included) " +
      "is 415 41500 `MediaType error`",
    sources: [
      { page: `${API}clovastudio-posttask`, section: "요청 헤더: Content-Type application/json" },
      { page: `${API}clovastudio-troubleshoot-c4xx`, section: "415 41500" },
    ],
    choice: "the page's curl example sends `Content-Type: multipart/form-data` with a JSON " +
      "body; the header table (application/json) and public clients (`requests.post(json=…)`) " +
      "win",
  },
  {
    id: "tuning.create.current.object-storage",
    rule: "the training set comes from Object Storage: `trainingDatasetFilePath` with " +
      "`trainingDatasetBucket`, `trainingDatasetAccessKey`, `trainingDatasetSecretKey`; a " +
      "missing one is 400 40001; a `trainingDataset` field (the 2024 file part) is 400 40001",
    sources: [
      { page: `${API}clovastudio-posttask`, section: "요청 바디 (trainingDataset* fields)" },
      { page: `${API}clovastudio-troubleshoot-c4xx`, section: "400 40001 Invalid parameter" },
    ],
  },
  {
    id: "tuning.create.current.fields",
    rule: "fields other than name, model, tuningType, taskType, trainEpochs, learningRate, " +
      "validationSplitRatio, loraR, loraAlpha and the four trainingDataset* ones are 400 40001",
    sources: [
      { page: `${API}clovastudio-posttask`, section: "요청 바디" },
      { page: `${API}en/clovastudio-posttask`, section: "Request body (taskType)" },
    ],
    choice: "the docs do not say whether unknown fields are refused; refusing them catches " +
      "typos before a task is paid for. `taskType` is kept: the 2025 EN/JA page and NAVER's " +
      "console sample send it",
  },
  {
    id: "tuning.create.missing-object",
    rule: "a `trainingDatasetFilePath` not in the bucket is 404 40400 `File not found` and no " +
      "task is made",
    sources: [{
      page: `${API}clovastudio-troubleshoot-c4xx`,
      section: "404 40400 File not found: Object Storage 버킷에서 요청 리소스 찾지 못함",
    }],
    choice: "the failure table also lists `file.noexist` and `File not found` as asynchronous " +
      "failure reasons; the emulator can see the bucket at once, so it answers 40400",
  },
  {
    id: "tuning.create.legacy-2024",
    rule: "`POST /v2/tasks` is multipart with text fields and a `trainingDataset` file part " +
      "(method `LORA`, taskType, trainEpochs default 4); other media types 415 41500, a " +
      "multipart type without boundary 415 41501",
    sources: [
      { page: "the 2024 cookbook (국가 분류 튜닝 task)", section: "CreateTaskExecutor" },
      {
        page: "api.ncloud-docs.com/release-20240321/docs/clovastudio-posttask",
        section: "trainingDataset",
      },
      { page: `${API}clovastudio-troubleshoot-c4xx`, section: "415 41500, 41501" },
    ],
  },
  {
    id: "tuning.create.name",
    rule: "`name`, when given, is 2–30 characters; a shorter or longer one is 400 40001 " +
      "`Invalid parameter: name`",
    sources: [
      { page: `${GUIDE}clovastudio-tuning (LK models)`, section: "튜닝 이름: 2~30자" },
      {
        page: "public code calling the current API in 2026",
        section: "a 33-character name refused at once with `Invalid parameter: name`, a " +
          "22-character one accepted",
      },
    ],
    choice: "the current create page gives no length; the emulator takes the LK guide's 2–30, " +
      "which the refused 33-character name agrees with",
  },
  {
    id: "tuning.create.params",
    rule: "trainEpochs 1–20 (default 8; 4 on /v2/tasks), learningRate 1e-6–1 (default 1e-4), " +
      "validationSplitRatio 0–0.1, loraR 2–64, loraAlpha 2–512, as numbers or numeric strings; " +
      "out of range 400 40001; tuningType other than PEFT 400 40009",
    sources: [
      { page: `${API}clovastudio-posttask`, section: "요청 바디" },
      { page: `${API}clovastudio-troubleshoot-c4xx`, section: "400 40009 tuningType 지원 여부" },
    ],
    choice: "the table types trainEpochs and learningRate as String but its example sends " +
      "numbers (and `1e-5f`); both are accepted. The range is written `1 ≤ learningRate ≤ " +
      "1.0E-6`, read as 1e-6 to 1",
  },
  {
    id: "tuning.models",
    rule: "unknown model 400 40080; HCX-007 cannot be tuned (400 40009)",
    sources: [
      { page: `${API}clovastudio-chatcompletionsv3-thinking`, section: "참고: 튜닝 학습 미지원" },
      { page: `${API}clovastudio-troubleshoot-c4xx`, section: "40080, 40009" },
    ],
    choice: "the JA create page says HCX-005 and HCX-DASH-002 cannot be trained, the guide's " +
      "2025-07-17 release note says tuning was extended to them; the emulator lets them tune",
  },
  {
    id: "tuning.task",
    rule: "task object: id, name, model, method, taskType, trainEpochs, learningRate, status " +
      "WAIT → RUNNING → SUCCEEDED | FAILED, statusInfo (an object, all null while WAIT), " +
      "createdClientType, createdDate/updatedDate as `yyyy-MM-ddTHH:mm:ss+0900`; unknown id " +
      "404 40400",
    sources: [
      { page: `${API}clovastudio-gettask`, section: "응답 바디; 응답 예시" },
      { page: `${API}clovastudio-troubleshoot-c4xx`, section: "404 40400 Not found" },
    ],
    choice: "statusInfo is typed Array but every example is an object: object. The legacy " +
      "extras of the cookbook's 2024 response (dataset, baseModel, lossDiff…) are kept",
  },
  {
    id: "tuning.list",
    rule: "`GET …/tasks?page=&size=`: page 0…N (default 0), size 1–100 (default 20); result " +
      "totalPages, totalElements, size, number, content (numbers, newest first)",
    sources: [{ page: `${API}clovastudio-gettasks`, section: "요청 쿼리 파라미터; 응답 바디" }],
    choice: 'the example quotes the numbers ("7,"); they are sent as numbers as the table types ' +
      "them",
  },
  {
    id: "tuning.delete",
    rule: "`DELETE /tuning/v2/tasks/{id}` (and `/v2/tasks/{id}`) answers the bare envelope",
    sources: [{ page: `${API}clovastudio-deletetask`, section: "요청; 응답 예시" }],
    choice: "the URI table says `/v2/tasks/{taskId}`, the curl `/tuning/v2/tasks/{taskId}`: both",
  },
  {
    id: "dataset.extension",
    rule: "`.csv` or `.jsonl`, else FAILED `file.extension`",
    sources: [
      { page: `${GUIDE}clovastudio-instructiondataset`, section: "파일 규격: 파일 확장자" },
      { page: `${API}clovastudio-gettask`, section: "failureReason file.extension" },
    ],
  },
  {
    id: "dataset.encoding",
    rule: "UTF-8 with a byte-order mark (`UTF8-sig`), else FAILED `file.encoding` " +
      "`Unsupported charset`",
    sources: [
      { page: `${API}clovastudio-gettask`, section: "file.encoding: UTF8-sig 인코딩이 아닌 경우" },
      { page: `${GUIDE}clovastudio-instructiondataset`, section: "파일 인코딩 형식 UTF-8" },
    ],
    choice: "the guide says UTF-8, the failure table UTF8-sig; strict requires the BOM (the " +
      "stricter reading, which our writer always meets). The cookbook wrote plain UTF-8",
    compat: true,
  },
  {
    id: "dataset.columns",
    rule: "columns C_ID, T_ID, Text, Completion (System_Prompt optional, first), case-" +
      "insensitive, in that order; a missing one FAILED `Invalid dataset: required field " +
      "empty. {column}`; unexpected, duplicate, out of order as the table words them",
    sources: [
      { page: `${GUIDE}clovastudio-instructiondataset`, section: "Instruction 데이터셋 템플릿" },
      { page: `${API}clovastudio-gettask`, section: "failureReason file.format" },
    ],
    choice: "cookbook-2024 accepts the two columns Text, Completion the cookbook uploaded",
    compat: true,
  },
  {
    id: "dataset.ids",
    rule: "C_ID starts at 0 and rises by 1 per conversation, T_ID by 1 per turn, else FAILED " +
      "`Invalid dataset: C_ID` / `T_ID`",
    sources: [{
      page: `${API}clovastudio-gettask`,
      section: "file.format Invalid dataset: {column}",
    }],
  },
  {
    id: "dataset.required",
    rule: "an empty Text or Completion FAILED `Invalid dataset: required field empty. {column}`",
    sources: [{ page: `${API}clovastudio-gettask`, section: "file.format required field empty" }],
  },
  {
    id: "dataset.min-rows",
    rule: "at least 100 data rows, else FAILED `file.format` " +
      "`Invalid dataset: at least 100 rows are required (found N)`",
    sources: [{
      page: `${GUIDE}clovastudio-instructiondataset`,
      section: "최소 데이터: 최소 100행",
    }],
    choice: "the failure table has no reason for too few rows; the emulator fails the task with " +
      "`file.format` and its own message. cookbook-2024 accepts the cookbook's 50-row set",
    compat: true,
  },
  {
    id: "chat.v1.models",
    rule: "`/v1/chat-completions/{model}` serves HCX-003 and HCX-DASH-001 only (else 400 40084); " +
      "a tuned task is served on `/v1|v2/tasks/{id}/chat-completions` only when its base model " +
      "is one of them",
    sources: [
      { page: `${API}clovastudio-chatcompletions`, section: "introduction; 요청 URI" },
      { page: `${API}clovastudio-troubleshoot-c4xx`, section: "40084 Unsupported API for model" },
    ],
    choice: "the page does not say what happens to a task of another base model on v1; 40084",
  },
  {
    id: "chat.v3.models",
    rule: "`/v3/chat-completions/{model}` serves HCX-005, HCX-DASH-002, HCX-007 (else 40084); " +
      "`/v3/tasks/{id}/chat-completions` serves any SUCCEEDED task without images, thinking, " +
      "function calling or structured outputs (40009)",
    sources: [
      { page: `${API}clovastudio-chatcompletionsv3`, section: "요청 URI; 참고" },
      { page: `${API}clovastudio-chatcompletionsv3-thinking`, section: "참고" },
    ],
    choice: "whether a task tuned from HCX-003 is served on v3 is not stated; it is",
  },
  {
    id: "chat.task-not-ready",
    rule: "chat with a task that has not SUCCEEDED is 400 40083 `Model no resource`",
    sources: [{ page: `${API}clovastudio-troubleshoot-c4xx`, section: "40083" }],
    choice: "the docs are silent on chatting with an unfinished task",
  },
  {
    id: "chat.params",
    rule: "v1 and v3 ranges: temperature (0,1] v1 / [0,1] v3, topK 0–128, topP (0,1], " +
      "repeatPenalty (0,10] v1, repetitionPenalty (0,2] v3, maxTokens (0,4096] v1, ≤ model " +
      "maximum v3, maxTokens and maxCompletionTokens exclusive, one system message on v3; " +
      "else 400 40001",
    sources: [
      { page: `${API}clovastudio-chatcompletions`, section: "요청 바디" },
      { page: `${API}clovastudio-chatcompletionsv3`, section: "요청 바디; 참고" },
    ],
  },
  {
    id: "chat.v1.result",
    rule: "v1 result: message, stopReason (`length` | `end_token` | `stop_before`), " +
      "inputLength, outputLength, seed, aiFilter when asked",
    sources: [{ page: `${API}clovastudio-chatcompletions`, section: "응답 바디" }],
    choice: 'the example writes `"stopReason": "LENGTH"`; the table\'s lower case is sent',
  },
  {
    id: "chat.v3.created",
    rule: "v3 `created` is Unix time in seconds",
    sources: [
      { page: `${API}clovastudio-chatcompletionsv3-fc`, section: "응답 예시 (1744218663)" },
      { page: `${API}clovastudio-chatcompletionsv3`, section: "응답 스트림 예시 (1744710905)" },
    ],
    choice: "the field tables say `Unix timestamp miliseconds`; five of the six examples are " +
      "in seconds (the v3 text page's plain example is in ms): seconds",
  },
  {
    id: "sse.framing",
    rule: "`Accept: text/event-stream` answers `id:<uuid>`, `event:<name>`, `data:<JSON on one " +
      "line>` with no space after the colon, LF line ends, a blank line after each event and " +
      "a fresh id per event",
    sources: [
      { page: `${API}clovastudio-chatcompletionsv3-fc`, section: "응답 스트림: 응답 예시" },
      {
        page: "github.com/starpia-forge/go-clova stream_reader.go",
        section: "idPrefix, eventPrefix",
      },
    ],
    choice: "the v1 and v3 text pages show `id: …` with a space and curly quotes; the function-" +
      "calling page's transcript is valid, unspaced and what strict clients match literally",
  },
  {
    id: "sse.v1.token",
    rule: "v1 `token` data: message, index, inputLength, outputLength, stopReason (null until " +
      "the result)",
    sources: [
      { page: `${API}clovastudio-chatcompletions`, section: "StreamingChatCompletionsTokenEvent" },
      {
        page: "github.com/Cushion-Dev/Cushion-BE ClovaStudioApiExecutor.java",
        section: "comment quoting a service line",
      },
    ],
    choice: "the page's example token carries only message; the field table and the quoted " +
      "service line carry the rest. `index` is 0 (the one observed value), outputLength the " +
      "delta's tokens",
  },
  {
    id: "sse.v1.result",
    rule: "v1 `result` data: message, inputLength, outputLength, stopReason, seed, aiFilter",
    sources: [{ page: `${API}clovastudio-chatcompletions`, section: "응답 스트림 예시" }],
  },
  {
    id: "sse.v3.events",
    rule: "v3 `token` data: message, finishReason null, created, seed, usage null; `result`: " +
      "message, finishReason, created, seed, usage {promptTokens, completionTokens, totalTokens}",
    sources: [
      { page: `${API}clovastudio-chatcompletionsv3`, section: "응답 스트림 예시" },
      { page: `${API}clovastudio-chatcompletionsv3-fc`, section: "응답 스트림 예시" },
    ],
  },
  {
    id: "sse.signal",
    rule: 'after the result a `signal` event with data exactly `{"data":"[DONE]"}`',
    sources: [
      { page: `${API}clovastudio-chatcompletions`, section: "SignalEvent" },
      { page: "github.com/starpia-forge/go-clova stream_reader.go", section: "[DONE] literal" },
    ],
    choice: "no page shows a signal event; go-clova and LangChain match this exact data",
  },
  {
    id: "sse.error",
    rule: 'a failure mid-stream is an `error` event with data `{"status":{"code","message"}}`',
    sources: [
      { page: `${API}clovastudio-chatcompletions`, section: "ErrorEvent" },
      { page: "github.com/starpia-forge/go-clova stream_reader.go", section: "errorPrefix" },
    ],
  },
  {
    id: "openai.tuned-model",
    rule: "a tuned task is the model `ft:tuning-<n>-<yyMMdd>-<HHmmss>-<5 chars>` on " +
      "`/v1/openai/chat/completions` and in `/v1/openai/models`",
    sources: [{
      page: "public code calling a tuned task (model ft:tuning-1883-250519-111923-2qjqh)",
      section: "evaluator.py (an unused variable: the call itself does not use this name)",
    }],
    choice: "UNVERIFIED: no page documents tuned models on the OpenAI-compatible API and no " +
      "known real call used this name; the route is kept for clients that try it, and " +
      "nothing in this project relies on it (tuned tasks are asked through chat completions)",
    unverified: true,
  },
  {
    id: "openai.fields",
    rule: "snake_case fields; unsupported ones (audio, frequency_penalty, …, user) 400 40002; " +
      "n = 1 only",
    sources: [{ page: `${API}clovastudio-openaicompatibility`, section: "호환 정보" }],
  },
  {
    id: "ratelimit",
    rule: "per-model QPM and TPM (input + requested output tokens) over 60 s, 429 42901 with " +
      "Retry-After",
    sources: [
      { page: `${GUIDE}clovastudio-ratelimiting`, section: "이용량 제어 정책" },
      { page: `${API}clovastudio-troubleshoot-c4xx`, section: "429 42901" },
    ],
    choice: "the header names are not documented; Retry-After is sent",
  },
  {
    id: "objectstore.s3",
    rule: "path-style S3 subset (PUT/GET/HEAD/DELETE object, PUT/HEAD bucket, ListObjectsV2); " +
      "requests must be SigV4-signed (403 AccessDenied); signatures are not verified",
    sources: [{
      page: `${API}storage-objectstorage`,
      section: "개요: S3 API v2006-03-01; 호출 도메인 kr.object.ncloudstorage.com (kr-standard)",
    }],
  },
];

/** The rule with `id` (throws for an unknown id, so a typo in a test fails loudly). */
export function rule(id: string): EmulatorRule {
  const r = RULES.find((x) => x.id === id);
  if (!r) throw new Error(`no emulator rule ${id}`);
  return r;
}

/** The emulator's strictness: the current docs, or the cookbook's 2024 run. */
export type Compat = "strict" | "cookbook-2024";

/** Dataset rules in force for a strictness. */
export interface DatasetRules {
  /** rule: dataset.encoding */
  requireBom: boolean;
  /** rule: dataset.columns (C_ID and T_ID required) */
  requireIds: boolean;
  /** rule: dataset.min-rows */
  minRows: number;
}

/** The dataset rules of `compat`. */
export function datasetRules(compat: Compat): DatasetRules {
  return compat === "cookbook-2024"
    ? { requireBom: false, requireIds: false, minRows: 0 }
    : { requireBom: true, requireIds: true, minRows: 100 };
}
