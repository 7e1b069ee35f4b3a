/**
 * Flags several commands take: `--info`, `--device`.
 */
import { Flag } from "effect/cli"

/** `--info FILE|-`: the connection info (Cinder's connection_info or its data) as JSON. */
export const info = Flag.String("info").pipe(
  Flag.withMetavar("FILE|-"),
  Flag.withDescription("connection info JSON (Cinder's connection_info or its data); - reads stdin")
)

/** `--device FILE|-`: the device info a connect printed. */
export const device = Flag.String("device").pipe(
  Flag.withMetavar("FILE|-"),
  Flag.withDescription("the device info JSON that connect printed; - reads stdin")
)
