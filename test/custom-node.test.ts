import { CustomNode } from '../constructs';
import { demoStack, problemsOf } from './helpers';

const SHA = '4490bd1f482e026674543386bb2a4d176da245b9';

describe('CustomNode', () => {
  test('a git node gets its own layers: clone + checkout of the SHA, then its requirements, never `|| true`', () => {
    const { project, app } = demoStack();
    new CustomNode(app, 'SeedVR2', {
      repo: 'https://github.com/numz/ComfyUI-SeedVR2_VideoUpscaler',
      commit: SHA,
      aptPackages: ['ffmpeg'],
      pipPackages: ['gguf==0.10.0'],
    });
    const model = project.synth().manifest.apps[0];
    expect(model.customNodes[0]).toMatchObject({
      dir: 'ComfyUI-SeedVR2_VideoUpscaler',
      commit: SHA,
      installRequirements: true,
    });
    const layers = model.image.filter((l) => l.comment.startsWith('custom node'));
    expect(layers.map((l) => l.kind)).toEqual(['apt', 'run', 'run', 'pip']);
    const commands = layers.flatMap((l) => (l.kind === 'run' ? l.commands : []));
    expect(commands).toEqual([
      'git clone https://github.com/numz/ComfyUI-SeedVR2_VideoUpscaler /root/comfy/ComfyUI/custom_nodes/ComfyUI-SeedVR2_VideoUpscaler',
      `git -C /root/comfy/ComfyUI/custom_nodes/ComfyUI-SeedVR2_VideoUpscaler checkout --detach ${SHA}`,
      expect.stringMatching(/^if \[ -f .*requirements.txt \]; then python -m pip install -r .*requirements.txt; fi$/),
    ]);
    expect(commands.join('\n')).not.toMatch(/\|\| *true/);
  });

  test('a registry node installs an exact version with comfy-cli', () => {
    const { project, app } = demoStack();
    new CustomNode(app, 'VHS', { registryId: 'comfyui-videohelpersuite', version: '1.7.9' });
    const layer = project.synth().manifest.apps[0].image.find((l) => l.comment.includes('videohelpersuite'));
    expect(layer).toEqual({
      kind: 'run',
      comment: 'custom node comfyui-videohelpersuite@1.7.9',
      commands: ['comfy node install --fast-deps comfyui-videohelpersuite@1.7.9'],
    });
  });

  test.each([
    [
      { repo: 'https://github.com/o/r', commit: '4490bd1' },
      /prop 'commit': got "4490bd1", expected a full 40-character lower-case commit SHA/,
    ],
    [{ repo: 'https://github.com/o/r', commit: 'main' }, /prop 'commit': got "main", expected a full 40-character/],
    [{ repo: 'https://github.com/o/r' }, /prop 'commit': got nothing, expected commit too/],
    [
      { repo: 'git@github.com:o/r.git', commit: SHA },
      /prop 'repo': got "git@github.com:o\/r.git", expected an https git URL/,
    ],
    [{ registryId: 'x' }, /prop 'version': got nothing, expected version too/],
    [{}, /prop 'repo': got nothing, expected either repo \+ commit or registryId \+ version/],
    [
      { repo: 'https://github.com/o/r', commit: SHA, pipPackages: ['numpy'] },
      /prop 'pipPackages.0': got "numpy", expected a pinned pip requirement/,
    ],
  ])('rejects %j', (props, message) => {
    const { app } = demoStack();
    expect(problemsOf(() => new CustomNode(app, 'N', props))).toContainEqual(
      expect.stringMatching(new RegExp(`^\\[test/demo/N\\] ${message.source}`)),
    );
  });

  test('two nodes in one directory are refused', () => {
    const { project, app } = demoStack();
    new CustomNode(app, 'A', { repo: 'https://github.com/a/Same', commit: SHA });
    new CustomNode(app, 'B', { repo: 'https://github.com/b/Same', commit: SHA });
    expect(problemsOf(() => project.synth())).toEqual([
      '[test/demo] custom nodes A and B both install into custom_nodes/Same: set dir on one',
    ]);
  });
});

describe('CustomNode nodeSchemas are checked as files', () => {
  const pack = (nodes: Record<string, unknown>) => {
    const { project, app } = demoStack();
    new CustomNode(app, 'Pack', { repo: 'https://github.com/acme/pack', commit: SHA, nodeSchemas: { nodes } as never });
    return project;
  };
  const entry = (required: Record<string, unknown>) => ({ input: { required }, output: ['IMAGE'], output_node: false });

  test('an input without a type, with options that are not an object, or a COMBO without options names class and input', () => {
    expect(
      problemsOf(() =>
        pack({
          Blur: entry({ radius: [], image: ['IMAGE'] }),
          Pick: entry({ mode: ['COMBO', {}], size: ['INT', 3] }),
        }).synth(),
      ),
    ).toEqual([
      '[test/demo/Pack] nodeSchemas (inline) Blur.radius: got [], which has no type — expected [<type>, {<options>}] as /object_info serves it, the type INT, FLOAT, STRING, BOOLEAN, COMBO, a list of options, or a link type such as IMAGE',
      '[test/demo/Pack] nodeSchemas (inline) Pick.mode: got a COMBO without its options, expected ["COMBO", {"options": ["a", "b"]}] (or the V1 form [["a", "b"], {}])',
      '[test/demo/Pack] nodeSchemas (inline) Pick.size: got options 3, expected an object such as {"default": 1} — expected [<type>, {<options>}] as /object_info serves it, the type INT, FLOAT, STRING, BOOLEAN, COMBO, a list of options, or a link type such as IMAGE',
    ]);
  });

  test.each([
    ['int', 'INT'],
    ['Float', 'FLOAT'],
    ['TEXT', 'STRING'],
    ['BOOL', 'BOOLEAN'],
  ])('widget type %j is unknown to ComfyUI: expected %j', (type, fix) => {
    expect(problemsOf(() => pack({ Blur: entry({ radius: [type, { default: 1 }] }) }).synth())).toEqual([
      `[test/demo/Pack] nodeSchemas (inline) Blur.radius: got type "${type}", which ComfyUI does not know as a widget type: expected "${fix}" (ComfyUI's widget types are INT, FLOAT, STRING, BOOLEAN and COMBO)`,
    ]);
  });

  test('a V1 combo, a V3 combo with options or a remote route, and link types pass', () => {
    const result = pack({
      Ok: entry({
        a: [['x', 'y'], {}],
        b: ['COMBO', { options: ['x'] }],
        c: ['COMBO', { remote: { route: '/internal/files/output' } }],
        d: ['IMAGE'],
        e: ['FLOAT', { min: 0 }],
      }),
    }).synth();
    expect(result.warnings.filter((w) => w.path === 'test/demo/Pack')).toEqual([]);
  });

  test('a pack that redefines a core class gets a note, once however often it is synthesized', () => {
    const project = pack({ ImageInvert: entry({ image: ['IMAGE'] }) });
    project.synth();
    const notes = project.synth().warnings.filter((w) => w.id === 'core-class-redefined');
    expect(notes).toEqual([
      {
        path: 'test/demo/Pack',
        id: 'core-class-redefined',
        note: true,
        message:
          "nodeSchemas (inline) ImageInvert: redefines the core class ImageInvert of ComfyUI 0.28.2: its entry replaces the core one in this app's checks (as a pack that re-registers a class replaces ComfyUI's own) — keep it only if the pack really changes ImageInvert",
      },
    ]);
  });
});
