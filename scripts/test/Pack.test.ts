// The packages as another project gets them: `pnpm pack` of every package (its prepack builds
// first), installed into a project outside the workspace with the network off (`--offline`:
// effect and the rest come from the store and metadata cache `pnpm install` filled; where the
// host allows it the install also runs in a network namespace of its own), a TypeScript consumer
// type-checked against the packed declarations and run on the simulated host, and the packed
// `brick` run (also from a read-only install: its code cache goes to the user's cache directory or nowhere).
import { spawnSync, type SpawnSyncReturns } from "node:child_process"
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { join, relative, resolve } from "node:path"
import { afterAll, describe, expect, it } from "vitest"

const root = resolve(import.meta.dirname, "../..")
const packageDirs = readdirSync(join(root, "packages"))
  .filter((d) => existsSync(join(root, "packages", d, "package.json")))
  .sort()
const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
const manifests = packageDirs.map((d) => manifestOf(join(root, "packages", d)))
const names: ReadonlyArray<string> = manifests.map((m) => m.name)

const scratch = realpathSync(mkdtempSync(join(tmpdir(), "brick-pack-")))
const tarballs = join(scratch, "tgz")
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** The environment without what says which project runs: the scratch project is its own. */
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) =>
    !/^(npm_package_|npm_lifecycle_|npm_command$|npm_config_local_prefix$|pnpm_package_name$)/i.test(k)
  )
)

/** The pnpm running this test (`pnpm test`), else the project's pinned one, as a path (no npx: no network). */
const pnpm: ReadonlyArray<string> = (() => {
  const fromEnv = (e: NodeJS.ProcessEnv) =>
    e.npm_execpath && e.npm_config_user_agent?.startsWith("pnpm/") ? e.npm_execpath : undefined
  const execpath = fromEnv(process.env) ??
    spawnSync("npx", ["-y", "pnpm@12.21.0", "node", "-p", "process.env.npm_execpath"], {
      cwd: root,
      encoding: "utf8"
    }).stdout.trim()
  return /\.[cm]?js$/.test(execpath) ? [process.execPath, execpath] : [execpath]
})()

/** `unshare -n --` where this host lets a process drop its network, else nothing. */
const noNetwork: ReadonlyArray<string> = spawnSync("unshare", ["-n", "true"]).status === 0
  ? ["unshare", "-n", "--"]
  : []

/**
 * `argv` run with `dir` mounted read-only (a bind mount in a mount namespace of its own), where
 * this host lets a process have one; else undefined.
 */
const readOnlyMount = (dir: string): ((argv: ReadonlyArray<string>) => ReadonlyArray<string>) | undefined => {
  const mount = (argv: ReadonlyArray<string>) => [
    "unshare",
    "-m",
    "--",
    "sh",
    "-c",
    "mount --bind \"$0\" \"$0\" && mount -o remount,bind,ro \"$0\" && exec \"$@\"",
    dir,
    ...argv
  ]
  const probe = mount(["sh", "-c", "! touch \"$0/.read-only-probe\" 2>/dev/null", dir])
  return spawnSync(probe[0]!, probe.slice(1)).status === 0 ? mount : undefined
}

