/**
 * Identity by symbol, as the `constructs` package does it (`Construct.isConstruct`): `instanceof` fails
 * when a user's app and the modal-cdk CLI load two copies of the package, a registered symbol does not.
 */
const marks = new Map<string, symbol>();

function mark(kind: string): symbol {
  let symbol = marks.get(kind);
  if (!symbol) {
    symbol = Symbol.for(`modal-cdk.${kind}`);
    marks.set(kind, symbol);
  }
  return symbol;
}

/** Marks an object as a `kind` (call in its constructor). */
export function markAs(object: object, kind: string): void {
  Object.defineProperty(object, mark(kind), { value: true });
}

/** Whether `x` was marked as a `kind` by any copy of modal-cdk. */
export function isMarked(x: unknown, kind: string): boolean {
  return x !== null && typeof x === 'object' && (x as Record<symbol, unknown>)[mark(kind)] === true;
}

/**
 * A model, custom node or endpoint belongs to a ComfyApp: created on the project (or elsewhere), it would
 * be silently left out of every app. Returns the problem, or none.
 */
export function scopeProblems(construct: { node: { scope?: unknown; id: string } }, kind: string): string[] {
  const scope = construct.node.scope as { node?: { path: string }; constructor?: { name: string } } | undefined;
  if (isMarked(scope, 'ComfyApp')) return [];
  const where = isMarked(scope, 'ModalProject')
    ? 'the project'
    : `${scope?.constructor?.name ?? 'a construct'} ${scope?.node?.path ?? ''}`.trim();
  const article = /^(Hf|[AEIO])/.test(kind) ? 'an' : 'a'; // "an HfModel", "a UrlModel"
  return [
    `${article} ${kind} belongs to a ComfyApp, got it on ${where}: it would be in no app's image or routes — create it with the app as its scope: new ${kind}(app, '${construct.node.id}', …)`,
  ];
}
