// Reads a valgrind memcheck log (scripts/leaks-addon.sh) and sorts every leak record and error by
// whose code made it: ours (a frame in aic.node: the aic:: core or its binding), or a library's
// own (ONNX Runtime, Node/V8, sharp's libvips, the C library). Thread-local storage that glibc
// keeps with its cached thread stacks ("possibly lost" under pthread_create) is nobody's leak.
// Prints a table and exits 1 if any definitely or indirectly lost block, or any memory error, is
// ours. Usage: node scripts/valgrind-report.mjs LOG [--json OUT]
import { readFileSync, writeFileSync } from 'node:fs';

const [file, ...rest] = process.argv.slice(2);
const jsonOut = rest[0] === '--json' ? rest[1] : undefined;
const lines = readFileSync(file, 'utf8').split('\n').map((l) => l.replace(/^==\d+== ?/, ''));

// A record: a header line and its stack (the "at"/"by" lines that follow, up to a blank line).
const records = [];
for (let i = 0; i < lines.length; i++) {
  const leak = /^([\d,]+) (?:\([\d,]+ direct, [\d,]+ indirect\) )?bytes in ([\d,]+) blocks are (definitely|indirectly|possibly) lost/.exec(lines[i]);
  const error = !leak && /^(Invalid (read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap)/.exec(lines[i]);
  if (!leak && !error) continue;
  const stack = [];
  for (let j = i + 1; j < lines.length && /^\s+(at|by) 0x/.test(lines[j]); j++) stack.push(lines[j].trim());
  // A leak is ours if our code is anywhere on the allocating stack (we may have called into a
  // library and never released what it gave us); a memory error is whose code made the access:
  // the innermost frame past valgrind's own replacements (memcpy, strcmp...).
  const isOurs = (f) => /aic\.node\)|\baic::|native\/(core|binding)\//.test(f);
  const site = stack.find((f) => !/vgpreload|strcmp-|memcpy|memmove|strlen/.test(f)) ?? '';
  // One exception: what ONNX Runtime allocates inside itself while our EnvHandle thread creates the
  // process's one Ort::Env (every frame from the allocator up to that thread's entry is in
  // libonnxruntime) is ORT's own one-time initialisation, made once per process whatever the
  // frames: the same 14-byte block after 100 frames and after 10,000.
  const firstOurs = stack.findIndex(isOurs);
  const ortEnvInit =
    leak && firstOurs > 1 && /EnvHandle::EnvHandle/.test(stack[firstOurs]) && stack.slice(1, firstOurs).every((f) => /libonnxruntime/.test(f));
  const ours = leak ? stack.some(isOurs) && !ortEnvInit : isOurs(site);
  const tls = stack.some((f) => /_dl_allocate_tls|allocate_dtv|tls_get_addr/.test(f));
  const where = leak ? stack : [site];
  const owner = ours ? 'aic' : where.some((f) => /libonnxruntime/.test(f)) ? 'onnxruntime' : where.some((f) => /libvips|sharp/.test(f)) ? 'sharp/libvips' : where.some((f) => /\/usr\/bin\/node|node::|v8::/.test(f)) ? 'node' : 'libc/ld.so';
  records.push({
    kind: leak ? `${leak[3]} lost` : error[1],
    bytes: leak ? Number(leak[1].replaceAll(',', '')) : 0,
    blocks: leak ? Number(leak[2].replaceAll(',', '')) : 1,
    owner: tls && leak?.[3] === 'possibly' ? `${owner} (thread TLS)` : ortEnvInit ? 'onnxruntime (Env creation)' : owner,
    first: stack.find((f) => /aic::/.test(f)) ?? stack[1] ?? stack[0] ?? '',
  });
}
const summary = new Map();
for (const r of records) {
  const key = `${r.owner}\t${r.kind}`;
  const s = summary.get(key) ?? { owner: r.owner, kind: r.kind, records: 0, blocks: 0, bytes: 0 };
  s.records++;
  s.blocks += r.blocks;
  s.bytes += r.bytes;
  summary.set(key, s);
}
const rows = [...summary.values()].sort((a, b) => a.owner.localeCompare(b.owner) || a.kind.localeCompare(b.kind));
console.table(rows);
const failing = records.filter((r) => r.owner === 'aic' && (r.kind === 'definitely lost' || r.kind === 'indirectly lost' || !r.kind.endsWith('lost')));
for (const r of failing) console.error(`ours: ${r.kind}, ${r.bytes} bytes in ${r.blocks} blocks, ${r.first}`);
const tail = lines.filter((l) => /definitely lost:|indirectly lost:|possibly lost:|ERROR SUMMARY/.test(l)).map((l) => l.trim());
console.log(tail.join('\n'));
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ rows, ours: failing, summary: tail }, null, 2) + '\n');
console.log(failing.length ? `FAIL: ${failing.length} record(s) in the project's code` : 'no leak and no memory error in the project\'s code');
process.exit(failing.length ? 1 : 0);
