import { Volume, VolumeModel } from '../constructs';
import { demoStack, problemsOf } from './helpers';

describe('VolumeModel', () => {
  test('links a file of a volume into ComfyUI, and the app mounts that volume', () => {
    const { project, app } = demoStack();
    const volume = new Volume(project, 'Models', { name: 'ryla-models', mountPath: '/root/models' });
    new VolumeModel(app, 'Lora', { volume, path: 'loras/character.safetensors', target: 'loras' });
    const model = project.synth().manifest.apps[0];
    expect(model.models.filter((m) => !m.constructPath.endsWith('/TinyCheckpoint'))).toEqual([
      {
        kind: 'volume',
        constructPath: 'test/demo/Lora',
        volume: 'ryla-models',
        source: '/root/models/loras/character.safetensors',
        target: 'loras',
        filename: 'character.safetensors',
      },
    ]);
    expect(model.volumes).toEqual([{ name: 'ryla-models', mountPath: '/root/models', createIfMissing: false }]);
  });

  test.each([
    [
      { volume: 'ryla-models', path: 'a', target: 'loras' },
      /prop 'volume': got "ryla-models", expected a Volume construct/,
    ],
    [{ path: '/abs/a', target: 'loras' }, /prop 'path': got "\/abs\/a", expected a relative path/],
    [{ path: 'a', target: 'loras', filename: 'a/b' }, /prop 'filename': got "a\/b", expected a file name without "\/"/],
  ])('rejects %j', (props, message) => {
    const { project, app } = demoStack();
    const volume = new Volume(project, 'V', { name: 'v', mountPath: '/v' });
    expect(problemsOf(() => new VolumeModel(app, 'M', { volume, ...props } as never))).toEqual([
      expect.stringMatching(message),
    ]);
  });

  test('Volume rejects a relative mount path and a bad name', () => {
    const { project } = demoStack();
    expect(problemsOf(() => new Volume(project, 'V', { name: 'ok', mountPath: 'root/models' }))).toEqual([
      expect.stringMatching(/^\[test\/V\] prop 'mountPath': got "root\/models", expected an absolute container path/),
    ]);
    expect(problemsOf(() => new Volume(project, 'W', { name: 'no/slash', mountPath: '/m' }))).toEqual([
      expect.stringMatching(/prop 'name': got "no\/slash", expected a Modal name/),
    ]);
  });
});
