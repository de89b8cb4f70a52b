import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { makeTempDir, testModelsDir } from './helpers.ts';

/** A loopback server with the Hugging Face URL layout, serving one generated model. */
interface Hub {
  url: string;
  rangeRequests: string[];
  corrupt: Set<string>;
  server: Server;
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

async function startHub(repo: string, modelDir: string): Promise<Hub> {
  const files = listFiles(modelDir).filter((f) => !f.startsWith('.'));
  const hub: Hub = { url: '', rangeRequests: [], corrupt: new Set(), server: createServer() };
  hub.server.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === `/api/models/${repo}/revision/main`) {
      const siblings = files.map((f) => {
        const bytes = readFileSync(join(modelDir, f));
        // Large files are LFS (sha256); small ones are plain git blobs (sha1 of "blob <n>\0" + bytes).
        return f.endsWith('.onnx_data')
          ? { rfilename: f, size: bytes.length, lfs: { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length } }
          : { rfilename: f, size: bytes.length, blobId: createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex') };
      });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: repo, siblings }));
      return;
    }
    const prefix = `/${repo}/resolve/main/`;
    if (url.pathname.startsWith(prefix)) {
      const file = decodeURIComponent(url.pathname.slice(prefix.length));
      if (!files.includes(file)) {
        res.statusCode = 404;
        res.end();
        return;
      }
      let bytes = readFileSync(join(modelDir, file));
      if (hub.corrupt.has(file)) bytes = Buffer.concat([bytes.subarray(0, -1), Buffer.from([bytes[bytes.length - 1]! ^ 0xff])]);
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (range) {
        hub.rangeRequests.push(`${file}:${range[1]}`);
        const start = Number(range[1]);
        res.statusCode = 206;
        res.setHeader('content-range', `bytes ${start}-${bytes.length - 1}/${bytes.length}`);
        res.end(bytes.subarray(start));
        return;
      }
      res.setHeader('content-length', String(bytes.length));
      res.end(bytes);
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => hub.server.listen(0, '127.0.0.1', r));
  hub.url = `http://127.0.0.1:${(hub.server.address() as AddressInfo).port}`;
  return hub;
}

