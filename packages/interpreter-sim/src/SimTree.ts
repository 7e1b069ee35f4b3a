/**
 * A tiny virtual filesystem: lazily built directories, files and symbolic
 * links, path resolution that follows links like the VFS, and the relative
 * link text kernfs/udev store (so `readlink` shows what the kernel shows).
 */

/** A failed write's errno name. */
export type WriteResult = undefined | { readonly errno: string }

/** A node of the tree. Directories and links are built on demand. */
export type VNode =
  | {
    readonly kind: "dir"
    readonly entries: () => ReadonlyArray<string>
    readonly child: (name: string) => VNode | undefined
    /** `entries` come sorted already (a listing copies them, no sort). */
    readonly sorted?: boolean
  }
  | {
    readonly kind: "file"
    readonly read: (() => string) | undefined
    readonly write: ((value: string) => WriteResult) | undefined
  }
  | {
    readonly kind: "link"
    readonly target: string
    readonly parts: ReadonlyArray<string>
    /**
     * The node at `target`, when the view can name it directly (what
     * resolving `target` would find: a shortcut for `resolveNode`, which
     * then needs no walk from the root; `resolve` ignores it).
     */
    readonly at: (() => VNode | undefined) | undefined
  }

/** A lazily-computed child (undefined: absent now). */
export type Child = () => VNode | undefined

/** A directory whose entries are a fixed set of children: nodes, or thunks (undefined: absent now). */
export const fixed = (children: Readonly<Record<string, Child | VNode>>): VNode => {
  const table = new Map<string, Child>()
  for (const [name, c] of Object.entries(children)) table.set(name, typeof c === "function" ? c : () => c)
  const names = Object.keys(children)
  const get = (name: string): VNode | undefined => table.get(name)?.()
  return { kind: "dir", entries: () => names.filter((k) => get(k) !== undefined), child: get }
}

/** A directory whose entries are computed (`entries`; `sorted` when they come sorted) and looked up by name (`child`). */
export const dynamic = (
  entries: () => ReadonlyArray<string>,
  child: (name: string) => VNode | undefined,
  sorted = false
): VNode => ({
  kind: "dir",
  entries,
  child,
  sorted
})

/** A read-only file. */
export const file = (read: () => string): VNode => ({ kind: "file", read, write: undefined })

/** A write-only file. */
export const writeOnly = (write: (value: string) => WriteResult): VNode => ({ kind: "file", read: undefined, write })

/** A read-write file. */
export const readWrite = (read: () => string, write: (value: string) => WriteResult): VNode => ({
  kind: "file",
  read,
  write
})

/** A symbolic link to an absolute path. */
export const link = (target: string, at?: () => VNode | undefined): VNode => ({
  kind: "link",
  target,
  parts: segments(target),
  at
})

/** A directory with a single child `name` (cheaper than `fixed` with a computed key). */
export const single = (name: string, child: Child): VNode => ({
  kind: "dir",
  entries: () => (child() === undefined ? [] : [name]),
  child: (n) => (n === name ? child() : undefined),
  sorted: true
})

/**
 * A directory layout shared by every object of one kind (every session's
 * `iscsi_session/sessionN`, every disk's attributes…): its entry names,
 * sorted, and for each name how to make that child for one object. An
 * object's directory is then one small node (`shaped`), not a closure per
 * attribute; children are made when looked up.
 */
export interface Shape<K> {
  readonly names: ReadonlyArray<string>
  readonly children: ReadonlyMap<string, (k: K) => VNode>
}

/** A shape from its children: nodes every object shares, or functions of the object. */
export const shape = <K>(children: Readonly<Record<string, VNode | ((k: K) => VNode)>>): Shape<K> => {
  const map = new Map<string, (k: K) => VNode>()
  for (const [name, c] of Object.entries(children)) map.set(name, typeof c === "function" ? c : () => c)
  return { names: Object.keys(children).sort(), children: map }
}

/** Merges shapes (later names win). */
export const shapes = <K>(...parts: ReadonlyArray<Shape<K>>): Shape<K> => {
  const map = new Map<string, (k: K) => VNode>()
  for (const p of parts) for (const [name, f] of p.children) map.set(name, f)
  return { names: Array.from(map.keys()).sort(), children: map }
}

class Shaped<K> {
  readonly kind = "dir" as const
  readonly sorted = true
  constructor(private readonly shape: Shape<K>, private readonly k: K) {}
  entries(): ReadonlyArray<string> {
    return this.shape.names
  }
  child(name: string): VNode | undefined {
    const f = this.shape.children.get(name)
    return f === undefined ? undefined : f(this.k)
  }
}

