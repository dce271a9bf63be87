import pMap from 'p-map';
import { lambdaContext, siemTerminationRequest } from './lambda-events.js';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

export interface LoadResult {
  seconds: number;
  outcomes: Array<{ session_id: string; outcome: string; confirmed?: boolean | null }>;
}

/**
 * One SIEM termination request per session, `concurrency` at a time, each naming its session twice
 * (session_id and session_ids) so that de-duplication within a request is exercised too.
 */
export async function driveTerminations(drop: Handler, sessionIds: string[], concurrency: number): Promise<LoadResult> {
  const started = performance.now();
  const reports = await pMap(
    sessionIds,
    (sessionId, index) =>
      drop(
        siemTerminationRequest(`load-${index}`, {
          session_id: sessionId,
          session_ids: [sessionId],
          reason: `load test ${index}`,
          requested_by: 'load-test',
        }),
        lambdaContext({ remainingMs: 120_000 }),
      ) as Promise<{ outcomes: LoadResult['outcomes'] }>,
    { concurrency },
  );
  return { seconds: (performance.now() - started) / 1000, outcomes: reports.flatMap((report) => report.outcomes) };
}
