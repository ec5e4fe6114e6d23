#!/usr/bin/env node
// The built package's `modal-cdk` command (npm run build copies this file to dist/bin/modal-cdk.js). It
// loads the bundle dist/modal-cdk.js with a V8 code cache and calls its main.
//
// Most of a one-shot command's time is V8 compiling functions the first time they run. The cache holds the
// bytecode of every function the command ran, made when it ends (not when the file is read, which would
// hold only the top level), one per command name, named by Node's version and the bundle's content hash
// (V8 itself checks only the source's length); one V8 rejects is rewritten. Bytecode V8 runs must be the
// user's own: the cache lives in their cache folder ($XDG_CACHE_HOME or ~/.cache, then modal-cdk/), not a
// shared temp folder. $MODAL_CDK_CACHE_DIR chooses another; MODAL_CDK_CACHE_DIR=off runs without one.
const fs = require('node:fs');
const Module = require('node:module');
const os = require('node:os');
const path = require('node:path');
const vm = require('node:vm');

// The bundle's sha1, written here by `npm run build` (bin/build.js).
const BUNDLE_SHA1 = 'set-by-build';
const bundle = path.join(__dirname, '..', 'modal-cdk.js');
const source = fs.readFileSync(bundle, 'utf8');
const cacheDir =
  process.env.MODAL_CDK_CACHE_DIR ||
  path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'modal-cdk');
const command = /^[a-z]+$/.test(process.argv[2] ?? '') ? process.argv[2] : 'help';
const cachePrefix = `${process.version}-${process.arch}-${command}-`; // then the bundle's hash: one file per build
const cacheFile = path.join(cacheDir, `${cachePrefix}${BUNDLE_SHA1.slice(0, 16)}.bin`);
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
require.cache[bundle] = mod;
script
  .runInThisContext()
  .call(mod.exports, mod.exports, Module.createRequire(bundle), mod, bundle, path.dirname(bundle));
mod.loaded = true;

if (useCache && (cachedData === undefined || script.cachedDataRejected)) {
  process.once('exit', () => {
    try {
      fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
      const temporary = `${cacheFile}.${process.pid}`;
      fs.writeFileSync(temporary, script.createCachedData());
      fs.renameSync(temporary, cacheFile); // atomic: a parallel run never reads half a file
      // The caches of other builds of the bundle (an upgrade) for this command and Node go.
      for (const old of fs.readdirSync(cacheDir)) {
        if (old.startsWith(cachePrefix) && old.endsWith('.bin') && old !== path.basename(cacheFile))
          fs.rmSync(path.join(cacheDir, old), { force: true });
      }
    } catch {
      // a read-only cache folder: run without a cache
    }
  });
}

mod.exports.main();
