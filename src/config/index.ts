/** Configuration: one convict schema, loaded once at the edge into a typed plain object. */
export { loadConfig, loadConfigDetailed, printableConfig, packageRoot, type LoadConfigOptions, type LoadedConfig } from './load.js';
export { ConfigError, EX_CONFIG, MASK, type ConfigErrorDetails } from './errors.js';
export { SCHEMA, schemaKeys, LOG_LEVELS, type KeyDef } from './schema.js';
export { DEFAULT_CONFIG_FILE, CONFIG_FILE_ENV } from './sources.js';
export { renderConfigDocs } from './docs.js';
export type { GearhearConfig, ConfigSource } from './types.js';
