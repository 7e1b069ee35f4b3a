/**
 * A checksummed data pattern for block devices, to tell whether what a caller
 * wrote is there: every 4 KiB block carries a magic, its volume's tag, its
 * block number (LBA), a generation and a CRC-32 of the rest, so a misplaced
 * block (another LBA or volume), a stale one (an older generation than one
 * acknowledged or already read back), a torn or corrupt one (the checksum)
 * and a lost one (zeros where a generation was acknowledged) are each told
 * apart. The state (per block: the newest generation acknowledged and the
 * newest attempted) travels as JSON between the processes that write and
 * verify. Reads and writes go through O_DIRECT with page-aligned buffers (a
 * WebAssembly memory: dm devices refuse misaligned direct I/O with EINVAL).
 */
import * as fs from "node:fs"
import * as zlib from "node:zlib"

export const blockSize = 4096
/** "brickpat", little-endian */
const magic = 0x7461706b63697262n
const headerEnd = 24
const crcAt = blockSize - 4

/** What each block of a volume may hold: a generation in [acked, attempted] (0 = never written: zeros). */
export interface PatternState {
  readonly volume: number
  readonly blocks: number
  readonly acked: Array<number>
  readonly attempted: Array<number>
}

export const emptyState = (volume: number, blocks: number): PatternState => ({
  volume,
  blocks,
  acked: Array.from({ length: blocks }, () => 0),
  attempted: Array.from({ length: blocks }, () => 0)
})

/** A volume's tag from its name (the pattern of one volume never verifies on another). */
export const volumeTag = (name: string) => zlib.crc32(name) >>> 0

/** Fills `block` (4 KiB) with the content of `lba` at generation `gen` of `volume`. */
export const encode = (block: Buffer, volume: number, lba: number, gen: number) => {
  block.writeBigUInt64LE(magic, 0)
  block.writeUInt32LE(volume, 8)
  block.writeUInt32LE(gen, 12)
  block.writeBigUInt64LE(BigInt(lba), 16)
  // the payload: a xorshift stream seeded by (volume, lba, gen)
  let x = (volume ^ Math.imul(lba + 1, 0x9e3779b1) ^ Math.imul(gen + 1, 0x85ebca6b)) | 0 || 1
  for (let o = headerEnd; o < crcAt; o += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    block.writeInt32LE(x, o)
  }
  block.writeUInt32LE(zlib.crc32(block.subarray(0, crcAt)) >>> 0, crcAt)
}

/** What a block read back holds. */
export type Content =
  | { readonly _tag: "Zero" }
  | { readonly _tag: "Corrupt" }
  | { readonly _tag: "Pattern"; readonly volume: number; readonly lba: number; readonly gen: number }

export const decode = (block: Buffer): Content => {
  if (block.readBigUInt64LE(0) !== magic || block.readUInt32LE(crcAt) !== zlib.crc32(block.subarray(0, crcAt)) >>> 0) {
    return block.every((b) => b === 0) ? { _tag: "Zero" } : { _tag: "Corrupt" }
  }
  return {
    _tag: "Pattern",
    volume: block.readUInt32LE(8),
    gen: block.readUInt32LE(12),
    lba: Number(block.readBigUInt64LE(16))
  }
}

/** How a block read back compares with what the state allows. */
export type Verdict = "ok" | "corrupt" | "misplaced" | "stale" | "lost" | "unwritten"

/**
 * Judges block `lba` read back as `content`; a generation newer than the one
 * acknowledged becomes the acknowledged one (a later read of an older one is stale).
 */
export const judge = (state: PatternState, lba: number, content: Content): Verdict => {
  const acked = state.acked[lba]!
  const attempted = state.attempted[lba]!
  switch (content._tag) {
    case "Corrupt":
      return "corrupt"
    case "Zero":
      return acked === 0 ? "ok" : "lost"
    case "Pattern":
      if (content.volume !== state.volume || content.lba !== lba) return "misplaced"
      if (content.gen < acked) return "stale"
      if (content.gen > attempted) return "unwritten"
      state.acked[lba] = content.gen
      return "ok"
  }
}

