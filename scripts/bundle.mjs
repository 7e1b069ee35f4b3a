// Bundles the programs that are started as processes into one file each:
// one module to load instead of ~375, which matters where file access is
// slow (a container's overlay, the lab guest's 9p share under emulation).
//   packages/cli/dist/brick.mjs          the `brick` command
//   examples/dist/attach-detach.mjs      the attach-and-detach example (run in the lab)
//   lab/bench/dist/brick.mjs             what `pnpm bench:lab` loads of brick
import { chmodSync } from "node:fs"
import { rolldown } from "rolldown"

const bundles = [
  { input: "packages/cli/dist/src/bin.js", file: "packages/cli/dist/brick.mjs", executable: true },
  { input: "examples/dist/attach-detach.js", file: "examples/dist/attach-detach.mjs", executable: false },
  { input: "lab/bench/brick-entry.mjs", file: "lab/bench/dist/brick.mjs", executable: false }
]

for (const { input, file, executable } of bundles) {
  const bundle = await rolldown({ input, platform: "node", logLevel: "warn" })
  await bundle.write({ file, format: "esm" })
  await bundle.close()
  if (executable) chmodSync(file, 0o755)
}
