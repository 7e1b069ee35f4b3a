/**
 * Lowest-free number allocation, as the kernel's IDA gives SCSI host numbers,
 * sd disk indexes and device-mapper minors.
 */
import { SimHeap } from "./SimHeap.ts"

/** Hands out the lowest number not in use, starting at `first`. */
export class SimAlloc {
  private next: number
  private readonly freed = new SimHeap<number>((a, b) => a < b)
  private readonly freedSet = new Set<number>()

  constructor(first = 0) {
    this.next = first
  }

  alloc(): number {
    const n = this.freed.pop()
    if (n !== undefined) {
      this.freedSet.delete(n)
      return n
    }
    return this.next++
  }

  release(n: number): void {
    if (n >= this.next || this.freedSet.has(n)) return
    this.freedSet.add(n)
    this.freed.push(n)
  }
}
