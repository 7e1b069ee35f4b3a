// Bundles the `brick` command into one file (packages/cli/dist/brick.mjs):
// one module to load instead of ~375, which matters where file access is
// slow (a container's overlay, the lab guest's 9p share under emulation).
import { rolldown } from "rolldown"

const bundle = await rolldown({
  input: "packages/cli/dist/src/bin.js",
  platform: "node",
  logLevel: "warn"
})
await bundle.write({
  file: "packages/cli/dist/brick.mjs",
  format: "esm"
})
await bundle.close()

const { chmodSync } = await import("node:fs")
chmodSync("packages/cli/dist/brick.mjs", 0o755)
