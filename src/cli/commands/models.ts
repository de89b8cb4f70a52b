import { resolve } from 'node:path';
import type { ModelRegistry, PullProgress } from '../../inference/index.ts';
import { parseCommandArgs } from '../args.ts';
import { UsageError, printResult, type CliCommand, type CliIo } from '../command.ts';
import { table } from '../output.ts';

/** The inference code (onnxruntime, tokenizers), loaded only by the subcommands that use it. */
const inference = () => import('../../inference/index.ts');

/** The registry the gateway builds from the same configuration (src/inference/service.ts). */
async function registryOf(io: CliIo, configPath: string | undefined): Promise<{ registry: ModelRegistry; endpoint: string }> {
  const [{ loadConfig }, { ModelRegistry, whisperFamily }] = await Promise.all([import('../../config/index.ts'), inference()]);
  const config = loadConfig({ configPath, env: io.env, cwd: process.cwd() });
  void whisperFamily; // registers the whisper family
  return { registry: new ModelRegistry(config.inference, config.dataDir), endpoint: config.inference.hfEndpoint };
}

function modelState(m: { installed: boolean; test?: boolean }): string {
  return m.installed ? (m.test === true ? 'installed (test model)' : 'installed') : 'not installed';
}

const mb = (n: number) => (n / 1_048_576).toFixed(1);

/** One line per file, redrawn in place on a terminal. */
function progressPrinter(io: CliIo): (p: PullProgress) => void {
  let lastDraw = 0;
  return (p) => {
    const now = Date.now();
    if (!p.done && now - lastDraw < 200) return;
    lastDraw = now;
    const pct = p.totalBytes > 0 ? Math.floor((100 * p.receivedBytes) / p.totalBytes) : 0;
    const width = 30;
    const bar = '#'.repeat(Math.floor((pct / 100) * width)).padEnd(width, '.');
    io.stderr(`\r${p.file.padEnd(44)} [${bar}] ${String(pct).padStart(3)}% ${mb(p.receivedBytes)}/${mb(p.totalBytes)} MB${p.resumedFromBytes > 0 ? ' (resumed)' : ''}${p.done ? '\n' : ''}`);
  };
}

export const modelsCommand: CliCommand = {
  name: 'models',
  summary: 'List, download (pull) or generate test models for local inference',
  usage: 'agentphone models list [--json] | models pull NAME [--json] | models make-test --dir DIR [--json]',
  async run(args, io) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseCommandArgs(rest, { dir: { type: 'string' } });
    if (sub === 'list') {
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      const { registry } = await registryOf(io, values.config);
      const models = registry.list();
      const modelsDir = registry.modelsDir;
      printResult(io, values.json, { modelsDir, models }, () =>
        [`Models directory: ${modelsDir}`, '', table(['NAME', 'FAMILY', 'DTYPE', 'STATE', 'DIR'], models.map((m) => [m.name, m.family, m.dtype, modelState(m), m.dir]))].join('\n'),
      );
      return 0;
    }
    if (sub === 'pull') {
      const name = positionals[0];
      if (name === undefined || positionals.length > 1) throw new UsageError('models pull takes one model name');
      const { registry, endpoint } = await registryOf(io, values.config);
      const { modelFamily, pullModel } = await inference();
      const model = registry.get(name);
      if (!model) throw new UsageError(`unknown model "${name}"; configured: ${registry.names().join(', ')}`);
      const family = modelFamily(model.family);
      if (!family) throw new UsageError(`model "${name}" has family "${model.family}", which this build does not know`);
      const dir = registry.dirOf(model);
      const files = await pullModel({ model: name, endpoint, repo: model.repo, revision: model.revision, dtype: model.dtype, family, dir, onProgress: progressPrinter(io) });
      printResult(io, values.json, { model: name, dir, files }, () => `${name}: ${files.length} files in ${dir}`);
      return 0;
    }
    if (sub === 'make-test') {
      if (values.dir === undefined) throw new UsageError('models make-test needs --dir DIR');
      const { makeTestModels } = await inference();
      const written = makeTestModels(resolve(values.dir));
      printResult(io, values.json, { models: written }, () =>
        [...written.map((m) => `${m.name} (${m.family}): ${m.dir}`), `Serve them with AGENTPHONE_MODELS_DIR=${resolve(values.dir as string)} (random weights: output is noise).`].join('\n'),
      );
      return 0;
    }
    throw new UsageError(sub === undefined ? 'models needs a subcommand: list, pull or make-test' : `unknown subcommand "${sub}"`);
  },
};
