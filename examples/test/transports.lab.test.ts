/**
 * brick's transports and addressing on the real kernel, inside the lab guest,
 * through the Promise API (`createConnector` on the real host): iSER over
 * soft-RoCE (iface `iser` and an iface spec with transport `iser`, single path
 * and multipath, I/O through the device, the session as sysfs shows it,
 * falling back to tcp on a portal without iSER, refusing with
 * `ifaceFallback: false`), a path per target IQN and LUN (two LIO targets over
 * one backstore), LUN 300 (LIO's peripheral addressing: SAM2/SAM3-flat must
 * fail cleanly), IPv6 portals, an iface from an IP address (bound to the
 * network interface carrying it) and `brick ifaces` with soft-RoCE up. Each
 * test reads the whole host before and after (labHost.ts). Runs with node's
 * test runner (lab/test.sh); skipped outside the guest.
 */
import { Connector } from "@brick/interpreter-node"
import * as assert from "node:assert/strict"
import { spawnSync } from "node:child_process"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { after, describe, it, type TestContext } from "node:test"
import { inGuest, labTarget, look, ls, picture, read, sh } from "./labHost.ts"
import { diff, type HostPicture } from "./labScenarios.ts"

const unique = crypto.randomBytes(3).toString("hex")
const iqnOf = (name: string) => `iqn.2003-01.org.brick:tr-${name}-${unique}`
const P = ["10.99.0.1:3260", "10.99.0.2:3260", "10.99.0.3:3260"] as const
const V6 = ["[fd00:99::1]:3260", "[fd00:99::2]:3260"] as const
/** Kernel wwid `naa.6001405…` → the `3…` WWN brick reports. */
const scsiWwn = (naa: string) => `3${naa.replace(/^naa\./, "")}`

// ------------------------------------------------------------------ soft-RoCE

const rxeStatusFile = "/run/brick-lab/rxe"

/**
 * Soft-RoCE as the guest brought it up at boot (in the background: wait for
 * its report). `absent` only when the kernel has no rdma_rxe/ib_iser/ib_isert.
 */
const softRoce = async (): Promise<{ readonly state: "ok" | "absent" | "failed"; readonly detail: string }> => {
  for (let i = 0; i < 600 && !fs.existsSync(rxeStatusFile); i++) await new Promise((r) => setTimeout(r, 100))
  const detail = read(rxeStatusFile)
  const word = detail.split(/\s/)[0]
  if (word === "absent") return { state: "absent", detail }
  const active = spawnSync("rdma", ["link", "show", "rxe0/1"], { encoding: "utf8" }).stdout.includes("state ACTIVE")
  return word === "ok" && active && fs.existsSync("/sys/class/iscsi_transport/iser")
    ? { state: "ok", detail }
    : { state: "failed", detail: `${detail} (rxe0 ACTIVE: ${active})` }
}

/** Skips (naming the capability) when the kernel lacks soft-RoCE; fails when it has it but it is not up. */
const needRdma = async (t: TestContext): Promise<boolean> => {
  const rxe = await softRoce()
  if (rxe.state === "absent") {
    t.skip(`needs soft-RoCE (rdma_rxe): ${rxe.detail}`)
    return false
  }
  assert.equal(rxe.state, "ok", `soft-RoCE (rdma_rxe) is in the kernel but not up: ${rxe.detail}`)
  return true
}

// ------------------------------------------------------------------ targets and the connector

interface Created {
  readonly iqn: string
  readonly iser_portals: ReadonlyArray<string>
  readonly luns: ReadonlyArray<{ readonly lun: number; readonly wwn: string }>
}
const targets = new Set<string>()
/** `lab-target create --iqn IQN ARGS…`; deleted again in `after` whatever happens. */
const createTarget = (iqn: string, ...args: ReadonlyArray<string>): Created => {
  targets.add(iqn)
  return JSON.parse(labTarget("create", "--iqn", iqn, ...args)) as Created
}
const deleteTarget = (iqn: string) => {
  labTarget("delete", "--iqn", iqn, "--if-exists")
  targets.delete(iqn)
}
/** Runs `body` with a fresh target (`lab-target create --iqn IQN ARGS…`), deleted afterwards. */
const withTarget = async <A>(iqn: string, args: ReadonlyArray<string>, body: (t: Created) => Promise<A>) => {
  const created = createTarget(iqn, ...args)
  try {
    return await body(created)
  } finally {
    deleteTarget(iqn)
  }
}

