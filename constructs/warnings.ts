import type { IConstruct } from 'constructs';
import { ACKNOWLEDGE_METADATA } from '../lib/errors';

/**
 * The warnings of a construct and everything under it, as the CDK's `Annotations`: a stack that has read a
 * warning acknowledges it by id (printed after each warning as `[ack: <id>]`), and synth stops printing
 * it, so `--strict` stays usable for new warnings.
 *
 * ```ts
 * Warnings.of(project).acknowledge('public-endpoints', 'our clients send no auth headers yet');
 * ```
 */
export class Warnings {
  /** The warnings of `scope` and its children. */
  public static of(scope: IConstruct): Warnings {
    return new Warnings(scope);
  }

  private constructor(private readonly scope: IConstruct) {}

  /**
   * Acknowledges warning `id` on this construct and everything under it; `reason` says why it is fine
   * (it stays in the construct's metadata, for reviewers).
   */
  public acknowledge(id: string, reason: string): void {
    this.scope.node.addMetadata(ACKNOWLEDGE_METADATA, { id, reason });
  }
}
