-- 001: the AI Core's tables (../shared/GUIDE.md, "Persistent store").
--
-- Rules shared with the library (src/modes.ts, src/session/session.ts):
--   * modes: off, conservative, adaptive, aggressive;
--   * a configured target compression ratio (1 - compressed/original) lies in [0, 1): 1 would
--     mean a payload of no bytes. (The library's checkUnit() takes 1 too; no frame can meet it.)
--   * quality scores lie in [0, 1];
--   * a *measured* ratio lies below 1 but has no lower bound: a tiny frame whose payload header
--     outweighs what was saved gives 1 - out/in < 0, and the library reports it unclamped. So do we.
--   * maxLatencyMs is positive and may be Infinity (no budget); NaN is refused explicitly because
--     PostgreSQL sorts NaN above every number, so "> 0" alone would let it in.
-- Every user_id is a non-empty string of at most 256 characters (the row-level security policies
-- of 002 compare it with the transaction's aic.user_id setting, which is '' when unset).

CREATE TABLE aic_configs (
  user_id                   text PRIMARY KEY CHECK (user_id <> '' AND length(user_id) <= 256),
  enabled                   boolean NOT NULL DEFAULT true,
  mode                      text NOT NULL DEFAULT 'adaptive'
                              CHECK (mode IN ('off', 'conservative', 'adaptive', 'aggressive')),
  -- NULL: the mode's default (conservative 0.50, adaptive 0.80, aggressive 0.90).
  target_compression_ratio  double precision
                              CHECK (target_compression_ratio >= 0 AND target_compression_ratio < 1),
  max_latency_ms            double precision NOT NULL DEFAULT 20
                              CHECK (max_latency_ms > 0 AND max_latency_ms <> 'NaN'),
  -- The preferred model (NULL: the engine's default) and, optionally, its version.
  model_type                text CHECK (model_type <> '' AND length(model_type) <= 128),
  model_version             text CHECK (model_version <> '' AND length(model_version) <= 64),
  use_gpu                   boolean NOT NULL DEFAULT true,
  -- NULL: the mode's default (conservative 0.95, adaptive 0.85, aggressive 0.70).
  min_quality_score         double precision
                              CHECK (min_quality_score >= 0 AND min_quality_score <= 1),
  fallback_on_quality_loss  boolean NOT NULL DEFAULT true,
  opt_out                   boolean NOT NULL DEFAULT false,
  -- How long this user's aic_metrics and aic_sessions rows are kept (at most ten years).
  data_retention_hours      integer NOT NULL DEFAULT 720
                              CHECK (data_retention_hours > 0 AND data_retention_hours <= 87600),
  created_at                timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now()
);

-- One row per stream (a library session), upserted from the service's write-behind queue.
CREATE TABLE aic_sessions (
  user_id                text NOT NULL CHECK (user_id <> '' AND length(user_id) <= 256),
  session_id             text NOT NULL CHECK (session_id <> '' AND length(session_id) <= 256),
  participant_id         text CHECK (length(participant_id) <= 256),
  mode                   text CHECK (mode IN ('off', 'conservative', 'adaptive', 'aggressive')),
  frames_processed       bigint NOT NULL DEFAULT 0 CHECK (frames_processed >= 0),
  frames_compressed      bigint NOT NULL DEFAULT 0
                           CHECK (frames_compressed >= 0 AND frames_compressed <= frames_processed),
  frames_fallback        bigint NOT NULL DEFAULT 0
                           CHECK (frames_fallback >= 0 AND frames_fallback <= frames_processed),
  avg_compression_ratio  double precision CHECK (avg_compression_ratio < 1),
  avg_latency_ms         double precision CHECK (avg_latency_ms >= 0 AND avg_latency_ms <> 'NaN'),
  avg_quality_score      double precision CHECK (avg_quality_score >= 0 AND avg_quality_score <= 1),
  bytes_in               bigint NOT NULL DEFAULT 0 CHECK (bytes_in >= 0),
  bytes_out              bigint NOT NULL DEFAULT 0 CHECK (bytes_out >= 0),
  -- Negative when the payloads outgrew the frames (see the measured-ratio note above).
  bandwidth_saved_bytes  bigint GENERATED ALWAYS AS (bytes_in - bytes_out) STORED,
  mode_changes           integer NOT NULL DEFAULT 0 CHECK (mode_changes >= 0),
  started_at             timestamptz NOT NULL DEFAULT now(),
  ended_at               timestamptz CHECK (ended_at >= started_at),
  -- Last write: retention keys on COALESCE(ended_at, updated_at).
  updated_at             timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, session_id)
);
-- The metrics endpoint (sessions overlapping a range) and the retention sweep.
CREATE INDEX aic_sessions_user_started ON aic_sessions (user_id, started_at);
CREATE INDEX aic_sessions_last_activity ON aic_sessions ((COALESCE(ended_at, updated_at)));

-- The time series: one row per sample of a call/participant's stream. A sample covers `frames`
-- frames (1 for a per-frame row); ratio, quality and latency are means over those frames.
CREATE TABLE aic_metrics (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id            text NOT NULL CHECK (user_id <> '' AND length(user_id) <= 256),
  session_id         text CHECK (session_id <> '' AND length(session_id) <= 256),
  participant_id     text CHECK (length(participant_id) <= 256),
  ts                 timestamptz NOT NULL,
  frame_type         text CHECK (frame_type IN ('video', 'audio', 'screen', 'data')),
  mode               text CHECK (mode IN ('off', 'conservative', 'adaptive', 'aggressive')),
  model_type         text CHECK (length(model_type) <= 128),
  frames             integer NOT NULL DEFAULT 1 CHECK (frames > 0),
  fallbacks          integer NOT NULL DEFAULT 0 CHECK (fallbacks >= 0 AND fallbacks <= frames),
  compression_ratio  double precision CHECK (compression_ratio < 1),
  quality_score      double precision CHECK (quality_score >= 0 AND quality_score <= 1),
  latency_ms         double precision CHECK (latency_ms >= 0 AND latency_ms <> 'NaN'),
  bytes_in           bigint NOT NULL DEFAULT 0 CHECK (bytes_in >= 0),
  bytes_out          bigint NOT NULL DEFAULT 0 CHECK (bytes_out >= 0)
);
-- GET /api/v1/aic/metrics: one user's rows over a time range (totals and buckets).
CREATE INDEX aic_metrics_user_ts ON aic_metrics (user_id, ts);
-- One session's series.
CREATE INDEX aic_metrics_user_session_ts ON aic_metrics (user_id, session_id, ts);
-- The retention sweep (rows older than the shortest retention, across users).
CREATE INDEX aic_metrics_ts ON aic_metrics (ts);

-- System-wide: one row per model (and version) per time window per replica. No user data.
CREATE TABLE aic_model_performance (
  id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  model_type             text NOT NULL CHECK (model_type <> '' AND length(model_type) <= 128),
  model_version          text NOT NULL DEFAULT '' CHECK (length(model_version) <= 64),
  -- The service replica that measured it ('' when there is one), so replicas never collide.
  replica                text NOT NULL DEFAULT '' CHECK (length(replica) <= 128),
  window_start           timestamptz NOT NULL,
  window_end             timestamptz NOT NULL,
  successes              bigint NOT NULL DEFAULT 0 CHECK (successes >= 0),
  failures               bigint NOT NULL DEFAULT 0 CHECK (failures >= 0),
  fallbacks              bigint NOT NULL DEFAULT 0 CHECK (fallbacks >= 0),
  avg_latency_ms         double precision CHECK (avg_latency_ms >= 0 AND avg_latency_ms <> 'NaN'),
  p50_latency_ms         double precision CHECK (p50_latency_ms >= 0 AND p50_latency_ms <> 'NaN'),
  p95_latency_ms         double precision CHECK (p95_latency_ms >= 0 AND p95_latency_ms <> 'NaN'),
  p99_latency_ms         double precision CHECK (p99_latency_ms >= 0 AND p99_latency_ms <> 'NaN'),
  avg_compression_ratio  double precision CHECK (avg_compression_ratio < 1),
  avg_quality_score      double precision CHECK (avg_quality_score >= 0 AND avg_quality_score <= 1),
  recorded_at            timestamptz NOT NULL DEFAULT now(),
  CHECK (window_end > window_start),
  CHECK (p50_latency_ms <= p95_latency_ms AND p95_latency_ms <= p99_latency_ms),
  UNIQUE (model_type, model_version, replica, window_start, window_end)
);
CREATE INDEX aic_model_performance_model_window ON aic_model_performance (model_type, window_start);
CREATE INDEX aic_model_performance_window ON aic_model_performance (window_start);

-- Alerts: for one user (user_id set) or for the operators (user_id NULL: system-wide).
CREATE TABLE aic_alerts (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id      text CHECK (user_id <> '' AND length(user_id) <= 256),
  session_id   text CHECK (session_id <> '' AND length(session_id) <= 256),
  severity     text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  -- A stable machine-readable name, e.g. high_inference_latency, high_fallback_rate.
  code         text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{0,63}$'),
  message      text NOT NULL CHECK (message <> '' AND length(message) <= 2000),
  details      jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  resolved_at  timestamptz CHECK (resolved_at >= created_at)
);
CREATE INDEX aic_alerts_user_created ON aic_alerts (user_id, created_at DESC);
CREATE INDEX aic_alerts_open ON aic_alerts (created_at DESC) WHERE resolved_at IS NULL;
