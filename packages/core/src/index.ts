export * as Hello from "./Hello.ts"
