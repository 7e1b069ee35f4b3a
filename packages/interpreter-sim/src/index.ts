import { Hello } from "@brick/core"
export const x = Hello.hello("sim")
