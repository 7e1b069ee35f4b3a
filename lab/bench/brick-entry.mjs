// What lab/bench/bench.mjs needs of brick, as one module: scripts/bundle.mjs bundles it into
// lab/bench/dist/brick.mjs (one file to read over the guest's 9p share instead of ~400).
export * as core from "../../packages/core/dist/src/index.js"
export * as inode from "../../packages/interpreter-node/dist/src/index.js"
export {
  Cause,
  Effect,
  Exit,
  Layer,
  Logger,
  ManagedRuntime,
  References,
  Tracer
} from "../../packages/interpreter-node/node_modules/effect/dist/index.js"
