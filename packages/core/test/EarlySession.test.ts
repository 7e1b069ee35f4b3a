/**
 * A login's new session is handed on as soon as sysfs shows it LOGGED_IN,
 * while the login command still runs; the command must still succeed.
 */
import { ConnectorOptions, IfaceName, Iqn, Iscsiadm, Lun, Multipath, Portal, Sysfs, type Wwn } from "@brick/core"
import { Effect, Exit, Latch, Option, Ref } from "effect"
import { describe, expect, it } from "vitest"
import * as IscsiUndo from "../src/internal/iscsi/IscsiUndo.ts"
import type { PathContext } from "../src/internal/iscsi/PathContext.ts"
import { alongsideLogin, sessionFor } from "../src/internal/iscsi/PathLogin.ts"
import * as Ledger from "../src/internal/Ledger.ts"

const node = {
  portal: Portal.unsafeMake("10.0.0.1:3260"),
  iqn: Iqn.unsafeMake("iqn.2010-10.org.openstack:volume-1"),
  iface: IfaceName.unsafeMake("default")
}
const path = { portal: node.portal, iqn: node.iqn, lun: Lun.unsafeMake(1), kernelLun: 1, byPathName: "x" }

/**
 * A host whose login makes session 7 appear (in `state`) at once, then runs
 * until `end` opens and exits with `outcome`.
 */
const host = (state: string, outcome: "ok" | "fail") =>
  Effect.gen(function*() {
    const end = yield* Latch.make(false)
    const appeared = yield* Ref.make(false)
    const events: Array<string> = []
    const sysfs = Sysfs.Sysfs.of({
      list: (p) => Effect.map(Ref.get(appeared), (up) => (p === "/sys/class/iscsi_session" && up ? ["session7"] : [])),
      read: (p) => {
        if (p.endsWith("/targetname")) return Effect.succeed(Option.some(node.iqn))
        if (p.endsWith("/ifacename")) {
          // GONE: the session is torn down as it appears (a refused login), its files read ENODEV
          return state === "GONE"
            ? Effect.fail(
              new Sysfs.SysfsError({ operation: "read", path: p, reason: { _tag: "Failed", detail: "ENODEV" } })
            )
            : Effect.succeed(Option.some("default"))
        }
        if (p.endsWith("/persistent_address")) return Effect.succeed(Option.some("10.0.0.1"))
        if (p.endsWith("/persistent_port")) return Effect.succeed(Option.some("3260"))
        if (p.endsWith("/state")) return Effect.succeed(Option.some(state))
        return Effect.succeed(Option.none())
      },
      readlink: () => Effect.succeed(Option.some("../../devices/platform/host3/session7/iscsi_session/session7")),
      write: () => Effect.void
    })
    const login = () =>
      Effect.gen(function*() {
        yield* Ref.set(appeared, true)
        yield* end.await
        events.push("login command ended")
        if (outcome === "fail") {
          return yield* Effect.fail(
            new Iscsiadm.IscsiadmError({ operation: "login", target: "t", reason: { _tag: "LoginFailed" } })
          )
        }
      })
    const iscsiadm = { login } as unknown as Iscsiadm.Iscsiadm["Service"]
    const provide = <A, E>(effect: Effect.Effect<A, E, Sysfs.Sysfs | Iscsiadm.Iscsiadm | Multipath.Multipath>) =>
      effect.pipe(
        Effect.provideService(Sysfs.Sysfs, sysfs),
        Effect.provideService(Iscsiadm.Iscsiadm, iscsiadm),
        Effect.provideService(Multipath.Multipath, {} as Multipath.Multipath["Service"])
      )
    return { end, events, provide }
  })

const context = (ledger: Ledger.Ledger<IscsiUndo.Entry>) =>
  Effect.map(Ref.make(Option.none<Wwn.Wwn>()), (volumeWwn): PathContext => ({
    iface: node.iface,
    transport: "tcp",
    fallback: false,
    settings: {} as PathContext["settings"],
    options: ConnectorOptions.defaults,
    nodesBefore: [],
    prepared: new Set([IscsiUndo.nodeKey(node)]),
    volumeWwn,
    ledger
  }))

/** The path's session lookup, then `during` alongside the login's end; the events in order. */
const attempt = (state: string, outcome: "ok" | "fail") =>
  Effect.gen(function*() {
    const h = yield* host(state, outcome)
    const ledger = yield* Ledger.make<IscsiUndo.Entry>()
    const ctx = yield* context(ledger)
    const program = Effect.gen(function*() {
      const reached = yield* sessionFor(ctx, ledger, path)
      h.events.push(`session ${reached.session.sid} handed on`)
      return yield* alongsideLogin(
        reached.loginEnd,
        Effect.andThen(Effect.sync(() => h.events.push("scanning")), h.end.open)
      )
    })
    // the login ends only once the scan has started, or (not LOGGED_IN) after a while
    const opener = state === "LOGGED_IN" || state === "GONE" && outcome === "ok"
      ? Effect.void
      : Effect.andThen(Effect.sleep(50), h.end.open)
    const [exit] = yield* Effect.all([Effect.exit(h.provide(program)), opener], { concurrency: 2 })
    return { exit, events: h.events, entries: yield* ledger.entries }
  })

describe("a login's session handed on at LOGGED_IN", () => {
  it("is scanned while the login command still runs, and the path waits for the command", async () => {
    const r = await Effect.runPromise(attempt("LOGGED_IN", "ok"))
    expect(Exit.isSuccess(r.exit)).toBe(true)
    expect(r.events).toEqual(["session 7 handed on", "scanning", "login command ended"])
    expect(r.entries.map((e) => e._tag)).toEqual(["Login", "Session"])
  })

  it("fails the path when the login command fails after the session came up", async () => {
    const r = await Effect.runPromise(attempt("LOGGED_IN", "fail"))
    expect(Exit.isFailure(r.exit)).toBe(true)
    expect(JSON.stringify(r.exit)).toContain("LoginFailed")
    expect(r.events).toEqual(["session 7 handed on", "scanning", "login command ended"])
  })

  it("waits for the login command while the session is not LOGGED_IN", async () => {
    const r = await Effect.runPromise(attempt("FREE", "ok"))
    expect(Exit.isSuccess(r.exit)).toBe(true)
    expect(r.events).toEqual(["login command ended", "session 7 handed on", "scanning"])
  })

  it("leaves the outcome to the login command when the new session's sysfs reads fail (torn down)", async () => {
    const r = await Effect.runPromise(attempt("GONE", "fail"))
    expect(Exit.isFailure(r.exit)).toBe(true)
    expect(JSON.stringify(r.exit)).toContain("LoginFailed")
    expect(JSON.stringify(r.exit)).not.toContain("HostError")
    expect(r.events).toEqual(["login command ended"])
  })
})
