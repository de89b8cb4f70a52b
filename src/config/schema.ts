import Type, { type Static } from 'typebox';
import { InferenceSchema } from './inference.ts';

/*
 * The one configuration schema. Defaults live here and nowhere else; config/default.yaml
 * documents them and a test keeps the two equal.
 */

const E164 = Type.String({ pattern: '^\\+[1-9][0-9]{6,14}$' });
const Id = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' });
const closed = { additionalProperties: false } as const;

const Server = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', minLength: 1 }),
    port: Type.Integer({ default: 3000, minimum: 0, maximum: 65535 }),
    /** The URL agents and phones reach this gateway at (used for media links). */
    publicUrl: Type.Union([Type.String({ pattern: '^https?://' }), Type.Null()], { default: null }),
    bodyLimitBytes: Type.Integer({ default: 1_048_576, minimum: 1024 }),
    /** /metrics answers only with the admin token (Bearer) or a dashboard session. */
    metricsRequireAdmin: Type.Boolean({ default: false }),
    /** /docs (Swagger UI and the OpenAPI document) answers only with the admin token or a dashboard session. */
    docsRequireAdmin: Type.Boolean({ default: false }),
    /** Serve HTTPS with this PEM certificate (chain) and key; both files are re-read on SIGHUP. null = plain HTTP. */
    tls: Type.Union(
      [Type.Object({ certFile: Type.String({ minLength: 1 }), keyFile: Type.String({ minLength: 1 }) }, closed), Type.Null()],
      { default: null },
    ),
    /**
     * Behind a reverse proxy: whose X-Forwarded-For/-Proto/-Host to believe (fastify trustProxy):
     * false = none, true = any (only when nothing else can reach the port), a hop count, or a
     * list of proxy addresses/CIDRs. Client addresses (login lockout, logs) come from it.
     */
    trustProxy: Type.Union([Type.Boolean(), Type.Integer({ minimum: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], { default: false }),
  },
  { ...closed, default: {} },
);

const Log = Type.Object(
  {
    level: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
  },
  { ...closed, default: {} },
);

const Sms = Type.Object(
  {
    maxParts: Type.Integer({ default: 10, minimum: 1, maximum: 255 }),
    requestStatusReport: Type.Boolean({ default: true }),
    /** Relative validity period in minutes; null = the maximum (63 weeks). */
    validityMinutes: Type.Union([Type.Integer({ minimum: 5 }), Type.Null()], { default: null }),
    reassemblyTimeoutMs: Type.Integer({ default: 86_400_000, minimum: 0 }),
  },
  { ...closed, default: {} },
);

/** How a modem line carries MMS (absent: the line is SMS-only). */
const ModemMms = Type.Object(
  {
    /** http: the host talks to the MMSC over the modem's data bearer; at: the modem's own MMS client (send only). */
    transport: Type.Union([Type.Literal('http'), Type.Literal('at')], { default: 'http' }),
    /** The carrier's MMSC URL (from its APN settings). */
    mmsc: Type.String({ pattern: '^https?://' }),
    /** The carrier's MMS proxy, host:port. */
    proxy: Type.Optional(Type.String({ pattern: '^[^:\\s]+:[0-9]{1,5}$' })),
    /** The MMS APN (documentation for http; configured on the modem for at). */
    apn: Type.Optional(Type.String({ minLength: 1 })),
    /** The modem's data interface (wwan0, usb0): requests leave from its address. */
    interface: Type.Optional(Type.String({ minLength: 1 })),
    /** Or the local address to bind directly. */
    localAddress: Type.Optional(Type.String({ minLength: 1 })),
    /** Largest MMS the carrier accepts; images are shrunk to fit. */
    maxMessageBytes: Type.Integer({ default: 614_400, minimum: 10_240 }),
    timeoutMs: Type.Integer({ default: 60_000, minimum: 1000 }),
    retries: Type.Integer({ default: 2, minimum: 0 }),
  },
  closed,
);

