// The operator-facing monitoring files (monitoring/): the Prometheus rules and configuration pass
// promtool (syntax, and the alert unit tests of aic-alerts.test.yml), and every PromQL expression
// in the rules and the Grafana dashboard parses and names only metrics (and labels) that the
// library exports, by src/metrics/names.ts.
//
// promtool comes from Debian's `prometheus` package; without it the promtool tests are skipped
// with a message (AIC_REQUIRE_PROMTOOL=1 makes its absence a failure instead). PROMTOOL names
// another binary.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { METRICS, METRIC_NAMES, type MetricSpec } from '../src/metrics/names.js';

const root = path.resolve(__dirname, '..');
const promDir = path.join(root, 'monitoring', 'prometheus');
const rulesFile = path.join(promDir, 'aic-alerts.yml');
const rulesTestFile = path.join(promDir, 'aic-alerts.test.yml');
const configFiles = [path.join(promDir, 'prometheus.yml'), path.join(promDir, 'prometheus-kubernetes.yml')];
const dashboardFile = path.join(root, 'monitoring', 'grafana', 'aic-dashboard.json');

// ------------------------------------------------------------------------------------ promtool

const PROMTOOL = process.env.PROMTOOL || 'promtool';

function findPromtool(): string | null {
  const r = spawnSync(PROMTOOL, ['--version'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? null : (r.stdout + r.stderr).split('\n')[0]!.trim();
}
const promtoolVersion = findPromtool();
const requirePromtool = process.env.AIC_REQUIRE_PROMTOOL === '1';
const skipPromtool = !promtoolVersion && !requirePromtool;
const SKIP_NOTE = 'promtool is not installed (apt-get install prometheus): the promtool checks are skipped';
if (skipPromtool) console.warn(`monitoring.test.ts: ${SKIP_NOTE}`);

function promtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL, args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe(`promtool${skipPromtool ? ` (skipped: ${SKIP_NOTE})` : ` (${promtoolVersion})`}`, () => {
  it.skipIf(skipPromtool)('is installed', () => {
    expect(promtoolVersion, 'promtool is required here (AIC_REQUIRE_PROMTOOL=1)').toBeTruthy();
  });

  it.skipIf(skipPromtool)('check rules: the recording and alerting rules are valid', () => {
    const r = promtool('check', 'rules', rulesFile);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it.skipIf(skipPromtool)('test rules: every alert fires where it should and stays silent where it should not', () => {
    const r = promtool('test', 'rules', rulesTestFile);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('SUCCESS');
  });

  it.skipIf(skipPromtool)('test rules: a broken rule makes the unit tests fail', async () => {
    // The unit tests are not vacuous: with the fallback alert's `for` halved, the test of a
    // fallback burst shorter than 10 minutes must fail.
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(path.join(tmpdir(), 'aic-rules-'));
    try {
      const rules = readFileSync(rulesFile, 'utf8');
      const broken = rules.replace(/(expr: job:aic_fallback:ratio_rate5m > 0\.05\n\s+for:) 10m/, '$1 5m');
      expect(broken).not.toBe(rules);
      writeFileSync(path.join(dir, 'aic-alerts.yml'), broken);
      writeFileSync(path.join(dir, 'aic-alerts.test.yml'), readFileSync(rulesTestFile));
      const r = spawnSync(PROMTOOL, ['test', 'rules', path.join(dir, 'aic-alerts.test.yml')], { encoding: 'utf8' });
      expect(r.status).not.toBe(0);
      expect(`${r.stdout}${r.stderr}`).toContain('a fallback burst shorter than 10 minutes stays silent');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const file of configFiles) {
    it.skipIf(skipPromtool)(`check config: ${path.relative(root, file)} is valid and loads the rules`, () => {
      const r = promtool('check', 'config', file);
      expect(r.status, r.output).toBe(0);
      expect(r.output).toContain('SUCCESS: 1 rule files found');
    });
  }
});

// ------------------------------------------------------------------------------------ PromQL names

/** A node of the PromQL syntax tree (the type of @lezer/common, by way of the parser). */
type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

const SPECS: readonly MetricSpec[] = Object.values(METRICS);
const specByName = new Map(SPECS.map((m) => [m.name, m]));
/** Labels every scraped series has (target labels); `le` only on histogram buckets. */
const TARGET_LABELS = ['job', 'instance'];

/** What a series name refers to: an exported family (with the histogram suffix it has), `up`, or a recording rule. */
type Resolved =
  | { kind: 'metric'; spec: MetricSpec; series: string }
  | { kind: 'up' }
  | { kind: 'recorded'; name: string; labels: readonly string[] };

function resolveSeries(name: string, recorded: ReadonlyMap<string, readonly string[]> = new Map()): Resolved | string {
  if (name === 'up') return { kind: 'up' };
  const rec = recorded.get(name);
  if (rec) return { kind: 'recorded', name, labels: rec };
  const exact = specByName.get(name);
  if (exact) {
    return exact.type === 'histogram'
      ? `${name} is a histogram: Prometheus has only ${name}_bucket, ${name}_sum and ${name}_count`
      : { kind: 'metric', spec: exact, series: name };
  }
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (m) {
    const base = specByName.get(m[1]!);
    if (base?.type === 'histogram') return { kind: 'metric', spec: base, series: name };
    if (base) return `${name}: ${base.name} is a ${base.type}, only histograms have _${m[2]}`;
  }
  return `${name} is not a metric the library exports (src/metrics/names.ts: ${METRIC_NAMES.join(', ')})`;
}

function labelsOf(r: Resolved): readonly string[] | null {
  if (r.kind === 'up') return TARGET_LABELS;
  if (r.kind === 'recorded') return r.labels;
  return [...TARGET_LABELS, ...r.spec.labels, ...(r.series.endsWith('_bucket') ? ['le'] : [])];
}

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}
function descendants(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  const walk = (n: SyntaxNode): void => {
    for (const c of children(n)) {
      out.push(c);
      walk(c);
    }
  };
  walk(node);
  return out;
}
const unquote = (s: string): string => JSON.parse(s.startsWith("'") ? `"${s.slice(1, -1).replace(/"/g, '\\"')}"` : s) as string;

interface ExprReport {
  /** Series names the expression selects. */
  names: string[];
  /** Everything wrong with it: syntax errors, unknown metrics, labels a metric does not have. */
  problems: string[];
}

/** Parses one PromQL expression and checks the series and labels it names. */
function checkExpr(expr: string, recorded: ReadonlyMap<string, readonly string[]> = new Map()): ExprReport {
  const tree = parser.parse(expr);
  const text = (n: SyntaxNode): string => expr.slice(n.from, n.to);
  const problems: string[] = [];
  const names: string[] = [];
  const all = descendants(tree.topNode);
  for (const n of all) if (n.type.isError) problems.push(`syntax error at ${n.from}: …${expr.slice(Math.max(0, n.from - 20), n.from + 20)}…`);

  // Each vector selector: its metric name (the identifier, or a __name__ matcher) and its matchers.
  const resolvedAt = new Map<number, Resolved>();
  for (const sel of all.filter((n) => n.name === 'VectorSelector')) {
    const id = sel.getChild('Identifier');
    const matchers = sel.getChild('LabelMatchers');
    const matcherNodes = matchers ? children(matchers).filter((c) => /LabelMatcher$/.test(c.name)) : [];
    let name = id ? text(id) : null;
    const labelNames: string[] = [];
    for (const m of matcherNodes) {
      const ln = m.getChild('LabelName') ?? m.getChild('QuotedLabelName');
      if (!ln) continue;
      const label = ln.name === 'QuotedLabelName' ? unquote(text(ln)) : text(ln);
      if (label === '__name__') {
        const value = children(m).filter((c) => c.name === 'StringLiteral').pop();
        const op = m.getChild('MatchOp');
        if (op && text(op) !== '=') problems.push(`${text(sel)}: select metrics by exact name, not by a __name__ pattern`);
        if (value) name = unquote(text(value));
      } else labelNames.push(label);
    }
    // `{"metric"}`: a bare quoted name inside the braces (UTF-8 metric names).
    if (!name && matchers) {
      const bare = children(matchers).find((c) => c.name === 'QuotedLabelName');
      if (bare) name = unquote(text(bare));
    }
    if (!name) {
      problems.push(`${text(sel)}: a selector without a metric name`);
      continue;
    }
    names.push(name);
    const r = resolveSeries(name, recorded);
    if (typeof r === 'string') {
      problems.push(r);
      continue;
    }
    resolvedAt.set(sel.from, r);
    const known = labelsOf(r)!;
    for (const l of labelNames) if (!known.includes(l)) problems.push(`${text(sel)}: ${name} has no label ${l} (it has ${known.join(', ')})`);
  }

  // Grouping labels of aggregations (`sum by (mode) (…)`) must exist on the series aggregated.
  const labelsIn = (n: SyntaxNode): Set<string> | null => {
    const set = new Set<string>();
    for (const sel of [n, ...descendants(n)].filter((d) => d.name === 'VectorSelector')) {
      const r = resolvedAt.get(sel.from);
      if (!r) return null; // already reported
      for (const l of labelsOf(r)!) set.add(l);
    }
    return set;
  };
  for (const agg of all.filter((n) => n.name === 'AggregateExpr')) {
    const grouping = agg.getChild('AggregateModifier')?.getChild('GroupingLabels');
    if (!grouping) continue;
    const known = labelsIn(agg);
    if (!known) continue;
    for (const ln of grouping.getChildren('LabelName')) {
      if (!known.has(text(ln))) problems.push(`${text(agg).slice(0, 60)}…: grouping by ${text(ln)}, a label none of its series has`);
    }
  }
  // Vector matching (`on (job)`, `ignoring (…)`): the labels must exist somewhere in the expression.
  const everywhere = labelsIn(tree.topNode);
  if (everywhere) {
    for (const mm of all.filter((n) => n.name === 'MatchingModifierClause')) {
      for (const ln of mm.getChild('GroupingLabels')?.getChildren('LabelName') ?? []) {
        if (!everywhere.has(text(ln))) problems.push(`${text(mm)}: matching on ${text(ln)}, a label no series here has`);
      }
    }
  }
  return { names, problems };
}

/** Grafana's variables replaced by values PromQL parses: durations for the interval macros, `x` for the rest (they stand in label values). */
function substituteGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__(rate_interval|interval|range)(_ms|_s)?\b/g, '5m')
    .replace(/\$\{[^}]+\}|\[\[[^\]]+\]\]|\$[A-Za-z_]\w*/g, 'x');
}

// --- the files

interface RuleRecord {
  group: string;
  record?: string;
  alert?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  for?: string;
}
const rulesDoc = parseYaml(readFileSync(rulesFile, 'utf8')) as { groups: { name: string; rules: Omit<RuleRecord, 'group'>[] }[] };
const rules: RuleRecord[] = rulesDoc.groups.flatMap((g) => g.rules.map((r) => ({ ...r, group: g.name })));

/** Recording rule name -> the labels its series keep (those it aggregates by, `le` excepted). */
const recorded = new Map<string, readonly string[]>();
for (const r of rules.filter((r) => r.record)) {
  const tree = parser.parse(r.expr);
  const grouping = new Set<string>();
  for (const n of descendants(tree.topNode)) {
    if (n.name === 'GroupingLabels' && n.parent?.name === 'AggregateModifier') {
      for (const ln of n.getChildren('LabelName')) grouping.add(r.expr.slice(ln.from, ln.to));
    }
  }
  grouping.delete('le');
  recorded.set(r.record!, [...grouping]);
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: { refId: string; expr: string; datasource?: { type: string; uid: string } }[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query: string };
  datasource?: { type: string; uid: string };
}
const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
};
const panels: Panel[] = dashboard.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
const panelQueries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}" (${t.refId})`, expr: t.expr })));

