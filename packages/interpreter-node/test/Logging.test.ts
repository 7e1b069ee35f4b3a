import { IfaceName, Iqn, Iscsiadm, Portal } from "@brick/core"
import { Effect, Layer, Logger, Option, Redacted, References } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { cleanup, fakeTool, hostLayer, tempDir } from "./support.ts"

let dir: string
beforeEach(() => {
  dir = tempDir()
})
afterEach(() => cleanup(dir))

const node: Iscsiadm.NodeRecord = {
  iqn: Iqn.unsafeMake("iqn.2010-10.org.openstack:volume-1"),
  portal: Portal.unsafeMake("10.0.0.1:3260"),
  iface: IfaceName.defaultIface
}

describe("command logging", () => {
  it("logs every command at debug level, redacted, with program, exit code and duration", async () => {
    const entries: Array<
      { message: unknown; level: string; annotations: Record<string, unknown>; spans: Record<string, number> }
    > = []
    const capture = Logger.map(Logger.formatStructured, (e) => {
      entries.push(e)
    })
    const tool = fakeTool(dir, "iscsiadm", `echo "echo $*" >&2; exit 0`)
    const auth = Option.some<Iscsiadm.ChapCredentials>({
      username: "u",
      password: Redacted.make("L0gS3cret-xyz"),
      usernameIn: Option.none(),
      passwordIn: Option.some(Redacted.make("L0gS3cret-in"))
    })
    await Effect.runPromise(
      Iscsiadm.Iscsiadm.use((i) => i.createNode(node, { auth })).pipe(
        Effect.provide(Layer.mergeAll(hostLayer({ iscsiadmPath: tool }), Logger.layer([capture]))),
        Effect.provideService(References.MinimumLogLevel, "Debug")
      )
    )
    const commands = entries.filter((e) => Array.isArray(e.message) && e.message[0] === "command")
    expect(commands).toHaveLength(2)
    for (const e of commands) {
      expect(e.level).toBe("DEBUG")
      expect(e.annotations.program).toBe("iscsiadm")
      expect(e.annotations.exitCode).toBe(0)
      expect(typeof e.annotations.durationMillis).toBe("number")
      expect(e.annotations.operation).toBe("iscsiadm.createNode")
      expect(Object.keys(e.spans)).toContain("iscsiadm")
    }
    expect(String((commands[1]!.message as Array<unknown>)[1])).toContain("node.session.auth.password -v <redacted>")
    const all = JSON.stringify(entries)
    expect(all).not.toContain("L0gS3cret")
  })
})
