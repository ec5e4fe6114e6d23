import { UrlModel } from '../constructs';
import { demoStack, problemsOf } from './helpers';

const SHA = 'a'.repeat(64);

describe('UrlModel', () => {
  test('downloaded into the image at build (curl fails on an HTTP error), checked by its sha256, in the manifest', () => {
    const { project, app } = demoStack();
    new UrlModel(app, 'Detector', {
      url: 'https://github.com/acme/weights/releases/download/v1/det.pth',
      target: 'upscale_models',
      sha256: SHA,
      sizeGb: 0.1,
    });
    const { files, warnings } = project.synth();
    const py = files.get('apps/demo/app.py')!;
    expect(py).toContain(
      '    .run_commands("curl -fsSL --retry 3 --create-dirs -o /root/comfy/ComfyUI/models/upscale_models/det.pth https://github.com/acme/weights/releases/download/v1/det.pth", ' +
        `"echo '${SHA}  /root/comfy/ComfyUI/models/upscale_models/det.pth' | sha256sum --check --strict -")\n`,
    );
    expect(py).toMatch(/\.apt_install\("git", "curl"\)/);
    // before the import gate and the offline switch, so a serving container has it and fetches nothing
    expect(py.indexOf('det.pth')).toBeLessThan(py.indexOf('import gate'));
    const manifest = JSON.parse(files.get('manifest.json')!);
    expect(manifest.apps[0].models).toContainEqual({
      kind: 'url',
      constructPath: 'test/demo/Detector',
      url: 'https://github.com/acme/weights/releases/download/v1/det.pth',
      target: 'upscale_models',
      filename: 'det.pth',
      sha256: SHA,
      sizeGb: 0.1,
      unzip: false,
    });
    expect(warnings.filter((n) => n.id === 'url-model-unchecked')).toEqual([]);
  });

  test('without sha256 the build takes what the address serves: said in a note', () => {
    const { project, app } = demoStack();
    new UrlModel(app, 'Detector', {
      url: 'https://example.com/w/det.pth',
      target: 'upscale_models',
      filename: 'detector.pth',
    });
    const { files, warnings } = project.synth();
    expect(files.get('apps/demo/app.py')).not.toContain('sha256sum');
    expect(files.get('apps/demo/app.py')).toContain(
      '-o /root/comfy/ComfyUI/models/upscale_models/detector.pth https://example.com/w/det.pth',
    );
    expect(warnings).toContainEqual({
      path: 'test/demo/Detector',
      id: 'url-model-unchecked',
      note: true,
      message:
        'model detector.pth: no sha256, so the build takes whatever https://example.com/w/det.pth serves — add sha256 to pin the file',
    });
  });

  test('bad props, an unknown folder, a clash with another model and the wrong scope are errors naming the construct', () => {
    const bad = (props: object) =>
      problemsOf(() => new UrlModel(demoStack().app, 'M', { target: 'loras', ...props } as never));
    expect(bad({ url: 'http://example.com/a.pth' })).toEqual([
      expect.stringMatching(/^\[test\/demo\/M\] prop 'url': .*expected an https:\/\/ address of the file/),
    ]);
    expect(bad({ url: 'https://example.com/a.pth', sha256: 'ABC' })).toEqual([
      expect.stringMatching(/^\[test\/demo\/M\] prop 'sha256': .*expected 64 lower-case hex digits/),
    ]);
    expect(bad({ url: 'https://example.com/' })).toEqual([
      '[test/demo/M] prop \'url\': got "https://example.com/", whose path ends in no file name — set filename',
    ]);

    const { project, app } = demoStack();
    new UrlModel(app, 'Typo', { url: 'https://example.com/a.pth', target: 'upscale_model', sha256: SHA });
    new UrlModel(app, 'Twin', { url: 'https://example.com/x/tiny.safetensors', target: 'checkpoints', sha256: SHA });
    new UrlModel(project, 'Stray', { url: 'https://example.com/b.pth', target: 'loras', sha256: SHA });
    expect(problemsOf(() => project.synth())).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^\[test\/demo\/Typo\] target: got "upscale_model", expected a models folder .*closest: upscale_models/,
        ),
        '[test/demo] models TinyCheckpoint and Twin both link models/checkpoints/tiny.safetensors: give one a different filename',
        expect.stringMatching(/^\[test\/Stray\] a UrlModel belongs to a ComfyApp, got it on the project/),
      ]),
    );
  });

  test("unzip: the archive's files unpacked flat into the target folder (InsightFace packs), the archive not kept", () => {
    const { project, app } = demoStack();
    new UrlModel(app, 'Pack', {
      url: 'https://example.com/packs/buffalo_l.zip',
      target: 'upscale_models/buffalo_l',
      unzip: true,
      sha256: SHA,
    });
    const py = project.synth().files.get('apps/demo/app.py')!;
    expect(py).toContain(
      '    .run_commands("curl -fsSL --retry 3 --create-dirs -o /tmp/buffalo_l.zip https://example.com/packs/buffalo_l.zip", ' +
        `"echo '${SHA}  /tmp/buffalo_l.zip' | sha256sum --check --strict -", ` +
        '"unzip -j -o /tmp/buffalo_l.zip -d /root/comfy/ComfyUI/models/upscale_models/buffalo_l", "rm /tmp/buffalo_l.zip")\n',
    );
    expect(py).toMatch(/\.apt_install\("git", "curl", "unzip"\)/);
  });

  test('its size counts toward the startup-timeout floor', () => {
    const { project, app } = demoStack({ app: { startupTimeout: '2m' } });
    new UrlModel(app, 'Big', { url: 'https://example.com/big.pth', target: 'upscale_models', sha256: SHA, sizeGb: 40 });
    expect(
      project
        .synth()
        .warnings.filter((w) => w.id === 'startup-timeout')
        .map((w) => w.message),
    ).toEqual([expect.stringContaining('the floor for 40 GB of models')]);
  });
});
