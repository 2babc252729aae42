// The CLI's own errors: a stable code, the exit status it maps to, and a message that names the
// problem and the file. Usage mistakes exit 2, bad input or an unwritable output exit 1; only a
// bug in aic itself is INTERNAL.
import { AicError } from '../errors.js';

export type CliErrorCode =
  /** Exit 2: the command line is wrong. */
  | 'UNKNOWN_COMMAND'
  | 'UNKNOWN_OPTION'
  | 'MISSING_ARGUMENT'
  | 'UNEXPECTED_ARGUMENT'
  | 'BAD_VALUE'
  | 'NOT_FOUND'
  | 'NOT_A_FILE'
  | 'UNSUPPORTED_OUTPUT'
  /** Exit 1: a file is wrong, or the output cannot be written. */
  | 'EMPTY_INPUT'
  | 'CONTENT_MISMATCH'
  | 'CORRUPT_INPUT'
  | 'UNSUPPORTED_INPUT'
  | 'UNREADABLE_INPUT'
  | 'UNWRITABLE_OUTPUT'
  | 'BAD_MANIFEST';

const USAGE_CODES: ReadonlySet<CliErrorCode> = new Set(['UNKNOWN_COMMAND', 'UNKNOWN_OPTION', 'MISSING_ARGUMENT', 'UNEXPECTED_ARGUMENT', 'BAD_VALUE', 'NOT_FOUND', 'NOT_A_FILE', 'UNSUPPORTED_OUTPUT']);

export class CliError extends Error {
  readonly exitCode: 1 | 2;
  constructor(
    readonly code: CliErrorCode,
    message: string,
    /** The subcommand whose help the message points to, for usage errors. */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'CliError';
    this.exitCode = USAGE_CODES.has(code) ? 2 : 1;
  }
}

export const usage = (code: CliErrorCode, message: string, command?: string) => new CliError(code, message, command);

/** Maps a failed file-system call on `file` to a CliError; anything else comes back unchanged. */
export function fsError(error: unknown, file: string, writing: boolean): unknown {
  const code = (error as { code?: string } | null)?.code;
  const what = writing ? 'UNWRITABLE_OUTPUT' : 'UNREADABLE_INPUT';
  const verb = writing ? 'cannot write' : 'cannot read';
  switch (code) {
    case 'ENOENT':
      return new CliError(what, writing ? `${verb} ${file}: the folder ${dirOf(file)} does not exist` : `${file}: no such file`);
    case 'ENOTDIR':
      return new CliError(what, `${verb} ${file}: a part of the path is not a folder`);
    case 'EACCES':
    case 'EPERM':
      return new CliError(what, `${verb} ${file}: permission denied`);
    case 'EROFS':
      return new CliError(what, `${verb} ${file}: the file system is read-only`);
    case 'ENOSPC':
    case 'EDQUOT':
      return new CliError(what, `${verb} ${file}: no space left on the device`);
    case 'EISDIR':
      return new CliError(what, `${verb} ${file}: it is a directory`);
    case 'EIO':
      return new CliError(what, `${verb} ${file}: input/output error`);
    default:
      return error;
  }
}

function dirOf(file: string): string {
  const i = file.lastIndexOf('/');
  return i > 0 ? file.slice(0, i) : '.';
}

/** How main() reports a failure: the code, the exit status and the line to print. */
export function describeFailure(error: unknown): { code: string; exitCode: number; message: string } {
  if (error instanceof CliError) return { code: error.code, exitCode: error.exitCode, message: error.message };
  const e = AicError.from(error);
  return { code: e.code, exitCode: 1, message: e.message };
}
