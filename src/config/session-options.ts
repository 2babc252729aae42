// From configuration to what the engine takes: openSession() options from a session's effective
// settings, createEngine() options from the environment, and the provider a user's GPU preference
// asks for. The service and its clients open sessions through these, so both run the same settings.
import type { EngineOptions, ExecutionProvider, OpenSessionOptions } from '../engine.js';
import type { SessionSettings } from './overrides.js';
import type { AicConfig, EngineConfig } from './types.js';

/** The openSession() options the settings decide; the rest (sessionId, peerCapabilities, fallbackCodec, verifyQuality, limits) a caller adds. */
export type SessionOptionsExtra = Omit<OpenSessionOptions, 'mode' | 'targetCompressionRatio' | 'minQualityScore' | 'maxLatencyMs' | 'enableFallback'>;

/**
 * The options to open a session with under `settings` (resolveSessionSettings()): mode, target,
 * floor, latency budget and fallback, plus what `extra` adds. The settings win over `extra`.
 * `useGpu` and the model preference are not session options (an engine's provider and codecs are
 * the process's): executionProviderFor() maps the first for a service that keeps an engine per
 * provider.
 */
export function toSessionOptions(settings: SessionSettings, extra: SessionOptionsExtra = {}): OpenSessionOptions {
  return {
    ...extra,
    mode: settings.mode,
    targetCompressionRatio: settings.targetCompressionRatio,
    minQualityScore: settings.minQualityScore,
    maxLatencyMs: settings.maxLatencyMs,
    enableFallback: settings.enableFallback,
  };
}

/** The createEngine() options the environment decides (AIC_EXECUTION_PROVIDER). */
export function toEngineOptions(config: Pick<AicConfig, 'engine'>): Pick<EngineOptions, 'executionProvider'> {
  return { executionProvider: config.engine.executionProvider };
}

/**
 * The provider a session's GPU preference asks for, within what the operator allows: no preference
 * gets the engine's provider; `useGpu: false` gets CPU; `useGpu: true` gets CUDA unless the
 * operator chose CPU (AIC_EXECUTION_PROVIDER=cpu), which a user cannot override.
 */
export function executionProviderFor(settings: Pick<SessionSettings, 'useGpu'>, engine: EngineConfig): ExecutionProvider {
  if (settings.useGpu === null) return engine.executionProvider;
  if (!settings.useGpu || engine.executionProvider === 'cpu') return 'cpu';
  return 'cuda';
}
