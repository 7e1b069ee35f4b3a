/**
 * The simulator's twin of the lab soak (packages/cli/test/soak.lab.test.ts):
 * rounds of connect / disconnect / extend over the same 4 volumes on 2
 * targets (2 multipath, 2 single-path sharing a session with them), each
 * operation a process of its own, all of a round at once, under each fault
 * the real soak injects: a portal dropping packets (`blackholed`), refusing
 * (`refusing`), without listener (`listenerGone`), a process SIGKILLed
 * mid-operation (`SimHost.kill`: no cleanup runs), a LUN removed on the
 * target. Every operation ends in success or a typed error; the round then
 * settles as a CSI driver would, and the host must hold exactly what the
 * attached set implies: the sessions, node records, SCSI devices, by-path
 * links and maps of the attached volumes, nothing else.
 */
import { connectVolume, type DeviceInfo, disconnectVolume, extendVolume } from "@brick/core"
import { Cause, Effect, Exit, type Fiber } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { makeHost, runVirtual, type Services, type TestHost } from "./harness.ts"

const SA = "iqn.2003-01.org.brick:soak-a"
const SB = "iqn.2003-01.org.brick:soak-b"
const P = ["10.99.0.1:3260", "10.99.0.2:3260", "10.99.0.3:3260"] as const
const MiB = 1024 * 1024

interface Volume {
  readonly iqn: string
  readonly lun: number
  readonly portals: ReadonlyArray<string>
  readonly multipath: boolean
}
const volumes: ReadonlyArray<Volume> = [
  { iqn: SA, lun: 0, portals: [P[0], P[1]], multipath: true },
  { iqn: SA, lun: 1, portals: [P[0]], multipath: false },
  { iqn: SB, lun: 0, portals: [P[1], P[2]], multipath: true },
  { iqn: SB, lun: 1, portals: [P[2]], multipath: false }
]
const info = (v: Volume) =>
  v.multipath
    ? { target_portals: v.portals, target_iqns: v.portals.map(() => v.iqn), target_luns: v.portals.map(() => v.lun) }
    : { target_portal: v.portals[0], target_iqn: v.iqn, target_lun: v.lun }
const options = (v: Volume) => ({ useMultipath: v.multipath, multipathAddDelay: 500, scanAttempts: 3 })

const faultKinds = ["drop", "reject", "np", "kill", "lunRemoved"] as const
const network = { drop: "blackholed", reject: "refusing", np: "listenerGone" } as const

/** A round: for each volume a draw deciding its operation, the fault, and draws placing it. */
const arbRound = fc.record({
  draws: fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: 4, maxLength: 4 }),
  fault: fc.constantFrom(...faultKinds),
  /** which operation (or portal) the fault strikes */
  which: fc.nat(11),
  /** when the fault strikes: a portal `at` × 100 ms into the round, a kill `at` × 25 ms into the operation */
  at: fc.integer({ min: 0, max: 40 }),
  /** how the settle goes: retry a failed connect or give it up, undo a killed one */
  retry: fc.boolean()
})
type Round = typeof arbRound extends fc.Arbitrary<infer A> ? A : never

type Op = "connect" | "disconnect" | "extend"
const opOf = (draw: number, attached: boolean): Op | undefined =>
  !attached ? (draw < 0.7 ? "connect" : undefined) : draw < 0.45 ? "disconnect" : draw < 0.7 ? "extend" : undefined

/** The host as the lab soak compares it: what each session, record, device, link and map is for. */
const picture = (h: TestHost) => {
  const s = h.snapshot()
  const session = new Map(s.sessions.map((x) => [x.sid, `${x.iqn} ${x.portal}`]))
  const device = new Map(s.scsiDevices.map((d) => [d.name, `${session.get(d.sid)} ${d.hctl.split(":")[3]}`]))
  return {
    sessions: s.sessions.map((x) => `${x.iqn} ${x.portal} ${x.state}`).sort(),
    nodes: s.nodes.map((n) => `${n.iqn} ${n.portal}`).sort(),
    devices: [...device.values()].sort(),
    byPath: Object.keys(s.byPath).sort(),
    maps: s.maps.map((m) => `${m.name}: ${m.paths.map((p) => device.get(p)).sort().join(", ")}`).sort()
  }
}
type Picture = ReturnType<typeof picture>

