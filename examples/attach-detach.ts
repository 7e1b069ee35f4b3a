/**
 * Attach and detach a volume on this host with the Promise API — what a
 * non-Effect caller (a Node service, a CSI plugin) copies. Run as root on a
 * host with open-iscsi (the lab guest):
 *
 *     node examples/dist/attach-detach.js volume.json [--multipath]
 *
 * volume.json is Cinder's connection_info (or its `data`). It prints the
 * device connect returned, the volume's by-path paths and size, then detaches.
 */
import { Connector } from "@brick/interpreter-node"
import * as fs from "node:fs/promises"
import { pathToFileURL } from "node:url"

/** What the round trip saw. */
export interface AttachDetachResult {
  readonly device: Connector.Device
  readonly paths: ReadonlyArray<string>
  readonly size: number
}

/** Connects the volume described in `infoPath`, looks at it, and disconnects it. */
export const attachDetach = async (
  infoPath: string,
  options: { readonly multipath?: boolean; readonly log?: (line: string) => void } = {}
): Promise<AttachDetachResult> => {
  const info = JSON.parse(await fs.readFile(infoPath, "utf8")) as unknown
  const log = options.log ?? ((line: string) => console.error(line))
  const connector = Connector.createConnector({
    options: { useMultipath: options.multipath === true },
    onLog: (r) => log(`${r.level} ${r.message}`)
  })
  try {
    const device = await connector.connectVolume(info)
    try {
      const paths = await connector.getVolumePaths(info)
      const size = await connector.extendVolume(info) // rescans and reports the size the kernel sees
      return { device, paths, size }
    } finally {
      await connector.disconnectVolume(info, device)
    }
  } finally {
    await connector.close()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2)
  const infoPath = args.find((a) => !a.startsWith("--"))
  if (infoPath === undefined) {
    console.error("usage: attach-detach.js volume.json [--multipath]")
    process.exit(64)
  }
  attachDetach(infoPath, { multipath: args.includes("--multipath") }).then(
    (r) => {
      console.log(JSON.stringify({ attached: r.device, paths: r.paths, size: r.size, detached: true }, null, 2))
    },
    (e: unknown) => {
      console.error(JSON.stringify(e instanceof Connector.BrickError ? e.toJSON() : { error: String(e) }))
      process.exitCode = 1
    }
  )
}
