/**
 * A block device path under /dev: `/dev/sdX`, `/dev/dm-N`, `/dev/mapper/NAME`
 * or a `/dev/disk/by-*` link.
 */
import { Schema } from "effect"

const pattern = /^\/dev\/(?:sd[a-z]+|dm-\d+|mapper\/[A-Za-z0-9._:-]+|disk\/by-[a-z]+\/[A-Za-z0-9._:@+\[\]-]+)$/

/** True when `s` is a device path brick may act on (no `.`/`..` segment; `a..b` in a name is fine). */
export const isDevicePath = (s: string): boolean =>
  pattern.test(s) && !s.split("/").some((segment) => segment === "." || segment === "..")

/** A block device path under /dev. */
export const DevicePath = Schema.String.check(
  Schema.makeFilter<string>(
    (s) => isDevicePath(s) ? undefined : "a device path: /dev/sdX, /dev/dm-N, /dev/mapper/NAME or /dev/disk/by-*/NAME",
    {
      identifier: "DevicePath"
    }
  )
).pipe(Schema.brand("DevicePath"))
/** A block device path under /dev. */
export type DevicePath = typeof DevicePath.Type

/** Brands a trusted string (throws if malformed). */
export const unsafeMake = (s: string): DevicePath => {
  if (!isDevicePath(s)) throw new Error(`not a device path: ${JSON.stringify(s)}`)
  return s as DevicePath
}

/** The kernel name of a /dev/sdX or /dev/dm-N path (`sdb`, `dm-0`). */
export const kernelName = (p: DevicePath): string | undefined => /^\/dev\/(sd[a-z]+|dm-\d+)$/.exec(p)?.[1]
