// The deployment files (deploy/): Kubernetes manifests validated offline against the Kubernetes
// API schemas that the npm package kubernetes-models carries (types, required fields, enums and
// formats), plus a strict check that no field is unknown to the API (the typo kubectl's strict
// validation would reject, read from the same package's type declarations); the Dockerfile linted
// with dockerfile-utils and checked for the structure an image of this service needs; the
// Docker Compose file checked for what it mounts and publishes; and the container health check
// run against a local HTTP server. The files also have to agree with each other (ports, names,
// labels, the memory limit in the alert rules, the metric the HPA scales on).
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate as lintDockerfile, ValidationSeverity } from 'dockerfile-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { METRICS } from '../src/metrics/names.js';

const root = path.resolve(__dirname, '..');
const deployDir = path.join(root, 'deploy');
const k8sDir = path.join(deployDir, 'kubernetes');
const modelsDir = path.join(root, 'node_modules', 'kubernetes-models');

const NAMESPACE = 'auralink-aic';
const APP_LABEL = { key: 'app.kubernetes.io/name', value: 'ai-core' };
/** The service's configuration variables (issue 15): where each must come from. */
const CONFIG_VARS = ['AIC_ENABLED', 'AIC_MODE', 'AIC_TARGET_COMPRESSION_RATIO', 'AIC_MAX_LATENCY_MS', 'AI_CORE_GRPC_ENDPOINT', 'AI_CORE_HTTP_ENDPOINT', 'PROMETHEUS_ENABLED'];
const SECRET_VARS = ['DATABASE_URL', 'AIC_JWT_SECRET'];
const GRPC_PORT = 50051;
const HTTP_PORT = 8000;

// ------------------------------------------------------------------------------------ manifests

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;
interface Manifest {
  file: string;
  index: number;
  obj: Obj;
}

