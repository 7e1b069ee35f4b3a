/**
 * A binary min-heap: the simulator's event queue and its lowest-free number
 * allocators both need "smallest first" in O(log n).
 */

/** A min-heap ordered by `less`. */
export class SimHeap<A> {
  private readonly items: Array<A> = []
  constructor(private readonly less: (a: A, b: A) => boolean) {}

  get size(): number {
    return this.items.length
  }

  /** The smallest item, without removing it. */
  peek(): A | undefined {
    return this.items[0]
  }

  push(item: A): void {
    const xs = this.items
    xs.push(item)
    let i = xs.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.less(xs[i]!, xs[p]!)) break
      ;[xs[i], xs[p]] = [xs[p]!, xs[i]!]
      i = p
    }
  }

  /** Removes and returns the smallest item. */
  pop(): A | undefined {
    const xs = this.items
    const top = xs[0]
    const last = xs.pop()
    if (xs.length > 0 && last !== undefined) {
      xs[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < xs.length && this.less(xs[l]!, xs[m]!)) m = l
        if (r < xs.length && this.less(xs[r]!, xs[m]!)) m = r
        if (m === i) break
        ;[xs[i], xs[m]] = [xs[m]!, xs[i]!]
        i = m
      }
    }
    return top
  }
}
