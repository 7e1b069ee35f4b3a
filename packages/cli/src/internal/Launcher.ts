/**
 * How the one-file bundle (dist/brick.mjs, scripts/bundle.mjs) starts: it
 * carries the whole `brick` program (bin.ts and everything it imports) as one
 * CommonJS text, compiles it with V8's code cache (internal/CodeCache.ts) and
 * runs it. A start then deserializes bytecode instead of parsing and
 * compiling ~1 MB of JavaScript. Each command has its own cache, holding the
 * code that command ran: when it was missing or refused, the bytecode of a
 * successful run (exit status 0) is saved as the process exits.
 */
import { createRequire } from "node:module"
import * as path from "node:path"
import * as vm from "node:vm"
import * as CodeCache from "./CodeCache.ts"
import * as StartupSnapshot from "./StartupSnapshot.ts"

/** A bundled CommonJS program and its hash (of its text, the launcher's and the snapshot's node flags: scripts/program-hash.mjs). */
export interface Program {
  readonly source: string
  readonly hash: string
}

/** The program wrapped as CommonJS modules are: one function of the module's free variables. */
export const wrap = (source: string): string =>
  `(function (exports, require, module, __filename, __dirname) {${source}\n})`

/** The program as node's snapshot builder runs it: a script whose `require` gives built-ins only. */
export const snapshotEntry = (source: string): string =>
  `${wrap(source)}({}, require, { exports: {} }, "brick.js", "/")\n`

/** The compiled program, and whether its code came from the cache. */
export interface Compiled {
  readonly script: vm.Script
  readonly cached: boolean
}

const builtIns = ["--help", "-h", "--version", "--completions"]

/** The command an argv runs: its first word that names one of `commands`, else (or with --help, --version) `brick`. */
export const commandOf = (argv: ReadonlyArray<string>, commands: ReadonlyArray<string>): string =>
  argv.some((word) => builtIns.includes(word)) ? "brick" : argv.find((word) => commands.includes(word)) ?? "brick"

/** Compiles `program` as `filename`, with the cached code of `command` in `dir` when there is valid code for it. */
export const compile = (program: Program, filename: string, dir: string | undefined, command: string): Compiled => {
  const cachedData = dir === undefined ? undefined : CodeCache.read(dir, CodeCache.fileName(program.hash, command))
  const script = new vm.Script(wrap(program.source), {
    filename,
    ...(cachedData === undefined ? {} : { cachedData })
  })
  return { script, cached: cachedData !== undefined && script.cachedDataRejected !== true }
}

/** Saves the code compiled so far as `command`'s (call it once the program ran). Never throws. */
export const save = (compiled: Compiled, program: Program, dir: string | undefined, command: string): boolean => {
  if (dir === undefined || compiled.cached) return false
  try {
    return CodeCache.write(dir, CodeCache.fileName(program.hash, command), compiled.script.createCachedData())
  } catch {
    return false
  }
}

/** Runs the compiled program as the module `filename`; returns its `module.exports`. */
export const run = (compiled: Compiled, filename: string): unknown => {
  const module = { exports: {} }
  const main = compiled.script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: { exports: unknown },
    filename: string,
    dirname: string
  ) => void
  main(module.exports, createRequire(filename), module, filename, path.dirname(filename))
  return module.exports
}

/**
 * Starts `program`, the bundle at `filename`, whose commands are `commands`: compiled through the
 * cache of the command its argv runs; that cache is saved at exit when it was missing and the run
 * succeeded; then too, the program's startup snapshot is built in the background when there is
 * none for this node (the bundle's shell prologue starts from it when there is).
 */
export const launch = (program: Program, filename: string, commands: ReadonlyArray<string>): void => {
  const dir = CodeCache.directory()
  const snapshots = StartupSnapshot.directory()
  const command = commandOf(process.argv.slice(2), commands)
  const compiled = compile(program, filename, dir, command)
  process.once("exit", (code) => {
    if (code !== 0) return
    if (!compiled.cached && dir !== undefined) save(compiled, program, dir, command)
    if (snapshots !== undefined) {
      StartupSnapshot.buildInBackground(snapshots, program.hash, () => snapshotEntry(program.source))
    }
  })
  run(compiled, filename)
}
