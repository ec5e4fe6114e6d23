/** A pattern an actual value is tested against; `test` returns what does not match (empty: it matches). */
export interface Matcher {
  /** What it matches, for messages (`Match.anyValue()`). */
  readonly name: string;
  /** The mismatches of `actual` (at the path `at`); none when it matches. */
  test(actual: unknown, at: string): string[];
}

const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

/** Tests `actual` against a matcher or a literal (a literal is compared deeply, objects as a subset). */
export function matches(expected: unknown, actual: unknown, at = ''): string[] {
  if (isMatcher(expected)) return expected.test(actual, at);
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected))
    return Match.objectLike(expected as Record<string, unknown>).test(actual, at);
  return Match.exact(expected).test(actual, at);
}

function isMatcher(x: unknown): x is Matcher {
  return (
    x !== null &&
    typeof x === 'object' &&
    typeof (x as Matcher).test === 'function' &&
    typeof (x as Matcher).name === 'string'
  );
}

/** Matchers for `Template.hasApp` / `hasEndpoint`, after aws-cdk-lib/assertions' `Match`. */
export const Match = {
  /** Deeply equal (a nested object too must be exactly equal). */
  exact(pattern: unknown): Matcher {
    return {
      name: 'exact',
      test: (actual, at) =>
        JSON.stringify(actual) === JSON.stringify(pattern)
          ? []
          : [`${at || 'value'}: expected ${show(pattern)}, got ${show(actual)}`],
    };
  },
  /** An object with at least these keys, each matching (nested plain objects are matched the same way). */
  objectLike(pattern: Record<string, unknown>): Matcher {
    return {
      name: 'objectLike',
      test: (actual, at) => {
        if (actual === null || typeof actual !== 'object' || Array.isArray(actual))
          return [`${at || 'value'}: expected an object, got ${show(actual)}`];
        return Object.entries(pattern).flatMap(([k, v]) => {
          const where = at ? `${at}.${k}` : k;
          if (!(k in (actual as object)))
            return isMatcher(v) && v.name === 'absent'
              ? []
              : [`${where}: missing (expected ${isMatcher(v) ? v.name : show(v)})`];
          return matches(v, (actual as Record<string, unknown>)[k], where);
        });
      },
    };
  },
  /** A list that contains items matching each of these, in this order (others may come between). */
  arrayWith(pattern: unknown[]): Matcher {
    return {
      name: 'arrayWith',
      test: (actual, at) => {
        if (!Array.isArray(actual)) return [`${at || 'value'}: expected a list, got ${show(actual)}`];
        let from = 0;
        for (const wanted of pattern) {
          const found = actual.findIndex((item, i) => i >= from && matches(wanted, item).length === 0);
          if (found < 0)
            return [
              `${at || 'value'}: no item matching ${isMatcher(wanted) ? wanted.name : show(wanted)} after index ${from - 1} in ${show(actual)}`,
            ];
          from = found + 1;
        }
        return [];
      },
    };
  },
  /** Any value that is not undefined. */
  anyValue(): Matcher {
    return {
      name: 'anyValue',
      test: (actual, at) => (actual === undefined ? [`${at || 'value'}: expected a value, got nothing`] : []),
    };
  },
  /** The key is absent (in objectLike). */
  absent(): Matcher {
    return {
      name: 'absent',
      test: (actual, at) => (actual === undefined ? [] : [`${at || 'value'}: expected no value, got ${show(actual)}`]),
    };
  },
  /** A string matching the regular expression. */
  stringLikeRegexp(pattern: string | RegExp): Matcher {
    const re = typeof pattern === 'string' ? new RegExp(pattern) : pattern;
    return {
      name: `stringLikeRegexp(${re})`,
      test: (actual, at) =>
        typeof actual === 'string' && re.test(actual)
          ? []
          : [`${at || 'value'}: expected a string matching ${re}, got ${show(actual)}`],
    };
  },
};
