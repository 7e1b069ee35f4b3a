/**
 * A tiny virtual filesystem: directories, files and symbolic links built when
 * looked up, path resolution that follows links like the VFS, and the
 * relative link text kernfs/udev store (so `readlink` shows what the kernel shows).
 */

/** A failed write's errno name. */
export type WriteResult = undefined | { readonly errno: string }

/** A node of the tree. */
export type VNode =
  | {
    readonly kind: "dir"
    /** The entry names, in any order (a listing sorts them). */
    readonly entries: () => ReadonlyArray<string>
    readonly child: (name: string) => VNode | undefined
  }
  | {
    readonly kind: "file"
    readonly read: (() => string) | undefined
    readonly write: ((value: string) => WriteResult) | undefined
  }
  | {
    readonly kind: "link"
    /** An absolute path. */
    readonly target: string
  }

/** A directory node. */
export type Dir = Extract<VNode, { readonly kind: "dir" }>

/** A child made when looked up (undefined: absent now). */
export type Child = () => VNode | undefined

/** A directory whose entries are computed (`entries`) and looked up by name (`child`). */
export const dynamic = (
  entries: () => ReadonlyArray<string>,
  child: (name: string) => VNode | undefined
): Dir => ({ kind: "dir", entries, child })

/** A directory of named children: nodes, or functions making them (undefined: absent now). */
export const fixed = (children: Readonly<Record<string, Child | VNode>>): Dir => {
  const get = (name: string): VNode | undefined => {
    if (!Object.hasOwn(children, name)) return undefined
    const c = children[name]!
    return typeof c === "function" ? c() : c
  }
  return dynamic(() => Object.keys(children).filter((name) => get(name) !== undefined), get)
}

/** The entries of both directories (their names must not clash). */
export const merged = (a: Dir, b: Dir): Dir =>
  dynamic(() => [...a.entries(), ...b.entries()], (name) => a.child(name) ?? b.child(name))

/** How a table makes one child for an object `a` (and its host `c`), or the child every object shares. */
export type TableChild<A, C> = VNode | ((a: A, c: C) => VNode)

/**
 * The directories of every object of one kind, laid out by one table (a
 * session's attributes, a disk's…): the same names for each object, each
 * child made from the object when looked up.
 */
export const table = <A, C = undefined>(
  children: Readonly<Record<string, TableChild<A, C>>>
): (a: A, c: C) => Dir => {
  const names = Object.keys(children)
  return (a, c) =>
    dynamic(() => names, (name) => {
      if (!Object.hasOwn(children, name)) return undefined
      const child = children[name]!
      return typeof child === "function" ? child(a, c) : child
    })
}

/** A read-only file. */
export const file = (read: () => string): VNode => ({ kind: "file", read, write: undefined })

/** A read-only file whose text is `value`. */
export const text = (value: string): VNode => file(() => value)

/** A write-only file. */
export const writeOnly = (write: (value: string) => WriteResult): VNode => ({ kind: "file", read: undefined, write })

/** A read-write file. */
export const readWrite = (read: () => string, write: (value: string) => WriteResult): VNode => ({
  kind: "file",
  read,
  write
})

/** A symbolic link to an absolute path. */
export const link = (target: string): VNode => ({ kind: "link", target })

/** An empty directory. */
export const empty: Dir = dynamic(() => [], () => undefined)

/** A resolved node and its canonical absolute path (links resolved). */
export interface Resolved {
  readonly node: VNode
  readonly path: string
}

const segments = (path: string): Array<string> => path.split("/").filter((s) => s !== "")

/** How many links one resolution follows before giving up (a loop), as the VFS does. */
const maxLinks = 40

/**
 * Resolves an absolute path from `root`, following every link on the way
 * and, when `followLast`, the last one too: a link restarts the walk from
 * the root with its target in place of the path walked so far. Undefined
 * when absent (or a link loop).
 */
export const resolve = (root: VNode, path: string, followLast: boolean): Resolved | undefined => {
  let pending = segments(path)
  let links = 0
  restart: for (;;) {
    let node: VNode = root
    const done: Array<string> = []
    for (let i = 0; i < pending.length; i++) {
      if (node.kind !== "dir") return undefined
      const next = node.child(pending[i]!)
      if (next === undefined) return undefined
      const last = i === pending.length - 1
      if (next.kind === "link" && (!last || followLast)) {
        if (++links > maxLinks) return undefined
        pending = [...segments(next.target), ...pending.slice(i + 1)]
        continue restart
      }
      done.push(pending[i]!)
      node = next
    }
    return { node, path: `/${done.join("/")}` }
  }
}

/** The node at an absolute path (see `resolve`). */
export const resolveNode = (root: VNode, path: string, followLast: boolean): VNode | undefined =>
  resolve(root, path, followLast)?.node

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
