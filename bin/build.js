// `npm run build`, after tsc has written the declarations (dist/**/*.d.ts): the package's JavaScript and the
// files it reads at run time.
// - dist/modal-cdk.js: lib/cli/package.ts and all it imports, bundled by esbuild (`constructs` stays a
//   dependency: a user's own constructs must share it). The package's main; dist/assertions.js re-exports
//   its `assertions`; dist/bin/modal-cdk.js (bin/launcher.js) runs its CLI.
// - dist/templates/ (with the runtime every app ships) and dist/lib/comfy/object-info/, at the relative
//   paths lib/package-files.ts expects, each Handlebars template precompiled next to it (<name>.hbs.js) with
//   the options the library compiles them with at run time, so the built CLI does not compile them per run.
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');

esbuild.buildSync({
  entryPoints: [path.join(root, 'lib', 'cli', 'package.ts')],
  outfile: path.join(dist, 'modal-cdk.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // ajv: only bindRequest (modal-cdk/assertions, in tests) needs it, loaded from node_modules on first use.
  external: ['constructs', '@swc/core', 'typescript', 'ajv', 'ajv/dist/2020'],
  logLevel: 'error',
  legalComments: 'eof',
});
fs.writeFileSync(path.join(dist, 'assertions.js'), "module.exports = require('./modal-cdk.js').assertions;\n");
fs.mkdirSync(path.join(dist, 'bin'), { recursive: true });
const sha1 = require('node:crypto')
  .createHash('sha1')
  .update(fs.readFileSync(path.join(dist, 'modal-cdk.js')))
  .digest('hex');
const launcher = fs.readFileSync(path.join(__dirname, 'launcher.js'), 'utf8');
if (!launcher.includes("'set-by-build'")) throw new Error('bin/launcher.js: no BUNDLE_SHA1 placeholder to fill');
fs.writeFileSync(path.join(dist, 'bin', 'modal-cdk.js'), launcher.replace("'set-by-build'", `'${sha1}'`));
fs.chmodSync(path.join(dist, 'bin', 'modal-cdk.js'), 0o755);

for (const [from, to] of [
  ['templates', 'templates'],
  ['lib/comfy/object-info', 'lib/comfy/object-info'],
]) {
  fs.rmSync(path.join(dist, to), { recursive: true, force: true });
  fs.cpSync(path.join(root, from), path.join(dist, to), { recursive: true });
}
require('../lib/cli/swc-register').registerTypeScript();
const Handlebars = require('handlebars');
const { TEMPLATE_OPTIONS } = require('../lib/synth/templates.ts');
for (const file of fs.readdirSync(path.join(dist, 'templates'), { recursive: true })) {
  if (!file.endsWith('.hbs')) continue;
  const source = fs.readFileSync(path.join(dist, 'templates', file), 'utf8');
  fs.writeFileSync(
    path.join(dist, 'templates', `${file}.js`),
    `module.exports = ${Handlebars.precompile(source, TEMPLATE_OPTIONS)};\n`,
  );
}