interface Device {
  readonly path: string
  readonly scsi_wwn: string
  readonly multipath_id?: string
  readonly iface?: string
  readonly paths?: ReadonlyArray<{ readonly state: string }>
}
interface LogLine {
  readonly level: string
  readonly message: string
}

/** A connector on the real host with `options`, keeping its warnings. */
const connector = (options: Record<string, unknown>) => {
  const logs: Array<LogLine> = []
  const c = Connector.createConnector({
    options,
    onLog: (r) => logs.push({ level: r.level, message: r.message }),
    logLevel: "Warn"
  })
  return { c, logs }
}

const single = (portal: string, iqn: string, lun: number, extra: Record<string, unknown> = {}) => ({
  target_portal: portal,
  target_iqn: iqn,
  target_lun: lun,
  volume_id: `tr-${unique}`,
  ...extra
})
const multi = (portals: ReadonlyArray<string>, iqns: ReadonlyArray<string>, luns: ReadonlyArray<number>) => ({
  ...single(portals[0]!, iqns[0]!, luns[0]!),
  target_portals: portals,
  target_iqns: iqns,
  target_luns: luns
})

// ------------------------------------------------------------------ what the host shows

/** `ip:port` of a portal as sysfs and udev print it (IPv6 without brackets). */
const bare = (portal: string) => portal.replace(/^\[([^\]]+)\]/, "$1")

/** The sessions of `iqn`, read from sysfs: name, portal (bare), ifacename and where sysfs puts it. */
const sessionsOf = (iqn: string) =>
  ls("/sys/class/iscsi_session").filter((s) => read(`/sys/class/iscsi_session/${s}/targetname`) === iqn).map((s) => {
    const conn = `/sys/class/iscsi_connection/connection${s.slice("session".length)}:0`
    return {
      name: s,
      portal: `${read(`${conn}/persistent_address`)}:${read(`${conn}/persistent_port`)}`,
      iface: read(`/sys/class/iscsi_session/${s}/ifacename`),
      device: fs.realpathSync(`/sys/class/iscsi_session/${s}`)
    }
  })

/** The by-path link udev made for (portal, iqn, kernel LUN text), resolved; undefined when absent. */
const byPathTarget = (portal: string, iqn: string, lunText: string) => {
  const link = `/dev/disk/by-path/ip-${bare(portal)}-iscsi-${iqn}-lun-${lunText}`
  return fs.existsSync(link) ? fs.realpathSync(link) : undefined
}

/** H:C:T:L of an sd device. */
const hctlOf = (sd: string) => path.basename(fs.realpathSync(`/sys/block/${path.basename(sd)}/device`))

/** `portal ifacename` of each session of `iqn`, sorted. */
const sessionLines = (iqn: string) => sessionsOf(iqn).map((s) => `${s.portal} ${s.iface}`).sort()

/** Asserts `dev` is a SCSI disk of `wwn` (no multipath). */
const assertSd = (dev: Device, wwn: string) => {
  assert.match(dev.path, /^\/dev\/sd[a-z]+$/)
  assert.equal(dev.scsi_wwn, scsiWwn(wwn))
  assert.equal(dev.multipath_id, undefined)
}

