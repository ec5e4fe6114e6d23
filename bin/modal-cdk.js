#!/usr/bin/env node
// This repository's CLI from source: TypeScript through a plain SWC require hook (lib/cli/swc-register.js),
// then the CLI. The installed package runs the compiled dist/bin/modal-cdk.js instead (npm run build).
require('../lib/cli/swc-register').registerTypeScript();
require('./modal-cdk.ts');
