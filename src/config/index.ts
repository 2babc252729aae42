// Configuration in one place: the environment (loadConfig) and what it becomes for the gRPC link.
export { type ConfigSource } from './invalid.js';
export { loadConfig, type Environment } from './load.js';
export { redactConfig } from './redact.js';
export { LOG_LEVELS } from './rules.js';
export { clientTransport, serviceTransport, type ClientTransport, type ServiceTransport } from './transport.js';
export type { AicConfig, AuthConfig, ClientConfig, EngineConfig, HostPort, HttpUrl, LogLevel, ServiceConfig, SessionDefaults, TlsConfig } from './types.js';
export { CONFIG_VARIABLES, formatConfigTable, OTHER_PROJECT_VARIABLES, type ConfigVariable } from './variables.js';
