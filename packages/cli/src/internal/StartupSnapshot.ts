/**
 * A startup snapshot of the bundled program (`node --build-snapshot`): the
 * heap after its modules ran and a few commands warmed it, which a start
 * deserializes instead of evaluating the program (BENCHMARKS.md, "CLI start").
 *
 * The bundle's first lines are a shell prologue (scripts/bundle.mjs) that
 * runs `node --snapshot-blob FILE -- ARGS` when FILE is current, else
 * `node brick.mjs ARGS`. FILE is `snapshot-<program hash>-<host name>.blob` (the hash
 * covers the program, the launcher and `nodeFlags`: scripts/program-hash.mjs) in
 * the code cache's directory under `$XDG_CACHE_HOME` or `$HOME` (never a
 * shared temporary directory), owned by the user, its mtime that of the node
 * binary it was built by (Node refuses a snapshot of another build, with
 * exit status 14, which is brick's too; the host name keeps a shared home's
 * hosts, whose CPUs may differ, apart). With NODE_OPTIONS set, node's flags
 * may differ from the build's, so the prologue does not use it.
 *
 * Node runs the snapshot with `nodeFlags`, which it is built with too (node
 * refuses a snapshot made under other V8 flags).
 *
 * It is built in the background after a successful run without it: by a
 * detached process, one per host and program at a time, checked by running
 * `--version` from it before it is renamed into place. Any failure leaves
 * no snapshot: starts stay as they were. Everything a build makes lives
 * beside the snapshot as `<snapshot>.<pid>.tmp|cjs|warm` (the warm-up's
 * commands run in the `.warm` directory, named to them by BRICK_WARM_ROOT):
 * what a builder killed midway left is removed by the next build.
 */
import type * as ChildProcess from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { isPrivate, userDirectory } from "./CodeCache.ts"

/**
 * The V8 flags a snapshot is built and run with: no optimizing compiler (TurboFan) and no baseline
 * compiler (Sparkplug). A command lives for seconds at most and most of its code runs once: compiling
 * it again costs more than it returns (BENCHMARKS.md, "CLI start").
 */
export const nodeFlags: ReadonlyArray<string> = ["--no-opt", "--no-sparkplug"]

/**
 * Where snapshots live: the code cache's directory when it is under `$XDG_CACHE_HOME` or `$HOME`
 * (the prologue looks nowhere else); none with `BRICK_CODE_CACHE=0` or NODE_OPTIONS set.
 */
export const directory = (env: NodeJS.ProcessEnv = process.env): string | undefined =>
  env["BRICK_CODE_CACHE"] === "0" || (env["NODE_OPTIONS"] ?? "") !== "" ? undefined : userDirectory(env)

/** The snapshot file of a program for this host; none when the host name cannot be part of a file name. */
export const fileName = (hash: string, host: string = os.hostname()): string | undefined =>
  /^[A-Za-z0-9._-]{1,64}$/.test(host) ? `snapshot-${hash}-${host}.blob` : undefined

/** Whether `file` is a snapshot this node made: ours, and its mtime that of `node`, to the nanosecond (as the prologue compares). */
export const isCurrent = (file: string, node: string = process.execPath): boolean => {
  try {
    const blob = fs.statSync(file, { bigint: true })
    const uid = process.getuid?.()
    return (uid === undefined || blob.uid === BigInt(uid)) &&
      blob.mtimeNs === fs.statSync(node, { bigint: true }).mtimeNs
  } catch {
    return false
  }
}

/** How long a build may hold its marker before another may start (a builder killed midway). */
const staleBuildMs = 10 * 60_000

/** Takes the build marker `file` (exclusive create; a stale one is replaced). */
const claim = (file: string): boolean => {
  try {
    fs.writeFileSync(file, String(process.pid), { flag: "wx", mode: 0o600 })
    return true
  } catch {
    try {
      if (Date.now() - fs.statSync(file).mtimeMs < staleBuildMs) return false
      fs.rmSync(file, { force: true })
      fs.writeFileSync(file, String(process.pid), { flag: "wx", mode: 0o600 })
      return true
    } catch {
      return false
    }
  }
}

/**
 * Removes what a build of `blob` killed midway left beside it: its
 * temporary snapshot, entry script and warm-up root (`<blob>.<pid>.tmp`,
 * `.cjs`, `.warm`). Only for the holder of the build marker.
 */