/** Grafana's label_values(selector, label) variable queries, as a selector and the label. */
function variableQueries(): { where: string; selector: string; label: string }[] {
  return dashboard.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => {
      const q = typeof v.query === 'string' ? v.query : v.query!.query;
      const m = /^\s*label_values\(\s*(.+?)\s*,\s*([A-Za-z_]\w*)\s*\)\s*$/.exec(q);
      if (!m) throw new Error(`variable ${v.name}: only label_values(<selector>, <label>) queries are checked, got ${q}`);
      return { where: `variable ${v.name}`, selector: m[1]!, label: m[2]! };
    });
}

describe('PromQL in the alert rules and the Grafana dashboard names only exported metrics', () => {
  it('the checker rejects what it should (a test that can fail)', () => {
    const bad = (e: string): string[] => checkExpr(e).problems;
    expect(bad('sum(rate(aic_requests_totl[5m]))')).toEqual([expect.stringContaining('aic_requests_totl is not a metric')]);
    expect(bad('aic_compression_ratio{mode="adaptive"}')).toEqual([expect.stringContaining('is a histogram')]);
    expect(bad('rate(aic_requests_total_count[5m])')).toEqual([expect.stringContaining('only histograms have _count')]);
    expect(bad('aic_active_sessions_sum')).toEqual([expect.stringContaining('only histograms have _sum')]);
    expect(bad('rate(aic_fallback_total{status="error"}[5m])')).toEqual([expect.stringContaining('has no label status')]);
    expect(bad('sum by (reason) (rate(aic_requests_total[5m]))')).toEqual([expect.stringContaining('grouping by reason')]);
    expect(bad('sum(rate({__name__="aic_nope_total"}[5m]))')).toEqual([expect.stringContaining('aic_nope_total is not a metric')]);
    expect(bad('sum(rate(aic_requests_total[5m])')).not.toEqual([]);
    expect(bad('aic_memory_usage_bytes and on (model) up')).toEqual([expect.stringContaining('matching on model')]);
    // What is allowed: histogram suffixes, exact counter and gauge names, up, target labels, le on buckets.
    expect(bad('histogram_quantile(0.95, sum by (model, le) (rate(aic_inference_latency_ms_bucket{job="aic"}[5m])))')).toEqual([]);
    expect(bad('sum(rate(aic_quality_score_sum[5m])) / sum(rate(aic_quality_score_count[5m]))')).toEqual([]);
    expect(bad('up{job="aic",instance="a"} == 0')).toEqual([]);
    expect(bad('aic_memory_usage_bytes{instance=~"x"} > on (instance) aic_active_sessions')).toEqual([]);
    // A dashboard query with a name that is not exported fails the dashboard check.
    expect(bad(substituteGrafanaVariables('sum(rate(aic_request_total{job=~"$job",instance=~"${instance}"}[$__rate_interval]))'))).toEqual([
      expect.stringContaining('aic_request_total is not a metric'),
    ]);
  });

  it('the rules file has the alerts the operators were promised, each with severity and annotations', () => {
    const alerts = rules.filter((r) => r.alert);
    const names = alerts.map((a) => a.alert);
    for (const required of ['AICHighInferenceLatency', 'AICHighFallbackRate', 'AICHighErrorRate', 'AICServiceDown']) expect(names).toContain(required);
    for (const a of alerts) {
      expect(['critical', 'warning', 'info'], `${a.alert} severity`).toContain(a.labels?.severity);
      expect(a.annotations?.summary, `${a.alert} summary`).toBeTruthy();
      expect(a.annotations?.description, `${a.alert} description`).toBeTruthy();
      expect(a.annotations?.runbook, `${a.alert} runbook`).toMatch(new RegExp(`docs/MONITORING\\.md#${a.alert!.toLowerCase()}`));
      expect(a.for, `${a.alert} for`).toMatch(/^\d+[smh]$/);
    }
    // The original's thresholds and durations.
    const byName = new Map(alerts.map((a) => [a.alert!, a]));
    expect(byName.get('AICHighInferenceLatency')!.expr).toMatch(/> 30$/);
    expect(byName.get('AICHighInferenceLatency')!.for).toBe('5m');
    expect(byName.get('AICHighFallbackRate')!.expr).toMatch(/> 0\.05$/);
    expect(byName.get('AICHighFallbackRate')!.for).toBe('10m');
    expect(byName.get('AICServiceDown')!.expr).toBe('up{job="aic"} == 0');
    expect(byName.get('AICServiceDown')!.for).toBe('1m');
  });

  it('the docs have a runbook section for every alert', () => {
    const doc = readFileSync(path.join(root, 'docs', 'MONITORING.md'), 'utf8');
    for (const a of rules.filter((r) => r.alert)) expect(doc, a.alert).toMatch(new RegExp(`^#+ ${a.alert}$`, 'm'));
  });

  for (const r of rules) {
    const what = r.record ? `recording rule ${r.record}` : `alert ${r.alert}`;
    it(`${r.group}: ${what}`, () => {
      const { names, problems } = checkExpr(r.expr, recorded);
      expect(problems).toEqual([]);
      expect(names.length).toBeGreaterThan(0);
      // Recording rules build on the exported metrics only, not on each other.
      if (r.record) for (const n of names) expect(recorded.has(n), `${r.record} uses ${n}`).toBe(false);
    });
  }

  for (const q of panelQueries) {
    it(`dashboard ${q.where}`, () => {
      const { names, problems } = checkExpr(substituteGrafanaVariables(q.expr));
      expect(problems).toEqual([]);
      expect(names.length).toBeGreaterThan(0);
      // The dashboard works on a Prometheus without our rules: no recorded series, no `up`.
      for (const n of names) expect(typeof resolveSeries(n), n).not.toBe('string');
      for (const n of names) expect(n === 'up' || recorded.has(n), `${q.where} uses ${n}`).toBe(false);
    });
  }

  it('dashboard variables query exported metrics and labels they have', () => {
    const vars = variableQueries();
    expect(vars.length).toBeGreaterThan(0);
    for (const v of vars) {
      const { names, problems } = checkExpr(substituteGrafanaVariables(v.selector));
      expect(problems, v.where).toEqual([]);
      for (const n of names) {
        const r = resolveSeries(n);
        expect(typeof r, v.where).not.toBe('string');
        expect(labelsOf(r as Resolved), v.where).toContain(v.label);
      }
    }
  });

  it('every exported metric family is on the dashboard', () => {
    const used = new Set(panelQueries.flatMap((q) => checkExpr(substituteGrafanaVariables(q.expr)).names));
    for (const m of SPECS) {
      const series = m.type === 'histogram' ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name];
      expect(series.some((s) => used.has(s)), `${m.name} has no panel`).toBe(true);
    }
  });
});

