import Type, { type Static } from 'typebox';

/*
 * The `inference` section of the configuration (part of ConfigSchema in schema.ts, kept in
 * its own file because it is long). Defaults live here; config/default.yaml documents them.
 */

const closed = { additionalProperties: false } as const;

/** Where a model's sessions run and how onnxruntime runs them. */
const SessionSettings = {
  /** auto: CUDA where its libraries load (else CPU, with the reason logged once); cuda; cpu. */
  provider: Type.Union([Type.Literal('auto'), Type.Literal('cuda'), Type.Literal('cpu')]),
  /** CUDA device id. */
  deviceId: Type.Integer({ minimum: 0 }),
  /** Threads inside one operator; 0 = onnxruntime's choice (the physical cores). */
  intraOpThreads: Type.Integer({ minimum: 0 }),
  /** Threads across independent operators; 0 = onnxruntime's choice. */
  interOpThreads: Type.Integer({ minimum: 0 }),
  graphOptimization: Type.Union(['disabled', 'basic', 'extended', 'all'].map((l) => Type.Literal(l))),
  /** onnxruntime's CPU memory arena (faster repeated runs, holds on to memory). */
  memoryArena: Type.Boolean(),
};

/**
 * CUDA provider options. onnxruntime-node (1.30) hands the CUDA provider its device id and
 * nothing else (js/node/src/session_options_helper.cc builds OrtCUDAProviderOptionsV2 from
 * `deviceId` alone), so gpu_mem_limit, arena_extend_strategy and cudnn_conv_algo_search keep
 * onnxruntime's defaults (no limit, next power of two, exhaustive) in this process. The three
 * settings exist so that asking for them fails at boot with that reason instead of being
 * silently ignored; inferenceProblems() rejects any value but null. What the binding does
 * apply is a session config entry (`extra`), hence weightsOutsideArena.
 */
const CudaSettings = Type.Object(
  {
    /** Not applied by onnxruntime-node: must stay null (no limit). */
    gpuMemLimitMb: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { default: null }),
    /** Not applied by onnxruntime-node: must stay null (nextPowerOfTwo). */
    arenaExtendStrategy: Type.Union([Type.Literal('nextPowerOfTwo'), Type.Literal('sameAsRequested'), Type.Null()], { default: null }),
    /** Not applied by onnxruntime-node: must stay null (exhaustive). */
    cudnnConvAlgoSearch: Type.Union([Type.Literal('exhaustive'), Type.Literal('heuristic'), Type.Literal('default'), Type.Null()], { default: null }),
    /**
     * Weights are allocated with the device allocator, outside the arena (session config
     * session.use_device_allocator_for_initializers): the arena then holds only activations and
     * does not round the weights' allocations up to the next power of two.
     */
    weightsOutsideArena: Type.Boolean({ default: false }),
  },
  { ...closed, default: {} },
);

/** The CUDA settings onnxruntime-node cannot apply, and the default it uses instead. */
const CUDA_SETTINGS_NOT_APPLIED = { gpuMemLimitMb: 'no limit', arenaExtendStrategy: 'nextPowerOfTwo', cudnnConvAlgoSearch: 'exhaustive' } as const;

/** inference.session.cuda settings that cannot take effect: one problem each, with the reason. */
export function cudaSettingsProblems(cuda: Static<typeof CudaSettings>): string[] {
  return (Object.keys(CUDA_SETTINGS_NOT_APPLIED) as Array<keyof typeof CUDA_SETTINGS_NOT_APPLIED>)
    .filter((key) => cuda[key] !== null)
    .map(
      (key) =>
        `inference.session.cuda.${key}: onnxruntime-node passes only deviceId to the CUDA provider, so this cannot be applied (it uses ${CUDA_SETTINGS_NOT_APPLIED[key]}); leave it null, see docs/inference.md "CUDA provider options"`,
    );
}

const SessionDefaults = Type.Object(
  {
    provider: Type.Union(SessionSettings.provider.anyOf, { default: 'auto' }),
    deviceId: Type.Integer({ minimum: 0, default: 0 }),
    intraOpThreads: Type.Integer({ minimum: 0, default: 0 }),
    interOpThreads: Type.Integer({ minimum: 0, default: 0 }),
    graphOptimization: Type.Union(SessionSettings.graphOptimization.anyOf, { default: 'all' }),
    memoryArena: Type.Boolean({ default: true }),
    /** CUDA provider options, for every model (a model cannot override them). */
    cuda: CudaSettings,
  },
  { ...closed, default: {} },
);

/** Weight files by precision, as the ONNX exports name them (encoder_model_fp16.onnx, ...). */
export const MODEL_DTYPES = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'] as const;

