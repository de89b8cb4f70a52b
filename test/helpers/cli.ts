import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.ts';

/**
 * The command run from the sources (tsx), whatever state dist/ is in: tests see the code they
 * test. test/cli/built-bin.test.ts runs src/cli/bin.js (what operators run) on a real build.
 */
export const BIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'source-bin.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with the given environment, capturing its output. */
export async function cli(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env });
  return { code, stdout, stderr };
}

/** Runs the real `agentphone` binary as a child process. */
export function cliProcess(args: string[], env: Record<string, string | undefined>, cwd?: string): Promise<CliResult> {
  return binProcess(BIN, args, env, cwd);
}

/** Runs `node <bin> args...` with only PATH and `env` in its environment. */
export function binProcess(bin: string, args: string[], env: Record<string, string | undefined>, cwd?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH, ...env }, cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export interface GatewayProcess {
  child: ChildProcess;
  /** Whether it said "AgentPhone listening on" (false: it exited first). */
  listening: boolean;
  /** All it wrote to stderr so far. */
  stderr(): string;
  /** All it wrote to stdout (its JSON log) so far. */
  stdout(): string;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
}

/** Starts `agentphone start` (or `command` under a shell) as a real process and waits until it listens or exits. */
export async function startGatewayProcess(args: string[], env: Record<string, string | undefined>, command: [string, ...string[]] = [process.execPath, BIN]): Promise<GatewayProcess> {
  const [file, ...pre] = command;
  const child = spawn(file, [...pre, 'start', ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = await new Promise<boolean>((resolve) => {
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('AgentPhone listening on')) resolve(true);
    });
    void exited.then(() => resolve(false));
  });
  return { child, listening, stderr: () => stderr, stdout: () => stdout, exited };
}
