/** Epoch milliseconds with sub-millisecond precision, comparable across the bench's processes. */
export const now = () => performance.timeOrigin + performance.now();
