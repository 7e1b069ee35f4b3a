// Entry of `lab/test.sh` inside the guest: imports every compiled lab test
// (`dist/test/*.lab.test.js` of each package whose `test/*.lab.test.ts` source exists)
// into THIS process, one file after the other, so node:test runs their tests
// sequentially and the modules (effect, the packages) load once over 9p.
// BRICK_LAB_TESTS=substring limits the files.
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const dirs = ["packages/interpreter-node", "packages/cli", "examples"]
  .concat(fs.readdirSync(path.join(root, "packages")).map((p) => `packages/${p}`))
const only = process.env.BRICK_LAB_TESTS ?? ""
const files = []
for (const dir of [...new Set(dirs)]) {
  const testDir = path.join(root, dir, "test")
  if (!fs.existsSync(testDir)) continue
  for (const f of fs.readdirSync(testDir).sort()) {
    if (!f.endsWith(".lab.test.ts")) continue
    const js = path.join(root, dir, "dist/test", f.replace(/\.ts$/, ".js"))
    if (only !== "" && !js.includes(only)) continue
    if (!fs.existsSync(js)) throw new Error(`${js} is missing: run \`npx tsc -b\` on the host first`)
    files.push(js)
  }
}
if (files.length === 0) throw new Error(`no lab test files${only ? ` matching ${only}` : ""}`)
for (const js of files) {
  const t0 = Date.now()
  await import(pathToFileURL(js).href)
  console.error(`[lab/test] loaded ${path.relative(root, js)} in ${((Date.now() - t0) / 1000).toFixed(1)}s`)
}
