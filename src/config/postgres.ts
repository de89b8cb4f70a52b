import type { Config } from './schema.ts';

/**
 * What is wrong with a PostgreSQL URL, or undefined: it must be postgres:// (or postgresql://)
 * and must not set TLS (pg would let sslmode=… in the URL override store.postgres.ssl silently;
 * one place says how TLS is set). Never quotes the URL: it may hold the password.
 */
export function postgresUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a valid postgres:// URL';
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') return 'must start with postgres:// or postgresql://';
  const tlsParams = [...parsed.searchParams.keys()].filter((k) => k.startsWith('ssl'));
  if (tlsParams.length > 0) return `must not set ${tlsParams.join(', ')}; set TLS with store.postgres.ssl (mode, caFile, certFile, keyFile)`;
  return undefined;
}

/** store.postgres problems the schema cannot express. */
export function postgresProblems(pg: Config['store']['postgres']): string[] {
  const problems: string[] = [];
  if (pg.url !== null) {
    const problem = postgresUrlProblem(pg.url);
    if (problem) problems.push(`store.postgres.url (AGENTPHONE_DATABASE_URL): ${problem}`);
  }
  if ((pg.ssl.certFile === null) !== (pg.ssl.keyFile === null)) problems.push('store.postgres.ssl: certFile and keyFile go together');
  if (pg.ssl.mode === 'disable' && (pg.ssl.caFile ?? pg.ssl.certFile) !== null) {
    problems.push('store.postgres.ssl: caFile/certFile are set but mode is disable; set mode to require or verify-full');
  }
  return problems;
}
