import { appGpus } from '../policy/gpu';
import { formatDuration } from '../duration';
import type { Manifest } from '../synth/spec';
import { loadTemplate } from '../synth/templates';

/** Markdown tables of a manifest's apps and endpoints, and of the fields each endpoint ignores on purpose. */
export function renderEndpointTable(manifest: Manifest): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
  const endpoints = manifest.apps.flatMap((app) => app.endpoints.map((e) => ({ app, e })));
  return loadTemplate('docs/endpoint-table.md.hbs')({
    rows: endpoints.map(({ app, e }) => ({
      modalName: app.modalName,
      gpu: cell(appGpus(app).join(' → ') || 'CPU'),
      appTimeout: formatDuration(app.timeoutSeconds),
      path: e.path,
      contentType: e.contentType,
      clientTimeout: formatDuration(e.clientTimeoutMs / 1000),
      description: cell(e.description),
    })),
    ignored: endpoints.flatMap(({ e }) =>
      Object.entries(e.ignoredFields).map(([field, reason]) => ({ path: e.path, field, reason: cell(reason) })),
    ),
  });
}

/** `text` with the lines between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` replaced by `content`. */
export function replaceGeneratedSection(text: string, name: string, content: string): string {
  const start = `<!-- generated:${name} -->`;
  const end = `<!-- /generated:${name} -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`expected the markers ${start} and ${end}, in that order`);
  return `${text.slice(0, from + start.length)}\n${content.trimEnd()}\n${text.slice(to)}`;
}
