#!/usr/bin/env node
// The built package's `modal-cdk` command (npm run build copies this file to dist/bin/modal-cdk.js). It
// loads the bundle dist/modal-cdk.js with a V8 code cache and calls its main.
//
// Most of a one-shot command's time is V8 compiling functions the first time they run. The cache holds the
// bytecode of every function the command ran, made when it ends (not when the file is read, which would
// hold only the top level), one per command name, named by Node's version and the bundle's content hash
// (V8 itself checks only the source's length); one V8 rejects is rewritten. Kept under $MODAL_CDK_CACHE_DIR (default: the OS's temp
// folder, modal-cdk-<user>); set MODAL_CDK_CACHE_DIR=off to run without it.
const fs = require('node:fs');
const Module = require('node:module');
const os = require('node:os');
const path = require('node:path');
const vm = require('node:vm');

// The bundle's sha1, written here by `npm run build` (bin/build.js).
const BUNDLE_SHA1 = 'set-by-build';
const bundle = path.join(__dirname, '..', 'modal-cdk.js');
const source = fs.readFileSync(bundle, 'utf8');
const cacheDir = process.env.MODAL_CDK_CACHE_DIR || path.join(os.tmpdir(), `modal-cdk-${process.getuid?.() ?? 'user'}`);
const command = /^[a-z]+$/.test(process.argv[2] ?? '') ? process.argv[2] : 'help';
const cacheFile = path.join(cacheDir, `${process.version}-${process.arch}-${command}-${BUNDLE_SHA1.slice(0, 16)}.bin`);
const useCache = cacheDir !== 'off';

let cachedData;
if (useCache) {
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    // no cache yet
  }
}
const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData });

// Run it as the module require('modal-cdk') resolves to, so the user's app gets this instance.
const mod = new Module(bundle, module);
mod.filename = bundle;
mod.paths = Module._nodeModulePaths(path.dirname(bundle));
Module._cache[bundle] = mod;
script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(bundle), mod, bundle, path.dirname(bundle));
mod.loaded = true;

if (useCache && (cachedData === undefined || script.cachedDataRejected)) {
  process.once('exit', () => {
    try {
      fs.mkdirSync(cacheDir, { recursive: true });
      const temporary = `${cacheFile}.${process.pid}`;
      fs.writeFileSync(temporary, script.createCachedData());
      fs.renameSync(temporary, cacheFile); // atomic: a parallel run never reads half a file
    } catch {
      // a read-only temp folder: run without a cache
    }
  });
}

mod.exports.main();
