import { HfModel, Warnings } from '../constructs';
import { demoStack, problemsOf } from './helpers';

describe('HfModel', () => {
  test('file name defaults to the basename; placement follows size (volume from 5 GB or unknown)', () => {
    const { project, app } = demoStack({ project: { huggingfaceSecret: 'huggingface' } });
    new HfModel(app, 'Big', {
      repo: 'Comfy-Org/flux1-schnell',
      file: 'flux1-schnell-fp8.safetensors',
      target: 'checkpoints',
      sizeGb: 17.2,
    });
    new HfModel(app, 'Small', {
      repo: 'Comfy-Org/z_image_turbo',
      file: 'split_files/vae/ae.safetensors',
      target: 'vae',
      sizeGb: 0.335,
      revision: 'abc123',
    });
    new HfModel(app, 'Unknown', {
      repo: 'org/repo',
      file: 'x.safetensors',
      target: 'loras',
      filename: 'renamed.safetensors',
      gated: true,
    });
    const models = project.synth().manifest.apps[0].models.filter((m) => !m.constructPath.endsWith('/TinyCheckpoint'));
    expect(models).toEqual([
      expect.objectContaining({
        kind: 'hf',
        filename: 'flux1-schnell-fp8.safetensors',
        placement: 'volume',
        revision: null,
        gated: false,
      }),
      expect.objectContaining({
        kind: 'hf',
        filename: 'ae.safetensors',
        placement: 'image',
        revision: 'abc123',
        target: 'vae',
      }),
      expect.objectContaining({ kind: 'hf', filename: 'renamed.safetensors', placement: 'volume', gated: true }),
    ]);
  });

  test('a volume-placed model mounts the shared HF cache volume at /cache', () => {
    const { project, app } = demoStack();
    new HfModel(app, 'Big', { repo: 'o/r', file: 'a.safetensors', target: 'checkpoints', sizeGb: 10 });
    expect(project.synth().manifest.apps[0].volumes).toEqual([
      { name: 'hf-hub-cache', mountPath: '/cache', createIfMissing: true },
    ]);
  });

  test.each([
    [
      { repo: 'no-owner', file: 'a', target: 'vae' },
      /prop 'repo': got "no-owner", expected a Hugging Face repo id "owner\/name"/,
    ],
    [
      { repo: 'o/r', file: '../etc/passwd', target: 'vae' },
      /prop 'file': got "\.\.\/etc\/passwd", expected a relative path without "\.\."/,
    ],
    [{ repo: 'o/r', file: 'a', target: '/abs' }, /prop 'target': got "\/abs"/],
    [{ repo: 'o/r', file: 'a', target: 'vae', sizeGb: -1 }, /prop 'sizeGb': got -1/],
    [
      { repo: 'o/r', file: 'a', target: 'vae', placement: 'disk' },
      /prop 'placement': got "disk", expected one of "image"\|"volume"/,
    ],
  ])('rejects %j', (props, message) => {
    const { app } = demoStack();
    expect(problemsOf(() => new HfModel(app, 'M', props as never))).toEqual([
      expect.stringMatching(new RegExp(`^\\[test/demo/M\\] ${message.source}`)),
    ]);
  });

  test('two models linked to the same file name in one folder are refused', () => {
    const { project, app } = demoStack();
    new HfModel(app, 'A', { repo: 'o/a', file: 'x/model.safetensors', target: 'loras' });
    new HfModel(app, 'B', { repo: 'o/b', file: 'y/model.safetensors', target: 'loras' });
    expect(problemsOf(() => project.synth())).toEqual([
      '[test/demo] models A and B both link models/loras/model.safetensors: give one a different filename',
    ]);
  });
});

describe('HfModel revisions', () => {
  const revisionWarnings = (revision?: string, acknowledge = false) => {
    const { project, app } = demoStack();
    const model = new HfModel(app, 'Vae', {
      repo: 'Comfy-Org/z_image_turbo',
      file: 'split_files/vae/ae.safetensors',
      target: 'vae',
      sizeGb: 0.335,
      ...(revision !== undefined && { revision }),
    });
    if (acknowledge) Warnings.of(model).acknowledge('hf-unpinned-revision', 'reviewed');
    return project
      .synth()
      .warnings.filter((w) => w.id === 'hf-unpinned-revision')
      .map((w) => `[${w.path}] ${w.message}`);
  };

  test('no revision, or a branch or tag, is a warning saying the file can change under the same name', () => {
    expect(revisionWarnings()).toEqual([
      "[test/demo/Vae] Comfy-Org/z_image_turbo/split_files/vae/ae.safetensors: no revision (the default branch at build time) can move, so the file can change under the same name between two image builds — set revision to the 40-character commit SHA of the file's repo (its history on huggingface.co)",
    ]);
    expect(revisionWarnings('main')).toEqual([expect.stringContaining('revision "main", a branch or tag can move')]);
    expect(revisionWarnings('v1.0')).toHaveLength(1);
    expect(revisionWarnings('0123456789ABCDEF0123456789ABCDEF01234567')).toHaveLength(1); // not how Hugging Face writes a commit
  });

  test('a 40-hex commit is quiet; an acknowledged warning is not shown', () => {
    expect(revisionWarnings('0123456789abcdef0123456789abcdef01234567')).toEqual([]);
    expect(revisionWarnings(undefined, true)).toEqual([]);
  });
});

describe('endpoint URLs', () => {
  test('an endpoint path that would make the URL longer than clients take is refused, naming the endpoint', () => {
    const long = `/${'a'.repeat(1990)}`;
    const { project } = demoStack({ endpoint: { path: long } });
    expect(problemsOf(() => project.synth())).toEqual([
      `[test] endpoint path of test/demo/Demo (1991 characters) makes its URL 2044 characters long: expected at most 2000, the longest URL every browser, proxy and HTTP client takes (Modal documents no limit of its own) — shorten the path`,
    ]);
    expect(() => demoStack({ endpoint: { path: `/${'a'.repeat(1900)}` } }).project.synth()).not.toThrow();
  });
});