/** The portals through which volume `v` has a by-path link now. */
const served = (actual: Picture, v: Volume) =>
  v.portals.filter((p) => actual.byPath.includes(`ip-${p}-iscsi-${v.iqn}-lun-${v.lun}`))

/**
 * What the host holds with `attached` attached (volume → its map's name),
 * each volume whole: every path's session, record, device and link, a
 * multipath volume's map over all its paths, nothing else. A single-path
 * volume may sit in a map of its own (multipathd with find_multipaths off).
 */
const expected = (attached: ReadonlyMap<number, string>, actual: Picture): Picture => {
  const uniq = (xs: ReadonlyArray<string>) => [...new Set(xs)].sort()
  const portals = (i: number) => volumes[i]!.portals
  const paths = (i: number) => portals(i).map((p) => `${volumes[i]!.iqn} ${p} ${volumes[i]!.lun}`).sort()
  const each = (f: (v: Volume, p: string) => string) =>
    uniq([...attached.keys()].flatMap((i) => portals(i).map((p) => f(volumes[i]!, p))))
  const mapOf = (i: number) => `${attached.get(i)}: ${paths(i).join(", ")}`
  const singles = [...attached.keys()].filter((i) => !volumes[i]!.multipath).map(mapOf)
  return {
    sessions: each((v, p) => `${v.iqn} ${p} LOGGED_IN`),
    nodes: each((v, p) => `${v.iqn} ${p}`),
    devices: uniq([...attached.keys()].flatMap(paths)),
    byPath: each((v, p) => `ip-${p}-iscsi-${v.iqn}-lun-${v.lun}`),
    maps: uniq([
      ...[...attached.keys()].filter((i) => volumes[i]!.multipath).map(mapOf),
      ...actual.maps.filter((m) => singles.includes(m))
    ])
  }
}

/** Every typed failure of brick's programs carries a `reason`; a defect or a plain Error is no typed failure. */
const typed = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isSuccess(exit) ||
  (Cause.hasFails(exit.cause) && !Cause.hasDies(exit.cause) &&
    exit.cause.reasons.every((r) =>
      r._tag !== "Fail" || (typeof r.error === "object" && r.error !== null && "reason" in r.error)
    ))

