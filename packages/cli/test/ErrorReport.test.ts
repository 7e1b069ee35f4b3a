import { InvalidInput, Iscsiadm, Lock, Sysfs } from "@brick/core"
import { Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { ErrorReport } from "../src/index.ts"

const secret = "Sup3r-Secret-CHAP"

describe("ErrorReport", () => {
  it("classifies the services' errors by tag and reason", () => {
    const cases: ReadonlyArray<readonly [unknown, string]> = [
      [
        new InvalidInput.InvalidInput({
          reason: { source: "options", issues: [{ field: "loginTimeout", message: "x" }] }
        }),
        "InvalidInput"
      ],
      [new Lock.LockError({ name: "t", reason: { _tag: "Timeout" } }), "LockTimeout"],
      [new Lock.LockError({ name: "t", reason: { _tag: "Failed", detail: "EIO" } }), "HostToolFailed"],
      [
        new Iscsiadm.IscsiadmError({ operation: "login", target: "p", reason: { _tag: "AuthenticationFailed" } }),
        "AuthenticationFailed"
      ],
      [new Iscsiadm.IscsiadmError({ operation: "login", target: "p", reason: { _tag: "LoginFailed" } }), "LoginFailed"],
      [
        new Iscsiadm.IscsiadmError({ operation: "list", target: "p", reason: { _tag: "DaemonUnreachable" } }),
        "HostToolFailed"
      ],
      [
        new Sysfs.SysfsError({ operation: "write", path: "/sys/x", reason: { _tag: "PermissionDenied" } }),
        "PermissionDenied"
      ],
      [
        { _tag: "ConnectError", reason: { _tag: "LoginFailed", paths: [{ _tag: "AuthenticationFailed" }] } },
        "AuthenticationFailed"
      ],
      [{
        _tag: "ConnectError",
        reason: { _tag: "LoginFailed", paths: [{ _tag: "AuthenticationFailed" }, { _tag: "LoginTimeout" }] }
      }, "LoginFailed"],
      [{ _tag: "ConnectError", reason: { _tag: "DeviceNotFound", paths: [] } }, "DeviceNotFound"],
      [{ _tag: "ConnectError", reason: { _tag: "MultipathRequired" } }, "MultipathNotFormed"],
      [{ _tag: "ConnectError", reason: { _tag: "IfaceUnusable" } }, "IfaceUnusable"],
      [
        { _tag: "ConnectError", reason: { _tag: "ReadOnly", device: "/dev/dm-0", devices: [], detail: "" } },
        "ReadOnlyDevice"
      ],
      [{ _tag: "DisconnectError", reason: { _tag: "StepsFailed", failures: [] } }, "DisconnectFailed"],
      [{ _tag: "DisconnectError", reason: { _tag: "LockFailed" } }, "LockTimeout"],
      [{ _tag: "ExtendError", reason: { _tag: "NotAttached" } }, "ExtendFailed"],
      [{ _tag: "SomethingNew" }, "Failed"]
    ]
    for (const [error, kind] of cases) expect([error, ErrorReport.classify(error)]).toEqual([error, kind])
  })

  it("is {error, kind, message, ...fields} with Redacted hidden and secrets scrubbed", () => {
    const error = new Iscsiadm.IscsiadmError({
      operation: "login",
      target: "10.0.0.1:3260",
      reason: { _tag: "LoginFailed" },
      exitCode: 19,
      detail: `iscsiadm said ${secret}`
    })
    const report = ErrorReport.fromFailure(Object.assign(error, { password: Redacted.make(secret) }), [secret])
    expect(report).toMatchObject({
      error: "IscsiadmError",
      kind: "LoginFailed",
      exitCode: 19,
      operation: "login",
      password: "<redacted>"
    })
    const text = JSON.stringify(report)
    expect(text).not.toContain(secret)
    expect(text).not.toContain("stack")
    expect(Object.keys(report).slice(0, 3)).toEqual(["error", "kind", "message"])
  })

  it("shows a defect's first message line only", () => {
    const report = ErrorReport.fromDefect(new Error(`boom ${secret}\nmore`), [secret])
    expect(report).toEqual({ error: "InternalError", kind: "Internal", message: "internal error: boom <redacted>" })
  })
})
