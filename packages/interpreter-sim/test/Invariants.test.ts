/**
 * Property tests of design.md's invariants, through the simulated host.
 * Each property generates scenarios (targets, portals, LUNs, network states,
 * udev/multipathd behaviour, scripted faults, other volumes, processes) and
 * checks one or more invariants; fast-check shrinks a failure to a small,
 * printed scenario. Together they run well over 10,000 cases.
 */
import { connectVolume, disconnectVolume } from "@brick/core"
import { Cause, Effect, Exit, Fiber, Layer, Logger, Option, References, Tracer } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { OpName, SimNetworkState, SimSpec } from "../src/SimSpec.ts"
import { makeHost, runVirtual, type Services, type TestHost } from "./harness.ts"

const iqnA = "iqn.2010-10.org.openstack:volume-a"
const iqnB = "iqn.2010-10.org.openstack:volume-b"
const allPortals = ["10.99.0.1:3260", "10.99.0.2:3260", "10.99.0.3:3260", "10.99.0.4:3260"]
const step = { stepMs: 1000 }
/** Scales every property's number of runs (BRICK_PROP_SCALE=0.1 for a quick pass). */
const scale = Number(process.env["BRICK_PROP_SCALE"] ?? 1)
const runs = (n: number) => ({ numRuns: Math.max(1, Math.round(n * scale)) })

// ------------------------------------------------------------------ arbitraries

const arbNet: fc.Arbitrary<SimNetworkState> = fc.oneof(
  { weight: 8, arbitrary: fc.constant("up" as const) },
  { weight: 1, arbitrary: fc.constant("refusing" as const) },
  { weight: 1, arbitrary: fc.constant("blackholed" as const) },
  { weight: 1, arbitrary: fc.constant("flaky" as const) }
)

const faultOps: ReadonlyArray<readonly [OpName, string]> = [
  ["iscsiadm.createNode", "Failed"],
  ["iscsiadm.login", "LoginFailed"],
  ["iscsiadm.login", "Timeout"],
  ["iscsiadm.listNodes", "Failed"],
  ["iscsiadm.discover", "Failed"],
  ["sysfs.write", "Failed"],
  ["sysfs.list", "Failed"],
  ["sysfs.read", "Failed"],
  ["sysfs.readlink", "Failed"],
  ["multipath.addMap", "Failed"],
  ["multipath.addWwid", "Failed"],
  ["lock.acquire", "Timeout"]
]
const arbFault = fc.record({
  fault: fc.constantFrom(...faultOps),
  nth: fc.integer({ min: 1, max: 30 })
})

/** A connect scenario. */
const arbScenario = fc.record({
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  portals: fc.integer({ min: 1, max: 4 }),
  nets: fc.array(arbNet, { minLength: 4, maxLength: 4 }),
  lun: fc.integer({ min: 0, max: 2 }),
  exported: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  multipath: fc.boolean(),
  enforce: fc.boolean(),
  /** Multipath from one portal through sendtargets discovery. */
  discovery: fc.boolean(),
  /** Without multipath: every portal listed (tried in order until one serves). */
  listed: fc.boolean(),
  multipathd: fc.constantFrom("normal", "never", "late", "off"),
  findMultipaths: fc.constantFrom(
    "no" as const,
    "yes" as const,
    "strict" as const,
    "smart" as const,
    "greedy" as const
  ),
  friendlyNames: fc.boolean(),
  udev: fc.constantFrom("normal", "late"),
  faults: fc.array(arbFault, { maxLength: 2 }),
  chap: fc.boolean(),
  /** Another LUN of the same target already attached. */
  neighbour: fc.boolean(),
  /** Other volumes (own targets) already attached. */
  others: fc.integer({ min: 0, max: 3 }),
  scanAttempts: fc.integer({ min: 1, max: 3 }),
  scanInterval: fc.integer({ min: 100, max: 1000 }),
  addDelay: fc.integer({ min: 50, max: 1500 })
})
type Scenario = typeof arbScenario extends fc.Arbitrary<infer A> ? A : never

const secretOf = (seed: number) => `Pw${seed.toString(36)}x9Q`
const chapOf = (s: Scenario) => ({ username: "brickuser", password: secretOf(s.seed) })

