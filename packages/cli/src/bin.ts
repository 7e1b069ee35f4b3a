#!/usr/bin/env node
/**
 * The `brick` executable: runs Main on the process's argv and streams, turns
 * SIGINT/SIGTERM into an interruption (finalizers run, exit 130), and exits
 * with the status Main returns.
 */
import * as Main from "./Main.ts"
import * as NodeIo from "./NodeIo.ts"

const controller = new AbortController()
const stop = () => controller.abort()
process.once("SIGINT", stop)
process.once("SIGTERM", stop)

Main.run(process.argv.slice(2), { io: NodeIo.make(), signal: controller.signal }).then(
  (code) => process.exit(code),
  () => process.exit(70)
)