const Model = Type.Object(
  {
    /** The name clients ask for (model: "whisper-large-v3"). */
    name: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$' }),
    /** Which runner serves it: whisper, or a family another module registers. */
    family: Type.String({ minLength: 1 }),
    /** Hugging Face repository `agentphone models pull` downloads it from. */
    repo: Type.String({ minLength: 1 }),
    revision: Type.String({ default: 'main', minLength: 1 }),
    /** Directory of the export; null = <modelsDir>/<name>. */
    dir: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null }),
    dtype: Type.Union(MODEL_DTYPES.map((d) => Type.Literal(d)), { default: 'fp32' }),
    provider: Type.Optional(SessionSettings.provider),
    deviceId: Type.Optional(SessionSettings.deviceId),
    intraOpThreads: Type.Optional(SessionSettings.intraOpThreads),
    interOpThreads: Type.Optional(SessionSettings.interOpThreads),
    graphOptimization: Type.Optional(SessionSettings.graphOptimization),
    memoryArena: Type.Optional(SessionSettings.memoryArena),
  },
  closed,
);

const Batching = Type.Object(
  {
    /** Most requests for one model run through the encoder together. */
    maxBatch: Type.Integer({ default: 8, minimum: 1 }),
    /** Longest a request waits for others to join its batch. */
    maxWaitMs: Type.Integer({ default: 5, minimum: 0 }),
  },
  { ...closed, default: {} },
);

export const InferenceSchema = Type.Object(
  {
    /** One folder per model; null = <dataDir>/models. AGENTPHONE_MODELS_DIR overrides. */
    modelsDir: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null }),
    /** Hugging Face-compatible endpoint for `models pull`. AGENTPHONE_HF_ENDPOINT overrides. */
    hfEndpoint: Type.String({ default: 'https://huggingface.co', pattern: '^https?://' }),
    /** Worker threads of each pool (transcription and speech have a pool each), each holding its own sessions. */
    workers: Type.Integer({ default: 1, minimum: 1 }),
    /**
     * Workers of one pool, where it should differ from `workers`: `stt` runs Whisper (and upload
     * decoding), `tts` runs SNAC. Separate pools keep speech audio from waiting behind a long
     * transcription. null = `workers`.
     */
    pools: Type.Object(
      {
        stt: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { default: null }),
        tts: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { default: null }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Tasks waiting for a worker; past this, requests get 503. */
    maxQueue: Type.Integer({ default: 64, minimum: 0 }),
    batching: Batching,
    /** Session settings for every model, unless the model sets its own. */
    session: SessionDefaults,
    models: Type.Array(Model, {
      default: [
        { name: 'whisper-large-v3', family: 'whisper', repo: 'Xenova/whisper-large-v3', revision: 'main', dir: null, dtype: 'fp32' },
        { name: 'whisper-large-v3-turbo', family: 'whisper', repo: 'onnx-community/whisper-large-v3-turbo', revision: 'main', dir: null, dtype: 'fp32' },
        { name: 'orpheus-3b', family: 'orpheus', repo: 'onnx-community/orpheus-3b-0.1-ft-ONNX', revision: 'main', dir: null, dtype: 'fp32' },
        { name: 'snac-24khz', family: 'snac', repo: 'onnx-community/snac_24khz-ONNX', revision: 'main', dir: null, dtype: 'fp32' },
        { name: 'qwen3-0.6b', family: 'llm', repo: 'onnx-community/Qwen3-0.6B-ONNX', revision: 'main', dir: null, dtype: 'fp32' },
      ],
    }),
    /** Longest audio accepted by /api/v1/audio/transcriptions, in bytes (larger: 413). */
    maxAudioBytes: Type.Integer({ default: 26_214_400, minimum: 1024 }),
    /** Longest audio (decoded duration, seconds) accepted for transcription (longer: 400). Bounds the decoded samples' memory. */
    maxAudioSeconds: Type.Integer({ default: 3600, minimum: 1 }),
    /** Whisper's long-form decoding, as the reference transcribe.py does it; a null threshold turns its check off. */
    whisper: Type.Object(
      {
        /** Samples drawn per window at a fallback temperature, the likeliest kept (the reference's best_of). */
        bestOf: Type.Integer({ default: 5, minimum: 1, maximum: 16 }),
        /** A window whose text compresses (gzip) more than this is too repetitive: decoded again hotter. */
        compressionRatioThreshold: Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Null()], { default: 2.4 }),
        /** A window whose average token log-probability is below this is decoded again hotter. */
        logprobThreshold: Type.Union([Type.Number({ maximum: 0 }), Type.Null()], { default: -1 }),
        /** A window with a no-speech probability above this (and a log-probability under logprobThreshold) is skipped as silence. */
        noSpeechThreshold: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], { default: 0.6 }),
      },
      { ...closed, default: {} },
    ),
  },
  { ...closed, default: {} },
);

export type InferenceConfig = Static<typeof InferenceSchema>;
export type ModelConfig = Static<typeof Model>;
export type SessionDefaultsConfig = Static<typeof SessionDefaults>;
