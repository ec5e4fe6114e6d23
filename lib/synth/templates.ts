import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import Handlebars from 'handlebars';
import { PACKAGE_FILES } from '../package-files';
import { py, type PyValue } from './python';

/** Where the Handlebars templates (and the runtime copied into each app) live. */
export const TEMPLATES_DIR = path.join(PACKAGE_FILES, 'templates');

// One Handlebars instance with the helpers the templates use: literals for the language they render
// (`py`, `ts`), one-line comments (`pyComment`, `tsComment` inside /** */), and `eq`.
const handlebars = Handlebars.create();
handlebars.registerHelper('py', (value: PyValue) => py(value));
handlebars.registerHelper('pyArgs', (values: PyValue[]) => values.map(py).join(', '));
handlebars.registerHelper('pyComment', (text: string) => text.replace(/[\r\n]+/g, ' '));
handlebars.registerHelper('ts', (value: unknown) => JSON.stringify(value));
handlebars.registerHelper('tsComment', (text: string) => text.replace(/\*\//g, '*\\/').replace(/\s+/g, ' '));
handlebars.registerHelper('eq', (a: unknown, b: unknown) => a === b);
const templates = new Map<string, HandlebarsTemplateDelegate>();

/** How every template is compiled: no HTML escaping; a name the data does not have fails. */
export const TEMPLATE_OPTIONS = { noEscape: true, strict: true } as const;

/**
 * A template under templates/, compiled once per process. The built package ships each one precompiled
 * next to it (`<name>.js`, by bin/build.js with the same options), which saves the compile.
 */
export function loadTemplate(name: string): HandlebarsTemplateDelegate {
  let template = templates.get(name);
  if (!template) {
    const file = path.join(TEMPLATES_DIR, name);
    template = existsSync(`${file}.js`)
      ? // eslint-disable-next-line @typescript-eslint/no-require-imports
        handlebars.template(require(`${file}.js`))
      : handlebars.compile(readFileSync(file, 'utf8'), TEMPLATE_OPTIONS);
    templates.set(name, template);
  }
  return template;
}
