#!/usr/bin/env node
// Container health check of the AI Core service (deploy/Dockerfile's HEALTHCHECK): GET
// /health/live on the service's HTTP port over loopback; exit 0 when it answers 2xx, 1 when it
// answers anything else, does not answer, or takes longer than the timeout. The slim image has no
// curl or wget, and node is there anyway.
//
// The URL: AIC_HEALTHCHECK_URL when set; otherwise 127.0.0.1 on the port of
// AI_CORE_HTTP_ENDPOINT (default 8000). AIC_HEALTHCHECK_TIMEOUT_MS: default 3000.

function target() {
  if (process.env.AIC_HEALTHCHECK_URL) return process.env.AIC_HEALTHCHECK_URL;
  let port = 8000;
  const endpoint = process.env.AI_CORE_HTTP_ENDPOINT;
  if (endpoint) {
    try {
      const url = new URL(endpoint.includes('://') ? endpoint : `http://${endpoint}`);
      if (url.port) port = Number(url.port);
    } catch {
      // an endpoint that does not parse: keep the default port
    }
  }
  return `http://127.0.0.1:${port}/health/live`;
}

const url = target();
const timeoutMs = Number(process.env.AIC_HEALTHCHECK_TIMEOUT_MS) || 3000;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  await res.body?.cancel();
  if (res.status >= 200 && res.status < 300) process.exit(0);
  console.error(`healthcheck: ${url} answered ${res.status}`);
} catch (error) {
  console.error(`healthcheck: ${url}: ${error.cause?.code ?? error.name}: ${error.message}`);
}
process.exit(1);
