#!/usr/bin/env node
// npm bin shim: TypeScript through a plain SWC require hook (bin/swc-register.js), then the CLI.
require('./swc-register');
require('./modal-cdk.ts');
