import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Words docs/architecture.md's glossary retired: one word per concept (terminate, response). */
const RETIRED = /cut|answer/i;
/** The one identifier that keeps "cut": the metric operators already chart (TimeToCut). */
const KEPT = new Set(['TIME_TO_CUT']);

function sources(folder: string): string[] {
  return readdirSync(join(root, folder)).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(join(root, path)).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Every identifier a file declares or uses, as TypeScript parses it (comments and strings left out). */
function identifiers(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isIdentifier(node) || ts.isPrivateIdentifier(node)) found.push(node.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('the code speaks the glossary', () => {
  it('names nothing in lib/ and functions/ with a retired word ("cut" for terminate, "answer" for response)', () => {
    const files = [...sources('lib'), ...sources('functions')];
    expect(files.length).toBeGreaterThan(50);
    const offending = files.flatMap((file) =>
      identifiers(file)
        .filter((name) => RETIRED.test(name) && !KEPT.has(name))
        .map((name) => `${file}: ${name}`),
    );
    expect(offending).toEqual([]);
  });

  it('would see one: the check reads identifiers, not text', () => {
    const probe = ts.createSourceFile('probe.ts', 'const cutSessions = 1; // cut in a comment', ts.ScriptTarget.Latest);
    const names: string[] = [];
    const visit = (node: ts.Node) => {
      if (ts.isIdentifier(node)) names.push(node.text);
      ts.forEachChild(node, visit);
    };
    visit(probe);
    expect(names.filter((name) => RETIRED.test(name))).toEqual(['cutSessions']);
  });
});
