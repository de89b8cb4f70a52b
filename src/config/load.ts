import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isAbsolute, join as joinPath, resolve } from 'node:path';
import Value from 'typebox/value';
import { parseDocument } from 'yaml';
import { ConfigError } from '../errors/index.ts';
// The profile list only (JSON files), not the modem domain's runtime.
import { loadProfiles } from '../modem/profiles.ts';
import { cudaSettingsProblems } from './inference.ts';
import { postgresProblems } from './postgres.ts';
import { ConfigSchema, type Config } from './schema.ts';
import { readSecretsKeyFile, secretsKeyProblems } from './secrets-key.ts';

export interface LoadConfigOptions {
  /** `--config FILE` from the command line; wins over AGENTPHONE_CONFIG. */
  configPath?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

/** Environment variables and the config path each overrides. */
const ENV_OVERRIDES: ReadonlyArray<readonly [string, readonly string[], 'string' | 'integer']> = [
  ['AGENTPHONE_PORT', ['server', 'port'], 'integer'],
  ['AGENTPHONE_HOST', ['server', 'host'], 'string'],
  ['AGENTPHONE_PUBLIC_URL', ['server', 'publicUrl'], 'string'],
  ['AGENTPHONE_DATA_DIR', ['dataDir'], 'string'],
  ['AGENTPHONE_ADMIN_TOKEN', ['adminToken'], 'string'],
  ['AGENTPHONE_DATABASE_URL', ['store', 'postgres', 'url'], 'string'],
  ['AGENTPHONE_DATABASE_SSL_MODE', ['store', 'postgres', 'ssl', 'mode'], 'string'],
  ['AGENTPHONE_DATABASE_SSL_CA', ['store', 'postgres', 'ssl', 'caFile'], 'string'],
  ['AGENTPHONE_SECRETS_KEY', ['store', 'secretsKey'], 'string'],
  ['AGENTPHONE_SECRETS_KEY_FILE', ['store', 'secretsKeyFile'], 'string'],
  ['AGENTPHONE_LOG_LEVEL', ['log', 'level'], 'string'],
  ['AGENTPHONE_MODELS_DIR', ['inference', 'modelsDir'], 'string'],
  ['AGENTPHONE_HF_ENDPOINT', ['inference', 'hfEndpoint'], 'string'],
];

/**
 * Resolves the configuration exactly as the server does: embedded defaults, then the
 * operator's file, then AGENTPHONE_* variables. Every problem is reported at once.
 */
export function loadConfig(options: LoadConfigOptions): Readonly<Config> {
  const path = options.configPath ?? options.env.AGENTPHONE_CONFIG;
  const raw = path === undefined || path === '' ? {} : readConfigFile(resolve(options.cwd, path));
  applyEnv(raw, options.env);
  const config = validateConfig(raw);
  if (!isAbsolute(config.dataDir)) config.dataDir = resolve(options.cwd, config.dataDir);
  const models = config.inference.modelsDir;
  config.inference.modelsDir = models === null ? joinPath(config.dataDir, 'models') : resolve(options.cwd, models);
  readSecretsKeyFile(config, options.cwd);
  return deepFreeze(config);
}

/** Validates a raw config object (defaults filled in) or throws a ConfigError listing every problem. */
export function validateConfig(raw: unknown): Config {
  const withDefaults = Value.Default(ConfigSchema, structuredClone(raw ?? {}));
  const problems = schemaProblems(withDefaults);
  // Settings that relate several fields are checked wherever those fields are well-formed, so a
  // file with a schema error and a cross-field error reports both.
  problems.push(...profileProblems(withDefaults), ...crossFieldProblems(withDefaults as Config, problems));
  if (problems.length > 0) throw new ConfigError(problems);
  return withDefaults as Config;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : 'cannot be read';
    throw new ConfigError([`${file}: ${reason}`]);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `${file}:${e.linePos?.[0].line ?? '?'}: ${e.message.split('\n')[0]}`));
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError([`${file}: must be a mapping of settings`]);
  return value as Record<string, unknown>;
}

