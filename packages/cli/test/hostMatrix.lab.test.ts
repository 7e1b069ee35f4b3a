/**
 * The host matrix: one compact set of real-kernel scenarios through the built
 * `brick` on each host configuration of HostMatrix.ts, switched inside one
 * boot with `lab-host` (lab/guest/lab-host). Scenarios: 2-path multipath,
 * extend, disconnect, single path (of the LUN the multipath scenario used),
 * 4 paths with one portal dropped; on strict also a 2-path attach whose WWID
 * was registered first (`multipath -a`), on the iscsid.conf-automatic host
 * brick's own and a user's node records. Every scenario compares a whole-host
 * snapshot (sessions, records, devices, maps, by-path links, locks) before and
 * after, and notes what multipath remembers (wwids, bindings). The matrix
 * (pass/fail, brick's seconds, notes) is printed at the end and written to
 * lab/.out/host-matrix.md. Runs with node's test runner (lab/test.sh);
 * skipped outside the guest.
 */
import * as assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { after, before, describe, it } from "node:test"
import { fileURLToPath } from "node:url"
import {
  claimOf,
  dmOf,
  fallbackAt,
  mapOfWwid,
  memory,
  read,
  recordSettings,
  remembers,
  targetLuns,
  waitForSlaves
} from "./HostFacts.ts"
import {
  type Cell,
  configurations,
  type HostConfiguration,
  inContainer,
  matrixTable,
  type ScenarioName
} from "./HostMatrix.ts"
import {
  assertHostIs,
  bin,
  binNote,
  brickRunner,
  bundleIsCurrent,
  cleanupAll,
  deviceOf,
  direct,
  inGuest,
  isDown,
  labTarget,
  multi,
  normal,
  portalDown,
  type Run,
  scsiWwn,
  sessionsOf,
  sleep,
  snapshot,
  waitUntil
} from "./LabHost.ts"

const P = ["10.99.0.1:3260", "10.99.0.2:3260", "10.99.0.3:3260", "10.99.0.4:3260"] as const
/** The portal every 4-path attach finds dropped (packets blackholed). */
const dead = P[3]
const T = "iqn.2003-01.org.brick:host-matrix"
const MiB = 1024 * 1024

let dir: string
let config: HostConfiguration
let iscsidMode: HostConfiguration["iscsid"] = "lab"
const wwids = new Map<number, string>()
let lun0Size = 16 * MiB

const { start, brick, info, disconnect } = brickRunner({
  workDir: () => dir,
  logName: "host-matrix-logs",
  launch: () => (config.container ? inContainer : direct)
})

const labHost = (...args: ReadonlyArray<string>) =>
  JSON.parse(execFileSync("lab-host", args, { encoding: "utf8" })) as Record<string, unknown>
/** Where multipathd consults its wwids file (find_multipaths strict, the built-in default; yes; smart). */
const consultsWwids = (c: HostConfiguration) => c.multipath !== "lab"
/** brick's JSON log lines: level and text. */
const logLines = (r: Run) =>
  r.stderr.split("\n").flatMap((l) => {
    try {
      const j = JSON.parse(l) as { level?: string; message?: unknown }
      return [{ level: j.level ?? "", text: Array.isArray(j.message) ? j.message.join(" ") : String(j.message) }]
    } catch {
      return []
    }
  })

// ------------------------------------------------------------------ the matrix

const cells = new Map<string, Cell>()
const notes = new Map<string, Array<string>>()
const note = (text: string) => notes.set(config.name, [...(notes.get(config.name) ?? []), text])

