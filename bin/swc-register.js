// Compile TypeScript on require with SWC (no type check at run time; `npm test` type-checks). A plain
// require hook rather than ts-node's: ts-node loads the TypeScript compiler even in SWC mode, which costs
// about 0.2 s of every `npm run synth` on a small machine. Used by bin/modal-cdk.js and by test drivers.
const fs = require('node:fs');
const swc = require('@swc/core');

// Source maps only for MODAL_CDK_DEBUG=1 (its stack traces then point into the .ts files): they cost ~50 ms.
const debug = Boolean(process.env.MODAL_CDK_DEBUG);
if (debug) process.setSourceMapsEnabled(true);
require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    sourceMaps: debug ? 'inline' : false,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
