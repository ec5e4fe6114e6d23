import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { COMMANDS } from '../lib/cli/main';
import { ROOT } from './helpers';

/**
 * The README's commands exist and answer: every `npm run X` it shows is a script of package.json, and every
 * `modal-cdk <command>` it shows prints its help and exits 0. (What the commands do is tested where they
 * are: synth and the stacks in jest, the package path in test/package/run.sh, deploy/diff/serve in
 * their own tests; the two quick-start commands are what CI runs.)
 */
describe("the README's commands", () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const scripts = Object.keys(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts);
  const npmRuns = [...new Set([...readme.matchAll(/npm run ([a-z][a-z-]*)/g)].map((m) => m[1]))].sort();
  const commands = [
    ...new Set([...readme.matchAll(new RegExp(`modal-cdk (${COMMANDS.join('|')}|help)\\b`, 'g'))].map((m) => m[1])),
  ].sort();

  test('every `npm run X` is a script', () => {
    expect(npmRuns.length).toBeGreaterThanOrEqual(7);
    expect(npmRuns.filter((s) => !scripts.includes(s))).toEqual([]);
  });

  test('the quick start is `npm ci && npm run synth` and `npm ci && npm test`, as CI runs it', () => {
    expect(readme).toMatch(/```bash\nnpm ci && npm run synth .*\nnpm ci && npm test .*\n```/);
    expect(readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8')).toContain('npm ci && npm test');
  });

  test.each(COMMANDS)(
    'modal-cdk %s --help exits 0',
    (command) => {
      expect(commands.includes(command) || npmRuns.includes(command)).toBe(true); // shown as modal-cdk X or npm run X
      const run = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'modal-cdk.js'), command, '--help'], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      expect([run.status, run.stderr]).toEqual([0, '']);
      expect(run.stdout).toMatch(/Usage: modal-cdk/);
    },
    30_000,
  );
});
