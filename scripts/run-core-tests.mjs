// Runs the C++ unit tests of the native core (built with the addon into build/Release).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const exe = path.join(root, 'build', 'Release', 'aic_core_tests');
if (!existsSync(exe)) {
  console.error(`core tests not built: ${exe} is missing; run npm run build:native`);
  process.exit(1);
}
const r = spawnSync(exe, [path.join(root, 'test', 'fixtures'), ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
