/**
 * `findNewSession` with a `SessionSnapshot` (diffing two listings by name)
 * must consider exactly the sessions, in the same order, that it considers
 * with a plain set of the ids before (parsing every name): same reads, same
 * answer, whatever the listings hold.
 */
import { HostState, IfaceName, Iqn, Portal, Sysfs } from "@brick/core"
import { Effect, Option } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

const node = {
  portal: Portal.unsafeMake("10.0.0.1:3260"),
  iqn: Iqn.unsafeMake("iqn.2010-10.org.openstack:volume-1"),
  iface: IfaceName.unsafeMake("default")
}

/** A Sysfs whose session listing is `names`; every session is another target's except `mine`'s. Logs each read. */
const stub = (names: ReadonlyArray<string>, mine: number | undefined, log: Array<string>) =>
  Sysfs.Sysfs.of({
    list: (p) => Effect.succeed(p === "/sys/class/iscsi_session" ? names.slice() : []),
    read: (p) => {
      log.push(p)
      const m = /session(\d+)\/targetname$/.exec(p)
      if (m) return Effect.succeed(Option.some(Number(m[1]) === mine ? node.iqn : "iqn.2010-10.org.openstack:other"))
      if (p.endsWith("/ifacename")) return Effect.succeed(Option.some("default"))
      if (p.endsWith("/persistent_address")) return Effect.succeed(Option.some("10.0.0.1"))
      if (p.endsWith("/persistent_port")) return Effect.succeed(Option.some("3260"))
      return Effect.succeed(Option.none())
    },
    readlink: () => Effect.succeed(Option.none()),
    write: () => Effect.void
  })

const run = (names: ReadonlyArray<string>, before: ReadonlySet<number>, mine: number | undefined) => {
  const log: Array<string> = []
  const found = Effect.runSync(
    HostState.findNewSession(node, before).pipe(Effect.provideService(Sysfs.Sysfs, stub(names, mine, log)))
  )
  return { found: Option.getOrUndefined(Option.map(found, (s) => s.sid)), log }
}

const name = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 40 }).map((n) => `session${n}`) },
  fc.constantFrom(
    "session007",
    "session00",
    "session0",
    "sessionx",
    "session",
    "connection1:0",
    "session12345678901234567",
    "session1234567890123456"
  )
)

/** A later listing: the earlier one with names removed, added and (sometimes) reordered. */
const edited = (before: ReadonlyArray<string>) =>
  fc.record({
    drop: fc.array(fc.nat(), { maxLength: 4 }),
    add: fc.array(fc.tuple(fc.nat(), name), { maxLength: 4 }),
    shuffle: fc.boolean(),
    swap: fc.tuple(fc.nat(), fc.nat())
  }).map(({ add, drop, shuffle, swap }) => {
    const out = before.filter((_, i) => !drop.some((d) => before.length > 0 && d % before.length === i))
    for (const [at, n] of add) if (!out.includes(n)) out.splice(at % (out.length + 1), 0, n)
    if (shuffle && out.length > 1) {
      const [a, b] = [swap[0] % out.length, swap[1] % out.length]
      ;[out[a], out[b]] = [out[b]!, out[a]!]
    }
    return out
  })

const listings = fc.uniqueArray(name, { maxLength: 30 }).chain((before) =>
  edited(before).map((after) => ({ before, after }))
)

const idsOf = (names: ReadonlyArray<string>) =>
  new Set(names.flatMap((n) => (/^session\d+$/.test(n) ? [Number(n.slice(7))] : [])))

describe("HostState.SessionSnapshot", () => {
  it("is the set of the listing's session ids", () => {
    fc.assert(
      fc.property(fc.uniqueArray(name, { maxLength: 30 }), (names) => {
        const snap = new HostState.SessionSnapshot(names)
        const plain = idsOf(names)
        expect(snap.size).toBe(plain.size)
        expect([...snap].sort()).toEqual([...plain].sort())
        for (let sid = 0; sid < 45; sid++) expect(snap.has(sid)).toBe(plain.has(sid))
        const seen: Array<number> = []
        snap.forEach((v, k, s) => {
          expect(k).toBe(v)
          expect(s).toBe(snap)
          seen.push(v)
        })
        expect(seen).toEqual([...snap.values()])
        expect([...snap.keys()]).toEqual([...snap.values()])
        expect([...snap.entries()]).toEqual([...snap.values()].map((v) => [v, v]))
      }),
      { numRuns: 500 }
    )
  })

  it("findNewSession reads the same sessions and finds the same one as with a plain set of ids", () => {
    fc.assert(
      fc.property(
        listings,
        fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
        ({ after, before }, mine) => {
          const fast = run(after, new HostState.SessionSnapshot(before), mine)
          const plain = run(after, idsOf(before), mine)
          expect(fast).toEqual(plain)
        }
      ),
      { numRuns: 3000 }
    )
  })

  it("finds the new session of a login among thousands (the cheap path)", () => {
    const before = Array.from({ length: 3000 }, (_, i) => `session${i + 1}`).sort()
    const after = [...before, "session3001", "session3002"].sort()
    const fast = run(after, new HostState.SessionSnapshot(before), 3002)
    expect(fast.found).toBe(3002)
    // only the new sessions' files were read: 3001's target name, then 3002's and the rest of its session
    expect(fast.log[0]).toContain("session3001/targetname")
    expect(fast.log[1]).toContain("session3002/targetname")
    expect(fast).toEqual(run(after, idsOf(before), 3002))
  })
})
