/**
 * The data pattern the lab's data and soak tests verify with: each kind of
 * damage (a torn, misplaced, stale, lost or foreign block) is told apart, and
 * what was written through a PatternDevice (direct I/O on a file here) verifies.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import {
  blockSize,
  decode,
  emptyState,
  emptyTally,
  encode,
  judge,
  loadState,
  PatternDevice,
  saveState,
  volumeTag
} from "./BlockPattern.ts"

const block = (volume: number, lba: number, gen: number) => {
  const b = Buffer.alloc(blockSize)
  encode(b, volume, lba, gen)
  return b
}
const stateWith = (acked: number, attempted: number) => {
  const s = emptyState(7, 4)
  s.acked[2] = acked
  s.attempted[2] = attempted
  return s
}

describe("BlockPattern", () => {
  it("a block decodes to its volume, LBA and generation; zeros decode as Zero", () => {
    expect(decode(block(7, 2, 3))).toEqual({ _tag: "Pattern", volume: 7, lba: 2, gen: 3 })
    expect(decode(Buffer.alloc(blockSize))).toEqual({ _tag: "Zero" })
  })

  it("a torn block (half of one generation, half of the next) and a flipped bit are Corrupt", () => {
    const torn = Buffer.concat([block(7, 2, 3).subarray(0, 2048), block(7, 2, 4).subarray(2048)])
    expect(decode(torn)._tag).toBe("Corrupt")
    const flipped = block(7, 2, 3)
    flipped.writeUInt8(flipped.readUInt8(1000) ^ 1, 1000)
    expect(decode(flipped)._tag).toBe("Corrupt")
  })

  it("judges: the acknowledged generation or an attempted newer one is ok; older is stale, another LBA or volume misplaced", () => {
    expect(judge(stateWith(3, 3), 2, decode(block(7, 2, 3)))).toBe("ok")
    expect(judge(stateWith(3, 5), 2, decode(block(7, 2, 5)))).toBe("ok")
    expect(judge(stateWith(3, 3), 2, decode(block(7, 2, 2)))).toBe("stale")
    expect(judge(stateWith(3, 3), 2, decode(block(7, 1, 3)))).toBe("misplaced")
    expect(judge(stateWith(3, 3), 2, decode(block(8, 2, 3)))).toBe("misplaced")
    expect(judge(stateWith(3, 3), 2, decode(block(7, 2, 4)))).toBe("unwritten")
    expect(judge(stateWith(3, 3), 2, decode(Buffer.alloc(blockSize)))).toBe("lost")
    expect(judge(stateWith(0, 0), 2, decode(Buffer.alloc(blockSize)))).toBe("ok")
  })

  it("a generation read back becomes the floor: reading an older one afterwards is stale", () => {
    const s = stateWith(3, 5)
    expect(judge(s, 2, decode(block(7, 2, 4)))).toBe("ok")
    expect(s.acked[2]).toBe(4)
    expect(judge(s, 2, decode(block(7, 2, 3)))).toBe("stale")
  })

  it("through a file with direct I/O (misaligned memory would fail with EINVAL): fill, rewrite, save, reload, verify every block; a block overwritten with an old copy is found", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "brick-pattern-"))
    try {
      const file = path.join(dir, "disk")
      fs.writeFileSync(file, Buffer.alloc(100 * blockSize))
      const state = emptyState(volumeTag("vol-a"), 100)
      const dev = new PatternDevice(file, state, 16)
      dev.fill()
      const old = fs.readFileSync(file).subarray(40 * blockSize, 41 * blockSize)
      dev.write(40, 10)
      dev.close()
      saveState(path.join(dir, "state"), state)

      const again = new PatternDevice(file, loadState(path.join(dir, "state")), 16)
      expect(again.verifyAll()).toEqual({ ...emptyTally(), verified: 100 })
      again.close()

      const fd = fs.openSync(file, "r+")
      fs.writeSync(fd, old, 0, blockSize, 40 * blockSize)
      fs.closeSync(fd)
      const reread = new PatternDevice(file, loadState(path.join(dir, "state")), 16)
      const damaged = reread.verifyAll()
      reread.close()
      expect(damaged.verified).toBe(100)
      expect(damaged.bad).toEqual({ corrupt: 0, misplaced: 0, stale: 1, lost: 0, unwritten: 0 })
      expect(damaged.examples[0]).toMatch(/block 40: stale/)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
