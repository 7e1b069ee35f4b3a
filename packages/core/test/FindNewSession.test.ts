/**
 * `findNewSession` finds a login's session among the sessions that were not
 * there before it, reading only those sessions' files, whatever the listings
 * hold.
 */
import { IfaceName, Iqn, Portal, Sysfs } from "@brick/core"
import { Effect, Option } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Sessions from "../src/internal/iscsi/Sessions.ts"

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
    Sessions.findNewSession(node, before).pipe(Effect.provideService(Sysfs.Sysfs, stub(names, mine, log)))
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

/** The session ids of a listing, in its order (`session7` and `session007` are both 7). */
const idList = (names: ReadonlyArray<string>) =>
  names.flatMap((n) => (/^session\d+$/.test(n) ? [Number(n.slice(7))] : []))
const idsOf = (names: ReadonlyArray<string>) => new Set(idList(names))

const sidOf = (path: string) => Number(/(?:session|connection)(\d+)[/:]/.exec(path)?.[1])

describe("Sessions.findNewSession", () => {
  it("finds the session only when it is new, reading only the new sessions' files, in listing order", () => {
    fc.assert(
      fc.property(
        listings,
        fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
        ({ after, before }, mine) => {
          const old = idsOf(before)
          const added = idList(after).filter((sid) => !old.has(sid))
          const { found, log } = run(after, old, mine)
          expect(found).toBe(mine !== undefined && added.includes(mine) ? mine : undefined)
          const asked = log.filter((p) => p.endsWith("/targetname")).map(sidOf)
          const until = found === undefined ? added.length : added.indexOf(found) + 1
          expect(asked).toEqual(added.slice(0, until))
          expect(log.every((p) => !old.has(sidOf(p)))).toBe(true)
        }
      ),
      { numRuns: 3000 }
    )
  })

  it("finds the new session of a login among thousands, reading only the new sessions", () => {
    const before = Array.from({ length: 3000 }, (_, i) => `session${i + 1}`).sort()
    const after = [...before, "session3001", "session3002"].sort()
    const { found, log } = run(after, idsOf(before), 3002)
    expect(found).toBe(3002)
    // only the new sessions' files were read: 3001's target name, then 3002's and the rest of its session
    expect(log[0]).toContain("session3001/targetname")
    expect(log[1]).toContain("session3002/targetname")
    expect(log.every((p) => sidOf(p) > 3000)).toBe(true)
  })
})
