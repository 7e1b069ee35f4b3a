/** Nodes and text formats many sysfs directories of the simulated kernel share. */
import { file, fixed, text, type VNode } from "../SimTree.ts"

/** Every object's empty `uevent` attribute. */
export const uevent: VNode = text("")

/** A device's runtime-PM directory (entries as the lab kernel lists them). */
export const power: VNode = fixed({
  async: text("disabled"),
  autosuspend_delay_ms: text(""),
  control: text("auto"),
  runtime_active_kids: text("0"),
  runtime_active_time: text("0"),
  runtime_enabled: text("disabled"),
  runtime_status: text("unsupported"),
  runtime_suspended_time: text("0"),
  runtime_usage: text("0")
})

/** 512-byte sectors of `bytes`, as `size` attributes show them. */
export const sectors = (bytes: number): string => String(Math.floor(bytes / 512))

/** `s` cut or blank-padded to `n` characters, as SCSI inquiry strings are. */
export const pad = (s: string, n: number): string => s.slice(0, n).padEnd(n, " ")

/** A string attribute the kernel shows as `(null)` when unset. */
export const nullable = (v: string | undefined): VNode => file(() => v ?? "(null)")
