// scripts/valgrind-report.mjs decides whether the addon leak run (npm run test:leaks:addon) passes:
// it must fail on a block lost in the project's code or a memory error there, and pass on the
// libraries' own one-off allocations and glibc's cached thread storage.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const script = path.join(__dirname, '..', 'scripts', 'valgrind-report.mjs');
function report(log: string): { status: number | null; out: string } {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'aic-vg-')), 'memcheck.log');
  writeFileSync(file, log);
  const r = spawnSync(process.execPath, [script, file], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

const ortLeak = `==1== 14 bytes in 1 blocks are definitely lost in loss record 881 of 7,900
==1==    at 0x5ECA7B4: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)
==1==    by 0x11772287: ??? (in /x/build/Release/libonnxruntime.so.1)
==1==
`;
const threadTls = `==1== 336 bytes in 1 blocks are possibly lost in loss record 7,337 of 7,900
==1==    at 0x5ECF5EF: calloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)
==1==    by 0x5699CB2: allocate_dtv (dl-tls.c:401)
==1==    by 0x6295DAE: pthread_create@@GLIBC_2.34 (pthread_create.c:650)
==1==    by 0xF5412DF: aic::CodecModel::CodecModel(std::shared_ptr<aic::Engine> const&, aic::ModelLoadRequest const&) (in /x/build/Release/aic.node)
==1==
`;
const ortEnvInit = `==1== 14 bytes in 1 blocks are definitely lost in loss record 882 of 7,927
==1==    at 0x5ECA7B4: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)
==1==    by 0x11772287: ??? (in /x/build/Release/libonnxruntime.so.1)
==1==    by 0xF9C7BED: ??? (in /x/build/Release/libonnxruntime.so.1)
==1==    by 0xF538DBB: std::thread::_State_impl<std::thread::_Invoker<std::tuple<aic::EnvHandle::EnvHandle(int, int, bool, int)::{lambda()#1}> > >::_M_run() (in /x/build/Release/aic.node)
==1==    by 0x62951F4: start_thread (pthread_create.c:442)
==1==
`;
// Our code allocating on the same thread is still ours.
const ourEnvLeak = `==1== 64 bytes in 1 blocks are definitely lost in loss record 883 of 7,927
==1==    at 0x5ECAF2F: operator new(unsigned long) (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)
==1==    by 0xF538DBB: std::thread::_State_impl<std::thread::_Invoker<std::tuple<aic::EnvHandle::EnvHandle(int, int, bool, int)::{lambda()#1}> > >::_M_run() (in /x/build/Release/aic.node)
==1==
`;
const ourLeak = `==1== 4,096 (64 direct, 4,032 indirect) bytes in 2 blocks are definitely lost in loss record 9 of 10
==1==    at 0x5ECAF2F: operator new(unsigned long) (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)
==1==    by 0xF53A38E: aic::ImageCodec::decode(unsigned char const*, unsigned long) (in /x/build/Release/aic.node)
==1==
`;
const ourInvalidRead = `==1== Invalid read of size 4
==1==    at 0xF53A38E: aic::parsePayload(unsigned char const*, unsigned long) (in /x/build/Release/aic.node)
==1==    by 0xC45D94: v8impl::FunctionCallbackWrapper::Invoke(v8::FunctionCallbackInfo<v8::Value> const&) (in /usr/bin/node)
==1==
`;

describe('valgrind report of the addon leak run', () => {
  it("passes on the libraries' own allocations and cached thread storage", () => {
    const r = report(ortLeak + threadTls + ortEnvInit);
    expect(r.status).toBe(0);
    expect(r.out).toContain('onnxruntime (Env creation)');
    expect(r.out).toContain("no leak and no memory error in the project's code");
  });
  it('fails on a block lost in the project code', () => {
    const r = report(ortLeak + ourLeak);
    expect(r.status).toBe(1);
    expect(r.out).toContain('ours: definitely lost, 4096 bytes in 2 blocks');
  });
  it("fails on a block our code allocated on the environment's thread", () => {
    const r = report(ortEnvInit + ourEnvLeak);
    expect(r.status).toBe(1);
    expect(r.out).toContain('ours: definitely lost, 64 bytes in 1 blocks');
  });
  it('fails on a memory error in the project code', () => {
    const r = report(threadTls + ourInvalidRead);
    expect(r.status).toBe(1);
    expect(r.out).toContain('ours: Invalid read');
  });
});
