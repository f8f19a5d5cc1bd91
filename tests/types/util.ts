// Helpers of the type tests: compile-time assertions only (nothing here runs).

/** `true` when A and B are the same type (not merely assignable either way). */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only when `A` and `B` are the same type. */
export declare function expectEqual<A, B>(ok: Equal<A, B>): void;

/** Compiles only when `value` is assignable to `T`. */
export declare function expectType<T>(value: T): void;

/** A value of type T, for tests that need one. */
export declare function make<T>(): T;
