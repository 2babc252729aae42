// Configuration in one place: the environment (loadConfig), overrides per user and per session
// (resolveSessionSettings), and what they become for the engine and the gRPC link.
export { type ConfigSource } from './invalid.js';
export { loadConfig, type Environment } from './load.js';
export { resolveSessionSettings, type OffReason, type Override, type SessionOverrides, type SessionSettings, type SettingSource, type UserSettings } from './overrides.js';
export { redactConfig } from './redact.js';
export { LOG_LEVELS } from './rules.js';
export { executionProviderFor, toEngineOptions, toSessionOptions, type SessionOptionsExtra } from './session-options.js';
export { clientTransport, serviceTransport, type ClientTransport, type ServiceTransport } from './transport.js';
export type { AicConfig, AuthConfig, ClientConfig, EngineConfig, HostPort, HttpUrl, LogLevel, ServiceConfig, SessionDefaults, TlsConfig } from './types.js';
export { CONFIG_VARIABLES, formatConfigTable, OTHER_PROJECT_VARIABLES, type ConfigVariable } from './variables.js';
