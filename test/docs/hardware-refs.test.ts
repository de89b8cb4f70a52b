import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const RULES_PATH = 'hardware/udev/99-agentphone-modems.rules';
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Rule {
  vendorId: string;
  productId: string;
  atInterface: number;
  symlinks: string[];
}

/** The rules file's match-and-name lines (vendor, product, interface, SYMLINK names). */
function parseRules(text: string): Rule[] {
  const rules: Rule[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.includes('SYMLINK+=')) continue;
    const m = /ATTRS\{idVendor\}=="([0-9a-f]{4})", ATTRS\{idProduct\}=="([0-9a-f]{4})", ENV\{ID_USB_INTERFACE_NUM\}=="(\d\d)", SYMLINK\+="([^"]+)", ENV\{ID_MM_DEVICE_IGNORE\}="1"$/.exec(line);
    if (!m) throw new Error(`unexpected rule line: ${line}`);
    rules.push({ vendorId: m[1]!, productId: m[2]!, atInterface: Number(m[3]), symlinks: m[4]!.split(' ') });
  }
  return rules;
}

describe('hardware/udev rules and the configs that name them', () => {
  const rules = parseRules(read(RULES_PATH));

  it('has a rule for every USB id and AT interface of every bundled profile, and no other', () => {
    const profiles = readdirSync(join(ROOT, 'hardware', 'profiles')).filter((f) => f.endsWith('.json'));
    const wanted = profiles.flatMap((f) => (JSON.parse(read(`hardware/profiles/${f}`)) as { usb: Array<{ vendorId: string; productId: string; atInterface: number }> }).usb);
    const key = (u: { vendorId: string; productId: string; atInterface: number }) => `${u.vendorId}:${u.productId}@${u.atInterface}`;
    expect(rules.map(key).sort()).toEqual(wanted.map(key).sort());
    for (const r of rules) expect(r.symlinks.every((s) => s.startsWith('agentphone/') && s.endsWith('-at'))).toBe(true);
  });

  it('every /dev/agentphone/ path in the example configs is a name the rules create', () => {
    const names = new Set(rules.flatMap((r) => r.symlinks));
    const examples = readdirSync(join(ROOT, 'config', 'examples')).filter((f) => f.endsWith('.yaml'));
    const used = examples.flatMap((f) => [...read(`config/examples/${f}`).matchAll(/\/dev\/(agentphone\/[\w.-]+)/g)].map((m) => m[1]!));
    expect(used).toContain('agentphone/ec25-at');
    for (const path of used) expect(names.has(path), `${path} is created by no rule`).toBe(true);
  });

  it('every hardware/ file the example configs and hardware notes name exists', () => {
    const sources = [...readdirSync(join(ROOT, 'config', 'examples')).map((f) => `config/examples/${f}`), 'hardware/SETUP.md', 'hardware/MMS.md', 'config/default.yaml'];
    const named = sources.flatMap((f) => [...read(f).matchAll(/\bhardware\/[\w./-]+\.(?:rules|md|json)/g)].map((m) => m[0]));
    expect(named).toContain(RULES_PATH);
    for (const path of named) expect(existsSync(join(ROOT, path)), `${path} does not exist`).toBe(true);
  });
});
