import { spawnSync } from 'node:child_process';
import { CustomNode, Workflow } from '../constructs';
import { py, pyIdentifier, pyNumber, pyPretty } from '../lib/synth/python';
import { demoStack } from './helpers';

/** Evaluates Python literals with the real interpreter and returns their values as JSON. */
function pythonEval(literals: string[]): unknown[] {
  const script = `import json\nprint(json.dumps([${literals.join(',\n')}], ensure_ascii=True))`;
  const run = spawnSync('python3', ['-c', script], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout);
}

const TRICKY = [
  'plain',
  'double " quote',
  "single ' quote",
  'triple """ quotes \'\'\'',
  'back\\slash \\n not a newline',
  'new\nline and \r\n and \t tab',
  'ends with backslash \\',
  'non-ASCII: café, 日本語, emoji 🎨, RTL שלום',
  'control \u0000 \u0007 \u001b \u007f chars',
  'line separators \u2028 \u2029 and BOM \ufeff',
  '{{handlebars}} and ${template} and %s and {0}',
  '',
];

describe('Python literals', () => {
  test('every tricky string comes back from Python unchanged', () => {
    expect(pythonEval(TRICKY.map(py))).toEqual(TRICKY);
  });

  test('output is pure ASCII', () => {
    for (const s of TRICKY) expect(py(s)).toMatch(/^[\x20-\x7e]*$/);
  });

  test('numbers, booleans, None, lists and dicts', () => {
    const values = [0, -3, 1.5, 1e-7, 2 ** 53 - 1, true, false, null, [1, 'a', [null]], { 'k"ey': { nested: [true] } }];
    expect(pythonEval(values.map((v) => py(v)))).toEqual(values);
    expect(pyNumber(2.0)).toBe('2');
    expect(() => pyNumber(Infinity)).toThrow(/finite number/);
  });

  test('pretty-printed literals hold the same value', () => {
    const value = {
      fields: TRICKY.map((name, i) => ({ name, targets: [[String(i), 'text']] })),
      deep: { a: { b: { c: TRICKY } } },
    };
    const text = pyPretty(value);
    expect(text.split('\n').length).toBeGreaterThan(5);
    expect(pythonEval([text])).toEqual([value]);
  });

  test('identifiers are valid and never keywords', () => {
    expect(['/flux-dev', '/wan2.6', '/2x', 'class', '/'].map(pyIdentifier)).toEqual([
      'flux_dev',
      'wan2_6',
      'n_2x',
      'class_',
      'n_',
    ]);
  });

  test('a stack full of tricky strings synthesizes valid Python holding them', () => {
    const description = TRICKY.join(' | ');
    const { project, app } = demoStack({
      endpoint: {
        description,
        inputs: {
          text: { type: 'string', node: '5', input: 'text', default: TRICKY[3], description },
          mode: { type: 'enum', node: '5', input: 'mode', values: TRICKY.slice(0, 4), default: TRICKY[1] },
        },
        workflow: Workflow.fromJson('tricky', {
          '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } },
          '5': { class_type: 'Tricky', inputs: { image: ['1', 0], text: TRICKY[5], mode: TRICKY[0] } },
          '9': { class_type: 'SaveImage', inputs: { images: ['5', 0], filename_prefix: TRICKY[7] } },
        }),
      },
    });
    // A custom node whose combo lists the tricky strings, declared inline.
    const tricky = {
      input: { required: { image: ['IMAGE'], text: ['STRING', {}], mode: [TRICKY.slice(0, 4)] } },
      output: ['IMAGE'],
      output_node: false,
    };
    new CustomNode(app, 'TrickyNode', {
      repo: 'https://example.com/tricky',
      commit: 'a'.repeat(40),
      nodeSchemas: { nodes: { Tricky: tricky } },
    });
    const source = project.synth().files.get('apps/demo/app.py')!;
    const script = `import ast, json, sys\ntree = ast.parse(sys.stdin.read())\nprint(json.dumps(sorted({n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)})))`;
    const run = spawnSync('python3', ['-c', script], { input: source, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const strings: string[] = JSON.parse(run.stdout);
    expect(strings).toEqual(expect.arrayContaining([description, TRICKY[3], ...TRICKY.slice(0, 4)]));
  });
});