const Media = Type.Object(
  {
    /** Days received media stay downloadable; 0 keeps them forever. */
    retentionDays: Type.Integer({ default: 30, minimum: 0 }),
    /**
     * Where received media bytes are kept: files under dataDir/media (served only by the node that
     * stored them), database (a table of the store: every node serves every medium), auto: files
     * on SQLite, database on PostgreSQL (docs/cluster.md).
     */
    store: Type.Union([Type.Literal('auto'), Type.Literal('files'), Type.Literal('database')], { default: 'auto' }),
    /**
     * The base URL received media links start with (webhooks, API), e.g. a separate host that
     * reaches this gateway, so media never share the dashboard's origin; null = server.publicUrl.
     */
    publicUrl: Type.Union([Type.String({ pattern: '^https?://' }), Type.Null()], { default: null }),
    /** Largest file fetched from an agent's media URL (before images are shrunk to the line's limit). */
    maxFileBytes: Type.Integer({ default: 5_242_880, minimum: 1024 }),
    fetchTimeoutMs: Type.Integer({ default: 15_000, minimum: 100 }),
    maxRedirects: Type.Integer({ default: 3, minimum: 0 }),
    /** Media URLs one message may carry (API sends and inline webhook replies). */
    maxPerMessage: Type.Integer({ default: 10, minimum: 1 }),
    /** Longest media URL accepted, in characters. */
    maxUrlLength: Type.Integer({ default: 2048, minimum: 64 }),
    /** Bytes fetched for all of one message's media together (before images are shrunk). */
    maxTotalBytes: Type.Integer({ default: 20_971_520, minimum: 1024 }),
    /** Media URLs of one message fetched at once. */
    fetchesPerMessage: Type.Integer({ default: 2, minimum: 1 }),
    /** Media fetches open at once across the gateway. */
    fetchesPerGateway: Type.Integer({ default: 8, minimum: 1 }),
    /** Hosts, addresses or CIDR ranges media URLs may reach although private/loopback/link-local. */
    allowPrivateHosts: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  },
  { ...closed, default: {} },
);

/** Hosts, addresses or CIDR ranges one purpose may connect to, besides what the config names. */
const EgressList = Type.Array(Type.String({ pattern: '^[A-Za-z0-9.:_-]{1,253}(/[0-9]{1,3})?$' }), { default: [], maxItems: 1024 });

/** Where the gateway may open connections (see docs/privacy.md). */
const Egress = Type.Object(
  {
    /**
     * default: what the config names and these lists, plus public addresses for media, webhooks
     * and the MMSC (and the host of a webhook URL set for a number); strict: only those named or listed.
     */
    mode: Type.Union([Type.Literal('default'), Type.Literal('strict')], { default: 'default' }),
    webhooks: EgressList,
    media: EgressList,
    mmsc: EgressList,
    sip: EgressList,
    upstreams: EgressList,
  },
  { ...closed, default: {} },
);

/** How long stored messages and call transcripts are kept (media: media.retentionDays). */
const Retention = Type.Object(
  {
    /** Days messages (text, parts, their webhook deliveries and media) are kept; 0 keeps them forever. */
    messagesDays: Type.Integer({ default: 0, minimum: 0 }),
    /** Days call transcripts (what was said each turn, greeting, instructions) are kept; 0 keeps them forever. */
    callTranscriptsDays: Type.Integer({ default: 0, minimum: 0 }),
    /** How often the purge job runs. */
    purgeIntervalMinutes: Type.Integer({ default: 60, minimum: 1 }),
  },
  { ...closed, default: {} },
);

const DeliveryMode = Type.Union([Type.Literal('storage'), Type.Literal('direct')]);

const Modem = Type.Object(
  {
    id: Id,
    /** Device path (/dev/ttyUSB2, /dev/serial/by-id/...). Either port or usb is required. */
    port: Type.Optional(Type.String({ minLength: 1 })),
    /** USB vendor:product and interface number, matched against the serial ports found. */
    usb: Type.Optional(
      Type.Object(
        {
          vendorId: Type.String({ pattern: '^[0-9a-fA-F]{4}$' }),
          productId: Type.String({ pattern: '^[0-9a-fA-F]{4}$' }),
          interface: Type.Optional(Type.Integer({ minimum: 0 })),
        },
        closed,
      ),
    ),
    /** Hardware profile id (hardware/profiles/*.json); absent: detected from the USB id, AT+CGMI/CGMM and ATI. */
    profile: Type.Optional(Type.String({ minLength: 1 })),
    baudRate: Type.Integer({ default: 115_200, minimum: 300 }),
    /** SIM PIN; never logged. */
    pin: Type.Optional(Type.String({ pattern: '^[0-9]{4,8}$' })),
    /** The SIM's own number when AT+CNUM does not report it. */
    number: Type.Optional(E164),
    sendsPerMinute: Type.Integer({ default: 30, minimum: 1 }),
    /** storage: +CMTI, read from the SIM/ME; direct: +CMT/+CDS, acked (AT+CNMA) once stored. Absent: the profile's (storage). */
    deliveryMode: Type.Optional(DeliveryMode),
    mms: Type.Optional(ModemMms),
  },
  closed,
);

