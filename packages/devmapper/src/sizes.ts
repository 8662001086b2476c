export function roundUp(n: number, multiple: number): number {
  return Math.ceil(n / multiple) * multiple;
}
