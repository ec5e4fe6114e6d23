import { Workflow } from '../constructs';
import { demoStack, FIXTURES, problemsOf } from './helpers';

describe('Workflow', () => {
  test('fromFile loads an API-format graph relative to the project root', () => {
    const loaded = Workflow.fromFile('workflows/tiny.json').load(FIXTURES);
    expect('graph' in loaded && loaded.graph['9'].class_type).toBe('SaveImage');
  });

  test.each([
    [
      'malformed JSON',
      Workflow.fromFile('workflows/malformed.json'),
      /workflow workflows\/malformed.json: not valid JSON \(.+\): fix the file, or re-export it from ComfyUI with "Export \(API\)"/,
    ],
    [
      'a missing file',
      Workflow.fromFile('workflows/nope.json'),
      /workflow workflows\/nope.json: cannot read the file: ENOENT/,
    ],
    [
      'a UI-format workflow with nothing to run',
      Workflow.fromJson('ui', { nodes: [{ id: 1, type: 'Note', widgets_values: ['hi'] }], links: [] }),
      /workflow ui.json: the UI-format workflow has no node that ComfyUI runs \(only notes, muted or bypassed nodes\)$/,
    ],
    [
      'a node without class_type',
      Workflow.fromJson('bad', { '1': { inputs: {} } }),
      /workflow bad.json: not an API-format graph at 1.class_type/,
    ],
    ['an empty graph', Workflow.fromJson('empty', {}), /workflow empty.json: the graph has no nodes/],
  ])('%s is a synth error naming the endpoint and the file', (_, workflow, message) => {
    const { project } = demoStack({ endpoint: { workflow, inputs: {} } });
    expect(problemsOf(() => project.synth())).toEqual([
      expect.stringMatching(new RegExp(`^\\[test/demo/Demo\\] ${message.source}`)),
    ]);
  });

  test('the shipped workflow is canonical JSON (sorted keys) of the same graph', () => {
    const { project } = demoStack();
    const text = project.synth().files.get('apps/demo/workflows/tiny.json')!;
    const graph = JSON.parse(text);
    expect(graph['1']).toEqual({
      class_type: 'EmptyImage',
      inputs: { batch_size: 1, color: 0, height: 64, width: 64 },
    });
    expect(Object.keys(graph['1'].inputs)).toEqual(['batch_size', 'color', 'height', 'width']);
  });
});
