import { Multipath, Wwn } from "@brick/core"
import { Effect, Option } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { parsePathStates, reasonOf } from "../src/NodeMultipath.ts"
import { calls, cleanup, failureWith, fakeTool, runWith, tempDir } from "./support.ts"

let dir: string
beforeEach(() => {
  dir = tempDir()
})
afterEach(() => cleanup(dir))

const use = <A, E>(f: (m: Multipath.Multipath["Service"]) => Effect.Effect<A, E>) => Multipath.Multipath.use(f)
const wwn = Wwn.unsafeMake("36001405abcdef0123456789abcdef012")

describe("NodeMultipath.parsePathStates", () => {
  it("reads the lab's `multipathd show paths raw format` output (device, map, dm state, checker state)", () => {
    // the lab's fixture prints "%i %d %D %w %m %t %T %o": the same columns brick asks for, picked out
    const text = NodeFs.readFileSync(
      NodePath.resolve(import.meta.dirname, "../../../lab/fixtures/multipathd-show-paths-raw-format.txt"),
      "utf8"
    )
    const asBrickAsks = text.trim().split("\n").map((l) => {
      const c = l.trim().split(/\s+/)
      return [c[1], c[4], c[5], c[6]].join(" ")
    }).join("\n")
    const states = parsePathStates(`${asBrickAsks}\nsde [orphan] undef faulty\n\n`)
    expect(states.map((s) => [s.device, Option.getOrNull(s.map), s.dmState, s.checkerState])).toEqual([
      ["sdb", "36001405c07a840f492f4d839e708ac4e", "active", "ready"],
      ["sda", "36001405032d99e0433340d1be283fcb3", "active", "ready"],
      ["sdc", "36001405032d99e0433340d1be283fcb3", "active", "ready"],
      ["sdd", "36001405c07a840f492f4d839e708ac4e", "active", "ready"],
      ["sde", null, "undef", "faulty"]
    ])
  })
})

