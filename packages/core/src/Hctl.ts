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

/** Parses `H:C:T:L`. */
export const parse = (s: string): Hctl | undefined => {
  const m = /^(\d+):(\d+):(\d+):(\d+)$/.exec(s)
  return m ? { host: Number(m[1]), channel: Number(m[2]), target: Number(m[3]), lun: Number(m[4]) } : undefined
}
