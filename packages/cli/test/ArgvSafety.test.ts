/**
 * Invariant 5, second half: no value from input becomes an iscsiadm option or
 * a path outside the sysfs/dev trees. Generated VALID inputs (odd but legal
 * IQNs, IPv4/IPv6/hostname portals, CHAP names such as `u$(id)`, passwords
 * starting with '-', iface specs) run through connect and disconnect on a
 * simulated host built for them, so the programs take their real paths
 * (discovery, logins, scans, maps, logouts, record deletion). Every Iscsiadm
 * and Multipath call is also run, as a shadow, through interpreter-node's own
 * NodeIscsiadm/NodeMultipath over a recording CommandRunner (results ignored),
 * which yields the exact argv the node interpreter would spawn; every Sysfs
 * path and lock name is recorded too. Then:
 * - every argv word equal to an input value (IQN, portal, iface name, netdev,
 *   CHAP user) follows an option that takes it (-T -p -I -v) and does not start
 *   with '-'; every secret is a Redacted word right after `-v`;
 * - every other word is a fixed option/keyword of brick's, never input;
 * - every Sysfs path is absolute, under /sys/ or /dev/, without `.`/`..`
 *   segments; every lock file name is one plain segment.
 */
import { connectVolume, disconnectVolume, Iscsiadm, Lock, Multipath, Portal, Sysfs } from "@brick/core"
import {
  CommandRunner,
  NodeHostConfig,
  NodeIscsiadm,
  NodeLock,
  NodeMultipath,
  type Redaction
} from "@brick/interpreter-node"
import { SimHost } from "@brick/interpreter-sim"
import { Effect, Exit, Logger, Redacted } from "effect"
import fc from "fast-check"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "brick-argv-"))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

type Word = Redaction.Word
const recorded: Array<ReadonlyArray<Word>> = []
const recordingRunner = CommandRunner.CommandRunner.of({
  run: (program, args) =>
    Effect.sync(() => {
      recorded.push([program, ...args])
      return { command: program, exitCode: 0, stdout: "", stderr: "", durationMillis: 0 }
    }),
  spawnCounts: Effect.succeed({}),
  resetCounts: Effect.void
})
const shadowServices = <A>(
  make: Effect.Effect<A, never, CommandRunner.CommandRunner | NodeHostConfig.NodeHostConfig | Lock.Lock>
) =>
  Effect.runSync(make.pipe(
    Effect.provideService(CommandRunner.CommandRunner, recordingRunner),
    Effect.provideService(Lock.Lock, Lock.Lock.of({ acquire: () => Effect.void })),
    Effect.provideService(NodeHostConfig.NodeHostConfig, NodeHostConfig.make({ root }))
  ))
const shadowIscsiadm = shadowServices(NodeIscsiadm.make)
const shadowMultipath = shadowServices(NodeMultipath.make)

/** Each function of `real` also runs `shadow`'s (its outcome ignored) first; Effect-valued members likewise. */
const shadowed = <S extends object>(real: S, shadow: S): S => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(real)) {
    const s = (shadow as Record<string, unknown>)[k]
    if (typeof v === "function") {
      out[k] = (...args: Array<unknown>) =>
        Effect.andThen(
          Effect.ignore((s as (...a: Array<unknown>) => Effect.Effect<unknown, unknown>)(...args)),
          (v as (...a: Array<unknown>) => Effect.Effect<unknown, unknown>)(...args)
        )
    } else if (Effect.isEffect(v) && Effect.isEffect(s)) {
      out[k] = Effect.andThen(Effect.ignore(s), v)
    } else out[k] = v
  }
  return out as S
}

const paths: Array<string> = []
const lockNames: Array<string> = []
const recordingSysfs = (real: Sysfs.Sysfs["Service"]): Sysfs.Sysfs["Service"] => ({
  read: (p) => Effect.andThen(Effect.sync(() => paths.push(p)), real.read(p)),
  list: (p) => Effect.andThen(Effect.sync(() => paths.push(p)), real.list(p)),
  readlink: (p) => Effect.andThen(Effect.sync(() => paths.push(p)), real.readlink(p)),
  write: (p, v) => Effect.andThen(Effect.sync(() => paths.push(p)), real.write(p, v))
})
const recordingLock = (real: Lock.Lock["Service"]): Lock.Lock["Service"] => ({
  ...real,
  acquire: (name, timeout) => Effect.andThen(Effect.sync(() => lockNames.push(name)), real.acquire(name, timeout))
})

/** Runs a program on the sim host with every service observed. */
const observed = <A, E>(host: SimHost.SimHost, program: Effect.Effect<A, E, SimHost.SimServices>) =>
  Effect.runPromise(Effect.exit(
    Effect.gen(function*() {
      const i = yield* Iscsiadm.Iscsiadm
      const m = yield* Multipath.Multipath
      const s = yield* Sysfs.Sysfs
      const l = yield* Lock.Lock
      return yield* program.pipe(
        Effect.provideService(Iscsiadm.Iscsiadm, shadowed(i, shadowIscsiadm)),
        Effect.provideService(Multipath.Multipath, shadowed(m, shadowMultipath)),
        Effect.provideService(Sysfs.Sysfs, recordingSysfs(s)),
        Effect.provideService(Lock.Lock, recordingLock(l))
      )
    }).pipe(Effect.provide(host.layer), Effect.provide(Logger.layer([])))
  ))

