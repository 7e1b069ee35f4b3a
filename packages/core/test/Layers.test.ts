/**
 * packages/core's layers (docs/programs.md, "Layout of packages/core"):
 * generic modules import nothing iSCSI, internal/scsi and internal/multipath
 * import nothing iSCSI, no public module but a program imports internal/,
 * and the public index exports nothing of internal/.
 */
import { describe, expect, it } from "vitest"

interface NodeFs {
  readonly readdirSync: (path: string, options: { recursive: true }) => ReadonlyArray<string>
  readonly readFileSync: (path: string, encoding: "utf8") => string
}
const load = <A>(name: string): Promise<A> => import(name) as Promise<A>
const fs = await load<NodeFs>("node:fs")

const here = (import.meta as unknown as { readonly url: string }).url
const srcDir = decodeURIComponent(here.replace(/^file:\/\//, "").replace(/[^/]+\/[^/]+$/, "src/"))
const files = fs.readdirSync(srcDir, { recursive: true }).filter((f) => f.endsWith(".ts"))

/** The src-relative paths a file imports (relative specifiers only), normalised. */
const importsOf = (file: string): ReadonlyArray<string> => {
  const text = fs.readFileSync(srcDir + file, "utf8")
  const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/")).split("/") : []
  return [...text.matchAll(/\bfrom\s*"(\.{1,2}\/[^"]+)"/g)].map((m) => {
    const parts = [...dir]
    for (const seg of m[1]!.split("/")) {
      if (seg === "..") parts.pop()
      else if (seg !== ".") parts.push(seg)
    }
    return parts.join("/")
  })
}

const programs = new Set(
  [
    "ConnectVolume",
    "DisconnectVolume",
    "ExtendVolume",
    "VolumePaths",
    "VolumeStatus",
    "ConnectorProperties",
    "IfaceFacts"
  ]
    .map((p) => `iscsi/${p}.ts`)
)
const isIscsi = (f: string) => f.startsWith("iscsi/") || f.startsWith("internal/iscsi/")

describe("packages/core layers", () => {
  it("finds the layers", () => {
    expect(files).toContain("internal/multipath/MultipathAssembly.ts")
    expect(files).toContain("iscsi/ConnectVolume.ts")
    expect(importsOf("iscsi/ConnectVolume.ts")).toContain("internal/multipath/MultipathAssembly.ts")
  })

  it.each(files.filter((f) => !f.includes("/") && f !== "index.ts"))(
    "generic %s imports nothing iSCSI or internal",
    (f) => {
      expect(importsOf(f).filter((i) => isIscsi(i) || i.startsWith("internal/"))).toEqual([])
    }
  )

  it.each(files.filter((f) => f.startsWith("internal/") && !f.startsWith("internal/iscsi/")))(
    "%s imports nothing iSCSI",
    (f) => expect(importsOf(f).filter(isIscsi)).toEqual([])
  )

  it.each(files.filter((f) => f.startsWith("iscsi/") && !programs.has(f)))(
    "%s (not a program) imports nothing internal",
    (f) => expect(importsOf(f).filter((i) => i.startsWith("internal/"))).toEqual([])
  )

  it("the public index exports nothing internal", () => {
    expect(importsOf("index.ts").filter((i) => i.startsWith("internal/"))).toEqual([])
  })
})
