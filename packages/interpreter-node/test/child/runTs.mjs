// Runs a TypeScript module of this repository in a plain node process, through
// vite's SSR loader (vitest's own transform): `node runTs.mjs <module> args…`.
// The module exports `main(args)`.
import * as NodePath from "node:path"
import { createViteServer } from "vitest/node"

const root = NodePath.resolve(import.meta.dirname, "../../../..")
const [module, ...args] = process.argv.slice(2)
const server = await createViteServer({
  root,
  configFile: false,
  logLevel: "silent",
  appType: "custom",
  resolve: { conditions: ["source"] },
  server: { middlewareMode: true, hmr: false, ws: false, watch: null },
  optimizeDeps: { noDiscovery: true, include: [] }
})
const m = await server.ssrLoadModule(NodePath.resolve(module))
await m.main(args)
await server.close()
