// The compiled lab tests, in run order: dist/test/*.lab.test.js of every package (and
// examples/) whose test/*.lab.test.ts source exists. BRICK_LAB_TESTS=a,b keeps the files
// whose path contains a or b; BRICK_LAB_SKIP=c,d drops those containing c or d.
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

const list = (s) => (s ?? "").split(",").filter((x) => x !== "")

export const labTestFiles = (only = list(process.env.BRICK_LAB_TESTS), skip = list(process.env.BRICK_LAB_SKIP)) => {
  const dirs = ["packages/interpreter-node", "packages/cli", "examples"]
    .concat(fs.readdirSync(path.join(root, "packages")).sort().map((p) => `packages/${p}`))
  const files = []
  for (const dir of [...new Set(dirs)]) {
    const testDir = path.join(root, dir, "test")
    if (!fs.existsSync(testDir)) continue
    for (const f of fs.readdirSync(testDir).sort()) {
      if (!f.endsWith(".lab.test.ts")) continue
      const js = path.join(root, dir, "dist/test", f.replace(/\.ts$/, ".js"))
      // matched against the path inside the project, not the checkout's own directory name
      const rel = path.relative(root, js)
      if (only.length > 0 && !only.some((o) => rel.includes(o))) continue
      if (skip.some((o) => rel.includes(o))) continue
      if (!fs.existsSync(js)) throw new Error(`${js} is missing: run \`npx tsc -b\` on the host first`)
      files.push(js)
    }
  }
  if (files.length === 0) {
    throw new Error(`no lab test files (BRICK_LAB_TESTS=${only.join(",")} BRICK_LAB_SKIP=${skip.join(",")})`)
  }
  return files
}
