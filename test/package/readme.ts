/**
 * The README's code as programs a user could paste. A fenced block whose info
 * string holds `runnable` after the language (```` ```ts runnable ````) is
 * type-checked and run; `typecheck` (for browser code) is only type-checked.
 * Blocks that need data or values from earlier prose take them from an HTML
 * comment right before the fence, `<!-- setup: … -->`, which readers of the
 * rendered page do not see and which the test prepends (small data, few steps).
 * `name=<word>` names a block's program and a later block's `continues=<word>`
 * appends to it (with its own setup, if any), so a snippet can use the model an
 * earlier one trained.
 * A program that does not import kiln itself gets `import * as kiln from 'kiln'`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface Snippet {
  /** `README.md:42`: the fence line of its block (`README.md:42+85` with a continuation). */
  where: string;
  /** TypeScript source: setups and blocks, each preceded by a `// file:line` comment. */
  code: string;
  /** false: type-checked only. */
  run: boolean;
}

const fence = /^(`{3,}|~{3,})\s*([\w-]*)(.*)$/;

/** The code of a `<!-- setup: … -->` comment that ends right before line `at`, if any. */
function setupBefore(lines: string[], at: number): string | undefined {
  const before = lines.slice(0, at).join('\n').trimEnd();
  if (!before.endsWith('-->')) return undefined;
  const comment = before.slice(before.lastIndexOf('<!--') + 4, -3);
  const m = /^\s*setup:([\s\S]*)$/.exec(comment);
  return m?.[1];
}

/** The marked blocks of one Markdown text, as programs. */
export function snippetsOf(text: string, file: string): Snippet[] {
  const lines = text.split('\n');
  const snippets: Snippet[] = [];
  const named = new Map<string, Snippet>();
  for (let i = 0; i < lines.length; i++) {
    const open = fence.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, k) => k > i && l.startsWith(open[1]!) && l.slice(open[1]!.length).trim() === '');
    if (end < 0) throw new Error(`${file}:${i + 1}: a code fence that never closes`);
    const words = open[3]!.trim().split(/\s+/).filter(Boolean);
    const body = lines.slice(i + 1, end).join('\n');
    const mode = words.includes('runnable') ? 'run' : words.includes('typecheck') ? 'typecheck' : undefined;
    if (mode) {
      if (!['ts', 'typescript', 'js', 'javascript'].includes(open[2]!)) throw new Error(`${file}:${i + 1}: only ts or js blocks can be ${words.join(' ')}, got "${open[2]}"`);
      const setup = setupBefore(lines, i);
      const part = `${setup ? `// ${file}:${i + 1} (setup)\n${setup.trim()}\n` : ''}// ${file}:${i + 1}\n${body}\n`;
      const name = words.find((w) => w.startsWith('name='))?.slice(5);
      const continues = words.find((w) => w.startsWith('continues='))?.slice(10);
      if (continues !== undefined) {
        const earlier = named.get(continues);
        if (!earlier) throw new Error(`${file}:${i + 1}: continues=${continues}, but no block before it is name=${continues}`);
        earlier.code += part;
        earlier.where += `+${i + 1}`;
        earlier.run ||= mode === 'run';
      } else {
        const snippet: Snippet = { where: `${file}:${i + 1}`, code: part, run: mode === 'run' };
        snippets.push(snippet);
        if (name !== undefined) named.set(name, snippet);
      }
    }
    i = end;
  }
  for (const s of snippets) if (!/^\s*import\s+\*\s+as\s+kiln\s+from\s+'kiln';/m.test(s.code)) s.code = `import * as kiln from 'kiln';\n${s.code}`;
  return snippets;
}

/** README.md and every examples/<name>/README.md of the repository at `root`. */
export function readmeFiles(root: string): string[] {
  const examples = join(root, 'examples');
  return [join(root, 'README.md'), ...readdirSync(examples).sort().map((d) => join(examples, d, 'README.md')).filter((f) => existsSync(f))];
}

/** Every marked block of the READMEs, as programs named by their file and line. */
export function readmeSnippets(root: string): Snippet[] {
  return readmeFiles(root).flatMap((f) => snippetsOf(readFileSync(f, 'utf8'), relative(root, f)));
}
