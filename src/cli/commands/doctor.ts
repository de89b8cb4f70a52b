import { parseCommandArgs } from '../args.ts';
import { UsageError, printResult, type CliCommand } from '../command.ts';

export const doctorCommand: CliCommand = {
  name: 'doctor',
  summary: 'Check this host: data dir, lock, serial ports, modems, tools, ONNX Runtime and its CUDA provider, models (dtypes on disk, where they run), drachtio, webhooks',
  usage: 'agentphone doctor [--timeout MS] [--config FILE] [--json]   (exit 1 when any check fails)',
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { timeout: { type: 'string', default: '2000' } });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const timeoutMs = Number(values.timeout);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) throw new UsageError('--timeout must be 1..60000 milliseconds');
    const [{ loadConfig }, { DOCTOR_CHECKS, formatResult, runChecks }] = await Promise.all([import('../../config/index.ts'), import('../doctor/index.ts')]);
    const config = loadConfig({ configPath: values.config, env: io.env, cwd: process.cwd() });
    const results = await runChecks(DOCTOR_CHECKS, { config, timeoutMs });
    const failed = results.some((r) => r.status === 'fail');
    printResult(io, values.json, { ok: !failed, checks: results }, () => results.map(formatResult).join('\n'));
    return failed ? 1 : 0;
  },
};
