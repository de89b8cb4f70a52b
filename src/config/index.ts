export { loadConfig, validateConfig, type LoadConfigOptions } from './load.ts';
export { ConfigSchema, type Config, type ModemConfig, type NumberConfig, type VirtualLineConfig } from './schema.ts';
