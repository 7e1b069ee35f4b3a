/**
 * V8's code cache for the bundled program (Node 20 has no compile cache for
 * modules): the bytecode of a finished run, kept in a file and handed back to
 * V8 the next time, so a start parses and compiles (almost) nothing.
 *
 * A cache file is named after the program's content hash, the command, the
 * Node version, the architecture and the flags, and starts with the MD5 of its
 * data (V8 itself checks only lengths and versions, and aborts the process on
 * corrupt code; MD5 is the cheapest digest here under emulation, and the
 * directory check, not the digest, keeps others out): a changed bundle,
 * another Node, a torn or corrupt file are misses, never wrong code.
 * The directory is used only when it belongs to this user and nobody else
 * can write to it. Every failure to read or write is a miss: the cache can
 * make a start slower, never break it.
 */
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const checksumLength = 16
const suffix = ".v8cache"

/** `$XDG_CACHE_HOME/brick`, else `~/.cache/brick`; none when neither is an absolute path. */
export const userDirectory = (env: NodeJS.ProcessEnv): string | undefined => {
  const xdg = env["XDG_CACHE_HOME"]
  if (xdg !== undefined && path.isAbsolute(xdg)) return path.join(xdg, "brick")
  const home = env["HOME"]
  return home !== undefined && path.isAbsolute(home) ? path.join(home, ".cache", "brick") : undefined
}

/** Where the cache lives: `$XDG_CACHE_HOME/brick`, `~/.cache/brick`, or `<tmpdir>/brick-<uid>`; none when disabled. */
export const directory = (env: NodeJS.ProcessEnv = process.env): string | undefined =>
  env["BRICK_CODE_CACHE"] === "0"
    ? undefined
    : userDirectory(env) ?? path.join(os.tmpdir(), `brick-${process.getuid?.() ?? "user"}`)

/**
 * The cache file of a program (by its content hash) for one of its commands (each command caches
 * the code it ran), on this Node, architecture and command-line flags (V8 refuses code made under
 * other flags: runs with and without a flag must not overwrite each other's file).
 */
export const fileName = (hash: string, command: string, env: NodeJS.ProcessEnv = process.env): string =>
  `${hash}-${command}-node${process.versions.node}-${process.arch}-${
    stringHash(JSON.stringify([process.execArgv, env["NODE_OPTIONS"] ?? ""]))
  }${suffix}`

/** A short hash of a short text (FNV-1a, 32 bits). */
const stringHash = (text: string): string => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return (h >>> 0).toString(16).padStart(8, "0")
}

/** Whether `dir` is a directory of this user that no one else may write to. */
export const isPrivate = (dir: string): boolean => {
  const stat = fs.statSync(dir, { throwIfNoEntry: false })
  if (stat === undefined || !stat.isDirectory()) return false
  const uid = process.getuid?.()
  return (uid === undefined || stat.uid === uid) && (stat.mode & 0o022) === 0
}

const checksum = (data: Uint8Array): Buffer => crypto.createHash("md5").update(data).digest()

/** The cached data in `dir/file`, or undefined (absent, unreadable, corrupt, or the directory is not private). */
export const read = (dir: string, file: string): Buffer | undefined => {
  try {
    if (!isPrivate(dir)) return undefined
    const content = fs.readFileSync(path.join(dir, file))
    if (content.length <= checksumLength) return undefined
    const data = content.subarray(checksumLength)
    return checksum(data).equals(content.subarray(0, checksumLength)) ? data : undefined
  } catch {
    return undefined
  }
}

/** How many cache files a directory keeps (a file per command; several installs of brick may share it). */
export const kept = 16

/**
 * Writes `data` as `dir/file` atomically (a temporary file renamed over it)
 * and removes all but the `kept` newest cache files there (older bundles or
 * Node versions). Returns whether it was written; it never throws.
 */
export const write = (dir: string, file: string, data: Uint8Array): boolean => {
  const temporary = path.join(dir, `.${file}.${process.pid}.tmp`)
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    if (!isPrivate(dir)) return false
    fs.writeFileSync(temporary, Buffer.concat([checksum(data), data]), { mode: 0o600 })
    fs.renameSync(temporary, path.join(dir, file))
  } catch {
    ignoreErrors(() => fs.rmSync(temporary, { force: true }))
    return false
  }
  ignoreErrors(() => {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(suffix))
      .map((f) => ({ f, mtime: fs.statSync(path.join(dir, f)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime)
    for (const { f } of files.slice(kept)) fs.rmSync(path.join(dir, f), { force: true })
  })
  return true
}

const ignoreErrors = (f: () => void): void => {
  try {
    f()
  } catch {
    // a file that cannot be removed costs space only
  }
}