/** A scenario of the matrix: its cell records pass/fail and brick's seconds (when it ran brick); a failure leaves a clean host. */
const scenario = (
  name: ScenarioName,
  body: (t: { diagnostic: (s: string) => void }) => Promise<number | undefined>
) =>
  it(name, { timeout: 300_000 }, async (t) => {
    try {
      const ms = await body(t)
      cells.set(`${config.name}/${name}`, { ok: true, seconds: ms === undefined ? undefined : ms / 1000 })
    } catch (e) {
      cells.set(`${config.name}/${name}`, { ok: false, seconds: undefined })
      t.diagnostic(`failed; host before cleanup: ${JSON.stringify({ ...snapshot(), ...memory() })}`)
      cleanupAll()
      throw e
    }
  })

/**
 * Connects `vol` (with `flags`), watching when the map appears; checks the
 * result is the map of LUN `lun` with `paths` paths and only that LUN scanned.
 * Notes who formed the map: multipathd by itself, or brick's add-map fallback.
 */
const connectMultipath = async (vol: string, lun: number, paths: number, flags: ReadonlyArray<string> = normal) => {
  const wwid = wwids.get(lun)!
  const t0 = Date.now()
  const running = start(["connect", "--info", vol, "--multipath", ...flags])
  let mapAt: number | undefined
  let exited = false
  void running.done.then(() => (exited = true))
  while (!exited) {
    if (mapAt === undefined && mapOfWwid(wwid) !== undefined) mapAt = Date.now() - t0
    await sleep(100)
  }
  const r = await running.done
  const device = deviceOf(r)
  assert.match(device.path, /^\/dev\/dm-\d+$/)
  assert.equal(device.scsi_wwn, wwid)
  assert.equal(device.multipath_id, wwid, "multipath_id is the WWID whatever the map's name")
  assert.equal(read(`/sys/block/${dmOf(device.path)}/dm/uuid`), `mpath-${wwid}`)
  await waitForSlaves(device.path, paths)
  assert.deepEqual(targetLuns(T), Array(paths).fill(String(lun)), "only the requested LUN, on every path")
  const fallback = fallbackAt(r, t0)
  const by = fallback === undefined || (mapAt !== undefined && mapAt < fallback)
    ? "multipathd by itself"
    : `brick's add map (fallback at ${(fallback / 1000).toFixed(1)} s)`
  const formed = `map at ${mapAt === undefined ? "?" : (mapAt / 1000).toFixed(1)} s by ${by}`
  return { r, device, name: read(`/sys/block/${dmOf(device.path)}/dm/name`), formed }
}
/** Disconnects and waits for the host to be as `before` (multipath's memory apart: noted). */
const disconnectClean = async (vol: string, connected: Run, before: ReturnType<typeof snapshot>, what: string) => {
  const d = await disconnect(vol, connected)
  assert.equal(d.code, 0, d.stderr.slice(-4000))
  await assertHostIs(before, `after ${what}`)
  return d
}

