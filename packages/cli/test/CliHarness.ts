/**
 * Runs `brick` in-process with captured streams, stdin from a string, files
 * from a map, and an optional host factory.
 */
import type { Host } from "../src/index.ts"
import type { IoShape } from "../src/Io.ts"
import * as Main from "../src/Main.ts"

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  /** stderr's lines parsed as JSON (throws if one is not JSON). */
  readonly stderrJson: ReadonlyArray<Record<string, unknown>>
}

export interface HarnessOptions {
  readonly files?: Record<string, string>
  readonly stdin?: string
  readonly hostFactory?: Host.Factory
  readonly tty?: boolean
  readonly signal?: AbortSignal
}

/** Runs `brick argv…`. */
export const runCli = async (argv: ReadonlyArray<string>, options: HarnessOptions = {}): Promise<CliResult> => {
  let stdout = ""
  let stderr = ""
  const io: IoShape = {
    stdout: (t) => {
      stdout += t
    },
    stderr: (t) => {
      stderr += t
    },
    readStdin: () => Promise.resolve(options.stdin ?? ""),
    readFile: (path) => {
      const text = options.files?.[path]
      return text === undefined ? Promise.reject({ _tag: "NotFound" }) : Promise.resolve(text)
    },
    stderrIsTTY: options.tty ?? false
  }
  const code = await Main.run(argv, {
    io,
    ...(options.hostFactory ? { hostFactory: options.hostFactory } : {}),
    ...(options.signal ? { signal: options.signal } : {})
  })
  const lines = stderr.split("\n").filter((l) => l.trim().length > 0)
  return {
    code,
    stdout,
    stderr,
    get stderrJson() {
      return lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    }
  }
}

/** A host factory that fails the test if any command builds a host. */
export const forbiddenHost: Host.Factory = () => {
  throw new Error("a host layer was built")
}

export const volume = {
  target_portal: "10.99.0.1:3260",
  target_iqn: "iqn.2003-01.org.linux-iscsi.lab:vol1",
  target_lun: 1,
  target_portals: ["10.99.0.1:3260", "10.99.0.2:3260"],
  target_iqns: ["iqn.2003-01.org.linux-iscsi.lab:vol1", "iqn.2003-01.org.linux-iscsi.lab:vol1"],
  target_luns: [1, 1],
  auth_method: "CHAP",
  auth_username: "user1",
  auth_password: "s3cr3t-Pa55word",
  auth_username_in: "target1",
  auth_password_in: "mutual-S3cret-xyz",
  volume_id: "vol-1"
}

export const secrets = [volume.auth_password, volume.auth_password_in]
