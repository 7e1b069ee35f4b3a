/**
 * The one-file bundle (`node scripts/bundle.mjs --brick FILE`, built here into
 * a temporary directory from dist/src) behaves exactly as dist/src/bin.js does:
 * the same stdout, stderr and exit status, with its code cache missing, valid,
 * corrupt, unwritable or off — and the cache is written once, then only read.
 * Run as an executable, its shell prologue starts node from the program's
 * startup snapshot once a run has built it, with the same output again, and
 * not when the snapshot is not this node's, not the user's, or turned off.
 * (Needs `tsc -b` first, as `pnpm test` does.)
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { nodeFlags } from "../src/internal/StartupSnapshot.ts"
import { secrets, volume } from "./CliHarness.ts"

const repo = fileURLToPath(new URL("../../../", import.meta.url))
const binJs = fileURLToPath(new URL("../dist/src/bin.js", import.meta.url))
let dir: string
let bundle: string
let infoFile: string

/** Runs `command args` in the test's directory, with only PATH, a HOME of its own and `env`. */
const spawn = (command: string, args: ReadonlyArray<string>, env: Record<string, string>) => {
  const r = spawnSync(command, args, {
    cwd: dir,
    input: "",
    encoding: "utf8",
    timeout: 60_000,
    env: { PATH: process.env["PATH"] ?? "", HOME: path.join(dir, "home"), ...env }
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}
const node = (args: ReadonlyArray<string>, env: Record<string, string> = {}) => spawn(process.execPath, args, env)
/** Runs the bundle as an executable (its shell prologue first), traced by `sh -x` when `trace`. */
const exec = (args: ReadonlyArray<string>, env: Record<string, string>, trace = false) =>
  trace ? spawn("sh", ["-x", bundle, ...args], env) : spawn(bundle, args, env)
/** The `exec` line of the prologue that `sh -x` traced: which node it ran, with what. */
const execLine = (stderr: string) => stderr.split("\n").find((l) => l.startsWith("+ exec ")) ?? ""
const snapshots = (name: string) =>
  fs.existsSync(cacheDir(name)) ? fs.readdirSync(cacheDir(name)).filter((f) => /^snapshot-.*\.blob$/.test(f)) : []
const cacheDir = (name: string) => path.join(dir, name, "brick")
const cacheFiles = (name: string) =>
  fs.existsSync(cacheDir(name)) ? fs.readdirSync(cacheDir(name)).filter((f) => f.endsWith(".v8cache")) : []

const invocations: ReadonlyArray<ReadonlyArray<string>> = [
  ["--version"],
  ["--help"],
  ["connect", "--help"],
  ["plan", "--info", "info.json"],
  ["plan", "--info", "info.json", "--multipath", "--iface", "iface0"],
  ["connect", "--info", "missing.json"],
  ["connect", "--info", "bad.json"],
  ["nonsense"],
  []
]

beforeAll(() => {
  if (!fs.existsSync(binJs)) throw new Error(`${binJs} is missing: run \`npx tsc -b\` first`)
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "brick-bundle-"))
  bundle = path.join(dir, "brick.mjs")
  const built = spawnSync(process.execPath, ["scripts/bundle.mjs", "--brick", bundle], { cwd: repo, encoding: "utf8" })
  if (built.status !== 0) throw new Error(`bundling failed: ${built.stderr}`)
  infoFile = path.join(dir, "info.json")
  fs.writeFileSync(infoFile, JSON.stringify({ driver_volume_type: "iscsi", data: volume }))
  fs.writeFileSync(path.join(dir, "bad.json"), "{\"target_portal\": 3260}")
}, 120_000)
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe("the one-file bundle", () => {
  it("is one executable file: a shell prologue whose lines node reads as comments, then the program", () => {
    const lines = fs.readFileSync(bundle, "utf8").split("\n")
    expect(lines[0]).toBe("#!/bin/sh")
    const rest = lines.slice(1)
    const prologue = rest.slice(0, rest.findIndex((l) => !l.startsWith("':' //; ")))
    expect(prologue.length).toBeGreaterThan(0)
    expect(prologue.at(-1)).toMatch(/exec "\$\{n:-node\}" "\$0" "\$@"$/)
    expect(fs.statSync(bundle).mode & 0o111).not.toBe(0)
  })

  it.each(invocations.map((args) => [args.join(" ") || "(no arguments)", args] as const))(
    "brick %s: what bin.js prints, with the same exit status, cold and with its cache",
    (_, args) => {
      const env = { XDG_CACHE_HOME: path.join(dir, `xdg-${args.join("-")}`) }
      const expected = node([binJs, ...args])
      for (const r of [node([bundle, ...args], env), node([bundle, ...args], env)]) {
        expect(r).toEqual(expected)
        for (const secret of secrets) {
          expect(r.stdout + r.stderr).not.toContain(secret)
        }
      }
      // a successful run leaves its command's cache, a failed one none
      expect(cacheFiles(`xdg-${args.join("-")}`)).toHaveLength(expected.code === 0 ? 1 : 0)
    }
  )

  it("writes a command's cache once and then only reads it; each command has its own", () => {
    const env = { XDG_CACHE_HOME: path.join(dir, "once") }
    expect(cacheFiles("once")).toEqual([])
    expect(node([bundle, "--version"], env).code).toBe(0)
    const [file] = cacheFiles("once")
    expect(file).toContain("-brick-")
    const written = fs.statSync(path.join(cacheDir("once"), file!))
    expect(node([bundle, "--help"], env).code).toBe(0)
    expect(node([bundle, "plan", "--info", "info.json"], env).code).toBe(0)
    const after = fs.statSync(path.join(cacheDir("once"), file!))
    expect(after.mtimeMs).toBe(written.mtimeMs)
    expect(after.ino).toBe(written.ino)
    const files = cacheFiles("once")
    expect(files).toHaveLength(2)
    expect(files).toEqual(expect.arrayContaining([file!, expect.stringContaining("-plan-")]))
  })

  it("replaces a corrupt cache and runs as usual", () => {
    const env = { XDG_CACHE_HOME: path.join(dir, "corrupt") }
    const expected = node([bundle, "--help"], env)
    const [file] = cacheFiles("corrupt")
    const full = path.join(cacheDir("corrupt"), file!)
    const data = fs.readFileSync(full)
    for (let i = 64; i < data.length; i += 101) data[i] = data[i]! ^ 0xff
    fs.writeFileSync(full, data)
    expect(node([bundle, "--help"], env)).toEqual(expected)
    expect(fs.readFileSync(full).equals(data)).toBe(false)
    expect(node([bundle, "--help"], env)).toEqual(expected)
  })

  it("runs as usual where no cache can be written, and writes none when turned off", () => {
    fs.writeFileSync(path.join(dir, "plain-file"), "")
    const expected = node([binJs, "--version"])
    expect(node([bundle, "--version"], { XDG_CACHE_HOME: path.join(dir, "plain-file") })).toEqual(expected)
    expect(node([bundle, "--version"], { XDG_CACHE_HOME: path.join(dir, "off"), BRICK_CODE_CACHE: "0" })).toEqual(
      expected
    )
    expect(cacheFiles("off")).toEqual([])
  })

  describe("run as an executable, from its startup snapshot", () => {
    const snapEnv = () => ({ XDG_CACHE_HOME: path.join(dir, "snap") })

    it("builds the snapshot after a first successful run, then starts from it with bin.js's output", async () => {
      const first = exec(["--version"], snapEnv())
      expect(first).toEqual(node([binJs, "--version"]))
      const deadline = Date.now() + 90_000
      while (snapshots("snap").length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
      const [blob] = snapshots("snap")
      expect(blob).toMatch(new RegExp(`^snapshot-[0-9a-f]{24}-${os.hostname().replace(/\./g, "\\.")}\\.blob$`))
      const full = path.join(cacheDir("snap"), blob!)
      // once the builder is done, nothing of its work is left beside the snapshot (warm-up root, entry, temporary)
      while (fs.existsSync(`${full}.building`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      expect(fs.readdirSync(cacheDir("snap")).filter((f) => f.startsWith(`${blob}.`))).toEqual([])
      expect(fs.statSync(full).mode & 0o077).toBe(0)
      // its mtime is the node binary's: that is how the prologue knows it is this node's
      expect(Math.trunc(fs.statSync(full).mtimeMs / 1000)).toBe(
        Math.trunc(fs.statSync(process.execPath).mtimeMs / 1000)
      )
      // run with the V8 flags it was built with (node refuses the snapshot under others, with exit 14)
      expect(execLine(exec(["--version"], snapEnv(), true).stderr)).toContain(
        `${nodeFlags.join(" ")} --snapshot-blob ${full} -- --version`
      )
      expect(nodeFlags.length).toBeGreaterThan(0)
      for (const args of invocations) {
        const r = exec(args, snapEnv())
        expect(r, args.join(" ")).toEqual(node([binJs, ...args]))
        for (const secret of secrets) expect(r.stdout + r.stderr).not.toContain(secret)
      }
    }, 150_000)

    it("does not start from a snapshot of another node build, of another user, or with NODE_OPTIONS or the cache off", () => {
      const [blob] = snapshots("snap")
      expect(blob).toBeDefined()
      const full = path.join(cacheDir("snap"), blob!)
      const expected = node([binJs, "--version"])
      const viaBundle = (r: { stderr: string }) => {
        expect(execLine(r.stderr)).not.toContain("--snapshot-blob")
        expect(execLine(r.stderr)).toContain(bundle)
      }
      const check = (extra: Record<string, string>) => {
        const traced = exec(["--version"], { ...snapEnv(), ...extra }, true)
        viaBundle(traced)
        expect(exec(["--version"], { ...snapEnv(), ...extra })).toEqual(expected)
      }
      check({ NODE_OPTIONS: "--no-warnings" })
      check({ BRICK_CODE_CACHE: "0" })
      const { atime, mtime } = fs.statSync(full)
      fs.utimesSync(full, atime, new Date(mtime.getTime() - 86_400_000))
      check({})
      // back to node's mtime to the nanosecond, as the builder sets it (a Date has ms)
      expect(spawnSync("touch", ["-r", process.execPath, full]).status).toBe(0)
      if (process.getuid?.() === 0) {
        fs.chownSync(full, 65534, 65534)
        check({})
        fs.chownSync(full, 0, 0)
      }
      expect(execLine(exec(["--version"], snapEnv(), true).stderr)).toContain("--snapshot-blob")
    })
  })
})
