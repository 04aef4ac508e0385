// Every TypeScript/JavaScript code block of the documentation runs as
// written: each block is a program of its own (imports included), run in a
// child process (in a scratch directory: files a block writes land there)
// with 'attune' resolved to this checkout's source. A block
// must exit 0 and print something (an example shows its result).
// DOCUMENTS: the README and every Markdown file in docs/.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const root = new URL('../../', import.meta.url);
const entry = new URL('src/index.ts', root).href;
const docsDir = new URL('docs/', root);
const DOCUMENTS = [
  'README.md',
  ...(existsSync(docsDir)
    ? readdirSync(docsDir)
        .filter((f) => f.endsWith('.md'))
        .sort()
        .map((f) => `docs/${f}`)
    : []),
];
const tsx = import.meta.resolve('tsx'); // absolute: blocks run from a scratch directory
const RUNNABLE = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs']);

export interface CodeBlock {
  language: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
}

/** The fenced code blocks of a Markdown text. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    blocks.push({ language: open[1], line: start + 1, code: body.join('\n') });
  }
  return blocks;
}

const work = mkdtempSync(join(tmpdir(), 'attune-docs-'));
after(() => rmSync(work, { recursive: true, force: true }));

for (const document of DOCUMENTS) {
  describe(`${document}: code blocks run as written`, () => {
    const blocks = codeBlocks(readFileSync(new URL(document, root), 'utf8')).filter((b) => RUNNABLE.has(b.language));
    if (document === 'README.md') it('has runnable blocks', () => assert.ok(blocks.length > 0));
    for (const block of blocks) {
      it(`the ${block.language} block at line ${block.line}`, () => {
        const code = block.code
          .replace(/from ['"]attune['"]/g, `from ${JSON.stringify(entry)}`)
          .replace(/from ['"]attune\/(\w+)['"]/g, (_, sub) => `from ${JSON.stringify(new URL(`src/${sub}/index.ts`, root).href)}`);
        const file = join(work, `${document.replace(/\W/g, '_')}-${block.line}.${block.language.startsWith('j') ? 'mjs' : 'mts'}`);
        writeFileSync(file, code);
        const run = spawnSync(process.execPath, ['--import', tsx, file], { cwd: work, encoding: 'utf8', timeout: 120_000 });
        assert.equal(run.status, 0, `${document}:${block.line} failed:\n${run.stderr}`);
        assert.ok(run.stdout.trim().length > 0, `${document}:${block.line} prints nothing`);
      });
    }
  });
}
