/**
 * Invariant 5 through the programs on a simulated host: the hand corpus
 * (packages/core/test/fixtures/malformed-connection-info.json, each case with
 * the field its error must name) and a fuzz of random and randomly spoiled
 * inputs. Every program refuses with InvalidInput naming the field(s), and the
 * host sees zero service operations (no iscsiadm, sysfs, multipath, lock).
 */
import { connectVolume, disconnectVolume, extendVolume, getVolumePaths } from "@brick/core"
import { Effect, Exit, Option } from "effect"
import fc from "fast-check"
import * as NodeFs from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { makeHost, type Services } from "./harness.ts"

interface CorpusCase {
  readonly name: string
  readonly set: Record<string, unknown>
  readonly options?: Record<string, unknown>
  readonly field: string
}
interface Corpus {
  readonly base: Record<string, unknown>
  readonly cases: ReadonlyArray<CorpusCase>
}
const corpus: Corpus = JSON.parse(NodeFs.readFileSync(
  fileURLToPath(new URL("../../core/test/fixtures/malformed-connection-info.json", import.meta.url)),
  "utf8"
))

/** The case's connection info: base with `set` applied (null removes a key). */
export const infoOf = (base: Record<string, unknown>, c: CorpusCase): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(c.set)) {
    if (v === null && k !== "target_lun") delete out[k]
    else out[k] = v
  }
  return out
}

const iqn = corpus.base["target_iqn"] as string
const host = makeHost({
  targets: [{
    iqn,
    portals: ["10.99.0.1:3260", "10.99.0.2:3260"],
    luns: [{ lun: 1 }],
    chap: { username: "user1", password: "Corpus-S3cret-pw" }
  }]
})
const layer = host.layer()

type Program = "connect" | "disconnect" | "extend" | "paths"
const programs: ReadonlyArray<Program> = ["connect", "disconnect", "extend", "paths"]
const runProgram = (program: Program, info: unknown, options: unknown) => {
  const eff: Effect.Effect<unknown, unknown, Services> = program === "connect"
    ? connectVolume(info, options)
    : program === "disconnect"
    ? disconnectVolume(info, undefined, {}, options)
    : program === "extend"
    ? extendVolume(info)
    : getVolumePaths(info, options)
  return Effect.runPromiseExit(eff.pipe(Effect.provide(layer)))
}

/** The InvalidInput's named fields, or a description of what happened instead. */
const refusal = (exit: Exit.Exit<unknown, unknown>) => {
  const e = Exit.isFailure(exit) ? Exit.findErrorOption(exit) : Option.none()
  if (Option.isNone(e)) return { tag: Exit.isSuccess(exit) ? "success" : "defect", fields: [] as Array<string> }
  const err = e.value as { _tag: string; reason?: { issues?: ReadonlyArray<{ field: string }> } }
  return { tag: err._tag, fields: (err.reason?.issues ?? []).map((i) => i.field) }
}

describe("bad input corpus through the programs (sim)", () => {
  it(`has ${corpus.cases.length} cases, every base field covered`, () => {
    expect(corpus.cases.length).toBeGreaterThanOrEqual(80)
    const named = new Set(corpus.cases.map((c) => c.field.replace(/\[\d+\]$/, "").replace(/\..*$/, "")))
    for (const key of Object.keys(corpus.base)) expect(named, key).toContain(key)
  })

  it.each(corpus.cases.map((c) => [c.name, c] as const))("%s", async (_, c) => {
    const info = infoOf(corpus.base, c)
    const before = host.totalOps()
    for (const wrapped of [false, true]) {
      const input = wrapped ? { driver_volume_type: "iscsi", data: info } : info
      // extend takes no options
      for (const program of programs.filter((p) => c.options === undefined || p !== "extend")) {
        const r = refusal(await runProgram(program, input, c.options ?? { useMultipath: true }))
        const expected = wrapped && c.options === undefined ? `data.${c.field}` : c.field
        expect(r.tag, `${program} ${wrapped ? "wrapped" : "bare"}`).toBe("InvalidInput")
        expect(new Set(r.fields), `${program} ${wrapped ? "wrapped" : "bare"}`).toEqual(new Set([expected]))
      }
    }
    expect(host.totalOps()).toBe(before)
  })
})

