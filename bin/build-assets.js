// `npm run build`, after tsc: copies what the compiled package reads at run time next to it, at the same
// relative paths as in the source tree: the templates (and the runtime every app ships), the ComfyUI node
// schema snapshots, and the TypeScript require hook that loads a user's app in-process.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');
for (const [from, to] of [
  ['templates', 'templates'],
  ['lib/comfy/object-info', 'lib/comfy/object-info'],
  ['bin/swc-register.js', 'bin/swc-register.js'],
]) {
  fs.rmSync(path.join(dist, to), { recursive: true, force: true });
  fs.cpSync(path.join(root, from), path.join(dist, to), { recursive: true });
}
fs.chmodSync(path.join(dist, 'bin', 'modal-cdk.js'), 0o755);