function applyEnv(target: Record<string, unknown>, env: LoadConfigOptions['env']): void {
  for (const [name, path, kind] of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let node = target;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      node[key] = typeof next === 'object' && next !== null ? next : {};
      node = node[key] as Record<string, unknown>;
    }
    const leaf = path[path.length - 1] as string;
    node[leaf] = kind === 'integer' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  }
}

function schemaProblems(value: unknown): string[] {
  const problems: string[] = [];
  // A union of literals fails once per literal: one line listing them all instead.
  const allowed = new Map<string, unknown[]>();
  for (const error of Value.Errors(ConfigSchema, value)) {
    const at = formatPath(error.instancePath);
    const params = error.params as { requiredProperties?: string[]; additionalProperties?: string[]; allowedValue?: unknown };
    if (error.keyword === 'const') {
      const values = allowed.get(at) ?? [];
      if (values.length === 0) problems.push(at);
      allowed.set(at, [...values, params.allowedValue]);
    } else if (error.keyword === 'required') {
      for (const p of params.requiredProperties ?? []) problems.push(`${join(at, p)}: required`);
    } else if (error.keyword === 'additionalProperties') {
      for (const p of params.additionalProperties ?? []) problems.push(`${join(at, p)}: unknown setting`);
    } else if (error.keyword === 'boolean' || error.keyword === 'anyOf') {
      // Reported by the more specific errors around it.
    } else {
      problems.push(`${at || '(root)'}: ${error.message}`);
    }
  }
  return [...new Set(problems.map((p) => (allowed.has(p) ? `${p || '(root)'}: must be one of ${allowed.get(p)?.map((v) => JSON.stringify(v)).join(', ')}` : p)))];
}

/**
 * Modem profile names must name a bundled profile (hardware/profiles). Checked even when other
 * settings are wrong, so a mistyped profile is reported with everything else at once.
 */
function profileProblems(value: unknown): string[] {
  const modems = (value as { modems?: unknown }).modems;
  if (!Array.isArray(modems)) return [];
  let known: string[] | undefined;
  const problems: string[] = [];
  modems.forEach((m: unknown, i) => {
    const profile = (m as { profile?: unknown } | null)?.profile;
    if (typeof profile !== 'string' || profile === '') return;
    known ??= loadProfiles().map((p) => p.id);
    if (!known.includes(profile)) {
      problems.push(`modems[${i}].profile: unknown modem profile "${profile}"; known: ${known.join(', ')} (or leave it out to detect the modem)`);
    }
  });
  return problems;
}

/** Where `problems` (from the schema) leave every setting under `roots` well-formed. */
function wellFormed(problems: readonly string[], roots: readonly string[]): boolean {
  return !problems.some((p) => {
    const at = p.slice(0, p.indexOf(':'));
    return at === '(root)' || roots.some((r) => at === r || at.startsWith(`${r}.`) || at.startsWith(`${r}[`));
  });
}

