/**
 * Invariant 6 where the secrets really travel: on the NODE interpreter, whose
 * iscsiadm argv carries the CHAP passwords. A fake iscsiadm echoes its whole
 * argv (secrets included) on stdout and stderr and fails logins/discovery
 * with the codes open-iscsi uses (24 auth, 19 mutual auth, 8, 15, 0), so
 * every path that turns command output into logs or errors is exercised.
 * Random session, mutual and discovery secrets are then searched for in:
 * - everything logged at level All (message, annotations, cause, spans),
 *   every span (name, attributes, events, exit) and the error/result, for
 *   connect and disconnect run as a library over NodeHost;
 * - stdout + stderr of the CLI at --log-level all (in-process over the real
 *   node host, and the built binary at --log-level debug).
 */
import { connectVolume, disconnectVolume } from "@brick/core"
import { NodeHost } from "@brick/interpreter-node"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Cause, Effect, Exit, Layer, Logger, Option, References, Tracer } from "effect"
import fc from "fast-check"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runCli } from "./CliHarness.ts"

let dir: string
let fake: string
const bin = fileURLToPath(new URL("../dist/src/bin.js", import.meta.url))

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "brick-secrets-"))
  fs.mkdirSync(path.join(dir, "root"))
  fs.mkdirSync(path.join(dir, "bin"))
  fake = path.join(dir, "bin", "iscsiadm")
  fs.writeFileSync(
    fake,
    `#!/bin/sh
printf 'iscsiadm called with: %s\n' "$*"
printf 'iscsiadm: refusing %s\n' "$*" >&2
case "$*" in
  *--login*) exit $(cat '${dir}/login-code') ;;
  *--discover*|*sendtargets*) exit $(cat '${dir}/discovery-code') ;;
  *"-m session"*) echo "iscsiadm: No active sessions." >&2; exit 21 ;;
  *"-P 1"*) echo "iscsiadm: No records found" >&2; exit 21 ;;
esac
exit 0
`,
    { mode: 0o755 }
  )
  for (const tool of ["multipathd", "multipath", "blockdev"]) {
    fs.writeFileSync(path.join(dir, "bin", tool), `#!/bin/sh\necho "${tool} $*"\nexit 0\n`, { mode: 0o755 })
  }
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

/** Random secrets with a marker, as CHAP allows them (no CR/LF/NUL), sometimes '-'-led or with spaces. */
const secret = fc.tuple(
  fc.constantFrom("", "-", "--", " ", "$(", "'"),
  fc.string({ minLength: 1, maxLength: 16 }),
  fc.stringMatching(/^[a-z0-9]{6}$/)
)
  .map(([head, s, tail]) => `${head}${s.replace(/[\r\n\0]/g, "_")}Q${tail}`)
const scenario = fc.record({
  session: secret,
  mutual: fc.option(secret, { nil: undefined }),
  discovery: fc.option(secret, { nil: undefined }),
  multipath: fc.boolean(),
  discover: fc.boolean(),
  loginCode: fc.constantFrom(24, 19, 8, 15, 0),
  discoveryCode: fc.constantFrom(0, 24, 11)
})
type Scenario = typeof scenario extends fc.Arbitrary<infer A> ? A : never
const secretsOf = (s: Scenario) => [s.session, s.mutual, s.discovery].filter((x): x is string => x !== undefined)

const infoOf = (s: Scenario) => {
  const portals = ["10.99.0.1:3260", "10.99.0.2:3260"]
  const iqn = "iqn.2003-01.org.brick:secrets"
  const paths = s.multipath && !s.discover
    ? { target_portals: portals, target_iqns: [iqn, iqn], target_luns: [1, 1] }
    : {}
  return {
    target_portal: portals[0],
    target_iqn: iqn,
    target_lun: 1,
    ...paths,
    auth_method: "CHAP",
    auth_username: "brickuser",
    auth_password: s.session,
    ...(s.mutual === undefined ? {} : { auth_username_in: "target", auth_password_in: s.mutual }),
    ...(s.discovery === undefined
      ? {}
      : { discovery_auth_method: "CHAP", discovery_auth_username: "disc", discovery_auth_password: s.discovery })
  }
}
const options = (s: Scenario) => ({
  useMultipath: s.multipath,
  loginTimeout: 1,
  deviceScanAttempts: 1,
  deviceScanInterval: 50,
  multipathWaitTimeout: 1
})

const arm = (s: Scenario) => {
  fs.writeFileSync(path.join(dir, "login-code"), String(s.loginCode))
  fs.writeFileSync(path.join(dir, "discovery-code"), String(s.discoveryCode))
}

const expectNone = (text: string, secrets: ReadonlyArray<string>) => {
  expect(text.length).toBeGreaterThan(0)
  for (const x of secrets) {
    expect(text.includes(x), `a secret is in: ${text.slice(text.indexOf(x) - 200, text.indexOf(x) + 100)}`).toBe(false)
  }
}

