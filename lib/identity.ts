/**
 * Identity by symbol, as the `constructs` package does it (`Construct.isConstruct`): `instanceof` fails
 * when a user's app and the modal-cdk CLI load two copies of the package, a registered symbol does not.
 */
const marks = new Map<string, symbol>();

function mark(kind: string): symbol {
  let symbol = marks.get(kind);
  if (!symbol) marks.set(kind, (symbol = Symbol.for(`modal-cdk.${kind}`)));
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
