/**
 * Which failed logins through a custom iface are retried on `default`
 * (PathLogin.retriesOnDefault): a timeout (an iSER login to a portal without
 * iSER gets no answer, iscsiadm exits 8) and a plain login failure are; a
 * refused authentication is not. A retry is announced by a warning naming
 * the iface, its transport and `default`.
 */
import { type BrickError, connectVolume, disconnectVolume, type Iscsiadm } from "@brick/core"
import { Effect, Exit, Layer, Option } from "effect"
import { describe, expect, it } from "vitest"
import type { SimSpec } from "../src/SimSpec.ts"
import { captureLogs, makeHost, runVirtual, type TestHost } from "./harness.ts"

const iqn = "iqn.2010-10.org.openstack:volume-1"
const portal = "10.99.0.1:3260"
const info = { target_portal: portal, target_iqn: iqn, target_lun: 1, volume_id: "vol-1" }
const spec = (): SimSpec => ({
  targets: [{ iqn, portals: [portal], luns: [{ lun: 1 }] }],
  latency: "zero",
  ifaces: [{ name: "eth0-iscsi", transport: "tcp", netIfacename: "eth0" }]
})

/** Every login through `eth0-iscsi` fails for `reason`. */
const failCustomLogins = (h: TestHost, reason: "Timeout" | "LoginFailed" | "AuthenticationFailed") =>
  h.faults.fail("iscsiadm.login", { reason, detail: "injected" }, {
    times: 100,
    match: (args) => (args[0] as Iscsiadm.NodeRecord).iface === "eth0-iscsi"
  })

const connect = (h: TestHost, options: Record<string, unknown>) => {
  const logs = captureLogs()
  const exit = runVirtual(connectVolume(info, options).pipe(Effect.provide(Layer.merge(h.layer(), logs.layer))), {
    logs: true
  })
  return exit.then((e) => ({ exit: e, warnings: logs.lines.filter((l) => l.startsWith("Warn")) }))
}

describe("a failed login through a custom iface", () => {
  for (const reason of ["Timeout", "LoginFailed"] as const) {
    it(`${reason}: retried on default, with a warning naming the iface, its transport and default`, async () => {
      const h = makeHost(spec())
      const before = h.snapshot()
      failCustomLogins(h, reason)
      const { exit, warnings } = await connect(h, { iface: "eth0-iscsi" })
      if (Exit.isFailure(exit)) throw new Error(String(exit.cause))
      expect(exit.value.iface).toBe("default")
      expect(h.snapshot().sessions.map((s) => s.iface)).toEqual(["default"])
      expect(warnings.some((w) => w.includes("iface eth0-iscsi (transport default)") && w.includes("default iface")))
        .toBe(true)
      const out = await runVirtual(disconnectVolume(info, exit.value).pipe(Effect.provide(h.layer())))
      expect(Exit.isSuccess(out)).toBe(true)
      expect(h.snapshot()).toEqual(before)
    })
  }

  it("AuthenticationFailed: not retried (default would present the same credentials); host unchanged", async () => {
    const h = makeHost(spec())
    const before = h.snapshot()
    failCustomLogins(h, "AuthenticationFailed")
    const { exit } = await connect(h, { iface: "eth0-iscsi" })
    const error = Exit.isFailure(exit) ? Exit.findErrorOption(exit) : Option.none()
    expect(Option.isSome(error)).toBe(true)
    const reason = (error as Option.Some<BrickError.ConnectError>).value.reason
    expect(reason).toMatchObject({
      _tag: "LoginFailed",
      paths: [{ _tag: "AuthenticationFailed", iface: "eth0-iscsi" }]
    })
    expect(h.snapshot()).toEqual(before)
  })

  it("with ifaceFallback off a timeout is not retried: the error names the iface", async () => {
    const h = makeHost(spec())
    const before = h.snapshot()
    failCustomLogins(h, "Timeout")
    const { exit } = await connect(h, { iface: "eth0-iscsi", ifaceFallback: false })
    const error = Exit.isFailure(exit) ? Exit.findErrorOption(exit) : Option.none()
    const reason = (error as Option.Some<BrickError.ConnectError>).value.reason
    expect(reason).toMatchObject({ _tag: "LoginFailed", paths: [{ _tag: "LoginTimeout", iface: "eth0-iscsi" }] })
    expect(h.snapshot()).toEqual(before)
  })
})
