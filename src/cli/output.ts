// Outputs are written to a temporary name in the same folder and renamed over the final name
// only when the run succeeds, so a failed or interrupted run leaves nothing behind.
import { accessSync, constants, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { CliError, fsError } from './errors.js';

const pending = new Set<string>();
let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  const clean = () => {
    for (const f of pending) rmSync(f, { force: true });
    pending.clear();
  };
  process.on('exit', clean);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(signal, () => {
      clean();
      process.stderr.write(`\naic: interrupted; nothing was written\n`);
      process.exit(code);
    });
  }
}

export class AtomicOutput {
  readonly temp: string;
  #done = false;

  /** Checks that `final` can be written (its folder exists and is writable) before any work. */
  constructor(readonly final: string) {
    const dir = path.dirname(path.resolve(final));
    let st;
    try {
      st = statSync(dir);
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') throw new CliError('UNWRITABLE_OUTPUT', `cannot write ${final}: the folder ${path.dirname(final)} does not exist`);
      throw fsError(error, final, true);
    }
    if (!st.isDirectory()) throw new CliError('UNWRITABLE_OUTPUT', `cannot write ${final}: ${path.dirname(final)} is not a folder`);
    try {
      accessSync(dir, constants.W_OK);
    } catch (error) {
      throw fsError(error, final, true);
    }
    try {
      if (statSync(final).isDirectory()) throw new CliError('UNWRITABLE_OUTPUT', `cannot write ${final}: it is a directory`);
    } catch (error) {
      if (error instanceof CliError) throw error;
    }
    this.temp = path.join(path.dirname(final), `.${path.basename(final)}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.part`);
    pending.add(this.temp);
    hook();
  }

  /** Moves the finished file to its name. */
  commit(): void {
    try {
      renameSync(this.temp, this.final);
    } catch (error) {
      throw fsError(error, this.final, true);
    }
    pending.delete(this.temp);
    this.#done = true;
  }

  /** Removes the temporary file, if the run did not commit it. */
  discard(): void {
    if (this.#done) return;
    rmSync(this.temp, { force: true });
    pending.delete(this.temp);
  }
}
