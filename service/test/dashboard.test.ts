// The live dashboard opened in a real browser (Debian's headless chromium): it renders the
// signed-in user's real data. A service on the embedded database codes frames for two users;
// the page, signed in as one of them, must draw that user's history (points of the ratio and
// quality charts, one per bucket the API returns) and live numbers, and nothing of the other's.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardRoutes } from '../src/http/dashboard.js';
import { Persistence } from '../src/persistence.js';
import type { RunningService } from '../src/service.js';
import { signToken, startTestService } from './helpers/service.js';
import { openStore } from '../src/store/index.js';

const run = promisify(execFile);
const SECRET = 'dashboard-test-secret-long-enough-for-hs256';
const browser = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const required = process.env.AIC_REQUIRE_BROWSER === '1';
const dir = mkdtempSync(path.join(tmpdir(), 'aic-dash-'));
let service: RunningService;
let persistence: Persistence;

const sign = (sub: string) => signToken(SECRET, sub);

async function chromium(args: string[]): Promise<string> {
  const { stdout } = await run(browser!, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage', `--user-data-dir=${path.join(dir, 'profile')}`, '--window-size=1280,900', '--virtual-time-budget=8000', ...args], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

beforeAll(async () => {
  if (!browser) return;
  persistence = new Persistence(await openStore({ flushIntervalMs: 50 }), 50);
  service = await startTestService({ secret: SECRET }, {
    store: persistence,
    httpRoutes: dashboardRoutes(),
  });
  const frame = { type: 'video' as const, format: 'rgb24' as const, width: 64, height: 48, data: Buffer.alloc(64 * 48 * 3) };
  for (let i = 0; i < frame.data.length; i++) frame.data[i] = (i * 7 + (i >> 6)) & 255;
  for (let i = 0; i < 4; i++) await service.core.compress('alice', 'call-1', frame, {});
  await service.core.compress('bob', 'call-9', frame, { mode: 'aggressive' });
  persistence.tick();
  await persistence.store.flush();
});

afterAll(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!browser && !required)('dashboard in headless chromium', () => {
  it("renders the signed-in user's real data, and only theirs", async () => {
    expect(browser, 'Debian chromium is not installed (apt-get install chromium)').toBeDefined();
    const token = await sign('alice');
    const api = (await (await fetch(`http://127.0.0.1:${service.httpPort}/api/v1/aic/metrics`, { headers: { authorization: `Bearer ${token}` } })).json()) as { metrics: { totals: { frames: number }; series: unknown[] } };
    expect(api.metrics.totals.frames).toBe(4);
    const url = `http://127.0.0.1:${service.httpPort}/dashboard#token=${token}`;
    const dom = await chromium(['--dump-dom', url]);
    expect(dom).toContain('signed in as alice');
    expect(dom).not.toContain('bob');
    // One polyline point per bucket of the user's series, in both history charts.
    const points = [...dom.matchAll(/<polyline[^>]*data-points="(\d+)"/g)].map((m) => Number(m[1]));
    expect(points).toEqual([api.metrics.series.length, api.metrics.series.length]);
    expect(dom).toMatch(/id="frames">4</);
    expect(dom).toMatch(/<td>p95<\/td><td class="n">[0-9.]+ ms<\/td>/);
    // The screenshot shows the charts: the ratio chart's line colour (#1f6feb) is on the page.
    const png = path.join(dir, 'dashboard.png');
    await chromium([`--screenshot=${png}`, url]);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    let blue = 0;
    for (let i = 0; i < data.length; i += info.channels) if (Math.abs(data[i]! - 0x1f) < 12 && Math.abs(data[i + 1]! - 0x6f) < 12 && Math.abs(data[i + 2]! - 0xeb) < 12) blue++;
    expect(blue).toBeGreaterThan(30);
  }, 120_000);

  it('without a token, shows the sign-in form and no data', async () => {
    const dom = await chromium(['--dump-dom', `http://127.0.0.1:${service.httpPort}/dashboard`]);
    expect(dom).toMatch(/<div id="login">/);
    expect(dom).toContain('<span class="who" id="who"></span>');
    expect(dom).toMatch(/<main id="board" hidden="">/);
  }, 60_000);
});