describe("NodeMultipath", () => {
  it("isRunning asks `multipathd show daemon`", async () => {
    const up = { multipathdPath: fakeTool(dir, "multipathd", `echo "pid 321 idle"`) }
    expect(await runWith(up, use((m) => m.isRunning))).toBe(true)
    expect(calls(dir, "multipathd")).toEqual([["show", "daemon"]])
  })

  it("isRunning is false when multipathd is absent, refuses, or hangs", async () => {
    expect(await runWith({ multipathdPath: NodePath.join(dir, "none") }, use((m) => m.isRunning))).toBe(false)
    const refused = fakeTool(dir, "refused", `echo "ux_socket_connect: Connection refused" >&2; exit 1`)
    expect(await runWith({ multipathdPath: refused }, use((m) => m.isRunning))).toBe(false)
    const hangs = fakeTool(dir, "hangs", `sleep 30`)
    const started = Date.now()
    expect(
      await runWith(
        { multipathdPath: hangs, probeTimeout: "200 millis", killGrace: "100 millis" },
        use((m) => m.isRunning)
      )
    ).toBe(false)
    expect(Date.now() - started).toBeLessThan(3000)
  })

  it("addWwid / removeWwid run `multipath -a|-w <wwid>`; failing is a failure", async () => {
    const config = { multipathPath: fakeTool(dir, "multipath", `echo "wwid '$2' added"`) }
    await runWith(config, use((m) => Effect.andThen(m.addWwid(wwn), m.removeWwid(wwn))))
    expect(calls(dir, "multipath")).toEqual([["-a", wwn], ["-w", wwn]])
    const failing = { multipathPath: fakeTool(dir, "failing", `echo "failed adding '$2' to wwids file"; exit 1`) }
    expect(await failureWith(failing, use((m) => m.addWwid(wwn)))).toMatchObject({ operation: "addWwid" })
  })

  it("addMap uses `multipathd add map <wwid>`", async () => {
    const config = {
      multipathdPath: fakeTool(dir, "multipathd", `echo ok`),
      multipathPath: fakeTool(dir, "multipath", `exit 0`)
    }
    await runWith(config, use((m) => m.addMap(wwn)))
    expect(calls(dir, "multipathd")).toEqual([["add", "map", wwn]])
    expect(calls(dir, "multipath")).toEqual([])
  })

  it("addMap falls back to `multipath <wwid>` when multipathd answers fail (even with exit 0)", async () => {
    const config = {
      multipathdPath: fakeTool(dir, "multipathd", `echo fail`),
      multipathPath: fakeTool(dir, "multipath", `exit 0`)
    }
    await runWith(config, use((m) => m.addMap(wwn)))
    expect(calls(dir, "multipath")).toEqual([[wwn]])
  })

  it("addMap reports NotRunning without a fallback when multipathd cannot be reached", async () => {
    const config = {
      multipathdPath: fakeTool(dir, "multipathd", `echo "ERROR: failed to connect to multipathd" >&2; exit 1`),
      multipathPath: fakeTool(dir, "multipath", `exit 0`)
    }
    const e = await failureWith(config, use((m) => m.addMap(wwn)))
    expect(e.reason._tag).toBe("NotRunning")
    expect(calls(dir, "multipath")).toEqual([])
  })

  it("adds and removes paths, resizes and reloads maps", async () => {
    const config = { multipathdPath: fakeTool(dir, "multipathd", `echo ok`) }
    await runWith(
      config,
      Effect.gen(function*() {
        const m = yield* Multipath.Multipath
        yield* m.addPath("sdb")
        yield* m.removePath("sdc")
        yield* m.resizeMap("36001405abcdef")
        yield* m.reloadMap("36001405abcdef")
      })
    )
    expect(calls(dir, "multipathd")).toEqual([
      ["add", "path", "sdb"],
      ["del", "path", "sdc"],
      ["resize", "map", "36001405abcdef"],
      ["reload", "map", "36001405abcdef"]
    ])
  })

  it("flushMap runs `multipath -f NAME`; a map in use is InUse", async () => {
    const config = { multipathPath: fakeTool(dir, "multipath", `echo "Nov 21 | 3600140: map in use" >&2; exit 1`) }
    const e = await failureWith(config, use((m) => m.flushMap("3600140")))
    expect(e.reason._tag).toBe("InUse")
    expect(e.detail).toContain("map in use")
    expect(calls(dir, "multipath")).toEqual([["-f", "3600140"]])
  })

  it("refuses names that could be read as options or paths, spawning nothing", async () => {
    const config = {
      multipathdPath: fakeTool(dir, "multipathd", `echo ok`),
      multipathPath: fakeTool(dir, "multipath", `exit 0`)
    }
    for (const bad of ["-f", "--all", "../sdb", "sd b", ""]) {
      const e = await failureWith(config, use((m) => m.flushMap(bad)))
      expect(e.reason._tag).toBe("Failed")
      await failureWith(config, use((m) => m.removePath(bad)))
    }
    expect(calls(dir, "multipath")).toEqual([])
    expect(calls(dir, "multipathd")).toEqual([])
  })

  it("reads reasons from multipath's wording", () => {
    expect(reasonOf("mpatha: map in use")._tag).toBe("InUse")
    // multipath-tools 0.9.4 in the lab, a single-path map flushed while held open
    expect(
      reasonOf(
        "430.48 | libdevmapper: ioctl/libdm-iface.c(1980): device-mapper: remove ioctl on 3600140  failed: Device or resource busy\n" +
          "430.49 | dm_simplecmd: libdm task=2 error: Device or resource busy\n430.49 | failed to remove multipath map 3600140"
      )._tag
    ).toBe("InUse")
    expect(reasonOf("foo is not a multipath device")._tag).toBe("NotFound")
    expect(reasonOf("ERROR: failed to connect to multipathd")._tag).toBe("NotRunning")
    expect(reasonOf("something else")._tag).toBe("Failed")
  })
})