const specOf = (s: Scenario): SimSpec => ({
  targets: [
    {
      iqn: iqnA,
      portals: allPortals,
      luns: [0, 1, 2, 3].map((lun) => ({ lun, exported: lun === s.lun ? s.exported : true })),
      ...(s.chap ? { chap: chapOf(s) } : {})
    },
    { iqn: iqnB, portals: allPortals, luns: [{ lun: 1 }] }
  ],
  network: Object.fromEntries(allPortals.map((p, i) => [p, s.nets[i]!])),
  multipathd: {
    findMultipaths: s.findMultipaths,
    userFriendlyNames: s.friendlyNames,
    ...(s.multipathd === "off" ? { running: false } : { mode: s.multipathd as "normal" | "never" | "late" })
  },
  udev: { mode: s.udev as "normal" | "late", delayMs: 20 },
  latency: "zero"
})

const infoOf = (s: Scenario, lun = s.lun) => {
  const ps = allPortals.slice(0, s.portals)
  const auth = s.chap ? { auth_method: "CHAP", auth_username: "brickuser", auth_password: secretOf(s.seed) } : {}
  return (s.multipath && !s.discovery) || (!s.multipath && s.listed)
    ? { target_portals: ps, target_iqns: ps.map(() => iqnA), target_luns: ps.map(() => lun), ...auth }
    : { target_portal: ps[0], target_iqn: iqnA, target_lun: lun, ...auth }
}

const optionsOf = (s: Scenario) => ({
  useMultipath: s.multipath,
  enforceMultipath: s.enforce,
  loginTimeout: 1,
  deviceScanAttempts: s.scanAttempts,
  deviceScanInterval: s.scanInterval,
  multipathWaitTimeout: 2,
  multipathAddDelay: s.addDelay
})

const arm = (h: TestHost, s: Scenario) => {
  for (const f of s.faults) h.faults.fail(f.fault[0], { reason: f.fault[1], detail: "injected" }, { nth: f.nth })
}

/** Which LUN (iqn, lun) a returned device path belongs to, from the host's own tables. */
const wwidOfPath = (h: TestHost, path: string): string | undefined => {
  const name = path.slice("/dev/".length)
  const snap = h.snapshot()
  const disk = snap.scsiDevices.find((d) => d.name === name)
  if (disk) return disk.wwid
  const map = snap.maps.find((m) => m.dm === name)
  return map ? h.state.maps.get(map.name)?.wwid : undefined
}

const disconnect = (h: TestHost, info: unknown, device?: unknown, process = "main") =>
  runVirtual(disconnectVolume(info, device).pipe(Effect.provide(h.layer(process))), step)

/** Whether multipathd consults its wwids file under the scenario's find_multipaths (then brick registers the WWID). */
const consultsWwids = (s: Scenario) => s.findMultipaths !== "no" && s.findMultipaths !== "greedy"

/**
 * multipath's wwids file after a connect that failed or was interrupted: as
 * before where brick registers the WWID (its registration undone); elsewhere
 * multipathd may have added the WWID when it formed the map.
 */
const expectWwidsAfterUndo = (s: Scenario, h: TestHost, before: ReadonlyArray<string>, label: string) => {
  const after = h.host.multipathMemory.wwids
  if (consultsWwids(s)) expect(after, label).toEqual(before)
  else {expect(after.filter((w) => !before.includes(w)), label).toEqual(
      after.includes(h.host.wwn(iqnA, s.lun)) && !before.includes(h.host.wwn(iqnA, s.lun))
        ? [h.host.wwn(iqnA, s.lun)]
        : []
    )}
}

const show = (e: Exit.Exit<unknown, unknown>) => (Exit.isFailure(e) ? Cause.pretty(e.cause) : JSON.stringify(e.value))

// ------------------------------------------------------------------ properties