/** The directory of `k` laid out as `s`. */
export const shaped = <K>(s: Shape<K>, k: K): VNode => new Shaped(s, k)

/** An empty directory. */
export const empty: VNode = { kind: "dir", entries: () => [], child: () => undefined }

/** A resolved node and its canonical absolute path (links resolved). */
export interface Resolved {
  readonly node: VNode
  readonly path: string
}

const segments = (path: string): Array<string> => {
  const out: Array<string> = []
  let start = 0
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path.charCodeAt(i) === 47) {
      if (i > start) out.push(path.slice(start, i))
      start = i + 1
    }
  }
  return out
}

/**
 * The text walk behind `resolve` and `resolveNode`: follows every link on the
 * way and, when `followLast`, the last one too, taking links' `at` shortcuts
 * (their targets are canonical paths). Builds the canonical path only when
 * `trackPath` (resolveNode needs the node alone). Undefined when absent (or a
 * link loop).
 */
const walk = (root: VNode, path: string, followLast: boolean, trackPath: boolean): Resolved | undefined => {
  // walks the text itself (every operation resolves a path: no segment arrays)
  let p = path
  let hops = 0
  restart: for (;;) {
    let node: VNode = root
    let canonical = ""
    const n = p.length
    let start = 0
    while (start < n && p.charCodeAt(start) === 47) start++
    while (start < n) {
      let end = p.indexOf("/", start)
      if (end < 0) end = n
      let after = end
      while (after < n && p.charCodeAt(after) === 47) after++
      if (node.kind !== "dir") return undefined
      const name = p.slice(start, end)
      const next: VNode | undefined = node.child(name)
      if (next === undefined) return undefined
      const last = after >= n
      if (next.kind === "link" && (followLast || !last)) {
        if (++hops > 40) return undefined
        const direct = next.at?.()
        if (direct !== undefined && direct.kind !== "link") {
          node = direct
          if (trackPath) canonical = next.target
          start = after
          continue
        }
        p = last ? next.target : `${next.target}/${p.slice(after)}`
        continue restart
      }
      node = next
      if (trackPath) canonical = `${canonical}/${name}`
      start = after
    }
    return { node, path: canonical === "" ? "/" : canonical }
  }
}

/**
 * Resolves an absolute path, following every link on the way and, when
 * `followLast`, the last one too. Undefined when absent (or a link loop).
 * See `resolveWalking` for the plain walk it must match.
 */
export const resolve = (root: VNode, path: string, followLast: boolean): Resolved | undefined =>
  walk(root, path, followLast, true)

/**
 * `resolve` by the plain walk: split into segments, every link restarts from
 * the root with its target, no shortcuts (the reference the tests hold
 * `resolve`, `resolveNode` and the views' shortcuts to).
 */
export const resolveWalking = (root: VNode, path: string, followLast: boolean): Resolved | undefined => {
  let pending = segments(path)
  let hops = 0
  restart: for (;;) {
    let node: VNode = root
    const done: Array<string> = []
    for (let i = 0; i < pending.length; i++) {
      if (node.kind !== "dir") return undefined
      const next = node.child(pending[i]!)
      if (next === undefined) return undefined
      const last = i === pending.length - 1
      if (next.kind === "link" && (!last || followLast)) {
        if (++hops > 40) return undefined
        pending = i === pending.length - 1 ? next.parts.slice() : next.parts.concat(pending.slice(i + 1))
        continue restart
      }
      done.push(pending[i]!)
      node = next
    }
    return { node, path: `/${done.join("/")}` }
  }
}

/**
 * The node at an absolute path, following every link (the last one too when
 * `followLast`); like `resolve` without building the canonical path.
 */
export const resolveNode = (root: VNode, path: string, followLast: boolean): VNode | undefined =>
  walk(root, path, followLast, false)?.node

/**
 * The relative text of a link at `linkPath` to absolute `target`, as kernfs
 * writes it: up from the link's directory to the deepest common ancestor of
 * that directory and the target's parent, then down to the target.
 */
export const relativeLink = (linkPath: string, target: string): string => {
  const from = segments(linkPath).slice(0, -1)
  const to = segments(target)
  const toParent = to.length - 1
  let k = 0
  while (k < from.length && k < toParent && from[k] === to[k]) k++
  return "../".repeat(from.length - k) + to.slice(k).join("/")
}
