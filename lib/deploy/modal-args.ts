/**
 * The argv (after `modal`) of each read or day-2 command modal-cdk runs, in one place, so that
 * test/python/test_real_modal_cli.py can give every form to the real CLI's parser. Flags as the pinned
 * CLI's own --help names them (reference/modal.md §5.3).
 */
/** `modal deploy` of one app: its entry file, Modal name, environment, version tag (the content hash's first 12) and strategy. */
export function deployArgs(
  entry: string,
  modalName: string,
  env: string,
  tag: string,
  strategy?: 'rolling' | 'recreate',
): string[] {
  return [
    'deploy',
    entry,
    '--name',
    modalName,
    '--env',
    env,
    '--tag',
    tag,
    ...(strategy ? ['--strategy', strategy] : []),
  ];
}

export const modalArgs = {
  deploy: deployArgs,
  appList: (env: string) => ['app', 'list', '--env', env, '--json'],
  appHistory: (modalName: string, env: string) => ['app', 'history', modalName, '--env', env, '--json'],
  rollback: (modalName: string, version: string, env: string) => ['app', 'rollback', modalName, version, '--env', env],
  /** Stops the app and its containers; `--yes`: modal's own confirmation is ours (destroy asks first). */
  appStop: (modalName: string, env: string) => ['app', 'stop', modalName, '--yes', '--env', env],
  /** `dir` from the volume's root, e.g. `/loras`. */
  volumeLs: (volume: string, dir: string, env: string) => ['volume', 'ls', volume, dir, '--env', env, '--json'],
  /** `remote` from the volume's root, e.g. `/loras/style.safetensors`. */
  volumePut: (volume: string, local: string, remote: string, env: string) => [
    'volume',
    'put',
    volume,
    local,
    remote,
    '--env',
    env,
  ],
};
