/** What a CLI command sees of the world: its arguments and two output streams. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The environment the command resolves config from (process.env in production). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * One top-level CLI command (`agentphone <name> ...`). `run` returns the exit code:
 * 0 on success, 1 on a runtime failure, 2 on wrong arguments (throw UsageError for that).
 */
export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** Wrong arguments: the CLI prints the command's usage and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Prints one JSON document (with --json) or a human text. */
export function printResult(io: CliIo, json: boolean, value: unknown, human: () => string): void {
  io.stdout(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}
