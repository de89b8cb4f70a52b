import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, statSync, createWriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { InferenceError } from './errors.ts';
import { DTYPE_SUFFIX, type ModelFamily } from './registry.ts';
import type { ModelDtype } from './types.ts';

/*
 * Downloads a model's files from a Hugging Face-compatible endpoint: the file list from
 * GET /api/models/<repo>/revision/<rev>?blobs=true, each file from /<repo>/resolve/<rev>/<path>.
 * Partial downloads resume with a Range request; every file is checked against the hub's
 * checksum (sha256 for LFS files, the git blob sha1 otherwise) before it takes its name.
 */

export type FetchLike = (url: string, init?: { headers?: Record<string, string>; signal?: AbortSignal }) => Promise<Response>;

export interface RepoFile {
  path: string;
  size: number;
  sha256?: string;
  gitSha1?: string;
}

export interface PullProgress {
  file: string;
  receivedBytes: number;
  totalBytes: number;
  done: boolean;
  resumedFromBytes: number;
}

export interface PullOptions {
  /** The configured model name, for messages. */
  model?: string;
  endpoint: string;
  repo: string;
  revision: string;
  dtype: ModelDtype;
  family: ModelFamily;
  dir: string;
  fetch?: FetchLike;
  onProgress?: (p: PullProgress) => void;
  signal?: AbortSignal;
}

export class PullError extends InferenceError {
  constructor(message: string) {
    super('PULL_FAILED', message, { status: 502 });
  }
}

interface Sibling {
  rfilename: string;
  size?: number;
  blobId?: string;
  lfs?: { sha256?: string; oid?: string; size?: number };
}

export async function listRepoFiles(endpoint: string, repo: string, revision: string, fetcher: FetchLike = fetch): Promise<RepoFile[]> {
  const url = `${endpoint.replace(/\/$/, '')}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
  const res = await fetcher(url);
  if (!res.ok) throw new PullError(`${repo}@${revision}: the endpoint answered ${res.status} for the file list`);
  const body = (await res.json()) as { siblings?: Sibling[] };
  return (body.siblings ?? []).map((s) => ({
    path: s.rfilename,
    size: s.lfs?.size ?? s.size ?? -1,
    ...(s.lfs?.sha256 ?? s.lfs?.oid ? { sha256: (s.lfs?.sha256 ?? s.lfs?.oid) as string } : {}),
    ...(s.blobId && !s.lfs ? { gitSha1: s.blobId } : {}),
  }));
}

function checksumOf(file: RepoFile): { hash: Hash; expected: string } | null {
  if (file.sha256) return { hash: createHash('sha256'), expected: file.sha256 };
  if (file.gitSha1 && file.size >= 0) {
    const hash = createHash('sha1');
    hash.update(`blob ${file.size}\0`);
    return { hash, expected: file.gitSha1 };
  }
  return null;
}

async function hashExisting(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

/** Downloads one file into dir, resuming `<file>.part`; resolves when it is verified and in place. */
export async function downloadFile(options: Omit<PullOptions, 'family' | 'dtype'>, file: RepoFile): Promise<'downloaded' | 'present'> {
  const fetcher = options.fetch ?? fetch;
  const target = join(options.dir, file.path);
  if (existsSync(target) && (file.size < 0 || statSync(target).size === file.size)) return 'present';
  mkdirSync(dirname(target), { recursive: true });
  const part = `${target}.part`;
  let have = existsSync(part) ? statSync(part).size : 0;
  if (file.size >= 0 && have > file.size) have = 0;
  const check = checksumOf(file);
  const url = `${options.endpoint.replace(/\/$/, '')}/${options.repo}/resolve/${encodeURIComponent(options.revision)}/${file.path}`;
  const res = await fetcher(url, { headers: have > 0 ? { range: `bytes=${have}-` } : {}, ...(options.signal && { signal: options.signal }) });
  if (res.status === 200) have = 0;
  else if (res.status !== 206 || have === 0) {
    if (!(res.status === 416 && have === file.size)) throw new PullError(`${file.path}: the endpoint answered ${res.status}`);
  }
  if (check && have > 0) await hashExisting(part, check.hash);
  const resumedFrom = have;
  const total = file.size >= 0 ? file.size : Number(res.headers.get('content-length') ?? -1) + have;
  const out = createWriteStream(part, { flags: have > 0 ? 'a' : 'w' });
  let received = have;
  try {
    if (res.body && res.status !== 416) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        check?.hash.update(chunk);
        received += chunk.length;
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
        options.onProgress?.({ file: file.path, receivedBytes: received, totalBytes: total, done: false, resumedFromBytes: resumedFrom });
      }
    }
  } finally {
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  if (file.size >= 0 && received !== file.size) throw new PullError(`${file.path}: received ${received} of ${file.size} bytes; run the pull again to resume`);
  if (check) {
    const actual = check.hash.digest('hex');
    if (actual !== check.expected) {
      renameSync(part, `${part}.bad`);
      throw new PullError(`${file.path}: checksum mismatch (expected ${check.expected}, got ${actual}); the download was discarded`);
    }
  }
  renameSync(part, target);
  options.onProgress?.({ file: file.path, receivedBytes: received, totalBytes: total, done: true, resumedFromBytes: resumedFrom });
  return 'downloaded';
}

/**
 * The dtypes a repository listing holds every weight file of, for this family: the file
 * suffixes of the exports (_fp16, _q4, _q4f16, _int8, _uint8, _quantized = q8, _bnb4, none = fp32).
 */
export function offeredDtypes(family: ModelFamily, repoFiles: readonly string[]): ModelDtype[] {
  return (Object.keys(DTYPE_SUFFIX) as ModelDtype[]).filter((dtype) => {
    const weights = family.requiredFiles(dtype).filter((f) => f.endsWith('.onnx'));
    const selected = family.selectFiles(dtype, repoFiles);
    return weights.length > 0 && weights.every((f) => selected.includes(f));
  });
}

/** Downloads every file the model's family needs for its dtype. */
export async function pullModel(options: PullOptions): Promise<Array<{ file: string; bytes: number; status: 'downloaded' | 'present' }>> {
  const files = await listRepoFiles(options.endpoint, options.repo, options.revision, options.fetch);
  const paths = files.map((f) => f.path);
  const wanted = options.family.selectFiles(options.dtype, paths);
  const missing = options.family.requiredFiles(options.dtype).filter((f) => !wanted.includes(f));
  if (missing.some((f) => f.endsWith('.onnx'))) {
    // The usual mistake is a dtype the repository was never exported in: say which ones it has.
    const offered = offeredDtypes(options.family, paths);
    const model = options.model === undefined ? '' : `model ${options.model}: `;
    throw new PullError(
      `${model}repository ${options.repo}@${options.revision} has no ${options.dtype} files (${missing.filter((f) => f.endsWith('.onnx')).join(', ')}); ` +
        (offered.length > 0 ? `it offers ${offered.join(', ')}: set the model's dtype to one of them` : 'it offers no complete dtype for this model family'),
    );
  }
  if (missing.length > 0) throw new PullError(`${options.repo}@${options.revision} lacks ${missing.join(', ')} (dtype ${options.dtype})`);
  const results: Array<{ file: string; bytes: number; status: 'downloaded' | 'present' }> = [];
  for (const path of wanted) {
    const file = files.find((f) => f.path === path) as RepoFile;
    results.push({ file: path, bytes: file.size, status: await downloadFile(options, file) });
  }
  return results;
}