// ------------------------------------------------------------------ valid inputs

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?$/)
const iqn = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.tuple(
      fc.integer({ min: 1990, max: 2099 }),
      fc.integer({ min: 1, max: 12 }),
      fc.array(label, { minLength: 1, maxLength: 3 }),
      fc.option(
        fc.oneof(
          fc.stringMatching(/^[A-Za-z0-9.:_-]{1,24}$/),
          fc.constantFrom("-lun-1", ":-I", "--op", "-o-delete", "x-iscsi-y")
        ),
        { nil: undefined }
      )
    )
      .map(([y, m, ls, id]) =>
        `iqn.${y}-${String(m).padStart(2, "0")}.${ls.join(".")}${id === undefined ? "" : `:${id}`}`
      )
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9A-F]{16}$/).map((h) => `eui.${h}`) },
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-f]{32}$/).map((h) => `naa.${h}`) }
)
const port = fc.oneof(fc.constant(3260), fc.integer({ min: 1, max: 65535 }))
const portal = fc.oneof(
  fc.tuple(fc.ipV4(), port).map(([h, p]) => `${h}:${p}`),
  fc.tuple(fc.ipV6(), port).map(([h, p]) => `[${h}]:${p}`),
  fc.tuple(fc.array(label, { minLength: 1, maxLength: 3 }), fc.stringMatching(/^[a-z]{2,6}$/), port).map((
    [ls, tld, p]
  ) => `${[...ls, tld].join(".")}:${p}`)
)
/**
 * brick's own fixed words (modes, ops, multipathd verbs, `-P 1`): an input value equal to one of
 * them could not be told apart from it in an argv, so the generators leave them out.
 */
const vocabulary = new Set([
  "node",
  "session",
  "discovery",
  "discoverydb",
  "iface",
  "new",
  "delete",
  "update",
  "show",
  "sendtargets",
  "st",
  "add",
  "del",
  "remove",
  "path",
  "map",
  "paths",
  "maps",
  "daemon",
  "resize",
  "reconfigure",
  "list",
  "status"
])
const notFixed = (v: string) => !vocabulary.has(v) && !/^\d+$/.test(v)
const user = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_.@][A-Za-z0-9_.@-]{0,12}$/),
  fc.constantFrom("u$(id)", "a;b", "`id`", "x|y", "o'neil", "u\"q", "<x>")
).filter(notFixed)
/** Passwords may legally start with '-' or hold spaces; a random tail makes each one findable. */
const password = fc.tuple(
  fc.oneof(
    fc.string({ maxLength: 12 }).map((s) => s.replace(/[\r\n\0]/g, "_")),
    fc.constantFrom("-o delete ", "--login", "-v", "$(reboot)", "a b c", "-", " x ")
  ),
  fc.stringMatching(/^[a-z0-9]{8}$/)
).map(([head, tail]) => `${head}#${tail}`)
const scenario = fc.record({
  iqn,
  portals: fc.uniqueArray(portal, { minLength: 1, maxLength: 3, selector: (p) => Portal.normalize(p) }),
  lun: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 256, max: 16383 })),
  multipath: fc.boolean(),
  plural: fc.boolean(),
  chap: fc.option(fc.record({ user, password, mutual: fc.option(fc.record({ user, password }), { nil: undefined }) }), {
    nil: undefined
  }),
  discoveryChap: fc.option(fc.record({ user, password }), { nil: undefined }),
  iface: fc.oneof(
    fc.constant(undefined),
    fc.constant("default"),
    fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,15}$/).filter(notFixed),
    fc.record({
      transport: fc.constant("tcp"),
      name: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,15}$/).filter(notFixed),
      netIfacename: fc.stringMatching(/^[a-z][a-z0-9._]{0,10}$/).filter(notFixed)
    })
  ),
  seed: fc.integer({ min: 0, max: 1_000_000 })
})
type Scenario = typeof scenario extends fc.Arbitrary<infer A> ? A : never

const infoOf = (s: Scenario) => {
  const auth = s.chap === undefined ? {} : {
    auth_method: "CHAP",
    auth_username: s.chap.user,
    auth_password: s.chap.password,
    ...(s.chap.mutual === undefined
      ? {}
      : { auth_username_in: s.chap.mutual.user, auth_password_in: s.chap.mutual.password })
  }
  const disc = s.discoveryChap === undefined
    ? {}
    : {
      discovery_auth_method: "CHAP",
      discovery_auth_username: s.discoveryChap.user,
      discovery_auth_password: s.discoveryChap.password
    }
  const paths = s.plural
    ? { target_portals: s.portals, target_iqns: s.portals.map(() => s.iqn), target_luns: s.portals.map(() => s.lun) }
    : {}
  return {
    target_portal: s.portals[0],
    target_iqn: s.iqn,
    target_lun: s.lun,
    ...paths,
    ...auth,
    ...disc,
    volume_id: "../../etc/passwd"
  }
}