const VirtualLine = Type.Object(
  {
    id: Id,
    number: E164,
    /** Which real modem family's AT dialect, URCs and errors the virtual modem speaks. */
    dialect: Type.Union(
      ['quectel', 'simcom', 'huawei', 'sierra', 'telit', 'generic'].map((d) => Type.Literal(d)),
      { default: 'quectel' },
    ),
    /** How the line sends MMS: http (the gateway posts to the MMSC) or at (the modem's own MMS client; quectel and simcom). */
    mmsTransport: Type.Union([Type.Literal('http'), Type.Literal('at')], { default: 'http' }),
    /** How the gateway takes this line's messages, as modems[].deliveryMode (the virtual modem speaks both). */
    deliveryMode: Type.Optional(DeliveryMode),
  },
  closed,
);

const LatencyRange = Type.Object(
  { minMs: Type.Integer({ minimum: 0 }), maxMs: Type.Integer({ minimum: 0 }) },
  closed,
);

const Virtual = Type.Object(
  {
    /** "auto": virtual lines run only when no modem is configured. */
    enabled: Type.Union([Type.Literal('auto'), Type.Boolean()], { default: 'auto' }),
    lines: Type.Array(VirtualLine, {
      default: [
        { id: 'virtual-1', number: '+15550000001', dialect: 'quectel' },
        { id: 'virtual-2', number: '+15550000002', dialect: 'simcom' },
      ],
    }),
    /** Pacing of each virtual line's send queue, as for a real modem. */
    sendsPerMinute: Type.Integer({ default: 30, minimum: 1 }),
    /** Time each network hop takes (AT+CMGS answer, delivery, status report), like a real network. */
    latency: Type.Object(LatencyRange.properties, { ...closed, default: { minMs: 1000, maxMs: 3000 } }),
    /** MMS between virtual lines and subscribers, through the virtual MMSC on loopback. */
    mms: Type.Object(
      { enabled: Type.Boolean({ default: true }), maxMessageBytes: Type.Integer({ default: 614_400, minimum: 10_240 }) },
      { ...closed, default: {} },
    ),
  },
  { ...closed, default: {} },
);

/** A keyword as the contact types it (matched case-insensitively, the whole message). */
const Keyword = Type.String({ pattern: '^[^\\s]{1,32}$' });
const KeywordList = (defaults: string[]) => Type.Array(Keyword, { maxItems: 32, default: defaults });
/** An auto-answer's text; '' sends none. */
const AutoText = (text: string) => Type.String({ maxLength: 640, default: text });

/**
 * Opt-out keywords (CTIA): a whole-message STOP opts the contact out of the number, START opts
 * them back in, HELP answers with the help text. Each number can override any of these.
 */
const OptOut = Type.Object(
  {
    /** false: keywords are plain messages and get no answer (opt-outs already recorded still hold). */
    enabled: Type.Boolean({ default: true }),
    optOutKeywords: KeywordList(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT']),
    /** Act only while the contact is opted out (a plain "yes" from anyone else is a message). */
    optInKeywords: KeywordList(['START', 'UNSTOP', 'YES']),
    helpKeywords: KeywordList(['HELP', 'INFO']),
    confirmation: AutoText('You are unsubscribed and will get no more messages from this number. Reply START to resubscribe.'),
    optInConfirmation: AutoText('You are subscribed again. Reply STOP to unsubscribe, HELP for help.'),
    helpText: AutoText('This number is answered by an automated agent. Reply STOP to unsubscribe, START to resubscribe.'),
  },
  { ...closed, default: {} },
);

/** A number's own opt-out settings: any of the global keys, without defaults (absent = the global value). */
const OptOutOverride = Type.Partial(
  Type.Object(
    {
      enabled: Type.Boolean(),
      optOutKeywords: Type.Array(Keyword, { maxItems: 32 }),
      optInKeywords: Type.Array(Keyword, { maxItems: 32 }),
      helpKeywords: Type.Array(Keyword, { maxItems: 32 }),
      confirmation: Type.String({ maxLength: 640 }),
      optInConfirmation: Type.String({ maxLength: 640 }),
      helpText: Type.String({ maxLength: 640 }),
    },
    closed,
  ),
);

const Compliance = Type.Object({ optOut: OptOut }, { ...closed, default: {} });

const NumberSettings = Type.Object(
  {
    /** The line (modem or virtual line id) this number is bound to. */
    line: Id,
    phoneNumber: Type.Optional(E164),
    label: Type.Optional(Type.String({ maxLength: 100 })),
    webhookUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    webhookTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 120_000 })),
    overage: Type.Optional(Type.Boolean()),
    /** This number's opt-out settings over compliance.optOut's. */
    optOut: Type.Optional(OptOutOverride),
  },
  closed,
);

