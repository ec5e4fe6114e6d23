export async function promoteCommand(..._: unknown[]): Promise<number> {
  return 2;
}
