/**
 * @file Source locations: the user's `file:line` captured when a node is traced,
 * so errors and `print(g)` can point at the line that made the node.
 * Platform-neutral (URLs, no node: imports), so tracing also works in a browser.
 */

function toPath(fileOrUrl: string): string {
  return fileOrUrl.startsWith('file://') ? decodeURIComponent(new URL(fileOrUrl).pathname) : fileOrUrl;
}

// kiln's own folders; the first stack frame outside them is the user's.
const root = toPath(new URL('..', import.meta.url).href);
const ownDirs = [`${root}compiler/`, `${root}src/`];
const cwd = typeof process !== 'undefined' && typeof process.cwd === 'function' ? `${process.cwd()}/` : '';

function isOwn(file: string): boolean {
  return ownDirs.some((d) => file.startsWith(d)) || file.startsWith('node:') || file.includes('/node_modules/');
}

const framePattern = /\(?((?:file:\/\/)?[^\s()]+):(\d+):\d+\)?$/;

/** The first frame outside kiln among the nearest `depth` frames, or undefined. */
function userFrame(depth: number): string | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = depth;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  for (const line of stack.split('\n').slice(1)) {
    const m = framePattern.exec(line.trim());
    if (!m) continue;
    const file = toPath(m[1]!);
    if (isOwn(file)) continue;
    return `${cwd && file.startsWith(cwd) ? file.slice(cwd.length) : file}:${m[2]}`;
  }
  return undefined;
}

/**
 * `file.ts:42` of the nearest caller outside kiln, or undefined. The user's frame is
 * usually among the nearest few, so a short stack is formatted first (formatting 80
 * frames cost about 0.1 ms, paid by every traced recurrent layer call).
 */
export function captureOrigin(): string | undefined {
  return userFrame(16) ?? userFrame(80);
}
