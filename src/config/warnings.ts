// Variables of ours that nothing reads: most often a typo (AIC_MOED). A warning each, naming the
// variable it most resembles, never an error (a newer deployment may set a variable this version
// does not know).
import { CONFIG_VARIABLES, OTHER_PROJECT_VARIABLES } from './variables.js';

const PREFIXES = ['AIC_', 'AI_CORE_'];

/** Levenshtein distance, with a swap of two neighbours counted as one edit. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known variable `name` most resembles, if it is close enough to be a typo of it. */
export function closestVariable(name: string): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const known of CONFIG_VARIABLES.map((v) => v.name)) {
    const dist = distance(name.toUpperCase(), known);
    if (dist < bestDistance) {
      best = known;
      bestDistance = dist;
    }
  }
  // Up to a third of the name's length wrong, at most 4 edits.
  return bestDistance <= Math.min(4, Math.ceil(name.length / 3)) ? best : null;
}

/** One warning per AIC_* / AI_CORE_* variable of `env` that is neither read nor another of the project's. */
export function unknownVariableWarnings(env: Record<string, string | undefined>): string[] {
  const known = new Set([...CONFIG_VARIABLES.map((v) => v.name), ...OTHER_PROJECT_VARIABLES]);
  const warnings: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (env[name] === undefined || known.has(name)) continue;
    if (!PREFIXES.some((p) => name.toUpperCase().startsWith(p))) continue;
    const near = closestVariable(name);
    warnings.push(`${name} is set but is not a variable of @auralink/aic${near ? ` (did you mean ${near}?)` : ''}; it is ignored`);
  }
  return warnings;
}
