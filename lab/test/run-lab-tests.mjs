// Guest entry of `lab/test.sh` when the tests are not bundled (BRICK_LAB_BUNDLE=0):
// imports every compiled lab test into THIS process, one file after the other, so
// node:test runs their tests sequentially and the modules load once.
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { labTestFiles, root } from "./lab-test-files.mjs"

for (const js of labTestFiles()) {
  const t0 = Date.now()
  await import(pathToFileURL(js).href)
  console.error(`[lab/test] loaded ${path.relative(root, js)} in ${((Date.now() - t0) / 1000).toFixed(1)}s`)
}