export const removeLeftovers = (blob: string): void => {
  const dir = path.dirname(blob)
  const prefix = `${path.basename(blob)}.`
  let names: ReadonlyArray<string> = []
  try {
    names = fs.readdirSync(dir)
  } catch {
    return
  }
  for (const n of names) {
    if (!n.startsWith(prefix) || !/^\d+\.(tmp|cjs|warm)$/.test(n.slice(prefix.length))) continue
    try {
      fs.rmSync(path.join(dir, n), { recursive: true, force: true })
    } catch {
      // the next build tries again
    }
  }
}

/**
 * Starts building the snapshot of the program `hash` into `dir`, in a
 * detached process, unless it is current or being built. `entry` is the
 * program as node's snapshot builder runs it: a script whose `require` gives
 * built-ins only. Never throws; returns whether a build was started.
 */
export const buildInBackground = (dir: string, hash: string, entry: () => string): boolean => {
  const name = fileName(hash)
  if (name === undefined) return false
  const blob = path.join(dir, name)
  if (isCurrent(blob)) return false
  const marker = `${blob}.building`
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    if (!isPrivate(dir)) return false
  } catch {
    return false
  }
  if (!claim(marker)) return false
  try {
    removeLeftovers(blob)
    const script = `${blob}.${process.pid}.cjs`
    fs.writeFileSync(script, entry(), { mode: 0o600 })
    // required here, not imported: a start that builds nothing does not load child_process
    const { spawn } = createRequire(import.meta.url)("node:child_process") as typeof ChildProcess
    const child = spawn(process.execPath, ["-e", builder, blob, script, marker, JSON.stringify(nodeFlags)], {
      detached: true,
      stdio: "ignore"
    })
    child.on("error", () => undefined)
    child.unref()
    return true
  } catch {
    fs.rmSync(marker, { force: true })
    return false
  }
}

/**
 * The builder (`node -e builder BLOB ENTRY MARKER FLAGS`): builds into a
 * temporary file with the node flags FLAGS (JSON), its warm-up in
 * `BLOB.<pid>.warm`, runs `--version` from it with them (which must print `brick V`), gives it the node binary's mtime,
 * renames it into place, removes other programs' snapshots of this host
 * (keeping the 4 newest), and always removes its entry, warm-up root and marker.
 */
const builder = `
const fs = require("fs"), path = require("path"), { spawnSync } = require("child_process")
const [blob, entry, marker] = process.argv.slice(1, 4), flags = JSON.parse(process.argv[4])
const temporary = blob + "." + process.pid + ".tmp", warm = blob + "." + process.pid + ".warm"
try {
  const env = { ...process.env, BRICK_WARM_ROOT: warm }
  const built = spawnSync(process.execPath, [...flags, "--snapshot-blob", temporary, "--build-snapshot", entry], { stdio: "ignore", timeout: 300000, env })
  const ran = built.status === 0 && spawnSync(process.execPath, [...flags, "--snapshot-blob", temporary, "--", "--version"], { encoding: "utf8", timeout: 60000 })
  if (ran && ran.status === 0 && /^brick \\S+\\n$/.test(ran.stdout)) {
    fs.chmodSync(temporary, 0o600)
    // node's mtime to the nanosecond (the prologue's test -nt/-ot may compare nanoseconds; a JS Date has ms)
    if (spawnSync("touch", ["-r", process.execPath, temporary]).status !== 0) {
      const node = fs.statSync(process.execPath)
      fs.utimesSync(temporary, node.atime, node.mtime)
    }
    fs.renameSync(temporary, blob)
    const host = path.basename(blob).replace(/^snapshot-[^-]+-/, "")
    const dir = path.dirname(blob)
    const others = fs.readdirSync(dir).filter((f) => f.startsWith("snapshot-") && f.endsWith("-" + host))
      .map((f) => ({ f, ctime: fs.statSync(path.join(dir, f)).ctimeMs })).sort((a, b) => b.ctime - a.ctime)
    for (const { f } of others.slice(4)) fs.rmSync(path.join(dir, f), { force: true })
  }
} catch {
} finally {
  for (const f of [temporary, warm, entry, marker]) { try { fs.rmSync(f, { recursive: true, force: true }) } catch {} }
}
`