const run = (argv: ReadonlyArray<string>, cwd: string, extraEnv: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> =>
  spawnSync(argv[0]!, argv.slice(1), { cwd, env: { ...env, ...extraEnv }, encoding: "utf8", timeout: 180_000 })

const succeed = (
  argv: ReadonlyArray<string>,
  cwd: string,
  extraEnv: NodeJS.ProcessEnv = {}
): SpawnSyncReturns<string> => {
  const r = run(argv, cwd, extraEnv)
  if (r.status !== 0) {
    throw new Error(`${argv.join(" ")} exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`)
  }
  return r
}

/** The tarball `pnpm pack` made of package `name`: `<scope>-<name>-<version>.tgz`. */
const tarballOf = (name: string) => {
  const { version } = manifests.find((m) => m.name === name)
  return join(tarballs, `${name.replace(/^@/, "").replace("/", "-")}-${version}.tgz`)
}

const installed = (name: string) => join(scratch, "node_modules", name)
const readOnlyScratch = readOnlyMount(scratch)
const brick = () => [join(scratch, "node_modules/.bin/brick")]

describe("the packed packages", { timeout: 180_000 }, () => {
  it("pack: every package with its licence, README, built code and declarations, and no tests", () => {
    mkdirSync(tarballs)
    succeed([...pnpm, "-r", "--filter", "./packages/*", "pack", "--pack-destination", tarballs], root)
    expect(names.length).toBeGreaterThanOrEqual(4)
    for (const name of names) {
      const entries = succeed(["tar", "-tzf", tarballOf(name)], scratch).stdout.split("\n").filter((l) => l !== "")
      expect(entries, name).toEqual(expect.arrayContaining([
        "package/LICENSE",
        "package/README.md",
        "package/package.json",
        "package/dist/src/index.js",
        "package/dist/src/index.d.ts"
      ]))
      expect(entries.filter((e) => /\/test\/|\.test\.|tsbuildinfo/.test(e)), name).toEqual([])
      const manifest = JSON.parse(succeed(["tar", "-xzOf", tarballOf(name), "package/package.json"], scratch).stdout)
      expect(JSON.stringify(manifest.dependencies ?? {}), name).not.toContain("workspace:")
      expect(manifest.license).toBe("Apache-2.0")
      expect(manifest.exports["."]).toMatchObject({ types: "./dist/src/index.d.ts", default: "./dist/src/index.js" })
    }
    const licence = succeed(["tar", "-xzOf", tarballOf("@brick/core"), "package/LICENSE"], scratch).stdout
    expect(licence).toContain("Apache License")
    expect(licence).toBe(readFileSync(join(root, "LICENSE"), "utf8"))
  })

  it("install: into a project outside the workspace, offline, from the tarballs and the store", () => {
    expect(relative(root, scratch).startsWith("..")).toBe(true)
    const file = (name: string) => `file:./${relative(scratch, tarballOf(name))}`
    const dependencies = Object.fromEntries(names.map((n) => [n, file(n)]))
    writeFileSync(
      join(scratch, "package.json"),
      JSON.stringify({
        name: "brick-consumer",
        private: true,
        type: "module",
        dependencies: { ...dependencies, effect: "4.1.0", "@types/node": "20.19.43" }
      })
    )
    // the packages' dependencies on each other resolve to the tarballs too, not to a registry
    const overrides = names.map((n) => `  "${n}": "${file(n)}"`).join("\n")
    writeFileSync(join(scratch, "pnpm-workspace.yaml"), `autoInstallPeers: false\noverrides:\n${overrides}\n`)
    cpSync(join(root, "scripts/test/pack-consumer"), scratch, { recursive: true })
    const store = succeed([...pnpm, "store", "path"], root).stdout.trim()
    succeed([...noNetwork, ...pnpm, "install", "--offline", "--store-dir", store], scratch)
    for (const name of [...names, "effect"]) {
      expect(realpathSync(installed(name)).startsWith(scratch + "/"), name).toBe(true)
    }
    expect(manifestOf(installed("@brick/core")).version).toBe(manifestOf(join(root, "packages/core")).version)
  })

  it("type-check: a TypeScript consumer against the packed declarations (tsc, skipLibCheck off)", () => {
    const r = run([join(root, "node_modules/.bin/tsc"), "-p", "tsconfig.json"], scratch)
    expect(r.stdout + r.stderr).toBe("")
    expect(r.status).toBe(0)
    expect(existsSync(join(scratch, "dist/consumer.js"))).toBe(true)
  })

  it("run: the consumer connects and disconnects a volume on the simulated host", () => {
    const r = succeed([process.execPath, "dist/consumer.js"], scratch)
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1)!)
    expect(result.device).toMatchObject({ type: "block", path: expect.stringMatching(/^\/dev\/sd[a-z]+$/) })
    expect(result.device.scsi_wwn).toMatch(/^3[0-9a-f]{16,32}$/)
    expect(result.sessions).toEqual(["10.99.0.1:3260"])
    expect(result.clean).toBe(true)
  })

  it("brick --version: the packed bin runs by its shebang (its shell prologue, then node) and prints the package's version", () => {
    const cli = installed("@brick/cli")
    const bin = join(cli, manifestOf(cli).bin.brick)
    expect(readFileSync(bin, "utf8").startsWith("#!/bin/sh\n")).toBe(true)
    const direct = succeed([bin, "--version"], scratch)
    expect(direct.stdout).toBe(`brick ${manifestOf(cli).version}\n`)
    expect(succeed([...brick(), "--version"], scratch).stdout).toBe(direct.stdout)
  })

  it("brick plan --info FILE: the packed CLI plans a connect, and refuses bad input with exit 2", () => {
    const data = { target_portal: "10.0.0.1:3260", target_iqn: "iqn.2010-10.org.openstack:volume-1", target_lun: 1 }
    writeFileSync(join(scratch, "volume.json"), JSON.stringify({ driver_volume_type: "iscsi", data }))
    const plan = JSON.parse(succeed([...brick(), "plan", "--info", "volume.json"], scratch).stdout)
    expect(plan.paths).toEqual([expect.objectContaining({ portal: "10.0.0.1:3260", iqn: data.target_iqn, lun: 1 })])
    expect(plan.commands.at(-1)).toBe(
      `iscsiadm -m node -T ${data.target_iqn} -p 10.0.0.1:3260 -I default --login`
    )

    writeFileSync(join(scratch, "bad.json"), JSON.stringify({ ...data, target_lun: "one" }))
    const bad = run([...brick(), "plan", "--info", "bad.json"], scratch)
    expect(bad.status).toBe(2)
    expect(bad.stdout).toBe("")
    expect(JSON.parse(bad.stderr.trim().split("\n").at(-1)!)).toMatchObject({
      kind: "InvalidInput",
      fields: ["target_lun"]
    })
  })

  it("brick's code cache: in the user's cache directory, never beside the package; a cache that cannot be written is silent", () => {
    const cli = realpathSync(installed("@brick/cli"))
    const packageFiles = () => readdirSync(cli, { recursive: true }).map(String).sort()
    const before = packageFiles()
    const cacheHome = join(scratch, "cache")
    const cacheFiles = () => readdirSync(join(cacheHome, "brick")).filter((f) => f.endsWith(".v8cache"))
    const runs = [["--version"], ["plan", "--info", "volume.json"]].flatMap((args) =>
      [0, 1].map(() => succeed([...brick(), ...args], scratch, { XDG_CACHE_HOME: cacheHome }))
    )
    expect(runs.map((r) => r.stderr)).toEqual(["", "", "", ""])
    expect(runs[1]!.stdout).toBe(runs[0]!.stdout)
    expect(runs[3]!.stdout).toBe(runs[2]!.stdout)
    expect(cacheFiles()).toHaveLength(2)
    expect(packageFiles()).toEqual(before)

    // a cache directory that cannot be made (a file in its way): the same output, nothing said
    const blocked = join(scratch, "not-a-directory")
    writeFileSync(blocked, "")
    const uncached = succeed([...brick(), "plan", "--info", "volume.json"], scratch, { XDG_CACHE_HOME: blocked })
    expect(uncached.stderr).toBe("")
    expect(uncached.stdout).toBe(runs[2]!.stdout)
  })

  it.skipIf(readOnlyScratch === undefined)(
    "brick from a read-only install with a read-only cache home: the same output, nothing said (needs unshare -m)",
    () => {
      const cacheHome = join(scratch, "cache-read-only")
      mkdirSync(cacheHome)
      for (const args of [["--version"], ["plan", "--info", "volume.json"]]) {
        const expected = succeed([...brick(), ...args], scratch, { XDG_CACHE_HOME: join(scratch, "cache") })
        const r = run(readOnlyScratch!([...brick(), ...args]), scratch, { XDG_CACHE_HOME: cacheHome, HOME: cacheHome })
        expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
          status: 0,
          stdout: expected.stdout,
          stderr: ""
        })
      }
      expect(readdirSync(cacheHome)).toEqual([])
    }
  )
})
