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

  /** Adds `name` (no-op when present). */
  add(name: string): void {
    const i = this.indexOf(name)
    if (this.sorted[i] !== name) this.sorted.splice(i, 0, name)
  }

  /** Removes `name` (no-op when absent). */
  delete(name: string): void {
    const i = this.indexOf(name)
    if (this.sorted[i] === name) this.sorted.splice(i, 1)
  }
}

/** A Map with string keys that also keeps its keys sorted (`sortedKeys`), however it is changed. */
export class SimSortedMap<V> extends Map<string, V> {
  private readonly index = new SimSortedNames()

  /** The keys, sorted (read-only: copy before changing). */
  get sortedKeys(): ReadonlyArray<string> {
    return this.index.names
  }

  override set(key: string, value: V): this {
    if (this.index !== undefined && !this.has(key)) this.index.add(key)
    return super.set(key, value)
  }

  override delete(key: string): boolean {
    this.index.delete(key)
    return super.delete(key)
  }

  override clear(): void {
    for (const key of this.index.names.slice()) this.index.delete(key)
    super.clear()
  }
}
