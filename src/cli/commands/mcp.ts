import { parseCommandArgs } from '../args.ts';
import { UsageError, type CliCommand } from '../command.ts';

export const mcpCommand: CliCommand = {
  name: 'mcp',
  summary: 'MCP server on stdio for agent hosts (relays to the running gateway\'s /mcp)',
  usage: 'agentphone mcp [--key API_KEY] [--url GATEWAY_URL] [--config FILE]   (or AGENTPHONE_API_KEY)',
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { key: { type: 'string' } });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const key = values.key ?? io.env.AGENTPHONE_API_KEY;
    if (key === undefined || key === '') throw new UsageError('an API key is required: --key agp_... or AGENTPHONE_API_KEY (create one with agentphone keys create)');
    let base = values.url;
    if (base === undefined) {
      const [{ loadConfig }, { gatewayUrl }] = await Promise.all([import('../../config/index.ts'), import('../admin-client.ts')]);
      base = gatewayUrl(loadConfig({ configPath: values.config, env: io.env, cwd: process.cwd() }));
    }
    const { relayStdioToHttp } = await import('../mcp-relay.ts');
    await relayStdioToHttp(new URL('/mcp', `${base.replace(/\/+$/, '')}/`), key, io);
    return 0;
  },
};