const Metering = Type.Object(
  {
    numberMonthlyUsd: Type.Number({ default: 29, minimum: 0 }),
    includedSegments: Type.Integer({ default: 2000, minimum: 0 }),
    includedVoiceMinutes: Type.Integer({ default: 300, minimum: 0 }),
    overageSegmentUsd: Type.Number({ default: 0.015, minimum: 0 }),
    overageVoiceMinuteUsd: Type.Number({ default: 0.02, minimum: 0 }),
    voiceAiMinuteUsd: Type.Number({ default: 0.03, minimum: 0 }),
  },
  { ...closed, default: {} },
);

const RateLimit = Type.Object(
  {
    /** Sustained requests per second per API key (token bucket refill). */
    requestsPerSecond: Type.Number({ default: 20, exclusiveMinimum: 0 }),
    burst: Type.Integer({ default: 100, minimum: 1 }),
  },
  { ...closed, default: {} },
);

const NullablePath = Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null });

/**
 * PostgreSQL instead of the embedded SQLite file: every node of a cluster names the same
 * database (docs/cluster.md). url null = SQLite in dataDir.
 */
const Postgres = Type.Object(
  {
    /** postgres://user:password@host:port/database (AGENTPHONE_DATABASE_URL); never logged. */
    url: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null }),
    ssl: Type.Object(
      {
        /** disable; require (encrypted, certificate not checked); verify-full (certificate and host name checked). */
        mode: Type.Union([Type.Literal('disable'), Type.Literal('require'), Type.Literal('verify-full')], { default: 'disable' }),
        /** PEM of the CA that signed the server's certificate (verify-full); null = the system's CAs. */
        caFile: NullablePath,
        /** Client certificate and key, for servers that authenticate clients by certificate. */
        certFile: NullablePath,
        keyFile: NullablePath,
      },
      { ...closed, default: {} },
    ),
    /** Connections this node keeps open to the database. */
    poolSize: Type.Integer({ default: 10, minimum: 2, maximum: 200 }),
    /** How long a query waits for a connection (or the first connect) before it fails. */
    connectTimeoutMs: Type.Integer({ default: 10_000, minimum: 100, maximum: 120_000 }),
  },
  { ...closed, default: {} },
);

/** Where state lives: the SQLite file in dataDir, or PostgreSQL (store.postgres.url). */
const Store = Type.Object(
  {
    postgres: Postgres,
    /**
     * Key that seals webhook secrets at rest (AES-256-GCM): 32 bytes as 64 hex characters or
     * base64. Prefer AGENTPHONE_SECRETS_KEY or secretsKeyFile to writing it in a config file.
     */
    secretsKey: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null }),
    /** A file holding that key (e.g. a systemd or container secret); read once at start. */
    secretsKeyFile: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null }),
  },
  { ...closed, default: {} },
);

const Dashboard = Type.Object(
  {
    /** Serve the operator dashboard at / (the admin API works either way). */
    enabled: Type.Boolean({ default: true }),
    /** How long a dashboard login lasts without activity. */
    sessionTtlMinutes: Type.Integer({ default: 720, minimum: 1 }),
    /** Failed logins from one address before each further attempt waits (1 s, doubling, up to 15 min). */
    loginFailuresBeforeLockout: Type.Integer({ default: 5, minimum: 1 }),
    /** How often live views (lines, new messages) are checked for changes. */
    liveIntervalMs: Type.Integer({ default: 1000, minimum: 100 }),
  },
  { ...closed, default: {} },
);

