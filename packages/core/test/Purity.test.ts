/**
 * packages/core is pure: no Node builtin, no console, no ambient time,
 * randomness, process or timers. Node's fs is loaded dynamically so the
 * core's type program stays free of Node's types.
 */
import { describe, expect, it } from "vitest"

interface NodeFs {
  readonly readdirSync: (path: string, options: { recursive: true }) => ReadonlyArray<string>
  readonly readFileSync: (path: string, encoding: "utf8") => string
}
interface NodeModule {
  readonly builtinModules: ReadonlyArray<string>
}
const load = <A>(name: string): Promise<A> => import(name) as Promise<A>
const fs = await load<NodeFs>("node:fs")
const { builtinModules } = await load<NodeModule>("node:module")

const here = (import.meta as unknown as { readonly url: string }).url
const srcDir = decodeURIComponent(here.replace(/^file:\/\//, "").replace(/[^/]+\/[^/]+$/, "src/"))
const files = fs.readdirSync(srcDir, { recursive: true }).filter((f) => /\.[cm]?[jt]sx?$/.test(f))
const source = (f: string) => fs.readFileSync(srcDir + f, "utf8")

/** The text without comments and string contents (so doc comments may mention `console`). */
const code = (text: string) =>
  text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:])\/\/.*$/gm, "$1")
    .replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g, "\"\"")

/** Every module specifier a file imports or re-exports (static, dynamic or require). */
const specifiers = (text: string): ReadonlyArray<string> =>
  [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)["']([^"']+)["']/g)].map((m) => m[1]!)

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]))

describe("packages/core purity", () => {
  it("finds the sources", () => {
    expect(files.length).toBeGreaterThan(15)
    expect(files).toContain("iscsi/ConnectPlan.ts")
  })

  it.each(files)("%s imports no Node builtin", (f) => {
    const imported = specifiers(source(f))
    expect(imported.filter((s) => s.startsWith("node:") || builtins.has(s) || builtins.has(s.split("/")[0]!))).toEqual(
      []
    )
    // only effect and the package's own modules
    expect(
      imported.filter((s) => !s.startsWith("./") && !s.startsWith("../") && s !== "effect" && !s.startsWith("effect/"))
    ).toEqual([])
  })

  it.each(files)("%s uses no console, Date.now, Math.random, process or timers", (f) => {
    const text = code(source(f))
    const forbidden = [
      /\bconsole\b/,
      /\bDate\.now\b/,
      /\bnew Date\b/,
      /\bMath\.random\b/,
      /\bprocess\b/,
      /\bsetTimeout\b/,
      /\bsetInterval\b/,
      /\bsetImmediate\b/,
      /\bglobalThis\b/,
      /\bperformance\.now\b/
    ]
    expect(forbidden.filter((re) => re.test(text)).map(String)).toEqual([])
  })

  it("the checks catch what they look for", () => {
    expect(
      specifiers(
        `import * as fs from "node:fs"\nimport { x } from 'child_process'\nconst p = await import("os")\nexport * from "./A.ts"`
      )
    )
      .toEqual(["node:fs", "child_process", "os", "./A.ts"])
    expect(code(`/** console */ const a = "Date.now" // process.env\nconsole.log(1)`)).toMatch(/console\.log/)
    expect(code(`/** console */ const a = "Date.now" // process.env`)).not.toMatch(/console|Date|process/)
  })
})
