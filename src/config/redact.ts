// A configuration safe to print or log: secrets replaced, everything else as loaded.
import type { AicConfig } from './types.js';

/** `config` as plain data with AIC_JWT_SECRET and DATABASE_URL's password replaced by `***` (for logs, `--print-config`). */
export function redactConfig(config: AicConfig): unknown {
  const secret = config.service.auth.jwtSecret === null ? null : '***';
  return {
    ...config,
    service: {
      ...config.service,
      auth: { ...config.service.auth, jwtSecret: secret },
      database: { url: config.service.database.redactedUrl, redactedUrl: config.service.database.redactedUrl, dataDir: config.service.database.dataDir },
    },
  };
}
