/**
 * A set of directory entry names kept sorted as they come and go, so a
 * listing of a large directory (/sys/class/iscsi_session, /dev/disk/by-path
 * with 1,000 other volumes) is a copy, not a rebuild and a sort.
 */

/** Names in ascending code-unit order (the order `Array.prototype.sort` gives). */
export class SimSortedNames {
  private readonly sorted: Array<string> = []

  /** The names, sorted (read-only: copy before changing). */
  get names(): ReadonlyArray<string> {
    return this.sorted
  }

  private indexOf(name: string): number {
    let lo = 0
    let hi = this.sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.sorted[mid]! < name) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Where `name` is, or would go (binary search). */
  position(name: string): number {
    return this.indexOf(name)
  }

  /** Adds `name` (no-op when present); its position, or -1 when it was there. */
  add(name: string): number {
    const i = this.indexOf(name)
    if (this.sorted[i] === name) return -1
    this.sorted.splice(i, 0, name)
    return i
  }

  /** Removes `name` (no-op when absent); the position it had, or -1. */
  delete(name: string): number {
    const i = this.indexOf(name)
    if (this.sorted[i] !== name) return -1
    this.sorted.splice(i, 1)
    return i
  }
}

/** A list of `f(value)` in key order, kept up to date as the map changes. */
interface Derived<V> {
  readonly name: string
  readonly f: (value: V) => unknown
  readonly items: Array<unknown>
}

/** A Map with string keys that also keeps its keys sorted (`sortedKeys`), however it is changed. */
export class SimSortedMap<V> extends Map<string, V> {
  private readonly index = new SimSortedNames()
  private readonly derivations: Array<Derived<V>> = []

  /** The keys, sorted (read-only: copy before changing). */
  get sortedKeys(): ReadonlyArray<string> {
    return this.index.names
  }

  /**
   * `f` of every value, in key order (read-only: copy before changing): built
   * on the first call for `name`, then kept up to date by `set` and
   * `delete`, so a listing of a large map (iscsid's node records on a host
   * with thousands of volumes) costs a copy, not a call per entry. `f` must
   * depend only on what a value never changes; later calls with the same
   * `name` get the list the first one's `f` keeps (so every service instance
   * shares one).
   */
  derived<R>(name: string, f: (value: V) => R): ReadonlyArray<R> {
    let d = this.derivations.find((x) => x.name === name)
    if (d === undefined) {
      d = { name, f, items: this.index.names.map((k) => f(super.get(k)!)) }
      this.derivations.push(d)
    }
    return d.items as ReadonlyArray<R>
  }

  override set(key: string, value: V): this {
    // `index` is undefined while Map's constructor runs (it calls set for initial entries)
    if (this.index !== undefined) {
      const fresh = !this.has(key)
      const i = fresh ? this.index.add(key) : this.index.position(key)
      for (const d of this.derivations) {
        if (fresh) d.items.splice(i, 0, d.f(value))
        else d.items[i] = d.f(value)
      }
    }
    return super.set(key, value)
  }

  override delete(key: string): boolean {
    const i = this.index.delete(key)
    if (i >= 0) { for (const d of this.derivations) d.items.splice(i, 1) }
    return super.delete(key)
  }

  override clear(): void {
    for (const key of this.index.names.slice()) this.index.delete(key)
    for (const d of this.derivations) d.items.length = 0
    super.clear()
  }
}