// ------------------------------------------------------------------------------------ dashboard shape

describe('Grafana dashboard', () => {
  it('has a Prometheus datasource variable that every panel and query uses', () => {
    const dsVar = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(dsVar).toMatchObject({ name: 'datasource', query: 'prometheus' });
    for (const v of dashboard.templating.list.filter((v) => v.type === 'query')) expect(v.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const t of p.targets ?? []) expect(t.datasource, `${p.title} ${t.refId}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
    // No datasource is named or pinned by uid anywhere (the dashboard imports on any Grafana).
    const raw = readFileSync(dashboardFile, 'utf8');
    expect([...raw.matchAll(/"uid":\s*"([^"]*)"/g)].map((m) => m[1]).filter((u) => u !== '${datasource}' && u !== '-- Grafana --' && u !== dashboard.uid)).toEqual([]);
  });

  it('has the panels of the guide, each with a unit', () => {
    const titles = panels.map((p) => p.title);
    for (const want of [
      /compression ratio by mode/i,
      /latency p50 \/ p95 \/ p99/i,
      /quality score/i,
      /bandwidth saved/i,
      /requests by status/i,
      /fallbacks by reason/i,
      /errors by type/i,
      /active sessions/i,
      /memory/i,
      /gpu/i,
    ]) {
      expect(titles.some((t) => want.test(t)), `${want}`).toBe(true);
    }
    const units: Record<string, RegExp> = {
      'Compression ratio by mode': /^percentunit$/,
      'Inference latency p50 / p95 / p99': /^ms$/,
      'Bandwidth saved': /^(bps|Bps|binBps)$/,
      'Requests by status': /^reqps$/,
      Memory: /^bytes$/,
      'GPU utilisation': /^percent$/,
    };
    for (const p of panels) {
      if (p.type === 'heatmap') continue;
      expect(p.fieldConfig?.defaults?.unit, `${p.title} unit`).toBeTruthy();
      if (units[p.title]) expect(p.fieldConfig!.defaults!.unit, p.title).toMatch(units[p.title]!);
    }
  });

  it('has unique panel ids and refIds, and panels that fit the 24-column grid without overlapping', () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of panels) {
      const refs = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refs).size, p.title).toBe(refs.length);
      expect(refs.length, `${p.title} has no query`).toBeGreaterThan(0);
      const { h, w, x, y } = p.gridPos;
      expect(x + w, `${p.title} width`).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          const key = `${i},${j}`;
          expect(cells.has(key), `${p.title} overlaps another panel at ${key}`).toBe(false);
          cells.add(key);
        }
      }
    }
  });
});
