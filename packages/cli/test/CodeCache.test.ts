/**
 * The code cache of the one-file bundle: a program compiled through it runs
 * the same whether its cache is missing, valid, corrupt, stale, unwritable or
 * in a directory others could write to; a valid cache is used, a bad one never.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import * as CodeCache from "../src/internal/CodeCache.ts"
import * as Launcher from "../src/internal/Launcher.ts"

const program = (
  hash: string,
  body = "module.exports = { answer: 6 * 7, add: (a, b) => a + b, file: __filename }"
) => ({
  source: `"use strict";\n${body}\n`,
  hash
})

let root: string
let dir: string
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "brick-codecache-"))
  dir = path.join(root, "cache", "brick")
})
afterEach(() => fs.rmSync(root, { recursive: true, force: true }))

const runOnce = (p: ReturnType<typeof program>, cacheDir: string | undefined = dir, command = "connect") => {
  const filename = path.join(root, "brick.mjs")
  const compiled = Launcher.compile(p, filename, cacheDir, command)
  const exports = Launcher.run(compiled, filename) as { answer: number; add: (a: number, b: number) => number }
  return { compiled, exports, saved: Launcher.save(compiled, p, cacheDir, command) }
}
const name = (hash: string, command = "connect") => CodeCache.fileName(hash, command)
const cacheFile = (hash: string, command = "connect") => path.join(dir, name(hash, command))

describe("the code cache", () => {
  it("is written on a miss, private, and used by the next run", () => {
    const first = runOnce(program("aaaa"))
    expect(first.compiled.cached).toBe(false)
    expect(first.exports.answer).toBe(42)
    expect(first.saved).toBe(true)
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700)
    expect(fs.statSync(cacheFile("aaaa")).mode & 0o777).toBe(0o600)
    const second = runOnce(program("aaaa"))
    expect(second.compiled.cached).toBe(true)
    expect(second.saved).toBe(false)
    expect(second.exports.answer).toBe(42)
    expect(second.exports.add(2, 3)).toBe(5)
  })

  it("is a miss for another program (hash) and never runs another program's code", () => {
    runOnce(program("aaaa"))
    const other = runOnce(program("bbbb", "module.exports = { answer: 7 }"))
    expect(other.compiled.cached).toBe(false)
    expect(other.exports.answer).toBe(7)
    // the same name with another text: V8 refuses the code, the new text runs
    fs.copyFileSync(cacheFile("aaaa"), path.join(root, "a-copy"))
    fs.copyFileSync(path.join(root, "a-copy"), cacheFile("cccc"))
    const stale = runOnce(program("cccc", "module.exports = { answer: 1 }"))
    expect(stale.compiled.cached).toBe(false)
    expect(stale.exports.answer).toBe(1)
  })

  it("ignores a corrupt or truncated file (V8 would crash on corrupt code) and rewrites it", () => {
    runOnce(program("aaaa"))
    const good = fs.readFileSync(cacheFile("aaaa"))
    const corrupt = Buffer.from(good)
    for (let i = 40; i < corrupt.length; i += 97) corrupt[i] = corrupt[i]! ^ 0x5a
    fs.writeFileSync(cacheFile("aaaa"), corrupt)
    expect(CodeCache.read(dir, name("aaaa"))).toBeUndefined()
    const after = runOnce(program("aaaa"))
    expect(after.compiled.cached).toBe(false)
    expect(after.exports.answer).toBe(42)
    expect(after.saved).toBe(true)
    expect(CodeCache.read(dir, name("aaaa"))).toBeDefined()
    fs.writeFileSync(cacheFile("aaaa"), good.subarray(0, good.length >> 1))
    expect(CodeCache.read(dir, name("aaaa"))).toBeUndefined()
    fs.writeFileSync(cacheFile("aaaa"), "")
    expect(runOnce(program("aaaa")).exports.answer).toBe(42)
  })

  it("runs without a cache where none can be written", () => {
    fs.writeFileSync(path.join(root, "file"), "not a directory")
    const unwritable = path.join(root, "file", "brick")
    const r = runOnce(program("aaaa"), unwritable)
    expect(r.exports.answer).toBe(42)
    expect(r.saved).toBe(false)
    expect(CodeCache.read(unwritable, name("aaaa"))).toBeUndefined()
  })

  it("neither reads nor writes a directory that others can write to", () => {
    runOnce(program("aaaa"))
    fs.chmodSync(dir, 0o777)
    expect(CodeCache.read(dir, name("aaaa"))).toBeUndefined()
    expect(runOnce(program("aaaa")).compiled.cached).toBe(false)
    expect(CodeCache.write(dir, name("bbbb"), new Uint8Array([1, 2, 3]))).toBe(false)
    expect(fs.existsSync(cacheFile("bbbb"))).toBe(false)
  })

  it.skipIf(process.getuid?.() !== 0)("ignores a directory of another user (needs root to chown)", () => {
    runOnce(program("aaaa"))
    fs.chownSync(dir, 65534, 65534)
    expect(CodeCache.read(dir, name("aaaa"))).toBeUndefined()
    expect(runOnce(program("aaaa")).compiled.cached).toBe(false)
  })

  it("keeps the newest files only", () => {
    const names = Array.from({ length: CodeCache.kept + 2 }, (_, i) => `h${i}`)
    names.forEach((h, i) => {
      expect(CodeCache.write(dir, name(h), new Uint8Array([i]))).toBe(true)
      const t = new Date(Date.now() - (names.length - i) * 60_000)
      fs.utimesSync(cacheFile(h), t, t)
    })
    expect(fs.readdirSync(dir).sort()).toEqual(names.slice(-CodeCache.kept).map((h) => name(h)).sort())
  })

  it("names the file after the program, the command, the Node version and the flags", () => {
    expect(name("aaaa")).not.toBe(name("bbbb"))
    expect(name("aaaa", "connect")).not.toBe(name("aaaa", "brick"))
    expect(name("aaaa")).toContain(process.versions.node)
    expect(CodeCache.fileName("aaaa", "brick", { NODE_OPTIONS: "--max-old-space-size=100" })).not.toBe(
      CodeCache.fileName("aaaa", "brick", {})
    )
  })

  it("keeps a cache per command: another command's code is not used", () => {
    runOnce(program("aaaa"), dir, "plan")
    expect(fs.existsSync(cacheFile("aaaa", "plan"))).toBe(true)
    const connect = runOnce(program("aaaa"), dir, "connect")
    expect(connect.compiled.cached).toBe(false)
    expect(runOnce(program("aaaa"), dir, "plan").compiled.cached).toBe(true)
    expect(runOnce(program("aaaa"), dir, "connect").compiled.cached).toBe(true)
  })

  it("tells the command from argv: the first word naming one; brick for help, version and usage", () => {
    const commands = ["connect", "disconnect", "plan"]
    expect(Launcher.commandOf(["connect", "--info", "x"], commands)).toBe("connect")
    expect(Launcher.commandOf(["--root", "/r", "--iface", "plan", "disconnect"], commands)).toBe("plan")
    expect(Launcher.commandOf(["--version"], commands)).toBe("brick")
    expect(Launcher.commandOf(["connect", "--help"], commands)).toBe("brick")
    expect(Launcher.commandOf([], commands)).toBe("brick")
  })

  it("lives under XDG_CACHE_HOME, else ~/.cache, else the temporary directory; BRICK_CODE_CACHE=0 turns it off", () => {
    expect(CodeCache.directory({ XDG_CACHE_HOME: "/x/cache", HOME: "/home/u" })).toBe("/x/cache/brick")
    expect(CodeCache.directory({ XDG_CACHE_HOME: "relative", HOME: "/home/u" })).toBe("/home/u/.cache/brick")
    expect(CodeCache.directory({})).toBe(path.join(os.tmpdir(), `brick-${process.getuid?.() ?? "user"}`))
    expect(CodeCache.directory({ BRICK_CODE_CACHE: "0", HOME: "/home/u" })).toBeUndefined()
  })
})