function loadManifests(): Manifest[] {
  const out: Manifest[] = [];
  for (const file of readdirSync(k8sDir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml').sort()) {
    const docs = parseAllDocuments(readFileSync(path.join(k8sDir, file), 'utf8'));
    docs.forEach((doc, index) => {
      if (doc.errors.length) throw new Error(`${file}#${index}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const obj = doc.toJS() as Obj | null;
      if (obj) out.push({ file, index, obj });
    });
  }
  return out;
}
const manifests = loadManifests();
const label = (m: Manifest): string => `${m.file}#${m.index} ${m.obj.kind}/${m.obj.metadata?.name}`;
const byKind = (kind: string): Manifest[] => manifests.filter((m) => m.obj.kind === kind);
const one = (kind: string, name?: string): Obj => {
  const found = byKind(kind).filter((m) => !name || m.obj.metadata?.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!.obj;
};

/** The kubernetes-models module of an object: kubernetes-models/<group>/<version>/<Kind> (core: v1/<Kind>). */
function modelPath(apiVersion: string, kind: string): string {
  return `${apiVersion}/${kind}`;
}

// --- strict fields, from the type declarations of kubernetes-models

interface Shape {
  props: Map<string, string>; // field -> TypeScript type text
  imports: Map<string, string>; // type name -> declaration file
}
const shapeCache = new Map<string, Shape | null>();

function resolveDecl(spec: string, fromFile: string): string {
  if (spec.startsWith('.')) return path.resolve(path.dirname(fromFile), `${spec}.d.ts`);
  const nested = path.join(modelsDir, 'node_modules', `${spec}.d.ts`);
  return existsSync(nested) ? nested : path.join(root, 'node_modules', `${spec}.d.ts`);
}

/** Splits `a; b; { c; d }; e` at the semicolons that are not inside braces or angle brackets. */
function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '{' || c === '<' || c === '(' || c === '[') depth++;
    else if (c === '}' || c === '>' || c === ')' || c === ']') depth--;
    else if (c === ';' && depth === 0) {
      parts.push(body.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (body.slice(start).trim()) parts.push(body.slice(start).trim());
  return parts.filter(Boolean);
}

/** The fields of the first interface in a declaration file (null: a type alias such as IntOrString or Quantity). */
function loadShape(file: string): Shape | null {
  if (shapeCache.has(file)) return shapeCache.get(file)!;
  if (!existsSync(file)) throw new Error(`kubernetes-models declaration ${file} is missing`);
  const src = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const imports = new Map<string, string>();
  for (const m of src.matchAll(/import\s*\{([^}]+)\}\s*from\s*"([^"]+)"/g)) {
    for (const name of m[1]!.split(',').map((s) => s.trim().split(/\s+as\s+/).pop()!)) imports.set(name, resolveDecl(m[2]!, file));
  }
  const head = /export interface \w+(?:\s+extends\s+[^{]+)?\s*\{/.exec(src);
  let shape: Shape | null = null;
  if (head) {
    let depth = 1;
    let i = head.index + head[0].length;
    const start = i;
    for (; i < src.length && depth > 0; i++) {
      if (src[i] === '{') depth++;
      else if (src[i] === '}') depth--;
    }
    const props = new Map<string, string>();
    for (const part of splitTopLevel(src.slice(start, i - 1))) {
      const m = /^"([^"]+)"\??\s*:\s*([\s\S]+)$/.exec(part) ?? /^([A-Za-z_$][\w$]*)\??\s*:\s*([\s\S]+)$/.exec(part);
      if (m) props.set(m[1]!, m[2]!.replace(/\s+/g, ' ').trim());
    }
    shape = { props, imports };
  }
  shapeCache.set(file, shape);
  return shape;
}

/** Fields of `value` that its Kubernetes type does not have, recursively. */
function unknownFields(value: unknown, file: string, where: string): string[] {
  const shape = loadShape(file);
  if (!shape || value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  const problems: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const type = shape.props.get(key);
    if (type === undefined) {
      problems.push(`${where}.${key}: unknown field (the API has ${[...shape.props.keys()].join(', ')})`);
      continue;
    }
    const ref = (name: string): string | undefined => shape.imports.get(name);
    let m: RegExpExecArray | null;
    if ((m = /^Array<(\w+)>$/.exec(type)) && ref(m[1]!)) {
      if (Array.isArray(v)) v.forEach((item, i) => problems.push(...unknownFields(item, ref(m![1]!)!, `${where}.${key}[${i}]`)));
    } else if ((m = /^\{ \[key: string\]: (\w+);? \}$/.exec(type)) && ref(m[1]!)) {
      if (v && typeof v === 'object') for (const [k, item] of Object.entries(v)) problems.push(...unknownFields(item, ref(m[1]!)!, `${where}.${key}.${k}`));
    } else if (/^\w+$/.test(type) && ref(type)) {
      problems.push(...unknownFields(v, ref(type)!, `${where}.${key}`));
    }
  }
  return problems;
}

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  it('are the objects of Option B: Namespace, ConfigMap, Secret, Deployment, Services, HPA, PDB', () => {
    const kinds = manifests.map((m) => m.obj.kind).sort();
    expect(kinds).toEqual(['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'Namespace', 'PodDisruptionBudget', 'Secret', 'Service', 'Service', 'Service']);
  });

  for (const m of manifests) {
    it(`${label(m)} validates against the Kubernetes API schema (${m.obj.apiVersion})`, async () => {
      const mod = (await import(`kubernetes-models/${modelPath(m.obj.apiVersion, m.obj.kind)}`)) as Record<string, new (data: Obj) => { validate(): void }>;
      const Model = mod[m.obj.kind];
      expect(Model, `kubernetes-models has no ${m.obj.apiVersion} ${m.obj.kind}`).toBeTypeOf('function');
      expect(() => new Model!(m.obj).validate()).not.toThrow();
    });

    it(`${label(m)} has no field unknown to the API`, () => {
      const file = path.join(modelsDir, `${modelPath(m.obj.apiVersion, m.obj.kind)}.d.ts`);
      expect(unknownFields(m.obj, file, m.obj.kind)).toEqual([]);
    });

    it(`${label(m)} is in namespace ${NAMESPACE} and labelled as the ai-core app`, () => {
      if (m.obj.kind === 'Namespace') {
        expect(m.obj.metadata.name).toBe(NAMESPACE);
        return;
      }
      expect(m.obj.metadata.namespace).toBe(NAMESPACE);
      expect(m.obj.metadata.labels?.[APP_LABEL.key]).toBe(APP_LABEL.value);
    });
  }

  it('the validators catch what they should (a test that can fail)', async () => {
    const { Deployment } = await import('kubernetes-models/apps/v1/Deployment');
    const deployment = structuredClone(one('Deployment'));
    const container = deployment.spec.template.spec.containers[0];
    // A type error and a missing required field: the schema validator.
    container.ports[0].containerPort = 'fifty';
    delete deployment.spec.selector;
    expect(() => new Deployment(deployment as never).validate()).toThrow(/containerPort|selector/);
    // A misspelt field: the strict check.
    const typo = structuredClone(one('Deployment'));
    typo.spec.template.spec.containers[0].livenesProbe = typo.spec.template.spec.containers[0].livenessProbe;
    typo.spec.template.spec.securityContext.runAsNonroot = true;
    const problems = unknownFields(typo, path.join(modelsDir, 'apps/v1/Deployment.d.ts'), 'Deployment');
    expect(problems).toEqual([
      expect.stringContaining('Deployment.spec.template.spec.securityContext.runAsNonroot: unknown field'),
      expect.stringContaining('Deployment.spec.template.spec.containers[0].livenesProbe: unknown field'),
    ]);
  });

  it('kustomization.yaml lists every manifest but the Secret, and only files that exist', () => {
    const k = parseYaml(readFileSync(path.join(k8sDir, 'kustomization.yaml'), 'utf8')) as Obj;
    expect(k).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' });
    const files = readdirSync(k8sDir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    for (const r of k.resources as string[]) expect(files, r).toContain(r);
    expect([...(k.resources as string[])].sort()).toEqual(files.filter((f) => f !== 'secret.yaml').sort());
  });

  describe('Deployment', () => {
    const dep = one('Deployment', 'ai-core-aic');
    const pod = dep.spec.template.spec;
    const container = pod.containers[0];
    const port = (name: string): number => container.ports.find((p: Obj) => p.name === name)?.containerPort;

    it('selects its own pods, and leaves replicas to the HPA', () => {
      for (const [k, v] of Object.entries(dep.spec.selector.matchLabels)) expect(dep.spec.template.metadata.labels[k]).toBe(v);
      expect(dep.spec.template.metadata.labels.app).toBe('ai-core'); // the reference's `kubectl wait -l app=ai-core`
      expect(dep.spec.replicas).toBeUndefined();
    });

    it('exposes gRPC on 50051 and HTTP on 8000, as the ConfigMap tells the service', () => {
      expect(port('grpc')).toBe(GRPC_PORT);
      expect(port('http')).toBe(HTTP_PORT);
      const cm = one('ConfigMap').data;
      expect(cm.AI_CORE_GRPC_ENDPOINT).toMatch(new RegExp(`:${GRPC_PORT}$`));
      expect(new URL(cm.AI_CORE_HTTP_ENDPOINT).port).toBe(String(HTTP_PORT));
    });

    it('probes liveness on /health/live and readiness on /health/ready over HTTP', () => {
      expect(container.livenessProbe.httpGet).toMatchObject({ path: '/health/live', port: 'http' });
      expect(container.readinessProbe.httpGet).toMatchObject({ path: '/health/ready', port: 'http' });
      expect(container.startupProbe.httpGet).toMatchObject({ path: '/health/live', port: 'http' });
      // The startup probe gives model loading its time; liveness does not kill a slow start.
      expect(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold).toBeGreaterThanOrEqual(60);
    });

    it('requests CPU and memory and limits memory', () => {
      expect(container.resources.requests.cpu).toBeTruthy();
      expect(container.resources.requests.memory).toBeTruthy();
      expect(container.resources.limits.memory).toBeTruthy();
      expect(quantityBytes(container.resources.limits.memory)).toBeGreaterThanOrEqual(quantityBytes(container.resources.requests.memory));
    });

    it('runs as non-root, without privileges, on a read-only root filesystem', () => {
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.securityContext.seccompProfile.type).toBe('RuntimeDefault');
      expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(container.securityContext.privileged).toBeUndefined();
      expect(pod.automountServiceAccountToken).toBe(false);
      // /tmp is writable (an emptyDir): the one place the process writes.
      const tmp = container.volumeMounts.find((v: Obj) => v.mountPath === '/tmp');
      expect(pod.volumes.find((v: Obj) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    });

    it('uses the image the Dockerfile builds, by a fixed tag', () => {
      expect(container.image).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(container.image).not.toMatch(/:latest$/);
      expect(readFileSync(path.join(deployDir, 'docker-compose.yml'), 'utf8')).toContain(`image: ${container.image}`);
    });

    it('gets every configuration variable from the ConfigMap and the secrets from the Secret', () => {
      const cmName = container.envFrom.find((e: Obj) => e.configMapRef)?.configMapRef.name;
      const cm = one('ConfigMap', cmName);
      const secret = one('Secret');
      for (const v of CONFIG_VARS) expect(Object.keys(cm.data), v).toContain(v);
      for (const v of SECRET_VARS) {
        expect(Object.keys(cm.data), `${v} must not be in the ConfigMap`).not.toContain(v);
        const env = container.env.find((e: Obj) => e.name === v);
        expect(env?.valueFrom?.secretKeyRef, v).toMatchObject({ name: secret.metadata.name, key: v });
        expect(env.valueFrom.secretKeyRef.optional, `${v} is required`).not.toBe(true);
        expect(Object.keys(secret.stringData ?? secret.data), v).toContain(v);
      }
      // The Secret in the repository holds placeholders only.
      for (const value of Object.values(secret.stringData as Record<string, string>)) expect(value).toMatch(/REPLACE_ME/);
    });

    it('is scraped by annotation on the HTTP port', () => {
      const a = dep.spec.template.metadata.annotations;
      expect(a['prometheus.io/scrape']).toBe('true');
      expect(Number(a['prometheus.io/port'])).toBe(HTTP_PORT);
      expect(a['prometheus.io/path']).toBe('/metrics');
    });

    it('gives the preStop pause and the drain time to terminate', () => {
      const pause = Number(container.lifecycle.preStop.exec.command[1]);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(pause + 20);
      expect(dep.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    });

    it('has the memory limit that the memory alerts assume', () => {
      const rules = readFileSync(path.join(root, 'monitoring', 'prometheus', 'aic-alerts.yml'), 'utf8');
      const limit = quantityBytes(container.resources.limits.memory);
      const constants = [...rules.matchAll(/aic_memory_usage_bytes(?:\[\w+\], [^)]+\))? > (?:0\.9 \* )?(\d+)/g)].map((m) => Number(m[1]));
      expect(constants.length).toBe(2);
      for (const c of constants) expect(c).toBe(limit);
    });
  });

  describe('Services', () => {
    const dep = one('Deployment', 'ai-core-aic');
    const podLabels = dep.spec.template.metadata.labels;
    const containerPorts = new Map<string, number>(dep.spec.template.spec.containers[0].ports.map((p: Obj) => [p.name, p.containerPort]));

    for (const m of byKind('Service')) {
      it(`${m.obj.metadata.name} selects the pods and targets their named ports`, () => {
        for (const [k, v] of Object.entries(m.obj.spec.selector)) expect(podLabels[k], k).toBe(v);
        for (const p of m.obj.spec.ports) {
          expect(containerPorts.has(p.targetPort), `${p.name} targetPort ${p.targetPort}`).toBe(true);
          expect(p.port, p.name).toBe(containerPorts.get(p.targetPort));
        }
      });
    }

    it('ai-core-aic carries gRPC (appProtocol grpc) on 50051 and HTTP on 8000', () => {
      const svc = one('Service', 'ai-core-aic').spec;
      expect(svc.type ?? 'ClusterIP').toBe('ClusterIP');
      expect(svc.ports.find((p: Obj) => p.port === GRPC_PORT)).toMatchObject({ name: 'grpc', appProtocol: 'grpc' });
      expect(svc.ports.find((p: Obj) => p.port === HTTP_PORT)).toMatchObject({ name: 'http' });
    });

    it('the headless Services give the proxies ready pods and Prometheus every pod', () => {
      expect(one('Service', 'ai-core-aic-headless').spec).toMatchObject({ clusterIP: 'None' });
      expect(one('Service', 'ai-core-aic-headless').spec.publishNotReadyAddresses).not.toBe(true);
      expect(one('Service', 'ai-core-aic-metrics').spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
      // The DNS name Prometheus resolves is this Service's.
      const prom = parseYaml(readFileSync(path.join(root, 'monitoring', 'prometheus', 'prometheus-kubernetes.yml'), 'utf8')) as Obj;
      const dns = prom.scrape_configs.find((s: Obj) => s.job_name === 'aic').dns_sd_configs[0];
      expect(dns.names).toEqual([`ai-core-aic-metrics.${NAMESPACE}.svc.cluster.local`]);
      expect(dns.port).toBe(HTTP_PORT);
    });
  });

  it('the HPA scales the Deployment on a gauge the service exports, per pod', () => {
    const hpa = one('HorizontalPodAutoscaler').spec;
    expect(hpa.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'ai-core-aic' });
    expect(hpa.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.maxReplicas).toBeGreaterThan(hpa.minReplicas);
    const podsMetric = hpa.metrics.find((m: Obj) => m.type === 'Pods').pods;
    const spec = Object.values(METRICS).find((m) => m.name === podsMetric.metric.name);
    expect(spec, `${podsMetric.metric.name} is not in src/metrics/names.ts`).toBeDefined();
    expect(spec!.type).toBe('gauge');
    expect(podsMetric.target.type).toBe('AverageValue');
    // Scale-down ends streams: slower than scale-up.
    expect(hpa.behavior.scaleDown.stabilizationWindowSeconds).toBeGreaterThan(hpa.behavior.scaleUp.stabilizationWindowSeconds);
  });

  it('the PDB covers the pods and leaves at least one running at the HPA minimum', () => {
    const pdb = one('PodDisruptionBudget').spec;
    const podLabels = one('Deployment').spec.template.metadata.labels;
    for (const [k, v] of Object.entries(pdb.selector.matchLabels)) expect(podLabels[k]).toBe(v);
    const min = one('HorizontalPodAutoscaler').spec.minReplicas;
    if (pdb.maxUnavailable !== undefined) expect(pdb.maxUnavailable).toBeLessThan(min);
    else expect(pdb.minAvailable).toBeLessThan(min);
  });
});

/** A Kubernetes quantity (memory) in bytes: 2Gi, 512Mi, 1G, 1000000. */
function quantityBytes(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  if (!m) throw new Error(`quantity ${q}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

// ------------------------------------------------------------------------------------ Dockerfile

const dockerfilePath = path.join(deployDir, 'Dockerfile');
const dockerfileText = readFileSync(dockerfilePath, 'utf8');

interface Stage {
  from: Instruction & { getImageName(): string | null; getImageTag(): string | null; getImageDigest(): string | null; getBuildStage(): string | null };
  instructions: Instruction[];
}
function stages(text: string): Stage[] {
  const out: Stage[] = [];
  for (const ins of DockerfileParser.parse(text).getInstructions()) {
    if (ins.getKeyword() === 'FROM') out.push({ from: ins as Stage['from'], instructions: [] });
    else out.at(-1)?.instructions.push(ins);
  }
  return out;
}
const args = (ins: Instruction): string[] => ins.getArguments().map((a) => a.getValue());

/** The structural rules this image must follow (what hadolint would say, where it applies). */
function dockerfileProblems(text: string): string[] {
  const problems: string[] = [];
  const st = stages(text);
  if (st.length < 2) problems.push('not multi-stage');
  const names = st.map((s) => s.from.getBuildStage());
  for (const s of st) {
    const image = `${s.from.getImageName()}:${s.from.getImageTag() ?? ''}`;
    if (!s.from.getImageTag() && !s.from.getImageDigest()) problems.push(`FROM ${s.from.getImageName()} has no tag`);
    if (s.from.getImageTag() === 'latest') problems.push(`FROM ${image}: latest`);
    if (!s.from.getBuildStage()) problems.push(`FROM ${image} has no stage name`);
    for (const ins of s.instructions) {
      const kw = ins.getKeyword();
      const content = ins.getArgumentsContent() ?? '';
      if (kw === 'ADD') problems.push(`ADD: use COPY (${content})`);
      if (kw === 'RUN' && /apt-get install/.test(content)) {
        if (!/--no-install-recommends/.test(content)) problems.push(`apt-get install without --no-install-recommends: ${content.slice(0, 60)}`);
        if (!/-y\b/.test(content)) problems.push('apt-get install without -y');
        if (!/rm -rf \/var\/lib\/apt\/lists/.test(content)) problems.push('apt lists not removed in the same RUN');
      }
      if (kw === 'RUN' && /\bsudo\b/.test(content)) problems.push('sudo in RUN');
      if (kw === 'COPY') {
        const from = (ins as unknown as { getFromFlag(): { getValue(): string | null } | null }).getFromFlag()?.getValue();
        if (from && !names.includes(from)) problems.push(`COPY --from=${from}: no such stage`);
      }
      if (kw === 'WORKDIR' && !content.startsWith('/')) problems.push(`WORKDIR ${content} is relative`);
      if ((kw === 'CMD' || kw === 'ENTRYPOINT') && !content.trim().startsWith('[')) problems.push(`${kw} not in JSON (exec) form`);
    }
  }
  const final = st.at(-1);
  if (final) {
    const users = final.instructions.filter((i) => i.getKeyword() === 'USER');
    const user = users.at(-1) ? args(users.at(-1)!)[0]! : 'root';
    if (/^(root|0)(:.*)?$/.test(user)) problems.push(`final stage runs as ${user}`);
    if (!/^\d+(:\d+)?$/.test(user)) problems.push(`USER ${user} is not numeric (Kubernetes runAsNonRoot cannot check a name)`);
    const hc = final.instructions.filter((i) => i.getKeyword() === 'HEALTHCHECK');
    if (hc.length !== 1) problems.push('final stage has no HEALTHCHECK');
    const expose = final.instructions.filter((i) => i.getKeyword() === 'EXPOSE').flatMap(args);
    for (const p of [GRPC_PORT, HTTP_PORT]) if (!expose.some((e) => e.replace(/\/tcp$/, '') === String(p))) problems.push(`EXPOSE ${p} missing`);
    if (final.instructions.filter((i) => i.getKeyword() === 'CMD').length !== 1) problems.push('final stage needs one CMD');
  }
  return problems;
}

describe('Dockerfile (deploy/Dockerfile)', () => {
  it('passes the dockerfile-utils linter with every check on', () => {
    const all = ValidationSeverity.WARNING;
    const diagnostics = lintDockerfile(dockerfileText, {
      deprecatedMaintainer: all,
      directiveCasing: all,
      emptyContinuationLine: all,
      instructionCasing: all,
      instructionCmdMultiple: all,
      instructionEntrypointMultiple: all,
      instructionHealthcheckMultiple: all,
      instructionJSONInSingleQuotes: all,
      instructionWorkdirRelative: all,
    });
    expect(diagnostics.map((d) => `line ${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  it('follows the structural rules: multi-stage, pinned tags, non-root, HEALTHCHECK, ports, exec-form CMD', () => {
    expect(dockerfileProblems(dockerfileText)).toEqual([]);
  });

  it('the checks catch what they should (a test that can fail)', () => {
    const bad = [
      'FROM node:latest',
      'ADD . /app',
      'RUN apt-get update && apt-get install -y curl',
      'USER root',
      'CMD node dist/main.js',
      'WORKDIR app',
    ].join('\n');
    const problems = dockerfileProblems(bad);
    for (const want of ['not multi-stage', 'latest', 'no stage name', 'ADD', '--no-install-recommends', 'apt lists', 'runs as root', 'HEALTHCHECK', 'EXPOSE 50051', 'JSON', 'relative']) {
      expect(problems.join('\n'), want).toContain(want);
    }
    expect(lintDockerfile('FROM node:20\nHEALTHCHECK --interval=5 CMD true\nEXPOSE 99999\n').length).toBeGreaterThan(0);
  });

  it('builds on node:20-bookworm and runs on node:20-bookworm-slim', () => {
    const st = stages(dockerfileText);
    expect(`${st[0]!.from.getImageName()}:${st[0]!.from.getImageTag()}`).toBe('node:20-bookworm');
    expect(`${st.at(-1)!.from.getImageName()}:${st.at(-1)!.from.getImageTag()}`).toBe('node:20-bookworm-slim');
  });

  it('runs the service as the numeric user the Deployment expects, with the health check on /health/live', () => {
    const final = stages(dockerfileText).at(-1)!;
    const user = args(final.instructions.filter((i) => i.getKeyword() === 'USER').at(-1)!)[0]!;
    const pod = one('Deployment').spec.template.spec;
    expect(user).toBe(`${pod.securityContext.runAsUser}:${pod.securityContext.runAsGroup}`);
    const hc = final.instructions.find((i) => i.getKeyword() === 'HEALTHCHECK')!.getArgumentsContent()!;
    expect(hc).toMatch(/\/app\/healthcheck\.mjs/);
    expect(readFileSync(path.join(deployDir, 'healthcheck.mjs'), 'utf8')).toContain('/health/live');
    const cmd = final.instructions.find((i) => i.getKeyword() === 'CMD')!.getArgumentsContent()!;
    expect(JSON.parse(cmd)).toEqual(['node', 'dist/main.js']);
  });

  it('copies from the build context only files that exist and that the ignore file lets through', () => {
    const ignore = readFileSync(path.join(deployDir, 'Dockerfile.dockerignore'), 'utf8');
    for (const p of ['.git', '**/node_modules', 'build', 'dist']) expect(ignore.split('\n'), p).toContain(p);
    for (const s of stages(dockerfileText)) {
      for (const ins of s.instructions.filter((i) => i.getKeyword() === 'COPY')) {
        if ((ins as unknown as { getFromFlag(): unknown }).getFromFlag()) continue;
        const srcs = args(ins).filter((a) => !a.startsWith('--')).slice(0, -1);
        for (const src of srcs) {
          expect(existsSync(path.join(root, src)), src).toBe(true);
          if (src.startsWith('deploy/')) expect(ignore, src).toContain(`!${src}`);
        }
      }
    }
    // The paths the build runs exist in this checkout (service/ is written alongside).
    expect(existsSync(path.join(root, 'scripts', 'layout-prebuild.mjs'))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts.build).toBeTruthy();
  });
});

// ------------------------------------------------------------------------------------ Compose

describe('Docker Compose (deploy/docker-compose.yml, Option A)', () => {
  const compose = parseYaml(readFileSync(path.join(deployDir, 'docker-compose.yml'), 'utf8')) as Obj;
  const svc = compose.services as Record<string, Obj>;

  it('builds the service from deploy/Dockerfile and publishes 8000 and 50051', () => {
    expect(svc['ai-core']!.build).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile' });
    expect(svc['ai-core']!.ports).toEqual(expect.arrayContaining([`${HTTP_PORT}:${HTTP_PORT}`, `${GRPC_PORT}:${GRPC_PORT}`]));
    for (const v of [...CONFIG_VARS, ...SECRET_VARS]) expect(Object.keys(svc['ai-core']!.environment), v).toContain(v);
    expect(svc['ai-core']!.environment.DATABASE_URL).toMatch(/@postgres:5432\//);
  });

  it('mounts files that exist, and Prometheus scrapes the service under its Compose name', () => {
    for (const [name, s] of Object.entries(svc)) {
      for (const v of (s.volumes ?? []) as string[]) {
        const host = v.split(':')[0]!;
        if (host.startsWith('.')) expect(existsSync(path.resolve(deployDir, host)), `${name}: ${host}`).toBe(true);
      }
      if (s.image) expect(s.image, name).toMatch(/:[\w.-]+$/);
      if (s.image) expect(s.image, name).not.toMatch(/:latest$/);
    }
    const prom = parseYaml(readFileSync(path.join(root, 'monitoring', 'prometheus', 'prometheus.yml'), 'utf8')) as Obj;
    const job = prom.scrape_configs.find((j: Obj) => j.job_name === 'aic');
    expect(job.static_configs[0].targets).toEqual([`ai-core:${HTTP_PORT}`]);
  });
});

// ------------------------------------------------------------------------------------ health check

describe('deploy/healthcheck.mjs', () => {
  let server: Server;
  let port = 0;
  let liveStatus = 200;
  let hang = false;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (hang) return; // never answers
      if (req.url === '/health/live') {
        res.writeHead(liveStatus, { 'content-type': 'application/json' }).end('{"status":"alive"}');
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const run = (env: Record<string, string>): Promise<{ code: number; stderr: string }> =>
    new Promise((resolve) => {
      const childEnv: Record<string, string | undefined> = { ...process.env, AIC_HEALTHCHECK_URL: undefined, AI_CORE_HTTP_ENDPOINT: undefined, ...env };
      execFile(process.execPath, [path.join(deployDir, 'healthcheck.mjs')], { env: childEnv as NodeJS.ProcessEnv, timeout: 20_000 }, (error, _stdout, stderr) => {
        const code = (error as { code?: unknown } | null)?.code;
        resolve({ code: error ? (typeof code === 'number' ? code : 1) : 0, stderr });
      });
    });

  it('exits 0 when /health/live answers 200 on the port of AI_CORE_HTTP_ENDPOINT', async () => {
    liveStatus = 200;
    expect((await run({ AI_CORE_HTTP_ENDPOINT: `http://0.0.0.0:${port}` })).code).toBe(0);
    expect((await run({ AI_CORE_HTTP_ENDPOINT: `0.0.0.0:${port}` })).code).toBe(0);
  });

  it('exits 1 when the service answers 503', async () => {
    liveStatus = 503;
    const r = await run({ AI_CORE_HTTP_ENDPOINT: `http://0.0.0.0:${port}` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('503');
    liveStatus = 200;
  });

  it('exits 1 when nothing listens, and when the service does not answer in time', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect((await run({ AI_CORE_HTTP_ENDPOINT: `http://0.0.0.0:${closedPort}` })).code).toBe(1);
    hang = true;
    const started = Date.now();
    const r = await run({ AIC_HEALTHCHECK_URL: `http://127.0.0.1:${port}/health/live`, AIC_HEALTHCHECK_TIMEOUT_MS: '300' });
    hang = false;
    expect(r.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