const optionWords = new Set([
  "-m",
  "-T",
  "-p",
  "-I",
  "-o",
  "-n",
  "-v",
  "-t",
  "-P",
  "-r",
  "-R",
  "--login",
  "--logout",
  "--discover",
  "--rescan",
  "-u",
  "-U",
  "-f",
  "-a",
  "-w",
  "-k"
])
const takesInput = new Set(["-T", "-p", "-I", "-v"])
const plain = (w: Word) => (Redacted.isRedacted(w) ? Redacted.value(w) : w)

describe("no input value becomes an option or a path outside /sys and /dev", () => {
  it(
    "argv of every iscsiadm/multipath command and every sysfs path, over generated valid inputs through connect and disconnect",
    async () => {
      let commands = 0
      let withInput = 0
      let attached = 0
      await fc.assert(
        fc.asyncProperty(scenario, async (s) => {
          recorded.length = 0
          paths.length = 0
          lockNames.length = 0
          const chap = s.chap === undefined
            ? {}
            : {
              chap: {
                username: s.chap.user,
                password: s.chap.password,
                ...(s.chap.mutual
                  ? { mutual: { username: s.chap.mutual.user, password: s.chap.mutual.password } }
                  : {})
              }
            }
          const host = SimHost.make({
            targets: [{
              iqn: s.iqn,
              portals: s.portals,
              luns: [{ lun: s.lun }],
              ...chap,
              ...(s.discoveryChap
                ? { discoveryChap: { username: s.discoveryChap.user, password: s.discoveryChap.password } }
                : {})
            }],
            latency: "zero",
            udev: { delayMs: 1 },
            multipathd: { running: true, mapDelayMs: 1 }
          }, { seed: s.seed })
          const info = infoOf(s)
          const options = {
            useMultipath: s.multipath,
            loginTimeout: 1,
            deviceScanAttempts: 2,
            deviceScanInterval: 100,
            multipathWaitTimeout: 1,
            multipathAddDelay: 50,
            ...(s.iface === undefined ? {} : { iface: s.iface })
          }
          const connected = await observed(host, connectVolume(info, options))
          if (Exit.isSuccess(connected)) attached++
          await observed(
            host,
            disconnectVolume(info, Exit.isSuccess(connected) ? connected.value : undefined, { force: true }, options)
          )

          const inputs = new Set<string>([s.iqn, ...s.portals.map(Portal.normalize), s.portals[0]!])
          for (const c of [s.chap?.user, s.chap?.mutual?.user, s.discoveryChap?.user]) {
            if (c !== undefined) inputs.add(c)
          }
          if (typeof s.iface === "string") inputs.add(s.iface)
          else if (s.iface !== undefined) { for (const v of [s.iface.name, s.iface.netIfacename]) inputs.add(v) }
          const secrets = new Set(
            [s.chap?.password, s.chap?.mutual?.password, s.discoveryChap?.password].filter((x) => x !== undefined)
          )

          for (const argv of recorded) {
            commands++
            const [program, ...args] = argv
            expect(["iscsiadm", "multipathd", "multipath", "blockdev"]).toContain(String(program))
            args.forEach((w, i) => {
              const prev = i > 0 ? plain(args[i - 1]!) : String(program)
              const where = `${String(program)} ${
                args.map((a) => (Redacted.isRedacted(a) ? "<redacted>" : a)).join(" ")
              } [word ${i}]`
              if (Redacted.isRedacted(w)) {
                expect(prev, where).toBe("-v")
                return
              }
              // a secret is never a plain word (it would be logged)
              for (const secret of secrets) expect(w.includes(secret), where).toBe(false)
              if (inputs.has(w)) {
                withInput++
                expect(takesInput.has(prev), where).toBe(true)
                expect(w.startsWith("-"), where).toBe(false)
              } else if (w.startsWith("-")) {
                expect(optionWords.has(w), where).toBe(true)
              } else if (prev === "-n") {
                expect(w, where).toMatch(/^[a-z_]+(?:\.[a-z_]+|\[\d+\])+$/)
              }
            })
          }
          for (const p of paths) {
            expect(p, p).toMatch(/^\/(?:sys|dev)\//)
            expect(p.split("/").slice(1).some((seg) => seg === "" || seg === "." || seg === ".."), p).toBe(false)
          }
          for (const name of lockNames) {
            const file = NodeLock.safeName(name)
            expect(file).toMatch(/^[A-Za-z0-9_-]+$/)
            expect(path.basename(path.join("/run/brick/locks", `${file}.lock`))).toBe(`${file}.lock`)
          }
        }),
        { numRuns: 250 }
      )
      expect(commands).toBeGreaterThan(1000)
      expect(withInput).toBeGreaterThan(1000)
      // the generated inputs do reach real attaches (logins, scans, maps), not just early failures
      expect(attached).toBeGreaterThan(150)
    },
    180_000
  )
})
