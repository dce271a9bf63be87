/** Time kept back from the Lambda's own timeout so the function can still answer after giving up on PAM. */
const RESPONSE_MARGIN_MS = 500;
/** API Gateway stops waiting for an integration after 30 s; answer before that. */
export const HTTP_API_BUDGET_MS = 28_000;

/** Epoch milliseconds by which calls to PAM must be over, given the Lambda's remaining time. */
export function deadlineFromRemainingTime(remainingMs: number, now = Date.now()): number {
  return now + Math.max(0, remainingMs - RESPONSE_MARGIN_MS);
}
