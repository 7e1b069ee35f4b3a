/**
 * A SCSI address, host:channel:target:lun, as sysfs names SCSI devices.
 */
export interface Hctl {
  readonly host: number
  readonly channel: number
  readonly target: number
  readonly lun: number
}

/** `H:C:T:L` */
export const format = (a: Hctl): string => `${a.host}:${a.channel}:${a.target}:${a.lun}`

/**
 * The `count` colon-separated decimal numbers (`\d+` each, nothing else)
 * that make up `s` from `from` on, or undefined: `H:C:T:L` and `targetH:C:T`
 * parsed by hand (they are parsed on every poll for a device).
 */
export const numbers = (s: string, from: number, count: number): Array<number> | undefined => {
  const out: Array<number> = []
  let start = from
  for (let i = from; i <= s.length; i++) {
    const c = i === s.length ? 58 : s.charCodeAt(i)
    if (c >= 48 && c <= 57) continue
    if (c !== 58 || i === start || out.length === count) return undefined
    out.push(Number(s.slice(start, i)))
    start = i + 1
  }
  return out.length === count ? out : undefined
}

/** Parses `H:C:T:L`. */
export const parse = (s: string): Hctl | undefined => {
  const n = numbers(s, 0, 4)
  return n === undefined ? undefined : { host: n[0]!, channel: n[1]!, target: n[2]!, lun: n[3]! }
}
