import { AgentPhoneError, ConfigError } from '../errors/index.ts';
import { DataDirLockedError } from '../lifecycle/index.ts';

/** Where the gateway was told to listen and keep its data, for naming them in a failure. */
export interface StartupTarget {
  host: string;
  port: number;
  dataDir: string;
}

/**
 * One line for the operator when start-up fails: what failed, where, and what to do. Node's
 * own messages ("listen EADDRINUSE: address already in use") name neither the setting nor
 * the remedy.
 */
export function describeStartupError(err: unknown, target: StartupTarget | undefined): string {
  if (err instanceof ConfigError) {
    return `invalid configuration; fix these and start again:\n  ${err.problems.join('\n  ')}`;
  }
  if (err instanceof DataDirLockedError) {
    const stop = err.holderPid === null ? 'stop that gateway' : `stop that gateway (kill ${err.holderPid}, or systemctl stop agentphone)`;
    return `${err.message}; ${stop} or set dataDir (AGENTPHONE_DATA_DIR) to another directory`;
  }
  const sys = err as NodeJS.ErrnoException & { address?: string; port?: number };
  const where = target ? `${target.host}:${target.port}` : `${sys.address ?? '?'}:${sys.port ?? '?'}`;
  if (sys.syscall === 'listen' || sys.syscall === 'bind') {
    if (sys.code === 'EADDRINUSE') {
      return `cannot listen on ${where}: the port is already in use (another AgentPhone or another program); stop that or set server.port (AGENTPHONE_PORT) to a free port`;
    }
    if (sys.code === 'EACCES' || sys.code === 'EPERM') {
      return `cannot listen on ${where}: permission denied (ports below 1024 need privileges); set server.port (AGENTPHONE_PORT) to 1024 or above`;
    }
    if (sys.code === 'EADDRNOTAVAIL') {
      return `cannot listen on ${where}: no interface of this machine has that address; set server.host (AGENTPHONE_HOST) to one of its addresses or 0.0.0.0`;
    }
  }
  if (typeof sys.path === 'string' && ['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR', 'ENOSPC'].includes(sys.code ?? '')) {
    return `cannot use ${sys.path} (${sys.code}): check that the data directory ${target?.dataDir ?? ''} (dataDir, AGENTPHONE_DATA_DIR) exists or can be created, is writable by this user and has free space`;
  }
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  if (err instanceof AgentPhoneError) return `start-up failed: ${message}`;
  return `start-up failed: ${message}; the log above has the details (AGENTPHONE_LOG_LEVEL=debug for more)`;
}
