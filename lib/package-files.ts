import { existsSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The folder the files this package reads at run time are under (`templates/`, `lib/comfy/object-info/`):
 * the repository root when the library runs from source (this file is lib/package-files.ts), the built
 * package's dist/ when it runs as the bundle dist/modal-cdk.js (`npm run build` copies them there at the
 * same relative paths).
 */
export const PACKAGE_FILES = existsSync(path.join(__dirname, 'templates')) ? __dirname : path.join(__dirname, '..');

/**
 * The package's root (the repository, or the installed package): this file's folder's parent, from source (lib/) and
 * bundle (dist/) alike.
 */
export const PACKAGE_ROOT = path.join(__dirname, '..');
