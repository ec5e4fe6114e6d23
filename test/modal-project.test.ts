import { ComfyApp, ModalProject } from '../constructs';
import { CONTEXT_ENV_VAR } from '../constructs/modal-project';
import { demoStack, problemsOf, testProject } from './helpers';

describe('ModalProject', () => {
  test('defaults: name from id, environment main, ComfyUI and Python pinned', () => {
    const project = testProject();
    expect(project.projectName).toBe('test');
    expect(project.environment).toBe('main');
    expect(project.comfyVersion).toBe('0.28.2');
    expect(project.pythonVersion).toBe('3.11');
    expect(project.requiresProxyAuth).toBe(true);
  });

  test('workspace and environment come from context (cdk-like.json) unless given', () => {
    process.env[CONTEXT_ENV_VAR] = JSON.stringify({
      'modal-cdk:workspace': 'from-config',
      'modal-cdk:environment': 'staging',
    });
    try {
      const project = new ModalProject(undefined, 'p');
      expect(project.workspace).toBe('from-config');
      expect(project.environment).toBe('staging');
      expect(new ModalProject(undefined, 'q', { workspace: 'given' }).workspace).toBe('given');
    } finally {
      delete process.env[CONTEXT_ENV_VAR];
    }
  });

  test.each([
    [{ comfyVersion: 'latest' }, /\[p\] prop 'comfyVersion': got "latest", expected a pinned ComfyUI release/],
    [{ pythonVersion: '3.9' }, /prop 'pythonVersion': got "3\.9", expected a Python version Modal supports/],
    [{ name: 'has space' }, /prop 'name': got "has space", expected a Modal name/],
    [{ workspace: 'Upper' }, /prop 'workspace': got "Upper"/],
    [{ color: 'red' }, /unknown prop 'color': remove it or check the spelling/],
  ])('rejects %j', (props, message) => {
    expect(problemsOf(() => new ModalProject(undefined, 'p', props as object))).toEqual([
      expect.stringMatching(message),
    ]);
  });

  test('synth without a workspace says where to set it', () => {
    const project = new ModalProject(undefined, 'p');
    new ComfyApp(project, 'a', { gpu: 'T4' });
    expect(problemsOf(() => project.synth())).toContainEqual(
      expect.stringMatching(
        /^\[p\] workspace: got nothing, expected the Modal workspace name — set modal.workspace in cdk-like.json/,
      ),
    );
  });

  test('a project with no app is an error', () => {
    expect(problemsOf(() => testProject().synth())).toEqual(['[test] the project has no ComfyApp: add at least one']);
  });

  test('synth collects every problem of the tree at once', () => {
    const { project, app } = demoStack({
      endpoint: {
        inputs: { a: { type: 'int', node: '77', input: 'x' }, b: { type: 'int', node: '1', input: 'nope' } },
      },
    });
    new ComfyApp(project, 'empty', { gpu: 'T4' });
    const problems = problemsOf(() => project.synth());
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/test\/demo\/Demo\] input 'a'/);
    expect(problems.join('\n')).toMatch(/test\/demo\/Demo\] input 'b'/);
    expect(problems.join('\n')).toMatch(/\[test\/empty\] the app has no Endpoint/);
    expect(app.node.path).toBe('test/demo');
  });
});