function crossFieldProblems(config: Config, schemaProblems: readonly string[]): string[] {
  const problems: string[] = [];
  const ok = (...roots: string[]): boolean => wellFormed(schemaProblems, roots);
  const lineIds = new Set<string>();
  const addLine = (id: string, at: string): void => {
    if (lineIds.has(id)) problems.push(`${at}.id: duplicate line id "${id}"`);
    lineIds.add(id);
  };
  const linesOk = ok('modems', 'virtual');
  if (linesOk) {
    config.modems.forEach((m, i) => {
      if (m.port === undefined && m.usb === undefined) problems.push(`modems[${i}].port: required (or modems[${i}].usb)`);
      addLine(m.id, `modems[${i}]`);
    });
    config.virtual.lines.forEach((l, i) => {
      addLine(l.id, `virtual.lines[${i}]`);
      if (l.mmsTransport === 'at' && l.dialect !== 'quectel' && l.dialect !== 'simcom') {
        problems.push(`virtual.lines[${i}].mmsTransport: "at" needs a modem with its own MMS client (dialect quectel or simcom), not ${l.dialect}`);
      }
    });
    if (config.virtual.latency.minMs > config.virtual.latency.maxMs) {
      problems.push('virtual.latency.minMs: must not be greater than virtual.latency.maxMs');
    }
  }
  if (ok('store')) problems.push(...secretsKeyProblems(config.store), ...postgresProblems(config.store.postgres));
  if (ok('cluster') && config.cluster.leaseMs < 3 * config.cluster.heartbeatMs) {
    problems.push(`cluster.leaseMs: must be at least 3 × cluster.heartbeatMs (${3 * config.cluster.heartbeatMs}), so one late beat does not lose the node's lines`);
  }
  if (ok('inference')) problems.push(...cudaSettingsProblems(config.inference.session.cuda));
  const bound = new Set<string>();
  if (linesOk && ok('numbers')) {
    config.numbers.forEach((n, i) => {
      if (!lineIds.has(n.line)) problems.push(`numbers[${i}].line: no modem or virtual line has id "${n.line}"`);
      if (bound.has(n.line)) problems.push(`numbers[${i}].line: line "${n.line}" already has a number`);
      bound.add(n.line);
    });
  }
  if (ok('voice')) {
    config.voice.trunks.forEach((t, i) => {
      t.allow?.forEach((entry, j) => {
        const [address = '', prefix] = entry.split('/');
        const family = isIP(address);
        if (prefix !== undefined && (family === 0 || Number(prefix) > (family === 4 ? 32 : 128))) {
          problems.push(`voice.trunks[${i}].allow[${j}]: "${entry}" is not an IPv4/IPv6 CIDR range`);
        }
      });
      if (t.register && (!t.username || !t.password)) problems.push(`voice.trunks[${i}]: register needs username and password`);
    });
  }
  if (ok('upstreams', 'inference')) problems.push(...upstreamProblems(config));
  if (ok('voice', 'inference') && config.voice.drachtio !== null) {
    // Calls transcribe with this model from the first turn: a name that serves nothing is a config error, not a failed call.
    const whisper = config.inference.models.filter((m) => m.family === 'whisper').map((m) => m.name);
    const onEngines = config.upstreams.some((u) => u.model === config.voice.sttModel && u.kind === 'transcription');
    if (!whisper.includes(config.voice.sttModel) && !onEngines) {
      problems.push(`voice.sttModel: "${config.voice.sttModel}" is not a whisper model in inference.models (whisper models: ${whisper.join(', ') || 'none'})`);
    }
  }
  return problems;
}

/** The local model family each upstream kind can fall back to. */
const FALLBACK_FAMILY = { chat: 'llm', transcription: 'whisper', speech: 'orpheus' } as const;

/** One entry per upstream model name, and `fallback: local` only onto a configured model of the same name and kind. */
function upstreamProblems(config: Config): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  config.upstreams.forEach((u, i) => {
    if (seen.has(u.model)) problems.push(`upstreams[${i}].model: "${u.model}" is listed twice; give one entry several replicas instead`);
    seen.add(u.model);
    if (u.fallback !== 'local') return;
    const local = config.inference.models.find((m) => m.name === u.model);
    const families: readonly string[] = u.kind ? [FALLBACK_FAMILY[u.kind]] : ['llm', 'orpheus'];
    if (!local || !families.includes(local.family)) {
      problems.push(`upstreams[${i}].fallback: "local" needs a model named "${u.model}" of family ${families.join(' or ')} in inference.models`);
    }
  });
  return problems;
}

function formatPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : join(acc, seg)), '');
}

function join(base: string, key: string): string {
  return base === '' ? key : `${base}.${key}`;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