/**
 * This gateway as a node of a cluster: its id, its heartbeat and the leases on the lines it
 * drives (docs/cluster.md). On the embedded SQLite store the cluster is this one node.
 */
const Cluster = Type.Object(
  {
    /** Unique in the cluster; null = this machine's host name. */
    nodeId: Type.Union([Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$' }), Type.Null()], { default: null }),
    /** How often the node beats and renews its line leases. */
    heartbeatMs: Type.Integer({ default: 2000, minimum: 100, maximum: 60_000 }),
    /** A node silent this long is dead, and its lines' leases lapse (at least 3 heartbeats). */
    leaseMs: Type.Integer({ default: 10_000, minimum: 300, maximum: 600_000 }),
  },
  { ...closed, default: {} },
);

/** The MCP server at /mcp (Streamable HTTP) and behind `agentphone mcp` (stdio). */
const Mcp = Type.Object(
  {
    /** Serve /mcp (API-key auth, as /api). */
    enabled: Type.Boolean({ default: true }),
    /** Open sessions across all keys; an initialize past this answers 503. */
    maxSessions: Type.Integer({ default: 100, minimum: 1 }),
    /** A session with no request for this long is closed (its id then answers 404). */
    sessionIdleMinutes: Type.Integer({ default: 30, minimum: 1 }),
    /** Largest JSON-RPC request body accepted on /mcp. */
    bodyLimitBytes: Type.Integer({ default: 1_048_576, minimum: 1024 }),
    /** The longest wait_for_reply may block; a longer timeout asked for is cut to this. */
    maxWaitSeconds: Type.Integer({ default: 120, minimum: 1, maximum: 600 }),
  },
  { ...closed, default: {} },
);

/** A model served by an upstream OpenAI-compatible engine (vLLM, SGLang, llama.cpp server). */
const Upstream = Type.Object(
  {
    /** The model name clients ask for (and /api/v1/models lists). */
    model: Type.String({ minLength: 1 }),
    /** The engine's OpenAI base URL, up to and including /v1. */
    baseUrl: Type.String({ pattern: '^https?://' }),
    /** The model name the engine knows it by. */
    upstreamModel: Type.String({ minLength: 1 }),
    /** Bearer key the engine expects; null = none. Never logged. */
    apiKey: Type.Union([Type.String({ minLength: 1 }), Type.Null()], { default: null }),
    /** Time allowed until the engine answers with headers. */
    headersTimeoutMs: Type.Integer({ default: 30_000, minimum: 1 }),
    /** Longest silence allowed between two chunks of a streamed answer (and for a whole non-streamed one). */
    idleTimeoutMs: Type.Integer({ default: 120_000, minimum: 1 }),
    /** Requests in flight to this engine at once; more wait, up to maxQueued. */
    maxConcurrency: Type.Integer({ default: 64, minimum: 1 }),
    /** Requests waiting for a slot; past this they get 503. */
    maxQueued: Type.Integer({ default: 256, minimum: 0 }),
    /**
     * More engines serving the same model (their OpenAI base URLs): with baseUrl they form one
     * replica set, routed least-busy, each with its own maxConcurrency and maxQueued.
     */
    replicas: Type.Array(Type.String({ pattern: '^https?://' }), { default: [] }),
    /**
     * What the engine serves: chat (/chat/completions), transcription (/audio/transcriptions)
     * or speech (an Orpheus LM on /completions). Absent: speech for an Orpheus model name, else chat.
     */
    kind: Type.Optional(Type.Union([Type.Literal('chat'), Type.Literal('transcription'), Type.Literal('speech')])),
    /** When no replica can answer: local = the model of the same name in inference.models, none = 503. */
    fallback: Type.Union([Type.Literal('none'), Type.Literal('local')], { default: 'none' }),
    /** How often each replica is asked GET <baseUrl>/models; 0 = never (failures still mark it down). */
    healthIntervalMs: Type.Integer({ default: 10_000, minimum: 0 }),
    /** Time a health check may take before the replica counts as down. */
    healthTimeoutMs: Type.Integer({ default: 2_000, minimum: 1 }),
    /** How long a replica that could not be reached is passed over before it is tried again. */
    downMs: Type.Integer({ default: 5_000, minimum: 0 }),
  },
  closed,
);

const Chat = Type.Object(
  {
    /** The model used when a request names none. */
    defaultModel: Type.String({ default: 'Qwen3-Next-80B', minLength: 1 }),
    /** max_tokens when a request to a local model gives none. */
    defaultMaxTokens: Type.Integer({ default: 1024, minimum: 1 }),
    /** Sequences a local model decodes together in one batch (continuous batching). */
    maxBatch: Type.Integer({ default: 16, minimum: 1 }),
  },
  { ...closed, default: {} },
);

const Speech = Type.Object(
  {
    /** The TTS model used when a request names none (or an OpenAI name such as tts-1). */
    defaultModel: Type.String({ default: 'orpheus-3b', minLength: 1 }),
    /** The SNAC 24 kHz decoder (inference.models name) that turns Orpheus's audio codes into PCM. */
    snacModel: Type.String({ default: 'snac-24khz', minLength: 1 }),
    /** Longest input text accepted, in characters. */
    maxInputChars: Type.Integer({ default: 4096, minimum: 1 }),
    /** Audio tokens generated per sentence at most (~7 per 85 ms of audio). */
    maxAudioTokens: Type.Integer({ default: 2400, minimum: 28 }),
    temperature: Type.Number({ default: 0.6, minimum: 0 }),
    topP: Type.Number({ default: 0.8, exclusiveMinimum: 0, maximum: 1 }),
    repetitionPenalty: Type.Number({ default: 1.3, exclusiveMinimum: 0 }),
  },
  { ...closed, default: {} },
);

const Trunk = Type.Object(
  {
    name: Id,
    /** The carrier's SIP proxy or registrar. */
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ default: 5060, minimum: 1, maximum: 65535 }),
    transport: Type.Union([Type.Literal('udp'), Type.Literal('tcp'), Type.Literal('tls')], { default: 'udp' }),
    /** Digest credentials (never logged); needed to register, optional for IP-authenticated trunks. */
    username: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(Type.String({ minLength: 1 })),
    /** REGISTER with the credentials (refreshed before expiry); false: the trunk authenticates our IP. */
    register: Type.Boolean({ default: false }),
    registerExpiresS: Type.Integer({ default: 3600, minimum: 60 }),
    /**
     * Who may send INVITEs over this trunk: IPs, CIDRs or host names (resolved at start and on
     * each reconnect). Default: the trunk's host; a registered trunk also accepts its registrar.
     */
    allow: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9.:-]{1,253}(/[0-9]{1,3})?$' }), { maxItems: 256 })),
    /** The number calls sent to this trunk's registration are for; default: the number in their To header. */
    number: Type.Optional(E164),
  },
  closed,
);

