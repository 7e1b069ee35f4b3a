/**
 * Block device operations that sysfs cannot do: flushing buffers and
 * reading the size the kernel reports now.
 */
import { Context, Data, type Effect } from "effect"
import type { DevicePath } from "./DevicePath.ts"

/** A block device operation failed. */
export class BlockDeviceError extends Data.TaggedError("BlockDeviceError")<{
  readonly operation: "flush" | "size"
  readonly device: string
  readonly reason: { readonly _tag: "NotFound" } | { readonly _tag: "Busy" } | {
    readonly _tag: "Failed"
    readonly detail: string
  }
}> {
  override get message(): string {
    const detail = this.reason._tag === "Failed" ? `: ${this.reason.detail}` : ""
    return `block device ${this.operation} ${this.device} failed: ${this.reason._tag}${detail}`
  }
}

/** Block device operations. */
export class BlockDevice extends Context.Service<BlockDevice, {
  /** Flushes the device's buffers (`blockdev --flushbufs`). */
  readonly flush: (device: DevicePath) => Effect.Effect<void, BlockDeviceError>
  /** The device's size in bytes. */
  readonly size: (device: DevicePath) => Effect.Effect<number, BlockDeviceError>
}>()("@brick/core/BlockDevice") {}
