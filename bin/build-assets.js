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
// Each Handlebars template precompiled next to its copy (<name>.hbs.js), with the options the library
// compiles them with at run time (lib/synth/templates.ts), so the built CLI does not compile them per run.
const Handlebars = require('handlebars');
const { TEMPLATE_OPTIONS } = require(path.join(dist, 'lib', 'synth', 'templates.js'));
for (const file of fs.readdirSync(path.join(dist, 'templates'), { recursive: true })) {
  if (!file.endsWith('.hbs')) continue;
  const source = fs.readFileSync(path.join(dist, 'templates', file), 'utf8');
  fs.writeFileSync(path.join(dist, 'templates', `${file}.js`), `module.exports = ${Handlebars.precompile(source, TEMPLATE_OPTIONS)};\n`);
}
fs.chmodSync(path.join(dist, 'bin', 'modal-cdk.js'), 0o755);