const Voice = Type.Object(
  {
    /** The drachtio-server admin connection; null = voice calls off. */
    drachtio: Type.Union(
      [
        Type.Object(
          {
            host: Type.String({ minLength: 1 }),
            port: Type.Integer({ default: 9022, minimum: 1, maximum: 65535 }),
            /** Shared secret of the admin port; never logged. */
            secret: Type.String({ minLength: 1 }),
          },
          closed,
        ),
        Type.Null(),
      ],
      { default: null },
    ),
    trunks: Type.Array(Trunk, { default: [] }),
    /** Address written in our SDP: where the trunk sends RTP (this host's public address). */
    mediaAddress: Type.String({ default: '127.0.0.1', minLength: 1 }),
    rtpBindHost: Type.String({ default: '0.0.0.0', minLength: 1 }),
    rtpPorts: Type.Object(
      { min: Type.Integer({ default: 40_000, minimum: 1024, maximum: 65534 }), max: Type.Integer({ default: 40_999, minimum: 1025, maximum: 65535 }) },
      { ...closed, default: {} },
    ),
    /** nice (-20..19) of the media worker thread only; null leaves it unchanged. */
    mediaThreadNice: Type.Union([Type.Integer({ minimum: -20, maximum: 19 }), Type.Null()], { default: -10 }),
    jitterBuffer: Type.Object(
      {
        /** Adaptive delay bounds (ms): how long a missing packet is waited for past its expected arrival. */
        minDelayMs: Type.Integer({ default: 10, minimum: 0 }),
        maxDelayMs: Type.Integer({ default: 200, minimum: 0 }),
        maxFrames: Type.Integer({ default: 25, minimum: 2 }),
      },
      { ...closed, default: {} },
    ),
    endpointing: Type.Object(
      {
        silenceMs: Type.Integer({ default: 600, minimum: 100 }),
        minSpeechMs: Type.Integer({ default: 100, minimum: 0 }),
        prerollMs: Type.Integer({ default: 300, minimum: 0 }),
        startThreshold: Type.Number({ default: 0.5, minimum: 0, maximum: 1 }),
        endThreshold: Type.Number({ default: 0.35, minimum: 0, maximum: 1 }),
        /** Speech with no pause this long ends the turn there (bounds what is held and transcribed). */
        maxUtteranceMs: Type.Integer({ default: 30_000, minimum: 1000, maximum: 300_000 }),
      },
      { ...closed, default: {} },
    ),
    /** Spoken when a call is answered (a number's own greeting wins); null = none. */
    greeting: Type.Union([Type.String(), Type.Null()], { default: 'Hello! How can I help you today?' }),
    /** TTS voice (see /api/v1/voices); the voice names the TTS model that speaks it. */
    voice: Type.String({ default: 'tara', minLength: 1 }),
    /** The Whisper model (an inference.models name of family whisper) that transcribes callers. */
    sttModel: Type.String({ default: 'whisper-large-v3-turbo', minLength: 1 }),
    /** The built-in agent's system prompt when the number has no webhook and no prompt of its own. */
    systemPrompt: Type.Union([Type.String(), Type.Null()], { default: null }),
    /** How long the agent (webhook or chat model) has to answer a turn. */
    agentDeadlineMs: Type.Integer({ default: 8000, minimum: 100 }),
    bargeIn: Type.Boolean({ default: true }),
    /** Spoken to callers when the number's minutes are used up and overage is off. */
    quotaMessage: Type.String({
      default: 'Sorry, this number has used all of its calling minutes for this month. Goodbye.',
      minLength: 1,
    }),
    maxCallMinutes: Type.Integer({ default: 60, minimum: 1 }),
  },
  { ...closed, default: {} },
);

