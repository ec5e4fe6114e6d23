/**
 * `npm run docs`: rewrites the generated parts of README.md from the RYLA stack (the endpoint table), so
 * the README cannot drift from the code; a test fails when it has.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { applyConfigContext } from '../lib/cli/synthesize';
import { loadConfig } from '../lib/cli/config';
import { renderEndpointTable, replaceGeneratedSection } from '../lib/docs/endpoint-table';
import buildRyla from './ryla';

export const README = path.join(__dirname, '..', 'README.md');

/** README.md as it should be. */
export function expectedReadme(): string {
  applyConfigContext(loadConfig(path.dirname(README)));
  const manifest = buildRyla().synth().manifest;
  return replaceGeneratedSection(readFileSync(README, 'utf8'), 'ryla-endpoints', renderEndpointTable(manifest));
}

if (require.main === module) {
  writeFileSync(README, expectedReadme());
  console.log('README.md: endpoint table regenerated from bin/ryla.ts');
}
