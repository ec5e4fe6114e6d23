export async function scaleCommand(..._: unknown[]): Promise<number> {
  return 2;
}
