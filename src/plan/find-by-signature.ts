/**
 * Constant-time lookup of an entry in a list that only grows (or has entries replaced by ones
 * with the same signature), by a signature string such as an expression's JSON form. Binding
 * compares every SELECT expression with every group key and every aggregate call with every
 * earlier one; with a linear scan that is quadratic, and a metric with a thousand keys took
 * seconds to plan.
 */
const indexes = new WeakMap<readonly unknown[], { readonly bySignature: Map<string, number>; size: number }>();

/**
 * Index of the first entry of `list` whose `signature` is `wanted`, or -1. One list must always be
 * looked up with the same `signature` function: the index built for it is kept with the list.
 */
export function findBySignature<T>(list: readonly T[], signature: (entry: T) => string, wanted: string): number {
  let index = indexes.get(list);
  if (!index || index.size > list.length) {
    index = { bySignature: new Map(), size: 0 };
    indexes.set(list, index);
  }
  for (; index.size < list.length; index.size++) {
    const s = signature(list[index.size] as T);
    if (!index.bySignature.has(s)) index.bySignature.set(s, index.size);
  }
  return index.bySignature.get(wanted) ?? -1;
}
