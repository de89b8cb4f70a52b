export { loadConfig, validateConfig, type LoadConfigOptions } from './load.ts';
export { ConfigSchema, type Config, type McpConfig, type MediaConfig, type ModemConfig, type ModemMmsConfig, type NumberConfig, type OptOutConfig, type RetentionConfig, type StoreConfig, type UpstreamConfig, type VirtualLineConfig } from './schema.ts';
export { MODEL_DTYPES, type InferenceConfig, type ModelConfig, type SessionDefaultsConfig } from './inference.ts';
export { secretsKeyBytes } from './secrets-key.ts';
export { testExtraConnect } from './test-hooks.ts';
export { disableLibraryTelemetry, LIBRARY_TELEMETRY_SWITCHES } from './library-telemetry.ts';
