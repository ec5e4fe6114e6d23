import { classifyFailure, DEPLOY_SKIPPED, webUrls } from '../lib/deploy/modal-output';

// What `modal deploy` prints (reference/modal.md §5.1), and how a failure is read.
test('web URLs are the modal.run ones, not the dashboard links', () => {
  const output = [
    '✓ Initialized. View run at https://modal.com/apps/ryla/main/ap-123',
    '├── 🔨 Created web function ComfyUI.fastapi_app => https://ryla--ryla-flux-comfyui-fastapi-app.modal.run 🔑',
    'View Deployment: https://modal.com/apps/ryla/main/deployed/ryla-flux',
  ].join('\n');
  expect(webUrls(output)).toEqual(['https://ryla--ryla-flux-comfyui-fastapi-app.modal.run']);
  expect(DEPLOY_SKIPPED.test('Deployment skipped: no changes detected! ⏭️')).toBe(true);
});

test.each([
  ['Error: Token missing. Could not authenticate client.', 'auth'],
  ['Error: Could not connect to the Modal server.', 'transient'],
  ['grpclib.exceptions.GRPCError: (<Status.UNAVAILABLE: 14>, ...)', 'transient'],
  ['HTTP 503 Service Unavailable', 'transient'],
  ['Error: Image build for im-123 failed. See build logs for more details.', 'build'],
  ['modal.exception.InvalidError: Invalid GPU type "L40"', 'build'],
])('%s → %s', (output, kind) => {
  expect(classifyFailure(output)).toBe(kind);
});