describe("CHAP secrets never appear, on the node interpreter with a talkative iscsiadm", () => {
  it("library: logs at level All, spans, errors and results of connect + disconnect", async () => {
    let commandsLogged = 0
    let redactedSeen = 0
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        arm(s)
        const seen: Array<string> = []
        const logger = Logger.make((o) => {
          seen.push(
            o.logLevel,
            JSON.stringify(o.message),
            JSON.stringify(o.fiber.getRef(References.CurrentLogAnnotations)),
            JSON.stringify(o.fiber.getRef(References.CurrentLogSpans)),
            Cause.pretty(o.cause)
          )
          if (JSON.stringify(o.message).includes("iscsiadm")) commandsLogged++
        })
        const tracer = Tracer.make({
          span(opts) {
            const span = new Tracer.NativeSpan(opts)
            const end = span.end.bind(span)
            const event = span.event.bind(span)
            span.event = (name, startTime, attributes) => {
              seen.push(name, JSON.stringify(attributes ?? {}))
              event(name, startTime, attributes)
            }
            span.end = (time, exit) => {
              seen.push(span.name, JSON.stringify([...span.attributes]), JSON.stringify(span.events), String(exit))
              if (Exit.isFailure(exit)) seen.push(Cause.pretty(exit.cause))
              end(time, exit)
            }
            return span
          }
        })
        const host = NodeHost.layer({
          root: path.join(dir, "root"),
          iscsiadmPath: fake,
          multipathdPath: path.join(dir, "bin", "multipathd"),
          multipathPath: path.join(dir, "bin", "multipath"),
          blockdevPath: path.join(dir, "bin", "blockdev")
        })
          .pipe(Layer.provide(NodeServices.layer))
        const observed = <A, E>(e: Effect.Effect<A, E, NodeHost.NodeHostServices>) =>
          Effect.runPromise(
            Effect.exit(e).pipe(
              Effect.withTracer(tracer),
              Effect.provide(Layer.mergeAll(host, Logger.layer([logger]))),
              Effect.provideService(References.MinimumLogLevel, "All")
            )
          )
        const info = infoOf(s)
        const c = await observed(connectVolume(info, options(s)))
        const d = await observed(
          disconnectVolume(
            info,
            Exit.isSuccess(c) ? c.value : undefined,
            { force: true, ignoreErrors: false },
            options(s)
          )
        )
        for (const exit of [c, d] as ReadonlyArray<Exit.Exit<unknown, unknown>>) {
          seen.push(String(exit), JSON.stringify(Exit.isSuccess(exit) ? exit.value : null))
          if (Exit.isFailure(exit)) {
            seen.push(Cause.pretty(exit.cause))
            const e = Exit.findErrorOption(exit)
            if (Option.isSome(e)) seen.push(JSON.stringify(e.value), String(e.value), (e.value as Error).message)
          }
        }
        const text = seen.join("\n")
        if (text.includes("<redacted>")) redactedSeen++
        expectNone(text, secretsOf(s))
      }),
      { numRuns: 20 }
    )
    // the debug command lines (carrying the redacted argv) were among what was searched
    expect(commandsLogged).toBeGreaterThan(20)
    // and the secrets' places were there, redacted
    expect(redactedSeen).toBeGreaterThan(10)
  }, 240_000)

  it("CLI in-process over the real node host: stdout + stderr at --log-level all", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        arm(s)
        const r = await runCli([
          "connect",
          "--info",
          "vol.json",
          "--options",
          "opts.json",
          "--log-level",
          "all",
          "--root",
          path.join(dir, "root"),
          "--iscsiadm",
          fake,
          "--multipathd",
          path.join(dir, "bin", "multipathd")
        ], {
          files: {
            "vol.json": JSON.stringify({ driver_volume_type: "iscsi", data: infoOf(s) }),
            "opts.json": JSON.stringify(options(s))
          }
        })
        expect(r.code).not.toBe(0)
        expect(r.stderr).toContain("iscsiadm")
        expectNone(r.stdout + r.stderr, secretsOf(s))
      }),
      { numRuns: 15 }
    )
  }, 240_000)

  it("the built binary at --log-level debug: stdout + stderr", () => {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`npx tsc -b\` first`)
    const samples = fc.sample(scenario, { numRuns: 2, seed: 42 })
    for (const s of samples) {
      arm(s)
      fs.writeFileSync(path.join(dir, "vol.json"), JSON.stringify(infoOf(s)))
      const r = spawnSync(process.execPath, [
        bin,
        "connect",
        "--info",
        "vol.json",
        "--log-level",
        "debug",
        "--root",
        "root",
        "--iscsiadm",
        fake,
        ...(s.multipath ? ["--multipath"] : [])
      ], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, PATH: `${path.join(dir, "bin")}:${process.env["PATH"] ?? ""}` },
        timeout: 60_000
      })
      expect(r.status).not.toBe(0)
      expect(r.stderr).toContain("iscsiadm")
      expectNone(r.stdout + r.stderr, secretsOf(s))
    }
  }, 120_000)
})
