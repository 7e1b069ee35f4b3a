import { describe, expect, it } from "vitest"
import { codes, reasonFor } from "../src/IscsiadmExit.ts"

describe("IscsiadmExit", () => {
  it("maps open-iscsi's exit codes to reasons", () => {
    const table: ReadonlyArray<readonly [number, string]> = [
      [15, "SessionExists"],
      [21, "NotFound"],
      [2, "NotFound"],
      [24, "AuthenticationFailed"],
      [5, "LoginFailed"],
      [19, "LoginRejected"],
      [12, "TransportUnavailable"],
      [14, "TransportUnavailable"],
      [8, "Timeout"],
      [11, "Timeout"],
      [20, "DaemonUnreachable"],
      [18, "DaemonUnreachable"],
      [28, "Busy"],
      [29, "Busy"],
      [1, "Failed"],
      [6, "Failed"],
      [7, "Failed"],
      [13, "Failed"],
      [255, "Failed"]
    ]
    for (const [code, tag] of table) expect([code, reasonFor(code)._tag]).toEqual([code, tag])
  })

  it("names the codes as iscsi_err.h does", () => {
    expect(codes.ISCSI_ERR_SESS_EXISTS).toBe(15)
    expect(codes.ISCSI_ERR_NO_OBJS_FOUND).toBe(21)
    expect(codes.ISCSI_ERR_LOGIN_AUTH_FAILED).toBe(24)
    expect(codes.ISCSI_ERR_AGAIN).toBe(29)
  })
})
