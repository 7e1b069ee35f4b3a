/**
 * SCSI LUNs on the wire and in the kernel, computed the way each side does
 * it: the kernel turns the 8-byte LUN of a REPORT LUNS entry into its
 * integer (scsilun_to_int: each 2-byte level, first level lowest) and back
 * (int_to_scsilun) when it addresses a LUN; the target encodes its LUN
 * numbers in its own addressing method and decodes the LUN it is addressed
 * with. LIO encodes and decodes with the kernel's own pair (LUN 300 →
 * `012c000000000000`, the kernel's 300); a SAM-2 target uses peripheral
 * addressing below 256 and flat space addressing above; a SAM-3 flat target
 * flat space addressing for every LUN (300 → `412c…`, the kernel's 0x412c).
 */

/** How a target encodes its LUN numbers (the spec's `addressingMode`: `SAM`/`transparent` is LIO's way). */
export type TargetAddressing = "transparent" | "SAM" | "SAM2" | "SAM3-flat"

/** The kernel's int_to_scsilun: 2 bytes per level, big-endian within a level, first level from the lowest 16 bits. */
export const intToScsilun = (n: number): Uint8Array => {
  const out = new Uint8Array(8)
  let rest = n
  for (let i = 0; i < 8; i += 2) {
    const level = rest % 0x10000
    out[i] = level >> 8
    out[i + 1] = level & 0xff
    rest = Math.floor(rest / 0x10000)
  }
  return out
}

/** The kernel's scsilun_to_int (the integer in H:C:T:L). */
export const scsilunToInt = (lun: Uint8Array): number => {
  let n = 0
  for (let i = 6; i >= 0; i -= 2) n = n * 0x10000 + (((lun[i] ?? 0) << 8) | (lun[i + 1] ?? 0))
  return n
}

/** A LUN's 16 hex digits, as `sg_luns -d` prints them. */
export const hex = (lun: Uint8Array): string => Array.from(lun, (b) => b.toString(16).padStart(2, "0")).join("")

const peripheral = (n: number): Uint8Array => Uint8Array.of(0x00, n, 0, 0, 0, 0, 0, 0)
const flat = (n: number): Uint8Array => Uint8Array.of(0x40 | (n >> 8), n & 0xff, 0, 0, 0, 0, 0, 0)

/** The REPORT LUNS entry a target gives for its LUN `n`. */
export const reportedLun = (addressing: TargetAddressing, n: number): Uint8Array => {
  switch (addressing) {
    case "transparent":
    case "SAM":
      return intToScsilun(n)
    case "SAM2":
      return n < 256 ? peripheral(n) : flat(n)
    case "SAM3-flat":
      return flat(n)
  }
}

/**
 * The LUN number a target understands when addressed with `lun`; undefined
 * when it names none. LIO reads it with scsilun_to_int; the SAM targets
 * read the first level's method: peripheral (bus 0 only) or flat space.
 */
export const addressedLun = (addressing: TargetAddressing, lun: Uint8Array): number | undefined => {
  if (addressing === "SAM" || addressing === "transparent") return scsilunToInt(lun)
  if (lun.slice(2).some((b) => b !== 0)) return undefined
  const method = lun[0]! >> 6
  if (method === 0) return (lun[0]! & 0x3f) === 0 ? lun[1]! : undefined
  if (method === 1) return ((lun[0]! & 0x3f) << 8) | lun[1]!
  return undefined
}

/** The kernel's integer for a target's LUN `n` (what a scan of its REPORT LUNS creates). */
export const kernelLunOf = (addressing: TargetAddressing, n: number): number => scsilunToInt(reportedLun(addressing, n))
