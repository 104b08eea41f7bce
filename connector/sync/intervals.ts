// Sets of whole seconds kept as sorted, disjoint, closed intervals [from, to]. A backfill's
// progress is such a set: slices finish out of order, so a single "read up to" cursor would be
// wrong under concurrency.

export type Interval = [number, number];

/** Adds [from, to] to a normalised set, merging overlapping and adjacent intervals. */
export function addInterval(set: readonly Interval[], from: number, to: number): Interval[] {
  if (to < from) return [...set];
  const out: Interval[] = [];
  let lo = from;
  let hi = to;
  let placed = false;
  for (const [a, b] of set) {
    if (b < lo - 1) {
      out.push([a, b]);
    } else if (a > hi + 1) {
      if (!placed) {
        out.push([lo, hi]);
        placed = true;
      }
      out.push([a, b]);
    } else {
      lo = Math.min(lo, a);
      hi = Math.max(hi, b);
    }
  }
  if (!placed) out.push([lo, hi]);
  return out.sort((x, y) => x[0] - y[0]);
}

/** The parts of [from, to] not covered by `set`, in order. */
export function gaps(from: number, to: number, set: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let next = from;
  for (const [a, b] of set) {
    if (b < next) continue;
    if (a > to) break;
    if (a > next) out.push([next, Math.min(a - 1, to)]);
    next = Math.max(next, b + 1);
    if (next > to) break;
  }
  if (next <= to) out.push([next, to]);
  return out;
}

export function covers(set: readonly Interval[], from: number, to: number): boolean {
  return gaps(from, to, set).length === 0;
}

/** The part of `set` below `limit`. */
export function clipBelow(set: readonly Interval[], limit: number): Interval[] {
  return set.flatMap(([a, b]): Interval[] => (a >= limit ? [] : [[a, Math.min(b, limit - 1)]]));
}