describe("the host matrix on the real kernel", { skip: !inGuest }, () => {
  before(() => {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`npx tsc -b\` first`)
    console.error(`[hostMatrix] ${binNote()}`)
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "brick-matrix-"))
    labTarget("delete", "--iqn", T, "--if-exists")
    const created = JSON.parse(
      labTarget("create", "--iqn", T, ...P.flatMap((p) => ["--portal", p]), "--lun", "0:16M", "--lun", "1:16M")
    ) as { luns: ReadonlyArray<{ lun: number; wwn: string }> }
    for (const l of created.luns) wwids.set(l.lun, scsiWwn(l.wwn))
    portalDown(dead, "drop")
  })
  after(() => {
    const table = matrixTable(cells, notes)
    console.log(`\n${table}`)
    fs.writeFileSync(fileURLToPath(new URL("../../../../lab/.out/host-matrix.md", import.meta.url)), `${table}\n`)
    cleanupAll()
    execFileSync("lab-host", ["csi-stop"])
    execFileSync("lab-host", ["reset"])
    labTarget("delete", "--iqn", T, "--if-exists")
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  })

  for (const c of configurations) {
    const skip = c.container && !bundleIsCurrent ? "needs the one-file bundle (dist/brick.mjs)" : false
    describe(c.name, { skip }, () => {
      before(() => {
        config = c
        const m = labHost("multipath", c.multipath)
        const i = iscsidMode === c.iscsid ? {} : labHost("iscsid", c.iscsid)
        iscsidMode = c.iscsid
        const k = c.container ? labHost("csi-start", "--data", dir, "--file", `${bin}:/brick/brick.mjs`) : {}
        console.error(`[hostMatrix] ${c.name}: ${JSON.stringify({ ...m, ...i, ...k })}`)
      })
      after(() => {
        if (c.container) execFileSync("lab-host", ["csi-stop"])
      })

      const vol2 = `${c.name}-2.json`
      let connected: Run | undefined
      let before2: ReturnType<typeof snapshot> | undefined
      let wwidsBefore2: ReadonlyArray<string> = []

      scenario("2 paths", async (t) => {
        before2 = snapshot()
        wwidsBefore2 = memory().wwids
        const { r, name, formed } = await connectMultipath(info(vol2, multi(T, 0, [P[0], P[1]])), 0, 2)
        connected = r
        note(`2 paths: ${formed}`)
        if (name !== wwids.get(0)) note(`map named ${name}`)
        assert.equal(recordSettings(T, P[0]).scan, "manual", "brick's record scans only what brick asks for")
        t.diagnostic(`connect ${r.ms} ms, ${formed}, map ${name}, ${JSON.stringify(memory())}`)
        return r.ms
      })

      scenario("WWID registered", async () => {
        assert.ok(connected, "the 2-path volume is attached")
        // where multipathd consults its wwids file, brick registers the WWID (os-brick: multipath -a)
        // so that multipathd forms the map by itself; elsewhere it does not touch the file
        const ran = new RegExp(`multipath -a ${wwids.get(0)}`).test(connected.stderr)
        assert.equal(ran, consultsWwids(c), `brick ran multipath -a <WWID>: ${ran}`)
        return undefined
      })

      scenario("extend", async () => {
        assert.ok(connected, "the 2-path volume is attached")
        lun0Size += 16 * MiB
        labTarget("resize", "--iqn", T, "--lun", "0", "--size", String(lun0Size))
        const r = await brick("extend", "--info", vol2, ...normal)
        assert.equal(r.code, 0, r.stderr.slice(-4000))
        assert.deepEqual(JSON.parse(r.stdout), { size: lun0Size })
        const dm = dmOf((JSON.parse(connected.stdout) as { path: string }).path)
        assert.equal(Number(read(`/sys/block/${dm}/size`)) * 512, lun0Size, "the map has the new size")
        return r.ms
      })

      scenario("disconnect", async (t) => {
        assert.ok(connected && before2, "the 2-path volume is attached")
        const d = await disconnectClean(vol2, connected, before2, "disconnect")
        // the WWID (brick's registration, or multipathd's when it formed the map) goes: left there it
        // makes multipath claim a later single-path attach of the volume
        assert.deepEqual(memory().wwids, wwidsBefore2, "the wwids file as before the connect")
        if (remembers(wwids.get(0)!)) note("disconnect leaves the WWID in /etc/multipath/wwids")
        if (memory().bindings.length > 0) note(`bindings file keeps ${memory().bindings.join(", ")}`)
        t.diagnostic(`disconnect ${d.ms} ms; ${JSON.stringify(memory())}`)
        return d.ms
      })

      scenario("1 path", async (t) => {
        const before1 = snapshot()
        const remembered = remembers(wwids.get(0)!)
        const vol = info(`${c.name}-1.json`, { target_portal: P[0], target_iqn: T, target_lun: 0 })
        const r = await brick("connect", "--info", vol, ...normal)
        const device = deviceOf(r)
        assert.match(device.path, /^\/dev\/sd[a-z]+$/)
        assert.equal(device.scsi_wwn, wwids.get(0))
        assert.deepEqual(targetLuns(T), ["0"], "only the requested LUN")
        const { claimed, holders } = await claimOf(path.basename(device.path))
        if (claimed) note(`1 path: claimed by multipath${remembered ? " (WWID in the wwids file)" : ""}`)
        if (holders.length > 0) note(`1 path: the sd device held by a map`)
        t.diagnostic(
          `connect ${r.ms} ms, claimed ${claimed}, holders ${JSON.stringify(holders)}, WWID remembered: ${remembered}`
        )
        await disconnectClean(vol, r, before1, "the single-path disconnect")
        return r.ms
      })

      scenario("4 paths, 1 dropped", async (t) => {
        if (!isDown(dead)) portalDown(dead, "drop") // a failed scenario's clean-up brought it up
        const before4 = snapshot()
        const vol = info(`${c.name}-4.json`, multi(T, 1, P))
        const flags = normal.map((f, i) => (normal[i - 1] === "--login-timeout" ? "5" : f))
        const { r, formed } = await connectMultipath(vol, 1, 3, flags)
        note(`4 paths: ${formed}`)
        t.diagnostic(`connect ${r.ms} ms`)
        await disconnectClean(vol, r, before4, "the 4-path disconnect")
        return r.ms
      })

      if (c.multipath === "strict") {
        scenario("2 paths, WWID registered first", async (t) => {
          const before2r = snapshot()
          // what registering the WWID before login (os-brick: `multipath -a`) would buy brick
          const wwid = wwids.get(1)!
          execFileSync("multipath", ["-a", wwid])
          const vol = info(`${c.name}-2r.json`, multi(T, 1, [P[0], P[1]]))
          const { r, formed } = await connectMultipath(vol, 1, 2)
          note(`registered first: ${formed}`)
          t.diagnostic(`connect ${r.ms} ms, ${formed}`)
          await disconnectClean(vol, r, before2r, "the registered 2-path disconnect")
          // and forgetting it at disconnect (`multipath -w`) keeps a later single path free of multipath
          const w0 = Date.now()
          // brick's disconnect drops the volume's WWID, the user's registration included
          const dropped = !remembers(wwid)
          if (!dropped) execFileSync("multipath", ["-w", wwid])
          const forgetMs = Date.now() - w0
          note(
            `registered first: ${dropped ? "brick's disconnect dropped the WWID" : "the WWID kept by the disconnect"}`
          )
          assert.equal(remembers(wwid), false)
          const vol1 = info(`${c.name}-1r.json`, { target_portal: P[0], target_iqn: T, target_lun: 1 })
          const one = await brick("connect", "--info", vol1, ...normal)
          const claim = await claimOf(path.basename(deviceOf(one).path))
          note(
            `after multipath -w (${forgetMs} ms): 1 path ${
              claim.claimed ? "still claimed" : "not claimed"
            } by multipath`
          )
          await disconnectClean(vol1, one, before2r, "the single path after multipath -w")
          return r.ms
        })
      }

      if (c.multipath === "strict") {
        scenario("interrupted 2 paths", async (t) => {
          const before = snapshot()
          const wwidsBefore = memory().wwids
          const wwid = wwids.get(1)!
          const vol = info(`${c.name}-int.json`, multi(T, 1, [P[0], P[1]]))
          const running = start(["connect", "--info", vol, "--multipath", ...normal])
          // told to stop the moment the WWID is remembered (registered, or the map formed)
          await waitUntil("the WWID in the wwids file", 120, () => remembers(wwid))
          running.child.kill("SIGTERM")
          const r = await running.done
          t.diagnostic(`interrupted after ${r.ms} ms`)
          assert.equal(r.code, 130, r.stderr.slice(-4000))
          await assertHostIs(before, "after the interrupted connect")
          // the WWID the connect registered is in its ledger, and undone
          assert.deepEqual(memory().wwids, wwidsBefore, "the wwids file as before the interrupted connect")
          return r.ms
        })
      }

      if (c.iscsid === "automatic") {
        scenario("own record", async (t) => {
          // brick's own record, made while iscsid.conf says automatic
          const before1 = snapshot()
          const vol = info(`${c.name}-own.json`, { target_portal: P[0], target_iqn: T, target_lun: 1 })
          const r = await brick("connect", "--info", vol, ...normal)
          deviceOf(r)
          const own = recordSettings(T, P[0])
          // brick's records start manually whatever iscsid.conf says, and brick says so
          assert.ok(
            logLines(r).some((l) =>
              (l.level === "INFO" || l.level === "WARN") && /node\.startup/.test(l.text) && /automatic/.test(l.text)
            ),
            "brick says its record does not take iscsid.conf's node.startup = automatic"
          )
          note(`brick's own record: node.startup ${own.startup}, node.session.scan ${own.scan}`)
          assert.equal(own.scan, "manual")
          assert.deepEqual(targetLuns(T), ["1"], "only the requested LUN")
          // os-brick's choice (node.startup automatic), then a reboot's login (`--loginall=automatic`):
          // the session comes back, with no device (the record scans manually)
          const iscsiadm = (...args: ReadonlyArray<string>) => execFileSync("iscsiadm", ["-m", "node", ...args])
          iscsiadm("-T", T, "-p", P[0], "-o", "update", "-n", "node.startup", "-v", "automatic")
          iscsiadm("-T", T, "-p", P[0], "-u")
          const boot0 = Date.now()
          iscsiadm("--loginall=automatic")
          const boot = `${sessionsOf(T).length} session(s), LUNs [${targetLuns(T).join(",")}]`
          note(`an automatic record at boot: ${boot} (${Date.now() - boot0} ms)`)
          t.diagnostic(`own ${JSON.stringify(own)}`)
          await disconnectClean(vol, r, before1, "the own-record disconnect")
          return r.ms
        })

        scenario("user's record", async (t) => {
          // a record the user made (iscsiadm -o new: iscsid.conf's automatic startup, auto scan)
          const before1 = snapshot()
          execFileSync("iscsiadm", ["-m", "node", "-T", T, "-p", P[1], "-o", "new"])
          const made = recordSettings(T, P[1])
          assert.deepEqual(made, { startup: "automatic", scan: "auto" })
          const vol = info(`${c.name}-user.json`, { target_portal: P[1], target_iqn: T, target_lun: 1 })
          const u = await brick("connect", "--info", vol, ...normal)
          deviceOf(u)
          const after = recordSettings(T, P[1])
          note(`the user's record after connect: node.startup ${after.startup}, node.session.scan ${after.scan}`)
          note(`LUNs scanned through the user's record: ${targetLuns(T).join(",")}`)
          // a record the user made keeps its node.startup; its scan is made manual (so that only the
          // requested LUN is scanned), and brick says so
          assert.equal(after.startup, made.startup, "the user's node.startup as the user made it")
          assert.ok(
            logLines(u).some((l) => l.level === "INFO" && /node\.startup left as it is/.test(l.text)),
            "brick says what it did to the user's record"
          )
          assert.deepEqual(targetLuns(T), ["1"], "only the requested LUN through the user's record")
          const d = await disconnect(vol, u)
          assert.equal(d.code, 0, d.stderr.slice(-4000))
          const kept = recordSettings(T, P[1]).startup !== undefined
          note(`the user's record after disconnect: ${kept ? "kept" : "deleted"}`)
          t.diagnostic(`user's ${JSON.stringify(made)} -> ${JSON.stringify(after)}, kept ${kept}`)
          if (kept) execFileSync("iscsiadm", ["-m", "node", "-T", T, "-p", P[1], "-o", "delete"])
          await assertHostIs(before1, "after the user-record disconnect")
          return u.ms
        })
      }
    })
  }
})