const soak = (seed: number, rounds: ReadonlyArray<Round>) =>
  Effect.gen(function*() {
    const h = makeHost({
      targets: [
        { iqn: SA, portals: [P[0], P[1]], luns: [{ lun: 0, sizeBytes: 4 * MiB }, { lun: 1, sizeBytes: 4 * MiB }] },
        { iqn: SB, portals: [P[1], P[2]], luns: [{ lun: 0, sizeBytes: 4 * MiB }, { lun: 1, sizeBytes: 4 * MiB }] }
      ],
      latency: "lab"
    }, seed)
    const before = picture(h)
    /** attached volume → the device info connect returned */
    const devices = new Map<number, { readonly scsi_wwn: string }>()
    const faults: Record<string, number> = {}
    let processes = 0
    const program = (i: number, op: Op, force = false): Effect.Effect<unknown, unknown, Services> => {
      const v = volumes[i]!
      if (op === "connect") return connectVolume(info(v), options(v))
      if (op === "extend") return extendVolume(info(v))
      return disconnectVolume(info(v), devices.get(i), { force }, options(v))
    }
    /** Runs `op` as a process of its own; what it returned, or "killed". */
    const start = (i: number, op: Op, force = false) =>
      Effect.gen(function*() {
        const process = `p${++processes}`
        const fiber: Fiber.Fiber<Exit.Exit<unknown, unknown>> = yield* Effect.forkDetach(
          Effect.exit(program(i, op, force)).pipe(Effect.provide(h.layer(process)))
        )
        return { i, op, process, fiber }
      })
    type Started = Effect.Success<ReturnType<typeof start>>
    /** Waits until the process ends or was killed (a killed one never ends; it is left alone). */
    const outcome = (s: Started) =>
      Effect.gen(function*() {
        for (;;) {
          const done = s.fiber.pollUnsafe()
          if (done !== undefined) return Exit.isSuccess(done) ? done.value : Exit.die(done.cause)
          if (h.host.killed(s.process)) return "killed" as const
          yield* Effect.sleep(5)
        }
      })
    const take = (s: Started, exit: Exit.Exit<unknown, unknown>) => {
      expect(typed(exit), `${s.op} v${s.i}: ${Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""}`).toBe(true)
      if (Exit.isFailure(exit)) return false
      if (s.op === "extend") {
        // an extend that succeeds reports the target's size, never the one from before (a path down fails it)
        const v = volumes[s.i]!
        expect(exit.value, `extend v${s.i}`).toBe(h.state.lun(v.iqn, v.lun).sizeBytes)
      }
      if (s.op === "connect") devices.set(s.i, exit.value as { readonly scsi_wwn: string })
      if (s.op === "disconnect") devices.delete(s.i)
      return true
    }
    /** Whether volume `i` is whole: not attached, single-path, or its map serving every portal. */
    const whole = (i: number) => {
      const v = volumes[i]!
      const d = devices.get(i) as DeviceInfo.DeviceInfo | undefined
      if (d === undefined || !v.multipath) return true
      return /^\/dev\/dm-\d+$/.test(d.path) && served(picture(h), v).length === v.portals.length &&
        (d.paths ?? []).every((p) => p.state === "serving")
    }
    /** Runs `op` to success (a connect: the volume whole), every fault lifted (a few tries). */
    const until = (i: number, op: Op, force = false) =>
      Effect.gen(function*() {
        for (let attempt = 0; attempt < 3; attempt++) {
          const s = yield* start(i, op, force)
          const exit = yield* outcome(s)
          if (exit !== "killed" && take(s, exit) && (op !== "connect" || whole(i))) return
          yield* Effect.sleep(3000)
        }
        expect.fail(`v${i} ${op} still fails with every fault lifted`)
      })

    for (const [r, round] of rounds.entries()) {
      const ops = round.draws.flatMap((d, i) => {
        const op = opOf(d, devices.has(i))
        return op === undefined ? [] : [{ i, op }]
      })
      if (ops.length === 0) {
        ops.push({ i: round.which % 4, op: devices.has(round.which % 4) ? "disconnect" : "connect" })
      }
      const target = ops[round.which % ops.length]!
      const removed = round.fault === "lunRemoved" && target.op !== "extend" ? target.i : undefined
      if (removed !== undefined) {
        h.host.removeLun(volumes[removed]!.iqn, volumes[removed]!.lun)
        faults["lunRemoved"] = (faults["lunRemoved"] ?? 0) + 1
      }
      const started: Array<Started> = []
      for (const { i, op } of ops) {
        if (op === "extend") {
          const v = volumes[i]!
          h.host.resizeLun(v.iqn, v.lun, h.state.lun(v.iqn, v.lun).sizeBytes + 2 * MiB)
        }
        started.push(yield* start(i, op))
      }
      const down: Array<string> = []
      if (round.fault === "drop" || round.fault === "reject" || round.fault === "np") {
        const portals = [...new Set(ops.flatMap(({ i }) => volumes[i]!.portals))]
        const portal = portals[round.which % portals.length]!
        const mode = network[round.fault]
        yield* Effect.forkDetach(
          Effect.sleep(round.at * 100).pipe(Effect.andThen(Effect.sync(() => {
            h.host.portalDown(portal, mode)
            down.push(portal)
            faults[round.fault] = (faults[round.fault] ?? 0) + 1
          })))
        )
      }
      if (round.fault === "kill") {
        const victim = started[round.which % started.length]!
        yield* Effect.forkDetach(Effect.gen(function*() {
          yield* Effect.sleep(round.at * 25)
          if (victim.fiber.pollUnsafe() === undefined) {
            h.host.kill(victim.process)
            faults["kill"] = (faults["kill"] ?? 0) + 1
          }
        }))
      }
      const outcomes = yield* Effect.forEach(started, (s) => Effect.map(outcome(s), (exit) => ({ s, exit })))
      yield* Effect.sleep(4500)
      for (const p of down) h.host.portalUp(p)
      yield* Effect.sleep(1000)

      // settle as a CSI driver would
      for (const { s, exit } of outcomes) {
        const ok = exit !== "killed" && take(s, exit)
        if (s.i === removed) {
          // the volume is gone on the array: detach what is left of it (force if need be), a new LUN
          if (devices.has(s.i) || s.op !== "connect" || exit === "killed") {
            const plain = yield* start(s.i, "disconnect")
            const e = yield* outcome(plain)
            if (e === "killed" || !take(plain, e)) yield* until(s.i, "disconnect", true)
          }
          devices.delete(s.i)
          const v = volumes[s.i]!
          h.host.addLun(v.iqn, { lun: v.lun, sizeBytes: 4 * MiB })
        } else if (!ok) {
          if (s.op !== "connect") yield* until(s.i, s.op)
          else if (round.retry) yield* until(s.i, "connect")
          else if (exit === "killed") yield* until(s.i, "disconnect")
        }
      }
      // a multipath volume attached without some paths connects again: then it is whole
      for (const [i] of devices) {
        const v = volumes[i]!
        if (!v.multipath || whole(i)) continue
        yield* until(i, "connect")
        faults["connect again for missing paths"] = (faults["connect again for missing paths"] ?? 0) + 1
        expect(whole(i), `round ${r + 1}: v${i} after connecting again: ${JSON.stringify(devices.get(i))}`).toBe(true)
      }
      yield* Effect.sleep(5000)
      yield* h.host.settle
      const now = picture(h)
      const attached = new Map([...devices].map(([i, d]) => [i, d.scsi_wwn]))
      expect(now, `round ${r + 1}: the host holds exactly what ${attached.size} attached volume(s) imply`).toEqual(
        expected(attached, now)
      )
    }
    for (const i of [...devices.keys()]) yield* until(i, "disconnect")
    yield* Effect.sleep(5000)
    yield* h.host.settle
    expect(picture(h)).toEqual(before)
    return faults
  })

const scale = Number(process.env["BRICK_PROP_SCALE"] ?? 1)

describe("the lab soak's twin on the simulator", { timeout: 600_000 }, () => {
  it("after every round of concurrent operations under a fault, the host holds exactly what the attached set implies", async () => {
    const seen: Record<string, number> = {}
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.array(arbRound, { minLength: 1, maxLength: 6 }),
        async (seed, rounds) => {
          const exit = await runVirtual(soak(seed, rounds), { stepMs: 50, maxMs: 3_600_000 })
          if (Exit.isFailure(exit)) throw Cause.squash(exit.cause)
          for (const [k, n] of Object.entries(exit.value)) seen[k] = (seen[k] ?? 0) + n
        }
      ),
      { numRuns: Math.max(5, Math.round(30 * scale)) }
    )
    console.log(`soak twin: ${JSON.stringify(seen)}`)
    // every fault kind struck
    expect(faultKinds.filter((k) => (seen[k] ?? 0) === 0)).toEqual([])
  })
})
