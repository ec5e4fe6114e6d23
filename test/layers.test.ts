// The layers (docs/contributing.md "Layout"): data flows bin → command line (lib/cli/) → constructs → synth model →
// rendered files → plan → Modal CLI. Only the command-line layer may import constructs/ or bin/, and no
// files import each other in a ring. bin/code-metrics.js (npm run metrics) reads the same import graph.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { importGraph, importsAgainstTheFlow, importCircles } = require('../bin/code-metrics.js');

describe('layers', () => {
  const graph: Map<string, string[]> = importGraph();

  test('no file of lib/ outside the command-line layer (lib/cli/) imports constructs/ or bin/', () => {
    expect(importsAgainstTheFlow(graph)).toEqual([]);
  });

  test('no import circles in lib/ and constructs/', () => {
    expect(importCircles(graph)).toEqual([]);
  });

  test('the graph sees static, dynamic and require imports, and the checks find what breaks the rule', () => {
    expect(graph.get('lib/cli/main.ts')).toEqual(
      expect.arrayContaining(['lib/cli/deploy-command.ts', 'lib/cli/config.ts']),
    );
    expect(graph.get('lib/cli/package.ts')).toEqual(expect.arrayContaining(['lib/zod-jitless.ts'])); // a side-effect import
    expect(graph.get('lib/cli/load-app.ts')).toEqual(
      expect.arrayContaining(['lib/cli/swc-register.js', 'constructs/modal-project.ts']),
    );
    const bad = new Map([
      ['lib/synth/render.ts', ['constructs/endpoint.ts']],
      ['lib/cli/main.ts', ['constructs/index.ts', 'lib/a.ts']],
      ['lib/a.ts', ['lib/b.ts']],
      ['lib/b.ts', ['lib/a.ts']],
    ]);
    expect(importsAgainstTheFlow(bad)).toEqual(['lib/synth/render.ts → constructs/endpoint.ts']);
    expect(importCircles(bad)).toEqual([['lib/a.ts', 'lib/b.ts']]);
  });
});
