#!/usr/bin/env node
// This repository's CLI from source (bin/modal-cdk.js loads it through the SWC require hook). The built
// package's CLI is dist/bin/modal-cdk.js (bin/launcher.js), which loads the bundle and calls the same main.
import '../lib/zod-jitless'; // first: before any schema is made
import { main } from '../lib/cli/main';

main();
