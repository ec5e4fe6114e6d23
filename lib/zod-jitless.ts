// Imported first by the bundle (lib/cli/package.ts), before any schema is made. Zod compiles each object
// schema's parser with `new Function` on first use: faster for a long-running process parsing many
// values, but a one-shot CLI pays the compile for every schema and parses each once (~40 ms a RYLA synth).
import { config } from 'zod';

config({ jitless: true });
