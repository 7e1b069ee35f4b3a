/**
 * The host matrix's rows and its table: the host configurations
 * hostMatrix.lab.test.ts switches to with `lab-host` (lab/guest/lab-host),
 * how brick runs on them, the scenarios run on each, and the markdown table
 * of their outcomes.
 */
import type { Launch } from "./LabHost.ts"

/** One host configuration: what `lab-host multipath` and `lab-host iscsid` set, and how brick runs. */
export interface HostConfiguration {
  readonly name: string
  /** `lab-host multipath MODE` */
  readonly multipath: "lab" | "none" | "yes-friendly" | "strict" | "smart" | `smart:${number}`
  /** `lab-host iscsid MODE` */
  readonly iscsid: "lab" | "automatic"
  /** brick as a CSI node plugin runs it (`lab-host csi-run`, `--root /host --command-prefix "nsenter …"`). */
  readonly container: boolean
  readonly description: string
}

export const configurations: ReadonlyArray<HostConfiguration> = [
  {
    name: "no-conf",
    multipath: "none",
    iscsid: "lab",
    container: false,
    description: "no /etc/multipath.conf: built-in find_multipaths strict"
  },
  {
    name: "yes-friendly",
    multipath: "yes-friendly",
    iscsid: "lab",
    container: false,
    description: "find_multipaths yes + user_friendly_names yes (maps mpathN)"
  },
  { name: "strict", multipath: "strict", iscsid: "lab", container: false, description: "find_multipaths strict" },
  {
    name: "smart",
    multipath: "smart",
    iscsid: "lab",
    container: false,
    description: "find_multipaths smart, find_multipaths_timeout default (-10: 10 s for known arrays)"
  },
  {
    name: "csi",
    multipath: "lab",
    iscsid: "lab",
    container: true,
    description:
      "brick in a container: own mount namespace and root, the host under /host, commands through nsenter -t 1 -m -n (the lab's multipath.conf: find_multipaths no)"
  },
  {
    name: "iscsid-auto",
    multipath: "lab",
    iscsid: "automatic",
    container: false,
    description: "iscsid.conf: node.startup = automatic, node.session.scan = auto (the lab's multipath.conf)"
  }
]

/** brick in the container `lab-host csi-start` made, reaching the host as a CSI node plugin does. */
export const inContainer: Launch = (args) => ({
  command: "lab-host",
  args: [
    "csi-exec",
    "--",
    "node",
    "/brick/brick.mjs",
    ...args,
    "--root",
    "/host",
    "--command-prefix",
    "nsenter -t 1 -m -n --"
  ]
})

/** The scenarios, in the order they run on each configuration. */
export const scenarioNames = [
  "2 paths",
  "WWID registered",
  "extend",
  "disconnect",
  "1 path",
  "4 paths, 1 dropped",
  "2 paths, WWID registered first",
  "interrupted 2 paths",
  "own record",
  "user's record"
] as const
export type ScenarioName = (typeof scenarioNames)[number]

/** One scenario on one configuration: passed or not, and brick's seconds (the attach, extend or detach). */
export interface Cell {
  readonly ok: boolean
  readonly seconds: number | undefined
}

const cellText = (cell: Cell | undefined) =>
  cell === undefined
    ? "–"
    : `${cell.ok ? "pass" : "FAIL"}${cell.seconds === undefined ? "" : ` ${cell.seconds.toFixed(1)} s`}`

/** The matrix as a markdown table: a row per configuration, a column per scenario, then the notes. */
export const matrixTable = (
  cells: ReadonlyMap<string, Cell>,
  notes: ReadonlyMap<string, ReadonlyArray<string>>
): string => {
  const header = ["configuration", ...scenarioNames, "notes"]
  const rows = configurations.map((c) => [
    c.name,
    ...scenarioNames.map((s) => cellText(cells.get(`${c.name}/${s}`))),
    (notes.get(c.name) ?? []).join("; ")
  ])
  const line = (cols: ReadonlyArray<string>) => `| ${cols.join(" | ")} |`
  return [
    line(header),
    line(header.map(() => "---")),
    ...rows.map(line),
    "",
    ...configurations.map((c) => `- ${c.name}: ${c.description}`)
  ].join("\n")
}
