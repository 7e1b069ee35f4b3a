#!/usr/bin/env node
/**
 * The `brick` executable: runs Main on the process's argv and streams, turns
 * SIGINT/SIGTERM into an interruption (finalizers run, exit 130), and exits
 * with the status Main returns.
 *
 * When Node is building a startup snapshot of the bundled program
 * (internal/StartupSnapshot.ts), it touches nothing of the host: it warms
 * the code of the commands (a few that read nothing, then a connect and a
 * disconnect against an empty temporary root whose iscsiadm and multipathd
 * are `true`), their output dropped, so the snapshot holds what they
 * initialise (node keeps no compiled code in it: functions compile on first
 * call); and
 * leaves `start` as the snapshot's main function, which gets the arguments
 * after node's own (`node --snapshot-blob B -- ARGS`).
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
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

/** Runs commands that touch no host, their output dropped, so the snapshot holds the state they initialise. */
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
  // connect and disconnect against an empty root, every iscsiadm and multipathd command `true`:
  // decode, plan, lock, records, login and its undo run (no session appears), on nothing of the host's;
  // the root is the one the snapshot's builder names (StartupSnapshot.ts: it removes what a killed build left)
  const named = process.env["BRICK_WARM_ROOT"]
  const root = named === undefined || named === ""
    ? fs.mkdtempSync(path.join(os.tmpdir(), "brick-warm-"))
    : (fs.mkdirSync(named, { recursive: true, mode: 0o700 }), named)
  const absent = ["--root", root, "--iscsiadm", "true", "--multipathd", "true", "--lock-timeout", "5"]
  try {
    await Main.run(["connect", "--info", "-", ...absent, "--login-timeout", "1", "--scan-attempts", "1"], { io })
    await Main.run(["disconnect", "--info", "-", ...absent], { io })
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}

// (Node 20 answers 1 or 0, not a boolean)
if (Boolean(v8.startupSnapshot?.isBuildingSnapshot())) {
  v8.startupSnapshot.setDeserializeMainFunction(() => start(process.argv.slice(1)))
  void warm()
} else {
  start(process.argv.slice(2))
}
