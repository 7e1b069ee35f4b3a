/**
 * A write-ahead ledger: what a program created on the host, in order, so
 * that it can be undone. An entry is recorded *before* the step that creates
 * the thing runs, so a step cut short in the middle is undone too. Things
 * that existed before are never recorded, so never undone.
 *
 * A ledger can be marked and rolled back to the mark (one failed attempt
 * undone, the rest kept), and one ledger's entries merged into another's (a
 * path that succeeded hands its entries to the connect). What an entry means
 * and how it is undone is the caller's (scsi/ScsiUndo.ts, iscsi/IscsiUndo.ts).
 */
import { Effect, Exit, Option, Ref } from "effect"

/** Undoes entries (in the order they were recorded); never fails. */
export type Undo<E, R> = (entries: ReadonlyArray<E>) => Effect.Effect<void, never, R>

/** What a step needs to write down what it is about to create. */
export interface Recorder<E> {
  /** Writes `entry` down (before the step that creates it). */
  readonly record: (entry: E) => Effect.Effect<void>
}

/** A position in a ledger. */
export type Mark = number & { readonly Mark: unique symbol }

/** A ledger of entries `E`. */
export interface Ledger<E> extends Recorder<E> {
  /** Every entry, in the order recorded. */
  readonly entries: Effect.Effect<ReadonlyArray<E>>
  /** The position now, to roll back to. */
  readonly mark: Effect.Effect<Mark>
  /** Undoes the entries recorded since `mark`, then forgets them. */
  readonly rollback: <R>(mark: Mark, undo: Undo<E, R>) => Effect.Effect<void, never, R>
  /** Appends every entry of `other`, in its order. */
  readonly merge: (other: Ledger<E>) => Effect.Effect<void>
}

/** An empty ledger. */
export const make = <E>(): Effect.Effect<Ledger<E>> =>
  Effect.map(Ref.make<ReadonlyArray<E>>([]), (ref): Ledger<E> => ({
    record: (entry) => Ref.update(ref, (l) => [...l, entry]),
    entries: Ref.get(ref),
    mark: Effect.map(Ref.get(ref), (l) => l.length as Mark),
    rollback: (mark, undo) =>
      Effect.gen(function*() {
        yield* undo((yield* Ref.get(ref)).slice(mark))
        yield* Ref.update(ref, (l) => l.slice(0, mark))
      }),
    merge: (other) => Effect.flatMap(other.entries, (more) => Ref.update(ref, (l) => [...l, ...more]))
  }))

/**
 * Runs `body` with a new ledger; when `body` fails or is interrupted, its
 * entries are undone, otherwise `onSuccess` gets them (default: nothing).
 */
export const undoOnFailure = <E, A, Err, R, R2>(
  undo: Undo<E, R2>,
  body: (ledger: Ledger<E>) => Effect.Effect<A, Err, R>,
  onSuccess: (ledger: Ledger<E>) => Effect.Effect<void> = () => Effect.void
): Effect.Effect<A, Err, R | R2> =>
  Effect.flatMap(make<E>(), (ledger) =>
    body(ledger).pipe(
      Effect.onExit((exit) => (Exit.isSuccess(exit) ? onSuccess(ledger) : Effect.flatMap(ledger.entries, undo)))
    ))

/**
 * Runs `body` with a ledger of its own: when it succeeds its entries join
 * `parent`'s; when it fails or is interrupted they are undone.
 */
export const nested = <E, A, Err, R, R2>(
  parent: Ledger<E>,
  undo: Undo<E, R2>,
  body: (ledger: Ledger<E>) => Effect.Effect<A, Err, R>
): Effect.Effect<A, Err, R | R2> => undoOnFailure(undo, body, (ledger) => parent.merge(ledger))

/** How often an undo step is retried before it is given up (a transient failure must not leave leftovers). */
const retries = 2

/**
 * One step of an undo, best effort: retried twice, then its failure logged
 * (never raised); its value when it succeeded.
 */
export const undoStep = <A, E extends { readonly message: string }, R>(
  what: string,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<Option.Option<A>, never, R> =>
  effect.pipe(
    Effect.retry({ times: retries }),
    Effect.map(Option.some),
    Effect.catch((e: E) => Effect.as(Effect.logError(`undo: ${what} failed: ${e.message}`), Option.none<A>()))
  )

/**
 * An undo step that counts the service's NotFound (nothing left to remove)
 * as done and is not retried on it; whether it succeeded.
 */
export const undoRemoval = <E extends { readonly message: string; readonly reason: { readonly _tag: string } }, R>(
  what: string,
  effect: Effect.Effect<void, E, R>
): Effect.Effect<boolean, never, R> =>
  effect.pipe(
    Effect.retry({ times: retries, while: (e) => e.reason._tag !== "NotFound" }),
    Effect.as(true),
    Effect.catch((e: E) =>
      e.reason._tag === "NotFound"
        ? Effect.succeed(true)
        : Effect.as(Effect.logError(`undo: ${what} failed: ${e.message}`), false)
    )
  )
