import { Effect, Exit, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { ConnectionInfo, ConnectorOptions } from "@brick/core"

const decode = (u: unknown) => Effect.runSyncExit(ConnectionInfo.decode(u))

describe("ConnectionInfo.decode", () => {
  it("accepts Cinder's single-path data and normalises the portal", () => {
    const exit = decode({ target_portal: "10.0.0.1", target_iqn: "iqn.2010-10.org.openstack:volume-1", target_lun: 1, auth_method: "CHAP", auth_username: "u", auth_password: "s3cret", extra_key: 1 })
    expect(Exit.isSuccess(exit)).toBe(true)
    if (Exit.isSuccess(exit)) {
      expect(exit.value.target_portal).toBe("10.0.0.1:3260")
      expect(Redacted.value(exit.value.auth_password!)).toBe("s3cret")
      expect(String(exit.value.auth_password)).not.toContain("s3cret")
    }
  })
  it("names the offending fields inside the wrapped form", () => {
    const exit = decode({ driver_volume_type: "iscsi", data: { target_portal: "10.0.0.1:99999", target_iqn: "bad iqn", target_lun: -1 } })
    expect(Exit.isFailure(exit)).toBe(true)
    const error = Exit.isFailure(exit) ? exit.cause : undefined
    const text = String(error)
    expect(text).toContain("data.target_portal")
    expect(text).toContain("data.target_iqn")
    expect(text).toContain("data.target_lun")
  })
  it("rejects unequal list lengths, naming the list", () => {
    const exit = decode({ target_portals: ["10.0.0.1", "10.0.0.2"], target_iqns: ["iqn.2010-10.org.x:a"], target_luns: [1, 1] })
    expect(String(Exit.isFailure(exit) ? exit.cause : "")).toContain("target_iqns: must have as many entries as target_portals (2)")
  })
  it("decodes options with defaults", () => {
    expect(ConnectorOptions.defaults.useMultipath).toBe(false)
    const exit = Effect.runSyncExit(ConnectorOptions.decode({ iface: { transport: "warp" } }))
    expect(String(Exit.isFailure(exit) ? exit.cause : "")).toContain("iface")
  })
})
