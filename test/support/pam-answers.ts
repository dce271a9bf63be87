/** PAM's response envelope for an answer with this status, message and error code (0: no error). */
export const pamEnvelope = (status: number, message: string, code = 1) =>
  JSON.stringify({ response: { status, message, error: code !== 0, error_code: code, detail: '' } });

/** What the promise rejected with; a promise that resolves fails the test. */
export async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
