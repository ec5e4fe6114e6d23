import { CustomNode } from '../constructs';
import { demoStack, problemsOf } from './helpers';

const SHA = '4490bd1f482e026674543386bb2a4d176da245b9';

describe('CustomNode', () => {
  test('a git node gets its own layers: clone + checkout of the SHA, then its requirements, never `|| true`', () => {
    const { project, app } = demoStack();
    new CustomNode(app, 'SeedVR2', { repo: 'https://github.com/numz/ComfyUI-SeedVR2_VideoUpscaler', commit: SHA, aptPackages: ['ffmpeg'], pipPackages: ['gguf==0.10.0'] });
    const model = project.synth().manifest.apps[0];
    expect(model.customNodes[0]).toMatchObject({ dir: 'ComfyUI-SeedVR2_VideoUpscaler', commit: SHA, installRequirements: true });
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
    expect(layer).toEqual({ kind: 'run', comment: 'custom node comfyui-videohelpersuite@1.7.9', commands: ['comfy node install --fast-deps comfyui-videohelpersuite@1.7.9'] });
  });

  test.each([
    [{ repo: 'https://github.com/o/r', commit: '4490bd1' }, /prop 'commit': got "4490bd1", expected a full 40-character lower-case commit SHA/],
    [{ repo: 'https://github.com/o/r', commit: 'main' }, /prop 'commit': got "main", expected a full 40-character/],
    [{ repo: 'https://github.com/o/r' }, /prop 'commit': got nothing, expected commit too/],
    [{ repo: 'git@github.com:o/r.git', commit: SHA }, /prop 'repo': got "git@github.com:o\/r.git", expected an https git URL/],
    [{ registryId: 'x' }, /prop 'version': got nothing, expected version too/],
    [{}, /prop 'repo': got nothing, expected either repo \+ commit or registryId \+ version/],
    [{ repo: 'https://github.com/o/r', commit: SHA, pipPackages: ['numpy'] }, /prop 'pipPackages.0': got "numpy", expected a pinned pip requirement/],
  ])('rejects %j', (props, message) => {
    const { app } = demoStack();
    expect(problemsOf(() => new CustomNode(app, 'N', props))).toContainEqual(expect.stringMatching(new RegExp(`^\\[test/demo/N\\] ${message.source}`)));
  });

  test('two nodes in one directory are refused', () => {
    const { project, app } = demoStack();
    new CustomNode(app, 'A', { repo: 'https://github.com/a/Same', commit: SHA });
    new CustomNode(app, 'B', { repo: 'https://github.com/b/Same', commit: SHA });
    expect(problemsOf(() => project.synth())).toEqual(['[test/demo] custom nodes A and B both install into custom_nodes/Same: set dir on one']);
  });
});
