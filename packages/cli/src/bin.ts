#!/usr/bin/env node
/**
 * The `brick` executable: runs Main on the process's argv and streams, turns
 * SIGINT/SIGTERM into an interruption (finalizers run, exit 130), and exits
 * with the status Main returns.
 *
 * When Node is building a startup snapshot of the bundled program
 * (internal/StartupSnapshot.ts), it runs nothing of the host: it warms the
 * code that every start runs (a few commands that read nothing, with their
 * output dropped) and leaves `start` as the snapshot's main function, which
 * gets the arguments after node's own (`node --snapshot-blob B -- ARGS`).
 */
import * as v8 from "node:v8"
import * as Main from "./Main.ts"
import * as NodeIo from "./NodeIo.ts"

const start = (argv: ReadonlyArray<string>) => {
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
  Main.run(argv, { io: NodeIo.make(), signal: controller.signal }).then(
    (code) => process.exit(code),
    () => process.exit(70)
  )
}

/** Runs commands that touch no host, their output dropped, so the snapshot holds their code warm. */
const warm = async () => {
  const sample = JSON.stringify({
    target_portal: "192.0.2.1:3260",
    target_iqn: "iqn.2000-01.invalid:warm",
    target_lun: 0
  })
  const io = {
    stdout: () => {},
    stderr: () => {},
    readStdin: () => Promise.resolve(sample),
    readFile: () => Promise.resolve(sample),
    stderrIsTTY: false
  }
  for (const argv of [["--version"], ["--help"], ["plan", "--info", "-"], ["connect", "--help"]]) {
    await Main.run(argv, { io })
  }
}

// (Node 20 answers 1 or 0, not a boolean)
if (Boolean(v8.startupSnapshot?.isBuildingSnapshot())) {
  v8.startupSnapshot.setDeserializeMainFunction(() => start(process.argv.slice(1)))
  void warm()
} else {
  start(process.argv.slice(2))
}