export const ConfigSchema = Type.Object(
  {
    dataDir: Type.String({ default: './data', minLength: 1 }),
    /** Admin token for /admin and the CLI; null = generated at first start into the data dir. */
    adminToken: Type.Union([Type.String({ minLength: 16 }), Type.Null()], { default: null }),
    store: Store,
    server: Server,
    log: Log,
    sms: Sms,
    modems: Type.Array(Modem, { default: [] }),
    virtual: Virtual,
    numbers: Type.Array(NumberSettings, { default: [] }),
    metering: Metering,
    compliance: Compliance,
    rateLimit: RateLimit,
    voice: Voice,
    media: Media,
    egress: Egress,
    retention: Retention,
    inference: InferenceSchema,
    upstreams: Type.Array(Upstream, {
      default: [
        { model: 'Qwen3-Next-80B', baseUrl: 'http://127.0.0.1:8000/v1', upstreamModel: 'Qwen/Qwen3-Next-80B-A3B-Instruct', apiKey: null, headersTimeoutMs: 30_000, idleTimeoutMs: 120_000, maxConcurrency: 64, maxQueued: 256 },
      ],
    }),
    chat: Chat,
    speech: Speech,
    dashboard: Dashboard,
    mcp: Mcp,
    cluster: Cluster,
  },
  closed,
);

export type Config = Static<typeof ConfigSchema>;
export type ModemConfig = Static<typeof Modem>;
export type VoiceConfig = Static<typeof Voice>;
export type TrunkConfig = Static<typeof Trunk>;
export type ModemMmsConfig = Static<typeof ModemMms>;
export type MediaConfig = Static<typeof Media>;
export type VirtualLineConfig = Static<typeof VirtualLine>;
export type NumberConfig = Static<typeof NumberSettings>;
export type UpstreamConfig = Static<typeof Upstream>;
export type McpConfig = Static<typeof Mcp>;
export type ClusterConfig = Static<typeof Cluster>;
export type StoreConfig = Static<typeof Store>;
export type RetentionConfig = Static<typeof Retention>;
export type OptOutConfig = Static<typeof OptOut>;
