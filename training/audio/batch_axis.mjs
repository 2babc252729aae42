#!/usr/bin/env node
// Gives the audio graphs' inputs and outputs a symbolic first dimension ("batch") in place of the
// fixed 1 that export.py wrote, so that one ONNX Runtime run codes the frames of many streams
// (src/audio-batcher.ts, native/core/audio/audio_batch.cc). The graphs' operators (Concat and
// Slice on the last axis, MatMul by constant matrices, Identity) do not depend on that dimension;
// only the declared shapes do. Weights and operators are left byte for byte as they were; the
// manifest's sha256 of each file is updated.
//
//   node training/audio/batch_axis.mjs models/aic-audio-v2
//
// Applied after `export.py` (training/README.md has the export command of each model); running it
// again on rewritten files changes nothing.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// --- minimal protobuf wire format: parse one message level, re-encode with new lengths ----------
function readVarint(buf, at) {
  let value = 0n;
  let shift = 0n;
  for (;;) {
    const b = buf[at++];
    if (b === undefined) throw new Error('truncated varint');
    value |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [value, at];
    shift += 7n;
  }
}
function varint(v) {
  let n = BigInt(v);
  const out = [];
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
}
/** The fields of one message: { field, wire, raw (the whole field's bytes), body (length-delimited payload) }. */
function fields(buf) {
  const out = [];
  let at = 0;
  while (at < buf.length) {
    const start = at;
    let key;
    [key, at] = readVarint(buf, at);
    const field = Number(key >> 3n), wire = Number(key & 7n);
    let body = null;
    if (wire === 0) [, at] = readVarint(buf, at);
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      let n;
      [n, at] = readVarint(buf, at);
      body = buf.subarray(at, at + Number(n));
      at += Number(n);
    } else throw new Error(`unsupported wire type ${wire}`);
    out.push({ field, wire, raw: buf.subarray(start, at), body });
  }
  return out;
}
const lengthDelimited = (field, body) => Buffer.concat([varint((field << 3) | 2), varint(body.length), body]);
/** Re-encodes `buf` with each length-delimited field `f` whose `map[f]` is given replaced by map[f](body). */
function edit(buf, map) {
  return Buffer.concat(fields(buf).map((f) => (f.wire === 2 && map[f.field] ? lengthDelimited(f.field, map[f.field](f.body)) : f.raw)));
}

// ModelProto.graph = 7; GraphProto.input = 11, output = 12; ValueInfoProto.type = 2;
// TypeProto.tensor_type = 1; Tensor.shape = 2; TensorShapeProto.dim = 1;
// Dimension.dim_value = 1 (varint), dim_param = 2 (string).
function batchFirstDim(shape) {
  let first = true;
  return Buffer.concat(
    fields(shape).map((f) => {
      if (f.field !== 1 || f.wire !== 2) return f.raw;
      if (!first) return f.raw;
      first = false;
      const dim = fields(f.body);
      const fixedOne = dim.length === 1 && dim[0].field === 1 && dim[0].wire === 0 && readVarint(dim[0].raw, 1)[0] === 1n;
      if (!fixedOne) return f.raw; // already symbolic (or not 1): left as it is
      return lengthDelimited(1, lengthDelimited(2, Buffer.from('batch')));
    }),
  );
}
const valueInfo = (vi) => edit(vi, { 2: (type) => edit(type, { 1: (tensor) => edit(tensor, { 2: batchFirstDim }) }) });

function rewrite(file) {
  const before = readFileSync(file);
  const after = edit(before, { 7: (graph) => edit(graph, { 11: valueInfo, 12: valueInfo }) });
  writeFileSync(file, after);
  return createHash('sha256').update(after).digest('hex');
}

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node training/audio/batch_axis.mjs MODEL_DIR');
  process.exit(2);
}
const manifestPath = path.join(dir, 'manifest.json');
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
for (const part of ['encoder', 'decoder']) {
  const entry = manifest[part];
  entry.sha256 = rewrite(path.join(dir, entry.file));
  console.log(`${entry.file}: first dimension of inputs and outputs symbolic ('batch'), sha256 ${entry.sha256}`);
}
manifest.training = { ...manifest.training, batchAxis: 'inputs and outputs given a symbolic first dimension by training/audio/batch_axis.mjs' };
writeFileSync(manifestPath, JSON.stringify(manifest));