// ------------------------------------------------------------------ fuzz

const groups: ReadonlyArray<ReadonlyArray<string>> = [
  ["target_portal", "target_iqn", "target_lun", "target_portals", "target_iqns", "target_luns"],
  ["auth_method", "auth_username", "auth_password", "auth_username_in", "auth_password_in"],
  ["discovery_auth_method", "discovery_auth_username", "discovery_auth_password"]
]
const rootKey = (field: string) => field.replace(/^data\./, "").replace(/[.[].*$/, "")
const related = (key: string) => groups.find((g) => g.includes(key)) ?? [key]

const hostile = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "-",
    "-o",
    "--op=delete",
    "-I default",
    "$(reboot)",
    "`id`",
    "a;b",
    "a|b",
    "a&&b",
    "../../etc/passwd",
    "/sys/../etc",
    "x\0y",
    "x\ny",
    "\u00a0",
    "fe80::1:3260",
    "[::1",
    "10.0.0.1:0",
    "10.0.0.1:65536",
    "1e3",
    "NaN",
    "CHAP ",
    "iqn.2003-01.org.x:a b",
    "-iqn.2003-01.org.x:a"
  ),
  fc.string({ maxLength: 16 }),
  fc.string({ maxLength: 8, unit: "binary" })
)
const junk = fc.oneof(
  hostile,
  fc.integer(),
  fc.double(),
  fc.constantFrom(-1, 16384, 2 ** 53, 1.5, Number.MAX_VALUE, -0),
  fc.boolean(),
  fc.constant(null),
  fc.array(hostile, { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), hostile, { maxKeys: 2 })
)
const keys = [
  ...new Set(groups.flat()),
  "addressing_mode",
  "access_mode",
  "encrypted",
  "volume_id",
  "target_discovered"
]

describe("bad input fuzz through the programs (sim)", () => {
  it("a random value of any shape is InvalidInput, zero operations", async () => {
    const before = host.totalOps()
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.anything(), fc.jsonValue()),
        fc.constantFrom(...programs),
        async (input, program) => {
          const r = refusal(await runProgram(program, input, {}))
          expect(r.tag).toBe("InvalidInput")
          expect(r.fields.length).toBeGreaterThan(0)
        }
      ),
      { numRuns: 500 }
    )
    expect(host.totalOps()).toBe(before)
  })

  it("the valid base with 1-3 fields spoiled: accepted, or InvalidInput naming only spoiled (or paired) fields, zero operations", async () => {
    let refused = 0
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.constantFrom(...keys), { minLength: 1, maxLength: 3 }).chain((ks) =>
          fc.tuple(fc.constant(ks), fc.array(junk, { minLength: ks.length, maxLength: ks.length }))
        ),
        fc.boolean(),
        fc.constantFrom(...programs),
        async ([ks, values], wrapped, program) => {
          const info: Record<string, unknown> = { ...corpus.base }
          ks.forEach((k, i) => (info[k] = values[i]))
          const before = host.totalOps()
          const exit = await runProgram(program, wrapped ? { driver_volume_type: "iscsi", data: info } : info, {
            useMultipath: true
          })
          const r = refusal(exit)
          // accepted (e.g. only volume_id or auth_method None changed): it ran against the host
          if (r.tag !== "InvalidInput") return
          refused++
          expect(r.fields.length).toBeGreaterThan(0)
          for (const f of r.fields) {
            if (wrapped) expect(f.startsWith("data.")).toBe(true)
            expect(ks.flatMap(related), f).toContain(rootKey(f))
          }
          expect(host.totalOps()).toBe(before)
        }
      ),
      { numRuns: 1500 }
    )
    expect(refused).toBeGreaterThan(1000)
  })
})
