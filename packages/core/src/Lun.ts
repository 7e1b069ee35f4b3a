/**
 * A logical unit number as the target reports it (0 … 16383, the range of
 * SAM flat space addressing), and the LUN addressing modes os-brick knows.
 */
import { Schema, SchemaTransformation } from "effect"

/** The largest LUN brick accepts (14-bit flat space addressing). */
export const maxLun = 16383

/** A logical unit number as the target reports it. */
export const Lun = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: maxLun })).pipe(Schema.brand("Lun"))
/** A logical unit number as the target reports it. */
export type Lun = typeof Lun.Type

/**
 * A LUN as Cinder drivers send it: a number, or its decimal digits as a
 * string (`"1"`; no sign, blank, leading zero, fraction or other base).
 */
export const LunFromInput = Schema.Union([
  Lun,
  Schema.String.check(
    Schema.isPattern(/^(?:0|[1-9][0-9]{0,4})$/, { message: "a LUN: an integer 0-16383, or its decimal digits" })
  ).pipe(Schema.decodeTo(Lun, SchemaTransformation.numberFromString))
])

/** Brands a trusted number (throws when out of range). */
export const unsafeMake = (n: number): Lun => {
  if (!Number.isInteger(n) || n < 0 || n > maxLun) throw new Error(`not a LUN: ${n}`)
  return n as Lun
}

/**
 * How the target encodes LUN numbers (Cinder's `addressing_mode`):
 * - `transparent` and `SAM`: the kernel sees the number as given;
 * - `SAM2`: peripheral addressing below 256, flat space addressing from 256;
 * - `SAM3-flat`: flat space addressing for every LUN.
 */
export const AddressingMode = Schema.Literals(["transparent", "SAM", "SAM2", "SAM3-flat"])
/** How the target encodes LUN numbers. */
export type AddressingMode = typeof AddressingMode.Type

/** The flat space addressing bit in the kernel's integer form of a LUN. */
const flatSpace = 0x4000

/** The LUN number the Linux kernel uses in H:C:T:L for a target LUN. */
export const kernelLun = (lun: Lun, mode: AddressingMode): number => {
  switch (mode) {
    case "transparent":
    case "SAM":
      return lun
    case "SAM2":
      return lun < 256 ? lun : lun | flatSpace
    case "SAM3-flat":
      return lun | flatSpace
  }
}
