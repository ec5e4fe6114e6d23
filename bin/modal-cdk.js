#!/usr/bin/env node
// npm bin shim: run the TypeScript CLI through ts-node with SWC (no type check at run time; `npm test` type-checks).
require('ts-node').register({ swc: true, transpileOnly: true, project: require('node:path').join(__dirname, '..', 'tsconfig.json') });
require('./modal-cdk.ts');