/** Counts of verdicts, and the first bad blocks found. */
export interface Tally {
  readonly verified: number
  readonly bad: Record<Exclude<Verdict, "ok">, number>
  readonly examples: Array<string>
}
export const emptyTally = (): Tally => ({
  verified: 0,
  bad: { corrupt: 0, misplaced: 0, stale: 0, lost: 0, unwritten: 0 },
  examples: []
})
export const badCount = (t: Tally) => Object.values(t.bad).reduce((a, b) => a + b, 0)

/** The part of the WebAssembly global used here (the lib settings have no wasm types). */
declare const WebAssembly: { readonly Memory: new(descriptor: { initial: number }) => { buffer: ArrayBuffer } }

/** `count` page-aligned blocks (direct I/O through dm needs aligned memory; a wasm memory is page-aligned). */
export const alignedBlocks = (count: number): Buffer => {
  const pages = Math.ceil((count * blockSize) / 65536)
  return Buffer.from(new WebAssembly.Memory({ initial: pages }).buffer, 0, count * blockSize)
}

/** A block device opened for direct I/O, with the pattern state of its volume. */
export class PatternDevice {
  private readonly fd: number
  private readonly buffer: Buffer

  constructor(readonly device: string, readonly state: PatternState, readonly maxRun = 64) {
    this.fd = fs.openSync(device, fs.constants.O_RDWR | fs.constants.O_DIRECT)
    this.buffer = alignedBlocks(maxRun)
  }

  close() {
    fs.closeSync(this.fd)
  }

  /** Writes the next generation of blocks [lba, lba + n); throws the write's error (the blocks stay uncertain). */
  write(lba: number, n: number) {
    const { state } = this
    const gens: Array<number> = []
    for (let i = 0; i < n; i++) {
      const gen = state.attempted[lba + i]! + 1
      state.attempted[lba + i] = gen
      gens.push(gen)
      encode(this.buffer.subarray(i * blockSize, (i + 1) * blockSize), state.volume, lba + i, gen)
    }
    const written = fs.writeSync(this.fd, this.buffer, 0, n * blockSize, lba * blockSize)
    if (written !== n * blockSize) throw new Error(`short write: ${written} of ${n * blockSize} bytes at block ${lba}`)
    gens.forEach((gen, i) => (state.acked[lba + i] = gen))
  }

  /** Reads blocks [lba, lba + n) and judges each into `tally`; throws the read's error. */
  verify(lba: number, n: number, tally: Tally) {
    const read = fs.readSync(this.fd, this.buffer, 0, n * blockSize, lba * blockSize)
    if (read !== n * blockSize) throw new Error(`short read: ${read} of ${n * blockSize} bytes at block ${lba}`)
    for (let i = 0; i < n; i++) {
      const verdict = judge(this.state, lba + i, decode(this.buffer.subarray(i * blockSize, (i + 1) * blockSize)))
      ;(tally as { verified: number }).verified++
      if (verdict !== "ok") {
        tally.bad[verdict]++
        if (tally.examples.length < 10) {
          tally.examples.push(
            `${this.device} block ${lba + i}: ${verdict} (acked ${this.state.acked[lba + i]}, attempted ${
              this.state.attempted[lba + i]
            })`
          )
        }
      }
    }
  }

  /** Writes every block of the volume (the next generation of each). */
  fill() {
    for (let lba = 0; lba < this.state.blocks; lba += this.maxRun) {
      this.write(lba, Math.min(this.maxRun, this.state.blocks - lba))
    }
  }

  /** Reads and judges every block of the volume. */
  verifyAll(tally: Tally = emptyTally()) {
    for (let lba = 0; lba < this.state.blocks; lba += this.maxRun) {
      this.verify(lba, Math.min(this.maxRun, this.state.blocks - lba), tally)
    }
    return tally
  }
}

export const saveState = (file: string, state: PatternState) => fs.writeFileSync(file, JSON.stringify(state))
export const loadState = (file: string): PatternState => JSON.parse(fs.readFileSync(file, "utf8")) as PatternState
