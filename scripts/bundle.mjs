// Bundles the programs that are started as processes into one file each:
// one module to load instead of ~375, which matters where file access is
// slow (a container's overlay, the lab guest's 9p share under emulation).
//   packages/cli/dist/brick.mjs          the `brick` command (see below)
//   examples/dist/attach-detach.mjs      the attach-and-detach example (run in the lab)
//   lab/bench/dist/brick.mjs             what `pnpm bench:lab` loads of brick
// brick.mjs is a small launcher (packages/cli/src/internal/Launcher.ts) carrying the whole program
// (bin.js and what it imports) as one CommonJS text, minified and ASCII-only, that it compiles
// with V8's code cache: a start deserializes bytecode instead of compiling ~1 MB (BENCHMARKS.md,
// "CLI start"); effect's help-text measuring is made cheap (cheapTextWidths).
// `node scripts/bundle.mjs --brick FILE` builds only brick, into FILE.
import { chmodSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { Script } from "node:vm"
import { rolldown } from "rolldown"
import { programHash } from "./program-hash.mjs"

const launcher = resolve("packages/cli/dist/src/internal/Launcher.js")
const { nodeFlags } = await import(pathToFileURL(resolve("packages/cli/dist/src/internal/StartupSnapshot.js")).href)

/**
 * Two rewrites of effect's cli/CliOutput.js, where help text is measured: it creates an
 * Intl.Segmenter when the module loads (ICU setup, ~12 ms here), and it measures every string
 * grapheme by grapheme with Unicode property regexes. brick makes the segmenter on first use and
 * measures printable ASCII by its length (its width), so `--version` and `--help` touch no ICU
 * (--help: 761M -> 654M instructions, output unchanged; BENCHMARKS.md, "CLI start").
 */
const cheapTextWidths = () => {
  let applied = false
  const rewrites = [
    {
      from:
        /const graphemeSegmenter = \/\*#__PURE__\*\/\s*new Intl\.Segmenter\(undefined, \{\s*granularity: "grapheme"\s*\}\);/,
      to: "let graphemeSegmenterMade; const graphemeSegmenter = { segment: (text) => (graphemeSegmenterMade ??= " +
        "new Intl.Segmenter(undefined, { granularity: \"grapheme\" })).segment(text) };"
    },
    {
      from: /export const displayWidth = text => \{\n/,
      to: "export const displayWidth = text => {\n  if (/^[\\x20-\\x7e]*$/.test(text)) return text.length;\n"
    }
  ]
  return {
    name: "cheap-text-widths",
    transform(code, id) {
      if (!/effect[\\/]dist[\\/]cli[\\/]CliOutput\.js$/.test(id)) return null
      for (const { from } of rewrites) {
        if (!from.test(code)) throw new Error(`${id} changed (${from}): update scripts/bundle.mjs`)
      }
      applied = true
      return rewrites.reduce((text, { from, to }) => text.replace(from, to), code)
    },
    buildEnd() {
      if (!applied) throw new Error("effect's cli/CliOutput.js was not bundled: are its rewrites still needed?")
    }
  }
}

/** The whole `brick` program as one CommonJS text, checked to compile as the launcher wraps it. */
const brickProgram = async () => {
  const bundle = await rolldown({
    input: "packages/cli/dist/src/bin.js",
    platform: "node",
    logLevel: "warn",
    plugins: [cheapTextWidths()]
  })
  const { output } = await bundle.generate({ format: "cjs", codeSplitting: false, minify: true, charset: "ascii" })
  await bundle.close()
  const source = output[0].code.replace(/^#!.*\n/, "")
  if (/\bimport\s*\(/.test(source)) {
    throw new Error("the brick program has a dynamic import(), which the launcher cannot run")
  }
  const { wrap } = await import(pathToFileURL(launcher).href)
  new Script(wrap(source), { filename: "brick-program.js" })
  // every module of the launcher's directory, so a module added there is covered too
  const internal = resolve("packages/cli/dist/src/internal")
  const launcherTexts = readdirSync(internal).filter((f) => f.endsWith(".js")).sort().map((f) =>
    readFileSync(resolve(internal, f), "utf8")
  )
  return { source, hash: programHash({ source, nodeFlags, launcherTexts }) }
}

/** The names of brick's commands (each has its own code cache). */
const brickCommands = async () => {
  const { command } = await import(pathToFileURL(resolve("packages/cli/dist/src/BrickCommand.js")).href)
  return command.subcommands.flatMap((group) => group.commands.map((c) => c.name))
}

/** packages/cli/dist/brick.mjs: the launcher with the program in it. */
const brick = async (file) => {
  const program = await brickProgram()
  const commands = await brickCommands()
  if (!commands.includes("connect")) throw new Error(`brick's commands not found: ${JSON.stringify(commands)}`)
  const entry = "\0brick-entry"
  const bundle = await rolldown({
    input: entry,
    platform: "node",
    logLevel: "warn",
    plugins: [{
      name: "brick-entry",
      resolveId: (id) => (id === entry ? id : null),
      load: (id) =>
        id === entry
          ? `import { fileURLToPath } from "node:url"\nimport { launch } from ${JSON.stringify(launcher)}\nlaunch(${
            JSON.stringify(program)
          }, fileURLToPath(import.meta.url), ${JSON.stringify(commands)})\n`
          : null
    }]
  })
  const { output } = await bundle.generate({ format: "esm" })
  await bundle.close()
  writeFileSync(file, prologue(program.hash) + output[0].code.replace(/^#!.*\n/, ""))
  chmodSync(file, 0o755)
}

/**
 * The bundle's first lines: a shell script (`#!/bin/sh`) whose every line is also a JavaScript
 * directive and comment (`':' //; …`), so `node brick.mjs` runs the bundle as before while
 * `brick` runs node from the program's startup snapshot, with the flags it was built with, when a current one is there
 * (packages/cli/src/internal/StartupSnapshot.ts has the rules), else the bundle. Only shell
 * built-ins run before node: no process is started.
 */
const prologue = (hash) =>
  [
    "#!/bin/sh",
    `n=; IFS=:; for d in $PATH; do if [ -z "$n" ] && [ -f "$d/node" ] && [ -x "$d/node" ]; then n=$d/node; fi; done; unset IFS`,
    `c=; case "\${XDG_CACHE_HOME:-}" in /*) c=$XDG_CACHE_HOME/brick ;; *) case "\${HOME:-}" in /*) c=$HOME/.cache/brick ;; esac ;; esac`,
    `h=; if [ -r /proc/sys/kernel/hostname ]; then read -r h </proc/sys/kernel/hostname; fi; b=$c/snapshot-${hash}-$h.blob`,
    `if [ -n "$n" ] && [ -n "$c" ] && [ -n "$h" ] && [ "\${BRICK_CODE_CACHE:-1}" != 0 ] && [ -z "\${NODE_OPTIONS:-}" ] && [ -O "$b" ] && ! [ "$n" -nt "$b" ] && ! [ "$n" -ot "$b" ]; then exec "$n" ${
      nodeFlags.join(" ")
    } --snapshot-blob "$b" -- "$@"; fi`,
    `exec "\${n:-node}" "$0" "$@"`
  ].map((line, i) => (i === 0 ? line : `':' //; ${line}`)).join("\n") + "\n"

const others = [
  { input: "examples/dist/attach-detach.js", file: "examples/dist/attach-detach.mjs" },
  { input: "lab/bench/brick-entry.mjs", file: "lab/bench/dist/brick.mjs" }
]

const only = process.argv.indexOf("--brick")
if (only >= 0) await brick(resolve(process.argv[only + 1]))
else {
  await brick("packages/cli/dist/brick.mjs")
  for (const { input, file } of others) {
    const bundle = await rolldown({ input, platform: "node", logLevel: "warn" })
    await bundle.write({ file, format: "esm" })
    await bundle.close()
  }
}