describe('agentphone models', () => {
  const source = join(testModelsDir(), 'whisper-large-v3');
  let hub: Hub;
  beforeAll(async () => {
    hub = await startHub('Xenova/whisper-large-v3', source);
  });
  afterAll(() => new Promise<void>((r) => hub.server.close(() => r())));

  it('pulls a model from an HF-compatible endpoint, verifying checksums, and lists it as installed', async () => {
    const dataDir = makeTempDir();
    const env = { AGENTPHONE_DATA_DIR: dataDir, AGENTPHONE_HF_ENDPOINT: hub.url };
    const before = await cli(['models', 'list', '--json'], env);
    expect(JSON.parse(before.stdout).models[0]).toMatchObject({ name: 'whisper-large-v3', installed: false });
    const pulled = await cli(['models', 'pull', 'whisper-large-v3', '--json'], env);
    expect(pulled.code).toBe(0);
    expect(pulled.stderr).toMatch(/encoder_model\.onnx_data .*100%/);
    const dir = join(dataDir, 'models', 'whisper-large-v3');
    for (const f of ['config.json', 'tokenizer.json', 'onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx', 'onnx/decoder_model_merged.onnx_data']) {
      expect(sha256(join(dir, f))).toBe(sha256(join(source, f)));
    }
    const after = await cli(['models', 'list', '--json'], env);
    expect(JSON.parse(after.stdout).models[0]).toMatchObject({ name: 'whisper-large-v3', installed: true });
  });

  it('resumes a partial download with a Range request', async () => {
    const dataDir = makeTempDir();
    const dir = join(dataDir, 'models', 'whisper-large-v3', 'onnx');
    mkdirSync(dir, { recursive: true });
    const full = readFileSync(join(source, 'onnx/decoder_model_merged.onnx_data'));
    writeFileSync(join(dir, 'decoder_model_merged.onnx_data.part'), full.subarray(0, 1000));
    const res = await cli(['models', 'pull', 'whisper-large-v3'], { AGENTPHONE_DATA_DIR: dataDir, AGENTPHONE_HF_ENDPOINT: hub.url });
    expect(res.code).toBe(0);
    expect(hub.rangeRequests).toContain('onnx/decoder_model_merged.onnx_data:1000');
    expect(sha256(join(dir, 'decoder_model_merged.onnx_data'))).toBe(createHash('sha256').update(full).digest('hex'));
  });

  it('refuses a file whose checksum does not match and leaves it out of place', async () => {
    const dataDir = makeTempDir();
    hub.corrupt.add('onnx/encoder_model.onnx_data');
    try {
      const res = await cli(['models', 'pull', 'whisper-large-v3', '--json'], { AGENTPHONE_DATA_DIR: dataDir, AGENTPHONE_HF_ENDPOINT: hub.url });
      expect(res.code).toBe(1);
      expect(JSON.parse(res.stdout).message).toMatch(/encoder_model\.onnx_data: checksum mismatch/);
      expect(existsSync(join(dataDir, 'models', 'whisper-large-v3', 'onnx', 'encoder_model.onnx_data'))).toBe(false);
    } finally {
      hub.corrupt.clear();
    }
  });

  it('names the dtypes a repository offers when it has no files of the configured one', async () => {
    // The same export with q8 (_quantized) weights beside the fp32 ones, as Xenova/whisper-large-v3 has: no fp16.
    const repoDir = makeTempDir();
    cpSync(source, repoDir, { recursive: true });
    for (const f of ['encoder_model', 'decoder_model_merged']) copyFileSync(join(repoDir, 'onnx', `${f}.onnx`), join(repoDir, 'onnx', `${f}_quantized.onnx`));
    const quantizedHub = await startHub('Xenova/whisper-large-v3', repoDir);
    try {
      const dataDir = makeTempDir();
      const config = join(dataDir, 'config.yaml');
      writeFileSync(config, 'inference:\n  models:\n    - { name: whisper-large-v3, family: whisper, repo: Xenova/whisper-large-v3, dtype: fp16 }\n');
      const res = await cli(['models', 'pull', 'whisper-large-v3', '--config', config, '--json'], { AGENTPHONE_DATA_DIR: dataDir, AGENTPHONE_HF_ENDPOINT: quantizedHub.url });
      expect(res.code).toBe(1);
      expect(JSON.parse(res.stdout).message).toBe(
        "model whisper-large-v3: repository Xenova/whisper-large-v3@main has no fp16 files (onnx/encoder_model_fp16.onnx, onnx/decoder_model_merged_fp16.onnx); it offers fp32, q8: set the model's dtype to one of them",
      );
      expect(existsSync(join(dataDir, 'models', 'whisper-large-v3'))).toBe(false);
      // One of the offered dtypes pulls.
      writeFileSync(config, 'inference:\n  models:\n    - { name: whisper-large-v3, family: whisper, repo: Xenova/whisper-large-v3, dtype: q8 }\n');
      const pulled = await cli(['models', 'pull', 'whisper-large-v3', '--config', config, '--json'], { AGENTPHONE_DATA_DIR: dataDir, AGENTPHONE_HF_ENDPOINT: quantizedHub.url });
      expect(pulled.code).toBe(0);
      expect(existsSync(join(dataDir, 'models', 'whisper-large-v3', 'onnx', 'decoder_model_merged_quantized.onnx'))).toBe(true);
    } finally {
      await new Promise<void>((r) => quantizedHub.server.close(() => r()));
    }
  });

  it('make-test writes every registered test model, marked as generated', async () => {
    const dir = makeTempDir();
    const res = await cli(['models', 'make-test', '--dir', dir, '--json'], {});
    expect(res.code).toBe(0);
    const names = (JSON.parse(res.stdout) as { models: Array<{ name: string }> }).models.map((m) => m.name);
    expect(names).toContain('whisper-large-v3');
    const listed = await cli(['models', 'list', '--json'], { AGENTPHONE_MODELS_DIR: dir, AGENTPHONE_DATA_DIR: makeTempDir() });
    expect(JSON.parse(listed.stdout).models[0]).toMatchObject({ installed: true, test: true });
    expect(statSync(join(dir, 'whisper-large-v3', 'onnx', 'encoder_model.onnx')).size).toBeGreaterThan(0);
  });

  it('exits 2 with usage for a missing subcommand or name', async () => {
    expect((await cli(['models'], {})).code).toBe(2);
    expect((await cli(['models', 'pull'], {})).code).toBe(2);
  });
});
