import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = realpathSync(join(import.meta.dirname, '..', '..'));
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`), 'hardware/SETUP.md', 'hardware/MMS.md'];

/** Link targets of a markdown file: [text](target), [ref]: target and <a href="target">, outside code. */
function linkTargets(markdown: string): string[] {
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  const targets: string[] = [];
  for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]!);
  for (const m of text.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)) targets.push(m[1]!);
  for (const m of text.matchAll(/<a\s[^>]*href="([^"]+)"/g)) targets.push(m[1]!);
  return targets;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '');
  for (const m of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]!
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of text.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(m[1]!);
  return out;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

describe('relative links in README.md and docs/*.md', () => {
  it('makes heading anchors as GitHub does', () => {
    expect([...anchors('# Hello, World\n## `a.b` and [c](d.md)\n## Hello, World\n```\n# not\n```\n<a id="x"></a>')]).toEqual(['hello-world', 'ab-and-c', 'hello-world-1', 'x']);
  });

  it('finds links the way GitHub renders them (and none inside code)', () => {
    expect(linkTargets('See [a](docs/a.md#x) and [`b`](../b.md "t"), <a href="c.md">c</a>.\n[r]: d.md\n```\n[no](e.md)\n```\n`[no](f.md)`')).toEqual([
      'docs/a.md#x',
      '../b.md',
      'd.md',
      'c.md',
    ]);
  });

  for (const file of DOCS) {
    it(`${file}: every relative link names a file inside the repository (and a heading there, when it has #anchor)`, () => {
      const problems: string[] = [];
      const own = readFileSync(join(ROOT, file), 'utf8');
      for (const target of linkTargets(own)) {
        if (target.startsWith('#')) {
          if (!anchors(own).has(target.slice(1))) problems.push(`${target}: no such heading`);
          continue;
        }
        if (isExternal(target)) continue;
        const path = decodeURIComponent(target.split('#')[0]!.split('?')[0]!);
        const absolute = path.startsWith('/') ? join(ROOT, path) : resolve(ROOT, dirname(file), path);
        const inside = relative(ROOT, absolute);
        if (/(^|\/)shared(\/|$)/.test(path)) problems.push(`${target}: links into shared/`);
        else if (inside.startsWith('..') || inside.split(sep)[0] === '..') problems.push(`${target}: outside the repository`);
        else if (!existsSync(absolute)) problems.push(`${target}: no such file`);
        else if (target.includes('#') && absolute.endsWith('.md') && !anchors(readFileSync(absolute, 'utf8')).has(target.split('#')[1]!)) {
          problems.push(`${target}: no such heading`);
        }
      }
      expect(problems).toEqual([]);
    });
  }
});