describe("invariants (property tests on the simulated host)", { timeout: 600_000 }, () => {
  it("1+2+3: a successful connect returns the LUN's device (the dm with multipath); a failed one leaves the host as it was; disconnect restores it exactly, other volumes untouched", async () => {
    await fc.assert(
      fc.asyncProperty(arbScenario, async (s) => {
        const h = makeHost(specOf(s), s.seed)
        if (s.others > 0) h.host.preattach(s.others)
        // one virtual-time run per case: neighbour, connect, disconnect
        const run = await runVirtual(
          Effect.gen(function*() {
            if (s.neighbour) {
              const ok = yield* Effect.exit(
                connectVolume(infoOf({ ...s, chap: false, exported: true }, 3), {
                  ...optionsOf(s),
                  enforceMultipath: false
                })
              )
              if (Exit.isFailure(ok)) return undefined // the network may leave no path at all: nothing to test then
              yield* Effect.sleep(30_000)
              yield* h.host.settle
            }
            const before = h.snapshot()
            const wwidsBefore = h.host.multipathMemory.wwids
            arm(h, s)
            const exit = yield* Effect.exit(connectVolume(infoOf(s), optionsOf(s)))
            h.faults.clear()
            const afterConnect = h.snapshot()
            const device = Exit.isSuccess(exit) ? exit.value : undefined
            const wwidOfResult = device === undefined ? undefined : wwidOfPath(h, device.path)
            const d = device === undefined ? undefined : yield* Effect.exit(disconnectVolume(infoOf(s), device))
            return { before, wwidsBefore, exit, afterConnect, wwidOfResult, d, afterDisconnect: h.snapshot() }
          }).pipe(Effect.provide(h.layer())),
          step
        )
        if (Exit.isFailure(run)) throw new Error(Cause.pretty(run.cause))
        if (run.value === undefined) return
        const { before, wwidsBefore, exit, afterConnect, wwidOfResult, d, afterDisconnect } = run.value
        if (Exit.isFailure(exit)) {
          expect(Cause.hasDies(exit.cause), show(exit)).toBe(false)
          expect(afterConnect, show(exit)).toEqual(before)
          expectWwidsAfterUndo(s, h, wwidsBefore, show(exit))
          return
        }
        const device = exit.value
        expect(wwidOfResult).toBe(h.state.lun(iqnA, s.lun).wwid)
        expect(device.scsi_wwn).toBe(h.host.wwn(iqnA, s.lun))
        // multipathd forms it, or brick makes it form (add path + add map) unless those are made to fail
        // (where multipathd consults its wwids file, by itself only once brick registered the WWID)
        const registered = !consultsWwids(s) || !s.faults.some((f) => f.fault[0] === "multipath.addWwid")
        const mapCanForm = s.multipathd === "normal" && s.udev === "normal" && registered ||
          (s.multipathd !== "off" && !s.faults.some((f) => f.fault[0].startsWith("multipath.")))
        if (s.multipath && mapCanForm) expect(device.path).toMatch(/^\/dev\/dm-\d+$/)
        // the map's WWID whatever its name (mpathN with user_friendly_names)
        if (device.path.startsWith("/dev/dm-")) expect(device.multipath_id).toBe(device.scsi_wwn)
        expect(d !== undefined && Exit.isSuccess(d), d === undefined ? "" : show(d)).toBe(true)
        expect(afterDisconnect).toEqual(before)
        // disconnect drops the volume's WWID from multipath's wwids file
        expect(h.host.multipathMemory.wwids).toEqual(wwidsBefore)
      }),
      runs(3000)
    )
  })

  it("2 (interruption): a connect interrupted at any moment leaves the host as it was", async () => {
    await fc.assert(
      fc.asyncProperty(arbScenario, fc.integer({ min: 0, max: 400 }), async (s0, afterMs) => {
        const s = { ...s0, faults: [], neighbour: false }
        // latency on the slow steps, so that the interruption lands inside them
        const latency = {
          profile: "zero" as const,
          ops: {
            "iscsiadm.login": 60,
            "iscsiadm.discover": 20,
            "iscsiadm.createNode": 3,
            "sysfs.write": 4,
            "multipath.addMap": 5
          }
        }
        const h = makeHost({ ...specOf(s), latency }, s.seed)
        if (s.others > 0) h.host.preattach(s.others)
        const run = await runVirtual(
          Effect.gen(function*() {
            const before = h.snapshot()
            const wwidsBefore = h.host.multipathMemory.wwids
            const fiber = yield* Effect.forkChild(connectVolume(infoOf(s), optionsOf(s)))
            yield* Effect.sleep(afterMs)
            const finished = fiber.pollUnsafe()
            yield* Fiber.interrupt(fiber)
            if (finished !== undefined && Exit.isSuccess(finished)) {
              // it had finished: detach, which must restore the host just the same
              yield* Effect.orDie(disconnectVolume(infoOf(s), finished.value))
            }
            return { before, wwidsBefore, after: h.snapshot() }
          }).pipe(Effect.provide(h.layer())),
          step
        )
        if (Exit.isFailure(run)) throw new Error(Cause.pretty(run.cause))
        expect(run.value.after).toEqual(run.value.before)
        expectWwidsAfterUndo(s, h, run.value.wwidsBefore, "after the interrupted connect")
      }),
      runs(400)
    )
  })

  it("4: connect and disconnect are idempotent and safe under concurrency (several processes, shared targets)", async () => {
    const arbConcurrent = fc.record({
      seed: fc.integer({ min: 0, max: 1_000_000 }),
      multipath: fc.boolean(),
      /** Per volume (LUN 0..3 of target A, LUN 1 of target B): its process and its operations. */
      volumes: fc.array(
        fc.record({
          process: fc.integer({ min: 0, max: 2 }),
          ops: fc.array(fc.constantFrom("connect", "disconnect"), { minLength: 1, maxLength: 4 })
        }),
        { minLength: 2, maxLength: 5 }
      )
    })
    const volumeInfo = (i: number, multipath: boolean) => {
      const iqn = i < 4 ? iqnA : iqnB
      const lun = i < 4 ? i : 1
      const ps = allPortals.slice(0, 2)
      return multipath
        ? { target_portals: ps, target_iqns: ps.map(() => iqn), target_luns: ps.map(() => lun) }
        : { target_portal: ps[0], target_iqn: iqn, target_lun: lun }
    }
    await fc.assert(
      fc.asyncProperty(arbConcurrent, async (c) => {
        const h = makeHost({
          targets: [
            { iqn: iqnA, portals: allPortals, luns: [0, 1, 2, 3].map((lun) => ({ lun })) },
            { iqn: iqnB, portals: allPortals, luns: [{ lun: 1 }] }
          ],
          // a little latency where it matters, so that processes interleave
          latency: {
            profile: "zero",
            ops: { "iscsiadm.login": 3, "iscsiadm.logout": 2, "sysfs.write": 1, "multipath.flushMap": 1 }
          },
          udev: { delayMs: 2 },
          multipathd: { mapDelayMs: 3 }
        }, c.seed)
        const before = h.snapshot()
        const options = { useMultipath: c.multipath, multipathAddDelay: 200 }
        const byProcess = [0, 1, 2].map((p) =>
          c.volumes.flatMap((v, i) => (v.process === p ? v.ops.map((op) => ({ op, i })) : []))
        )
        const programs = byProcess.map((ops, p) =>
          Effect.forEach(ops, ({ op, i }) =>
            Effect.map(
              Effect.exit<unknown, unknown, Services>(
                op === "connect"
                  ? connectVolume(volumeInfo(i, c.multipath), options)
                  : disconnectVolume(volumeInfo(i, c.multipath))
              ),
              (exit) => ({ op, i, exit })
            ))
            .pipe(Effect.provide(h.layer(`p${p}`)))
        )
        const exit = await runVirtual(Effect.all(programs, { concurrency: "unbounded" }), step)
        if (Exit.isFailure(exit)) throw new Error(Cause.pretty(exit.cause))
        for (const r of exit.value.flat()) expect(Exit.isSuccess(r.exit), show(r.exit)).toBe(true)
        // each volume is attached iff its last operation was a connect
        const snap = h.snapshot()
        c.volumes.forEach((v, i) => {
          const wwid = h.state.lun(i < 4 ? iqnA : iqnB, i < 4 ? i : 1).wwid
          const devices = snap.scsiDevices.filter((d) => d.wwid === wwid)
          expect(devices.length, `volume ${i}`).toBe(v.ops[v.ops.length - 1] === "connect" ? (c.multipath ? 2 : 1) : 0)
        })
        // disconnecting everything (twice) brings the host back
        for (let i = 0; i < c.volumes.length; i++) {
          for (let k = 0; k < 2; k++) expect(Exit.isSuccess(await disconnect(h, volumeInfo(i, c.multipath)))).toBe(true)
        }
        expect(h.snapshot()).toEqual(before)
      }),
      runs(400)
    )
  })

  it("5: bad input never reaches the host: a typed error naming the field, before any operation", async () => {
    const bad: ReadonlyArray<readonly [string, unknown]> = [
      ["target_portal", "10.0.0.1:99999"],
      ["target_portal", "-oProxyCommand=x"],
      ["target_portal", "../../etc/passwd"],
      ["target_portal", "a b"],
      ["target_portal", 42],
      ["target_iqn", "bad iqn"],
      ["target_iqn", "-I default"],
      ["target_iqn", "iqn.x"],
      ["target_iqn", "../../sys/kernel"],
      ["target_lun", -1],
      ["target_lun", 16384],
      ["target_lun", 1.5],
      ["target_lun", "01"],
      ["auth_username", "-u"],
      ["auth_username", "a b"],
      ["auth_password", ""],
      ["target_portals", []],
      ["target_iqns", ["iqn.2010-10.org.a:b", "iqn.2010-10.org.a:c", "iqn.2010-10.org.a:d"]],
      ["addressing_mode", "SAM9"],
      ["access_mode", "rwx"]
    ]
    const badOptions: ReadonlyArray<readonly [string, unknown]> = [
      ["iface", "-I x"],
      ["iface", "../etc"],
      ["iface", ""],
      ["iface", { transport: "warp" }],
      ["iface", { transport: "tcp", netIfacename: "eth0; rm -rf /" }],
      ["deviceScanAttempts", 0],
      ["deviceScanAttempts", "3"],
      ["loginTimeout", 1e9],
      ["useMultipath", "yes"],
      ["pollInterval", -5]
    ]
    const badInputHost = makeHost({ targets: [{ iqn: iqnA, portals: allPortals, luns: [{ lun: 1 }] }] })
    const badInputLayer = badInputHost.layer()
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ where: fc.constant("info" as const), field: fc.constantFrom(...bad) }),
          fc.record({ where: fc.constant("options" as const), field: fc.constantFrom(...badOptions) })
        ),
        fc.boolean(),
        fc.constantFrom("connect", "disconnect"),
        async (m, wrapped, program) => {
          const h = badInputHost
          const data: Record<string, unknown> = {
            target_portal: allPortals[0],
            target_iqn: iqnA,
            target_lun: 1,
            auth_method: "CHAP",
            auth_username: "u",
            auth_password: "pw12345678",
            target_portals: allPortals.slice(0, 2),
            target_iqns: [iqnA, iqnA],
            target_luns: [1, 1]
          }
          const options: Record<string, unknown> = { useMultipath: true }
          if (m.where === "info") data[m.field[0]] = m.field[1]
          else options[m.field[0]] = m.field[1]
          const info = wrapped ? { driver_volume_type: "iscsi", data } : data
          const eff: Effect.Effect<unknown, unknown, Services> = program === "connect"
            ? connectVolume(info, options)
            : disconnectVolume(info, undefined, {}, options)
          const exit = await Effect.runPromiseExit(eff.pipe(Effect.provide(badInputLayer)))
          const error = Exit.isFailure(exit) ? Exit.findErrorOption(exit) : Option.none()
          expect(Option.isSome(error)).toBe(true)
          if (Option.isSome(error)) {
            expect((error.value as { _tag: string })._tag).toBe("InvalidInput")
            expect((error.value as { message: string }).message).toContain(m.field[0])
          }
          expect(h.totalOps()).toBe(0)
        }
      ),
      runs(4800)
    )
  })

  it("6: CHAP secrets never appear in logs, errors, spans or results", async () => {
    await fc.assert(
      fc.asyncProperty(arbScenario, fc.boolean(), fc.boolean(), async (s0, wrongSecret, discoveryChap) => {
        const s = { ...s0, chap: true }
        const h = makeHost(specOf(s), s.seed)
        const secret = secretOf(s.seed)
        const given = wrongSecret ? `${secret}Wrong` : secret
        const info = {
          ...infoOf(s),
          auth_password: given,
          auth_username_in: "targetuser",
          auth_password_in: `${given}In`,
          ...(discoveryChap
            ? {
              discovery_auth_method: "CHAP",
              discovery_auth_username: "disc",
              discovery_auth_password: `${given}Disc`
            }
            : {})
        }
        const seen: Array<string> = []
        const logger = Logger.make((o) => {
          seen.push(
            String(o.message),
            JSON.stringify(o.message),
            JSON.stringify(o.fiber.getRef(References.CurrentLogAnnotations)),
            Cause.pretty(o.cause)
          )
        })
        const tracer = Tracer.make({
          span(options) {
            const span = new Tracer.NativeSpan(options)
            const end = span.end.bind(span)
            span.end = (time, exit) => {
              seen.push(span.name, JSON.stringify([...span.attributes]), JSON.stringify(span.events), String(exit))
              if (Exit.isFailure(exit)) seen.push(Cause.pretty(exit.cause))
              end(time, exit)
            }
            return span
          }
        })
        const observed = <A, E, R>(e: Effect.Effect<A, E, R>) =>
          e.pipe(Effect.withTracer(tracer), Effect.provide(Layer.mergeAll(Logger.layer([logger]), Layer.empty)))
        arm(h, s)
        const exit = await runVirtual(observed(connectVolume(info, optionsOf(s))).pipe(Effect.provide(h.layer())), {
          ...step,
          logs: true
        })
        seen.push(show(exit))
        if (Exit.isFailure(exit)) {
          const e = Exit.findErrorOption(exit)
          if (Option.isSome(e)) seen.push(JSON.stringify(e.value), String(e.value), (e.value as Error).message)
        }
        h.faults.clear()
        const d = await runVirtual(
          observed(disconnectVolume(info, Exit.isSuccess(exit) ? exit.value : undefined)).pipe(
            Effect.provide(h.layer())
          ),
          { ...step, logs: true }
        )
        seen.push(show(d))
        const text = seen.join("\n")
        expect(text.length).toBeGreaterThan(0)
        expect(text).not.toContain(secret)
        expect(text).not.toContain(given)
      }),
      runs(1400)
    )
  })
})
