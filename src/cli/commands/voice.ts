import { AdminClient } from '../admin-client.ts';
import { parseCommandArgs } from '../args.ts';
import { UsageError, type CliCommand } from '../command.ts';
import { report } from '../output.ts';

interface VoiceSettingsView {
  numberId: string;
  systemPrompt: string | null;
  greeting: string | null;
  voice: string | null;
}

const show = (v: VoiceSettingsView) =>
  [
    `number:        ${v.numberId}`,
    `voice:         ${v.voice ?? '(gateway default)'}`,
    `greeting:      ${v.greeting ?? '(gateway default)'}`,
    `system prompt: ${v.systemPrompt ?? '(gateway default)'}`,
  ].join('\n');

/** `--x TEXT` sets, `--no-x` clears (back to the gateway default), neither keeps. */
function field(value: string | undefined, clear: boolean | undefined, name: string): { [k: string]: string | null } | undefined {
  if (value !== undefined && clear) throw new UsageError(`--${name} and --no-${name} together`);
  if (clear) return { v: null };
  return value === undefined ? undefined : { v: value };
}

export const voiceCommand: CliCommand = {
  name: 'voice',
  summary: "Show or set a number's call voice settings (system prompt, greeting, TTS voice)",
  usage: [
    'agentphone voice show --number NUMBER_ID [--json]',
    'agentphone voice set --number NUMBER_ID [--prompt TEXT | --no-prompt] [--greeting TEXT | --no-greeting] [--voice NAME | --no-voice] [--json]',
  ].join('\n       '),
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      number: { type: 'string' },
      prompt: { type: 'string' },
      'no-prompt': { type: 'boolean' },
      greeting: { type: 'string' },
      'no-greeting': { type: 'boolean' },
      voice: { type: 'string' },
      'no-voice': { type: 'boolean' },
    });
    const [sub, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    if (values.number === undefined) throw new UsageError('--number is required');
    const path = `/numbers/${encodeURIComponent(values.number)}/voice`;
    const client = new AdminClient(io, { configPath: values.config, url: values.url, offlineSafe: true });
    switch (sub) {
      case 'show':
        return report(io, values.json, await client.request('GET', path), show);
      case 'set': {
        const prompt = field(values.prompt, values['no-prompt'], 'prompt');
        const greeting = field(values.greeting, values['no-greeting'], 'greeting');
        const voice = field(values.voice, values['no-voice'], 'voice');
        if (!prompt && !greeting && !voice) throw new UsageError('nothing to set: give --prompt, --greeting or --voice (or --no-… to clear one)');
        const body = { ...(prompt && { systemPrompt: prompt.v }), ...(greeting && { greeting: greeting.v }), ...(voice && { voice: voice.v }) };
        return report(io, values.json, await client.request('PUT', path, body), show);
      }
      default:
        throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`);
    }
  },
};
