#!/usr/bin/env node
// `npm run metrics`: the figures of how the code reads (issue 24), printed as a table, or as JSON with
// --json. test/layers.test.ts checks the layer rule with the same import graph.
// - lines over 120 characters in the source (TypeScript, JavaScript, Python, Handlebars in constructs/,
//   lib/, bin/, templates/);
// - snapshot lines (test/__snapshots__/) per source line;
// - imports against the flow: a file of lib/ outside the command-line layer (lib/cli/) that imports
//   constructs/ or bin/;
// - import circles: groups of TypeScript files of lib/ and constructs/ that import each other in a ring.
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
const SOURCE_DIRS = ['constructs', 'lib', 'bin', 'templates'];
const SOURCE_EXT = /\.(ts|js|py|hbs)$/;
/** The command-line layer: the only part of lib/ that may import constructs/ or bin/. */
const CLI_LAYER = 'lib/cli/';

function tracked(dirs) {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', ...dirs], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => f && fs.existsSync(path.join(ROOT, f)));
}

function lines(file) {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  return text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
}

/** Each TypeScript file of lib/ and constructs/ → the files of the project it imports (static, dynamic, require). */
function importGraph() {
  const files = tracked(['lib', 'constructs']).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  const graph = new Map();
  for (const file of files) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const targets = new Set();
    const specifiers =
      /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)|require\(\s*'([^']+)'\s*\)|(?:^|\n)\s*import\s+'([^']+)'/g;
    for (const m of text.matchAll(specifiers)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? m[4];
      if (!spec.startsWith('.')) continue;
      const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      const resolved = [base, `${base}.ts`, `${base}.js`, `${base}/index.ts`].find(
        (c) => fs.existsSync(path.join(ROOT, c)) && fs.statSync(path.join(ROOT, c)).isFile(),
      );
      if (resolved) targets.add(resolved);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/** Imports from lib/ outside the command-line layer into constructs/ or bin/: `file → target` each. */
function importsAgainstTheFlow(graph = importGraph()) {
  const found = [];
  for (const [file, targets] of graph) {
    if (!file.startsWith('lib/') || file.startsWith(CLI_LAYER)) continue;
    for (const t of targets) if (t.startsWith('constructs/') || t.startsWith('bin/')) found.push(`${file} → ${t}`);
  }
  return found.sort();
}

/** Import circles (strongly connected groups of more than one file, Tarjan), each as its sorted files. */
function importCircles(graph = importGraph()) {
  let index = 0;
  const stack = [];
  const info = new Map();
  const circles = [];
  const visit = (v) => {
    info.set(v, { index, low: index, onStack: true });
    index++;
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!info.has(w)) {
        visit(w);
        info.get(v).low = Math.min(info.get(v).low, info.get(w).low);
      } else if (info.get(w).onStack) {
        info.get(v).low = Math.min(info.get(v).low, info.get(w).index);
      }
    }
    if (info.get(v).low === info.get(v).index) {
      const group = [];
      let w;
      do {
        w = stack.pop();
        info.get(w).onStack = false;
        group.push(w);
      } while (w !== v);
      if (group.length > 1) circles.push(group.sort());
    }
  };
  for (const v of graph.keys()) if (!info.has(v)) visit(v);
  return circles.sort((a, b) => a[0].localeCompare(b[0]));
}

function metrics() {
  const source = tracked(SOURCE_DIRS).filter((f) => SOURCE_EXT.test(f));
  const sourceLines = source.flatMap(lines);
  const snapshotLines = tracked(['test/__snapshots__'])
    .filter((f) => f.endsWith('.snap'))
    .flatMap(lines).length;
  const graph = importGraph();
  return {
    sourceFiles: source.length,
    sourceLines: sourceLines.length,
    linesOver120: sourceLines.filter((l) => l.length > 120).length,
    linesOver150: sourceLines.filter((l) => l.length > 150).length,
    linesOver200: sourceLines.filter((l) => l.length > 200).length,
    snapshotLines,
    snapshotPerSourceLine: Number((snapshotLines / sourceLines.length).toFixed(2)),
    importsAgainstTheFlow: importsAgainstTheFlow(graph),
    importCircles: importCircles(graph),
  };
}

module.exports = { importGraph, importsAgainstTheFlow, importCircles, metrics, CLI_LAYER };

if (require.main === module) {
  const m = metrics();
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(m, null, 2)}\n`);
  } else {
    const rows = [
      ['source lines (TS, JS, Python, Handlebars in constructs/ lib/ bin/ templates/)', m.sourceLines],
      ['  lines over 120 / 150 / 200 characters', `${m.linesOver120} / ${m.linesOver150} / ${m.linesOver200}`],
      ['snapshot lines (test/__snapshots__/)', m.snapshotLines],
      ['  per source line', m.snapshotPerSourceLine],
      ['imports against the flow (lib/ outside lib/cli/ → constructs/ or bin/)', m.importsAgainstTheFlow.length],
      ['import circles', m.importCircles.length],
    ];
    for (const [what, value] of rows) process.stdout.write(`${what.padEnd(78)} ${value}\n`);
    for (const i of m.importsAgainstTheFlow) process.stdout.write(`  against the flow: ${i}\n`);
    for (const c of m.importCircles) process.stdout.write(`  circle: ${c.join(' ↔ ')}\n`);
  }
}
