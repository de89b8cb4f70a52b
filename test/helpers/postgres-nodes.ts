/**
 * Gateway nodes sharing one throwaway PostgreSQL, in this process: for a describe block whose
 * tests look at a cluster (started before its tests, stopped after them).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type TestPostgres } from './postgres.ts';
import { startTestGateway } from './test-gateway.ts';

export type TestNode = Awaited<ReturnType<typeof startTestGateway>>;

export interface NodeSpec {
  id: string;
  /** The node's own virtual line. */
  line: { id: string; number: string; dialect: string };
}

export interface PostgresNodes {
  /** The database's URL (another store on it is another node). */
  url(): string;
  server(): TestPostgres;
  node(id: string): TestNode;
  dataDir(id: string): string;
}

/** Starts the database and `nodes` (fast heartbeats; `overrides` added to each node's config). */
export function usePostgresNodes(nodes: readonly NodeSpec[], overrides: Record<string, unknown> = {}): PostgresNodes {
  let server: TestPostgres | undefined;
  let url = '';
  const started = new Map<string, TestNode>();
  const dirs = new Map<string, string>();
  beforeAll(async () => {
    server = await startPostgres();
    url = await server.createDatabase();
    const start = async ({ id, line }: NodeSpec) => {
      const dir = mkdtempSync(join(tmpdir(), `agentphone-${id}-`));
      dirs.set(id, dir);
      started.set(id, await startTestGateway(dir, { store: { postgres: { url } }, cluster: { nodeId: id, heartbeatMs: 200, leaseMs: 1000 }, virtual: { lines: [line] }, ...overrides }));
    };
    await Promise.all(nodes.map(start));
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled([...started.values()].map((n) => n.stop()));
    await server?.stop();
    for (const dir of dirs.values()) rmSync(dir, { recursive: true, force: true });
  });
  const known = <T>(map: Map<string, T>, id: string): T => {
    const value = map.get(id);
    if (value === undefined) throw new Error(`no node ${id} (started in beforeAll)`);
    return value;
  };
  return {
    url: () => url,
    server: () => server as TestPostgres,
    node: (id) => known(started, id),
    dataDir: (id) => known(dirs, id),
  };
}
