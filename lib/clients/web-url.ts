/**
 * Where a deployed app's endpoints answer. Modal serves a web method of a class at
 * `https://<source>--<label>.modal.run`, where `<source>` is the workspace (plus `-<suffix>` for an
 * environment with a web suffix) and `<label>` is `<app>-<class>-<method>`, lower-cased, with anything but
 * letters, digits and "-" replaced by "-" (reference/modal.md §5, modal.com/docs/guide/webhook-urls).
 * The app template serves FastAPI from these two names, so the URL and the app cannot disagree.
 */
export const WEB_CLASS = 'ComfyUI';
export const WEB_METHOD = 'fastapi_app';

/** A DNS label (one dot-separated part of a host name) is at most 63 characters (RFC 1035). */
export const DNS_LABEL_MAX = 63;

/** The app's job front door (ComfyApp jobs): a web function of its own. */
export const JOBS_FUNCTION = 'jobs_api';

/** `ryla-flux` → `ryla-flux-jobs-api`: the job front door's label. */
export function jobsLabel(modalName: string): string {
  return `${modalName}-${JOBS_FUNCTION}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

/** The app's job front door in `workspace` (no path): `https://<workspace>--<app>-jobs-api.modal.run`. */
export function jobsUrl(workspace: string, modalName: string): string {
  return `https://${workspace}--${jobsLabel(modalName)}.modal.run`;
}

/** `ryla-flux` → `ryla-flux-comfyui-fastapi-app`. */
export function webLabel(modalName: string): string {
  return `${modalName}-${WEB_CLASS}-${WEB_METHOD}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

/** The endpoint URL with `{workspace}` and `{path}` left to fill, as the seeds write it. */
export function urlTemplate(modalName: string): string {
  return `https://{workspace}--${webLabel(modalName)}.modal.run{path}`;
}

/** The endpoint's URL in `workspace`. */
export function endpointUrl(workspace: string, modalName: string, path: string): string {
  return urlTemplate(modalName).replace('{workspace}', workspace).replace('{path}', path);
}

/** The host's first label, `<workspace>--<label>`, which must fit in a DNS label. */
export function webHostLabel(workspace: string, modalName: string): string {
  return `${workspace}--${webLabel(modalName)}`;
}

/** `<workspace>` or, in an environment with a web suffix, `<workspace>-<suffix>`: where URLs start. */
export function webSource(project: { workspace: string; webSuffix?: string }): string {
  return project.webSuffix ? `${project.workspace}-${project.webSuffix}` : project.workspace;
}
