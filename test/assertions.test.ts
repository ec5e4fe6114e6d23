import { AssertionFailed, Match, Template } from '../lib/assertions';
import buildRyla from '../bin/ryla';
import { ROOT } from './helpers';

/** `modal-cdk/assertions` on the RYLA stack, as a team would test its own stack. */
describe('Template (modal-cdk/assertions)', () => {
  let template: Template;
  beforeAll(() => {
    template = Template.fromBuilder(buildRyla, { projectDir: ROOT });
  });

  test('hasApp and hasEndpoint match a subset, with durations as written', () => {
    template.hasApp('flux', { gpu: 'L40S', timeout: '5m', modalName: 'ryla-flux' });
    template.hasApp('wan26', { gpu: Match.arrayWith(['H100']) });
    template.hasEndpoint('/flux', {
      app: 'flux',
      timeout: '3m',
      clientTimeout: '3m',
      output: 'jpeg',
      fields: Match.objectLike({ prompt: Match.objectLike({ required: true }) }),
    });
    template.hasEndpoint('/seedvr2', { contentType: 'image/png', fields: Match.objectLike({ scale: Match.absent() }) });
    template.resourceCountIs('apps', 7);
    template.resourceCountIs('endpoints', 21);
  });

  test('a mismatch says where and what', () => {
    expect(() => template.hasEndpoint('/flux', { timeout: '9m', output: 'png' })).toThrow(
      new AssertionFailed(
        'endpoint "/flux" does not match:\n  timeout: expected "9m", got "3m"\n  output: expected "png", got "jpeg"',
      ),
    );
    expect(() => template.hasApp('nope')).toThrow(
      /^no app "nope": the apps are flux, instantid, qwen-image, qwen-edit, z-image, wan26, seedvr2$/,
    );
    expect(() => template.hasEndpoint('/flux', { fields: Match.objectLike({ nope: Match.anyValue() }) })).toThrow(
      /fields.nope: missing \(expected anyValue\)/,
    );
  });

  test('bindRequest gives the graph ComfyUI would receive, bound as the runtime binds it', () => {
    const lora = template.bindRequest('/flux-dev-lora', { prompt: 'a fox', trigger_word: 'ohwx', lora_id: 'abc' });
    expect(lora['6'].inputs.text).toBe('ohwx a fox');
    expect(lora['14'].inputs.lora_name).toBe('ryla/flux-character-abc.safetensors');
    expect(
      template.bindRequest('/flux-dev-lora', { prompt: 'p', lora_id: 'abc', lora_name: 'mine' })['14'].inputs.lora_name,
    ).toBe('ryla/mine.safetensors');
    expect(
      template.bindRequest('/flux-dev-lora', { prompt: 'p', lora_id: 'abc', lora_name: '' })['14'].inputs.lora_name,
    ).toBe('ryla/flux-character-abc.safetensors');
    expect(template.bindRequest('/sdxl-turbo', { prompt: 'p', steps: 20 })['5'].inputs.steps).toBe(4); // clamped
    const qwen = template.bindRequest('/qwen-image-2512', {
      aspect_ratio: '16:9',
      width: 512,
      use_lightning_lora: true,
      prompt: '',
    });
    expect([
      qwen['8'].inputs.width,
      qwen['8'].inputs.height,
      qwen['4'].inputs.strength_model,
      qwen['6'].inputs.text,
    ]).toEqual([1664, 928, 1.0, 'A beautiful woman']);
    const swap = template.bindRequest('/video-faceswap', {
      source_video: 'x',
      reference_image: 'y',
      restore_face: false,
      fps: 23.976,
    });
    expect([
      swap['3'].inputs.face_restore_model,
      swap['1'].inputs.force_rate,
      swap['4'].inputs.frame_rate,
      swap['1'].inputs.video,
    ]).toEqual(['none', 23.976, 23.976, 'source_video.mp4']);
    expect(template.bindRequest('/flux', { prompt: 'p', seed: null })['3'].inputs.seed).toBe(42); // null: the default
  });

  test('bindRequest refuses what the app would refuse with a 422, naming the field', () => {
    const refused = (path: string, body: Record<string, unknown>) => {
      try {
        template.bindRequest(path, body);
      } catch (e) {
        expect(e).toBeInstanceOf(AssertionFailed);
        return (e as Error).message;
      }
      throw new Error(`bindRequest(${path}) accepted ${JSON.stringify(body)}`);
    };
    expect(refused('/flux', { prompt: 'p', width: 100000 })).toMatch(
      /^bindRequest\("\/flux"\): the body is not one the app takes \(it answers a 422 for a bad or missing field\):\n {2}field "width": got 100000, must be <= \d+\n\(pass \{ validate: false \} to bind it as given\)$/,
    );
    expect(refused('/flux', { width: 512 })).toContain('missing: "prompt" must be sent with a value');
    expect(refused('/flux', { prompt: 'p', stesp: 4 })).toMatch(
      /field "stesp": not a field of this endpoint \(the server would ignore it\) — expected one of .*prompt, /,
    );
    expect(refused('/flux', { prompt: 'p', seed: '7' })).toContain('field "seed": got "7", must be integer');
    expect(refused('/sdxl-instantid', { prompt: 'p', reference_image: 'x', sampler_name: 'nope' })).toMatch(
      /field "sampler_name": got "nope", must be one of \["/,
    );
    expect(refused('/flux-dev-lora', { prompt: 'p' })).toMatch(
      /missing: "lora_name" or .*"lora_id".* must be sent with a value/,
    );
    // The opt-out binds the body as given.
    expect(template.bindRequest('/flux', { prompt: 'p', width: 100000 }, { validate: false })['5'].inputs.width).toBe(
      100000,
    );
  });

  test('toJSON is the manifest, for snapshots', () => {
    expect(template.toJSON().apps.map((a) => a.id)).toEqual([
      'flux',
      'instantid',
      'qwen-image',
      'qwen-edit',
      'z-image',
      'wan26',
      'seedvr2',
    ]);
  });
});
