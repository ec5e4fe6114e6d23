// Compile TypeScript on require with SWC (no type check at run time; `npm test` type-checks). A plain
// require hook rather than ts-node's: ts-node loads the TypeScript compiler even in SWC mode, which costs
// about 0.2 s of every `npm run synth` on a small machine. Compiled files are cached by content under
// <project>/node_modules/.cache/modal-cdk-swc/, so a warm run does not even load @swc/core (~0.1 s less).
// Used by bin/modal-cdk.js (this repository's CLI from source) and, in the built package, to load a user's
// TypeScript app in-process with the @swc/core of the user's project (lib/cli/load-app.ts).
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

/**
 * The package's root: the nearest folder above this file with a package.json (source: the repository; built: the
 * package).
 */
const PACKAGE_ROOT = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();

/**
 * Installs the `.ts` require hook (once). `swc`: how to load @swc/core (default: from here); `cacheDir`:
 * where compiled files are kept. Returns false when a `.ts` hook was already installed by someone else.
 */
function registerTypeScript({
  loadSwc = () => require('@swc/core'),
  cacheDir = path.join(PACKAGE_ROOT, 'node_modules', '.cache', 'modal-cdk-swc'),
  mapsFor = isUserFile,
} = {}) {
  if (require.extensions['.ts']) return false;
  // Source maps for the user's files (an error in their stack then names their file:line), and for all
  // with MODAL_CDK_DEBUG=1; not for this package's own files, whose maps would cost ~50 ms a run.
  const debug = Boolean(process.env.MODAL_CDK_DEBUG);
  process.setSourceMapsEnabled(true);
  const maps = (filename) => debug || mapsFor(filename);
  let swc;
  const compile = (source, filename) => {
    swc ??= loadSwc();
    return swc.transformSync(source, {
      filename,
      sourceMaps: maps(filename) ? 'inline' : false,
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
    }).code;
  };
  require.extensions['.ts'] = (module, filename) => {
    const source = fs.readFileSync(filename, 'utf8');
    const optionsKey = `es2022-commonjs-${maps(filename) ? 'maps' : 'nomaps'}-v2`;
    const key = crypto.createHash('sha1').update(`${optionsKey}\0${filename}\0${source}`).digest('hex');
    const cached = path.join(cacheDir, `${key}.js`);
    let code;
    try {
      code = fs.readFileSync(cached, 'utf8');
    } catch {
      code = compile(source, filename);
      try {
        fs.mkdirSync(cacheDir, { recursive: true });
        const temporary = `${cached}.${process.pid}`;
        fs.writeFileSync(temporary, code);
        fs.renameSync(temporary, cached); // atomic: a parallel run never reads half a file
      } catch {
        // a read-only install: compile every time
      }
    }
    module._compile(code, filename);
  };
  return true;
}

/** Not this package's own library code (lib/, constructs/): the files whose errors a user reads. */
function isUserFile(filename) {
  const root = PACKAGE_ROOT;
  return (
    !filename.includes(`${path.sep}node_modules${path.sep}`) &&
    ![path.join(root, 'lib'), path.join(root, 'constructs')].some((dir) => filename.startsWith(dir + path.sep))
  );
}

module.exports = { registerTypeScript };