/** Asserts `dev` is the dm map of `wwn` over exactly the devices of these by-path links. */
const assertMapOver = (dev: Device, wwn: string, links: ReadonlyArray<readonly [string, string, string]>) => {
  assert.match(dev.path, /^\/dev\/dm-\d+$/)
  assert.equal(dev.multipath_id, scsiWwn(wwn))
  const paths = links.map(([portal, iqn, lun]) => byPathTarget(portal, iqn, lun))
  assert.ok(paths.every((p) => p !== undefined), `by-path links ${JSON.stringify(links)}: ${paths}`)
  assert.deepEqual(ls(`/sys/block/${path.basename(dev.path)}/slaves`), paths.map((p) => path.basename(p!)).sort())
}

/** Writes 1 MiB of random data at 1 MiB with O_DIRECT, reads it back (O_DIRECT) and compares. */
const directIo = (device: string) => {
  const dir = fs.mkdtempSync("/tmp/brick-tr-")
  try {
    const pattern = crypto.randomBytes(1024 * 1024)
    fs.writeFileSync(`${dir}/pattern`, pattern)
    sh("dd", [`if=${dir}/pattern`, `of=${device}`, "bs=64k", "seek=16", "oflag=direct", "conv=fsync", "status=none"])
    sh("dd", [`if=${device}`, `of=${dir}/back`, "bs=64k", "skip=16", "count=16", "iflag=direct", "status=none"])
    assert.ok(fs.readFileSync(`${dir}/back`).equals(pattern), `${device}: the data read back differs`)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** Asserts the host equals `before` (apart from `allowed` lines of the diff). */
const assertClean = async (before: HostPicture, allowed: ReadonlyArray<string> = []) => {
  assert.deepEqual(diff(before, await picture()), allowed, "the host differs from before")
}

/**
 * A multipath result with a path cut while still logging in (`stopped`) or not yet in the map
 * (`joining`), as a loaded host can make it: connected again, as a caller does to make a volume
 * whole, at most twice; the last result, every path `serving` or `failed` (checked after).
 */
const whole = async (c: Connector.Connector, info: Record<string, unknown>, first: Device) => {
  let dev = first
  for (let tries = 0; tries < 2; tries++) {
    const pending = (dev.paths ?? []).filter((p) => p.state === "stopped" || p.state === "joining")
    if (pending.length === 0 || dev.multipath_id === undefined) return dev
    console.log(`not whole yet, connecting again: ${JSON.stringify(pending)}`)
    spawnSync("udevadm", ["settle", "--timeout=30"])
    dev = await c.connectVolume(info, dev) as Device
  }
  return dev
}

/**
 * connect → `check` the device → I/O through it → disconnect → the host as
 * before (`left`: lines allowed to differ). Resolves to the device.
 */
const attachDetach = async (
  options: Record<string, unknown>,
  info: Record<string, unknown>,
  check: (dev: Device, logs: ReadonlyArray<LogLine>) => void,
  left: (dev: Device) => ReadonlyArray<string> = () => []
) => {
  const before = await picture()
  const { c, logs } = connector(options)
  try {
    const dev = await whole(c, info, await c.connectVolume(info) as Device)
    try {
      spawnSync("udevadm", ["settle", "--timeout=30"])
      try {
        check(dev, logs)
      } catch (e) {
        throw new Error(`${(e as Error).message}\nthe connect's result: ${JSON.stringify(dev)}`, { cause: e })
      }
      directIo(dev.path)
    } finally {
      await c.disconnectVolume(info, dev)
    }
    await assertClean(before, left(dev))
    return dev
  } finally {
    await c.close()
  }
}

/** A connect that must fail: its error, with the host unchanged. */
const failingConnect = async (options: Record<string, unknown>, info: Record<string, unknown>) => {
  const before = await picture()
  const { c, logs } = connector(options)
  try {
    const error = await c.connectVolume(info).then(
      async (dev) => {
        await c.disconnectVolume(info, dev)
        return assert.fail(`connect succeeded: ${JSON.stringify(dev)}`)
      },
      (e: unknown) => e as Connector.BrickError
    )
    await assertClean(before)
    return { error, logs }
  } finally {
    await c.close()
  }
}

/** A field of an iface record (`iscsiadm -m iface -I NAME`). */
const ifaceField = (name: string, field: string) =>
  new RegExp(`^iface\\.${field} = (.*)$`, "m").exec(sh("iscsiadm", ["-m", "iface", "-I", name]))?.[1]

/** The `brick` command as the lab builds it: its one-file bundle when current, else the compiled bin. */
const brickBin = () => {
  const cli = path.join(process.env["BRICK_LAB_PROJECT"] ?? process.cwd(), "packages/cli/dist")
  const [bundle, binJs] = [path.join(cli, "brick.mjs"), path.join(cli, "src/bin.js")]
  return fs.existsSync(bundle) && fs.statSync(bundle).mtimeMs >= fs.statSync(binJs).mtimeMs ? bundle : binJs
}

/** `brick ARGS…`'s JSON output (it must exit 0). */
const brick = (...args: ReadonlyArray<string>): unknown => {
  const r = spawnSync(process.execPath, [brickBin(), ...args], { encoding: "utf8", timeout: 300_000 })
  assert.equal(r.status, 0, `brick ${args.join(" ")}: exit ${r.status}: ${r.stderr}`)
  return JSON.parse(r.stdout)
}

// ------------------------------------------------------------------ the tests

/**
 * A target for the tests of one `describe`: made by the first test that asks for its
 * LUN's wwn, deleted after the last.
 */
const suiteTarget = (name: string, args: ReadonlyArray<string>) => {
  const iqn = iqnOf(name)
  let wwn = ""
  after(() => deleteTarget(iqn))
  return {
    iqn,
    wwnOfLun: () => (wwn === "" ? (wwn = createTarget(iqn, ...args).luns[0]!.wwn) : wwn)
  }
}

const targetArgs = (...portals: ReadonlyArray<string>) => [...portals.flatMap((p) => ["--portal", p]), "--lun", "0:32M"]

describe("transports on the real kernel (Promise API on the real host)", { skip: !inGuest }, () => {
  after(() => {
    for (const iqn of [...targets]) deleteTarget(iqn)
  })

  it("iSER, iface `iser`, single path: the sd device over an iSER session, I/O, clean host", {
    timeout: 300_000
  }, async (t) => {
    if (!(await needRdma(t))) return
    const iqn = iqnOf("iser1")
    await withTarget(iqn, [...targetArgs(P[0]), "--iser"], async (created) => {
      assert.deepEqual(created.iser_portals, [P[0]])
      await attachDetach({ iface: "iser", loginTimeout: 10 }, single(P[0], iqn, 0), (dev) => {
        assertSd(dev, created.luns[0]!.wwn)
        assert.equal(dev.iface, "iser")
        const [s, ...others] = sessionsOf(iqn)
        assert.deepEqual(others, [])
        assert.equal(`${s!.portal} ${s!.iface}`, `${P[0]} iser`)
        // the iSER host is a platform device (no PCI parent) of the iscsi_iser driver
        const host = /^\/sys\/devices\/platform\/(host\d+)\/session\d+\/iscsi_session\/session\d+$/.exec(s!.device)?.[1]
        assert.ok(host !== undefined, `session at ${s!.device}`)
        assert.equal(read(`/sys/class/scsi_host/${host}/proc_name`), "iscsi_iser")
        assert.equal(read(`/sys/class/iscsi_host/${host}/hwaddress`), "(null)")
        assert.equal(read(`/sys/class/iscsi_host/${host}/netdev`), "(null)")
        // udev names it like any software transport: plain ip-…, no pci- prefix
        assert.equal(byPathTarget(P[0], iqn, "0"), dev.path)
        assert.deepEqual(ls("/dev/disk/by-path").filter((l) => l.includes(iqn)), [`ip-${P[0]}-iscsi-${iqn}-lun-0`])
      })
    })
  })

  it("iSER, iface `iser`, 2-path multipath: the dm device over two iSER sessions, I/O, clean host", {
    timeout: 300_000
  }, async (t) => {
    if (!(await needRdma(t))) return
    const iqn = iqnOf("iser2")
    await withTarget(iqn, [...targetArgs(P[0], P[1]), "--iser"], async (created) => {
      const options = { useMultipath: true, iface: "iser", loginTimeout: 10 }
      await attachDetach(options, multi(P.slice(0, 2), [iqn, iqn], [0, 0]), (dev) => {
        assertMapOver(dev, created.luns[0]!.wwn, [[P[0], iqn, "0"], [P[1], iqn, "0"]])
        assert.equal(dev.iface, "iser")
        assert.deepEqual(sessionLines(iqn), [`${P[0]} iser`, `${P[1]} iser`])
      })
    })
  })

  it(
    "iSER, iface spec {transport: iser}: the built-in iser iface carries single-path and multipath attaches, no record is made",
    {
      timeout: 300_000
    },
    async (t) => {
      if (!(await needRdma(t))) return
      const iqn = iqnOf("iserspec")
      const spec = { transport: "iser" }
      await withTarget(iqn, [...targetArgs(P[0], P[1]), "--iser"], async () => {
        // attachDetach asserts the host is as before afterwards: no iface record left
        await attachDetach({ iface: spec, loginTimeout: 10 }, single(P[0], iqn, 0), (dev) => {
          assert.match(dev.path, /^\/dev\/sd[a-z]+$/)
          assert.equal(dev.iface, "iser")
          assert.deepEqual(sessionLines(iqn), [`${P[0]} iser`])
        })
        const options = { useMultipath: true, iface: spec, loginTimeout: 10 }
        await attachDetach(options, multi(P.slice(0, 2), [iqn, iqn], [0, 0]), (dev) => {
          assert.match(dev.path, /^\/dev\/dm-\d+$/)
          assert.equal(dev.iface, "iser")
          assert.deepEqual(sessionLines(iqn), [`${P[0]} iser`, `${P[1]} iser`])
        })
      })
    }
  )

  it("iSER asked of a portal without iSER: falls back to default with a warning, iface default in the result", {
    timeout: 300_000
  }, async (t) => {
    if (!(await needRdma(t))) return
    const iqn = iqnOf("noiser")
    await withTarget(
      iqn,
      targetArgs(P[2]),
      () =>
        attachDetach({ iface: "iser", loginTimeout: 3 }, single(P[2], iqn, 0), (dev, logs) => {
          assert.equal(dev.iface, "default")
          assert.deepEqual(sessionLines(iqn), [`${P[2]} default`])
          const warnings = logs.filter((l) =>
            l.level === "WARN" && /\biser\b/.test(l.message) && /default/.test(l.message)
          )
          assert.ok(warnings.length > 0, `no warning names iser and default: ${JSON.stringify(logs)}`)
        })
    )
  })

  it("iSER asked of a portal without iSER, ifaceFallback false: a typed error naming the transport, host unchanged", {
    timeout: 300_000
  }, async (t) => {
    if (!(await needRdma(t))) return
    const iqn = iqnOf("noiser-strict")
    await withTarget(iqn, targetArgs(P[2]), async () => {
      const options = { iface: "iser", ifaceFallback: false, loginTimeout: 3 }
      const { error } = await failingConnect(options, single(P[2], iqn, 0))
      assert.equal(error.tag, "ConnectError", String(error))
      assert.match(error.message, /\biser\b/)
      assert.match(JSON.stringify(error.toJSON()), /"iface":"iser"/)
    })
  })

  it("a path per target IQN and LUN (two LIO targets over one backstore): one dm over both paths", {
    timeout: 300_000
  }, async () => {
    const a = iqnOf("pa")
    const b = iqnOf("pb")
    await withTarget(a, ["--portal", P[0], "--lun", "0:32M"], async (ta) => {
      const wwn = ta.luns[0]!.wwn
      await withTarget(b, ["--portal", P[1], "--shared-lun", `7:${a}:0`], async (tb) => {
        assert.deepEqual(tb.luns.map((l) => [l.lun, l.wwn]), [[7, wwn]])
        await attachDetach({ useMultipath: true }, multi(P.slice(0, 2), [a, b], [0, 7]), (dev) => {
          assertMapOver(dev, wwn, [[P[0], a, "0"], [P[1], b, "7"]])
          assert.deepEqual([...sessionLines(a), ...sessionLines(b)], [`${P[0]} default`, `${P[1]} default`])
        })
      })
    })
  })

  it(
    "an iface from an IP address (10.99.1.1 on dummy1): tcp bound to dummy1, record tcp.<its MAC> (gone at disconnect), the session's host netdev dummy1",
    {
      timeout: 300_000
    },
    async () => {
      const iqn = iqnOf("fromip")
      const portal = "10.99.1.2:3260"
      const name = `tcp.${read("/sys/class/net/dummy1/address")}`
      const before = await picture()
      try {
        await withTarget(iqn, targetArgs(portal), async (created) => {
          // brick made the record: the disconnect given the device info deletes it (attachDetach: host as before)
          await attachDetach({ iface: { ipaddress: "10.99.1.1" } }, single(portal, iqn, 0), (dev) => {
            assertSd(dev, created.luns[0]!.wwn)
            assert.equal(dev.iface, name)
            assert.equal((dev as { iface_created?: boolean }).iface_created, !before.ifaces.includes(name))
            assert.ok(look().ifaces.includes(name), `iscsiadm -m iface lists ${name}`)
            assert.equal(ifaceField(name, "transport_name"), "tcp")
            assert.equal(ifaceField(name, "net_ifacename"), "dummy1")
            assert.equal(ifaceField(name, "ipaddress"), "<empty>")
            const [s, ...others] = sessionsOf(iqn)
            assert.deepEqual(others, [])
            assert.equal(`${s!.portal} ${s!.iface}`, `${portal} ${name}`)
            const host = /\/(host\d+)\/session\d+\//.exec(s!.device)?.[1]
            assert.equal(read(`/sys/class/iscsi_host/${host}/netdev`), "dummy1")
          })
          // the same binding asked by network interface name: the same record name
          await attachDetach({ iface: { netIfacename: "dummy1" } }, single(portal, iqn, 0), (dev) => {
            assert.equal(dev.iface, name)
          })
        })
      } finally {
        if (!before.ifaces.includes(name)) spawnSync("iscsiadm", ["-m", "iface", "-I", name, "-o", "delete"])
      }
    }
  )

  it("an IP address no network interface carries: a typed error naming it (ifaceFallback false), host unchanged", {
    timeout: 300_000
  }, async () => {
    const iqn = iqnOf("noip")
    await withTarget(iqn, targetArgs(P[0]), async () => {
      const options = { iface: { ipaddress: "10.99.7.7" }, ifaceFallback: false }
      const { error } = await failingConnect(options, single(P[0], iqn, 0))
      assert.equal(error.tag, "ConnectError", String(error))
      assert.equal((error.reason as { _tag?: string })._tag, "IfaceUnusable")
      assert.match(error.message, /no network interface has IP address 10\.99\.7\.7/)
    })
  })

  it("brick ifaces with soft-RoCE up, during an iSER attach: the records, rxe0 over dummy0, the iSER session's host", {
    timeout: 300_000
  }, async (t) => {
    if (!(await needRdma(t))) return
    const iqn = iqnOf("ifaces")
    await withTarget(iqn, [...targetArgs(P[0]), "--iser"], async () => {
      await attachDetach({ iface: "iser", loginTimeout: 10 }, single(P[0], iqn, 0), () => {
        const out = brick("ifaces", "--facts") as {
          transports: ReadonlyArray<string>
          ifaces: ReadonlyArray<{ name: string; usable: boolean; netdev: string | null }>
          ports: ReadonlyArray<
            { kind: string; name: string; transport: string; netdev: string | null; usable: boolean }
          >
          facts: { netdevs: ReadonlyArray<{ name: string; addresses: ReadonlyArray<string> }> }
        }
        console.log(`brick ifaces --facts (soft-RoCE up, an iSER session):\n${JSON.stringify(out, null, 2)}`)
        assert.ok(out.transports.includes("iser") && out.transports.includes("tcp"), `${out.transports}`)
        assert.equal(out.ifaces.find((i) => i.name === "default")?.usable, true)
        assert.deepEqual(
          [out.ifaces.find((i) => i.name === "iser")?.usable, out.ifaces.find((i) => i.name === "iser")?.netdev],
          [true, "dummy0"]
        )
        const rxe = out.ports.find((p) => p.kind === "rdma")
        assert.deepEqual([rxe?.name, rxe?.transport, rxe?.netdev, rxe?.usable], ["rxe0", "iser", "dummy0", true])
        const [s] = sessionsOf(iqn)
        const host = /\/(host\d+)\/session\d+\//.exec(s!.device)?.[1]
        const port = out.ports.find((p) => p.kind === "iscsi_host" && p.name === host)
        assert.deepEqual([port?.transport, port?.netdev], ["iser", null])
        assert.ok(out.facts.netdevs.find((n) => n.name === "dummy1")?.addresses.includes("10.99.1.1"))
      })
    })
  })

  describe("LUN 300 (LIO reports it in peripheral addressing: 012c…)", () => {
    const { iqn, wwnOfLun } = suiteTarget("lun300", ["--portal", P[0], "--lun", "300:32M"])

    it("default addressing: the device is H:C:T:300, by-path …-lun-0x012c000000000000, I/O, clean host", {
      timeout: 300_000
    }, async () => {
      const wwn = wwnOfLun()
      await attachDetach({}, single(P[0], iqn, 300), (dev) => {
        assertSd(dev, wwn)
        assert.match(hctlOf(dev.path), /^\d+:0:0:300$/)
        assert.equal(byPathTarget(P[0], iqn, "0x012c000000000000"), dev.path)
        assert.match(sh("sg_luns", ["-d", dev.path]), /^\s*012c000000000000$/m)
      })
    })

    for (const mode of ["SAM2", "SAM3-flat"]) {
      it(`addressing_mode ${mode} (flat space, 0x4000 | 300) does not apply to LIO: DeviceNotFound, host unchanged`, {
        timeout: 300_000
      }, async () => {
        wwnOfLun()
        const { error } = await failingConnect(
          { deviceScanAttempts: 2, deviceScanInterval: 500 },
          single(P[0], iqn, 300, { addressing_mode: mode })
        )
        assert.equal(error.tag, "ConnectError", String(error))
        assert.equal((error.reason as { _tag?: string })._tag, "DeviceNotFound", error.message)
      })
    }
  })

  describe("IPv6 portals", () => {
    const { iqn, wwnOfLun } = suiteTarget("v6", ["--portal", V6[0], "--portal", V6[1], "--lun", "0:32M"])

    it("single path through [fd00:99::1]:3260: by-path ip-fd00:99::1:3260-… (unbracketed), clean host", {
      timeout: 300_000
    }, async () => {
      const wwn = wwnOfLun()
      await attachDetach({}, single(V6[0], iqn, 0), (dev) => {
        assertSd(dev, wwn)
        assert.deepEqual(sessionLines(iqn), ["fd00:99::1:3260 default"])
        assert.ok(ls("/dev/disk/by-path").includes(`ip-fd00:99::1:3260-iscsi-${iqn}-lun-0`))
        assert.equal(byPathTarget(V6[0], iqn, "0"), dev.path)
      })
    })

    it("2-path multipath over [fd00:99::1] and [fd00:99::2]: one dm over both, clean host", {
      timeout: 300_000
    }, async () => {
      const wwn = wwnOfLun()
      await attachDetach({ useMultipath: true }, multi(V6, [iqn, iqn], [0, 0]), (dev) => {
        assertMapOver(dev, wwn, [[V6[0], iqn, "0"], [V6[1], iqn, "0"]])
        assert.deepEqual(sessionLines(iqn), ["fd00:99::1:3260 default", "fd00:99::2:3260 default"])
      })
    })
  })
})
