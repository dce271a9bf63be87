import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext, siemTerminationRequest } from '../../infra/local/lambda-events.js';
import { type RuntimeApiStandIn, startRuntimeApiStandIn } from '../../infra/local/lambda-runtime-api.js';
import type { LocalPam } from '../../infra/local/local-pam.js';
import { seedSessions } from '../../infra/pam-simulator/seed-sessions.js';
import { type Handler, startLocalHandlers } from '../support/local-handlers.js';
import { captureOutput } from '../support/output-capture.js';

/**
 * On Lambda, drop registers an internal extension (lib/aws/after-response.ts) that holds the
 * environment until the records of what it terminated are written: the response does not wait
 * for them. Here against a stand-in of Lambda's Extensions API.
 */
let runtime: RuntimeApiStandIn;
let local: LocalPam;
let drop: Handler;
let s3: S3Client;
const output = captureOutput();

beforeAll(async () => {
  runtime = await startRuntimeApiStandIn();
  ({ local, drop } = await startLocalHandlers({}, { AWS_LAMBDA_RUNTIME_API: runtime.address }));
  s3 = new S3Client({});
});

afterAll(async () => {
  delete process.env.AWS_LAMBDA_RUNTIME_API;
  await Promise.all([local.close(), runtime.close()]);
});

beforeEach(async () => {
  await local.s3.clear();
  local.pam.sessions.splice(0, local.pam.sessions.length, ...seedSessions());
  local.pam.sessionsChanged();
});

const recorded = async (sessionId: string) =>
  s3
    .send(new HeadObjectCommand({ Bucket: local.s3.bucket, Key: `terminated/sessions/${sessionId}.json` }))
    .then(() => true)
    .catch(() => false);

/** One invocation as Lambda plays it: the extension is told, the handler runs, Lambda waits for the extension. */
async function invoke(event: unknown) {
  const context = lambdaContext();
  const completion = runtime.invoke(context.awsRequestId, Date.now() + 15_000);
  const response = await drop(event, context);
  const respondedAt = Date.now();
  return { response, respondedAt, completion };
}

describe('drop, with the Extensions API', () => {
  it('registered while its module loaded, for INVOKE only, and waits for the first invocation', () => {
    expect(runtime.registered).toEqual([
      { name: 'pam-session-responder-after-response', id: expect.any(String), nextAt: [expect.any(Number)] },
    ]);
  });

  it('responds before the record of the terminated session is written; the invocation ends once it is', async () => {
    const target = local.pam.sessions.find((session) => session.end === null);
    if (!target) throw new Error('seed changed');
    local.s3.holdRequests({ prefix: 'terminated/sessions/', ms: 300, methods: ['PUT'] });
    const { response, respondedAt, completion } = await invoke({ session_id: target.session_id });
    expect(response).toMatchObject({ session_id: target.session_id, status: 'terminated' });
    expect(await recorded(target.session_id)).toBe(false);
    const { completedAt } = await completion;
    expect(await recorded(target.session_id)).toBe(true);
    const [put] = local.s3.heldAnsweredAt;
    expect(put?.method).toBe('PUT');
    // Lambda was told the invocation was done only after S3 had answered the PUT.
    expect(runtime.registered[0]?.nextAt.at(-1)).toBeGreaterThanOrEqual(put?.at ?? Number.POSITIVE_INFINITY);
    expect(completedAt - respondedAt).toBeGreaterThan(150);
  });

  it('holds the environment for the event record too, and answers the next invocation as usual', async () => {
    const [first, second] = local.pam.sessions.filter((session) => session.end === null);
    if (!first || !second) throw new Error('seed changed');
    const siem = (sessionId: string, id: string) =>
      siemTerminationRequest(
        id,
        { session_ids: [sessionId], reason: 'SOAR playbook: credential dump', requested_by: 'soar' },
        'soar.splunk',
      );
    local.s3.holdRequests({ prefix: 'terminated/events/', ms: 200, methods: ['PUT'] });
    const one = await invoke(siem(first.session_id, 'event-one'));
    expect(one.response.summary).toEqual({ terminated: 1 });
    await one.completion;
    expect(local.s3.heldAnsweredAt.map((held) => held.method)).toEqual(['PUT']);
    const two = await invoke(siem(second.session_id, 'event-two'));
    expect(two.response.summary).toEqual({ terminated: 1 });
    await two.completion;
    // The first event's record, written after its response, answers its replay.
    const replay = await invoke(siem(first.session_id, 'event-one'));
    await replay.completion;
    expect(replay.response.summary).toEqual({ already_ended: 1 });
  });
});

describe('the extension itself', () => {
  type Extension = typeof import('../../lib/aws/after-response.js');

  /** The module loaded afresh and registered with a Runtime API of its own (none without `options`), under `env`. */
  async function withExtension(
    options: Parameters<typeof startRuntimeApiStandIn>[0] | undefined,
    env: Record<string, string>,
    test: (extension: Extension, stand: RuntimeApiStandIn | undefined) => Promise<void>,
  ) {
    const stand = options ? await startRuntimeApiStandIn(options) : undefined;
    vi.stubEnv('AWS_LAMBDA_RUNTIME_API', stand?.address ?? '');
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    try {
      vi.resetModules();
      const extension: Extension = await import('../../lib/aws/after-response.js');
      await extension.registerAfterResponse();
      await test(extension, stand);
    } finally {
      vi.unstubAllEnvs();
      await stand?.close();
    }
  }

  /** A handler that hands over 50 ms of work and responds whether it was done by then. */
  const workDoneBeforeResponse = ({ afterResponse, respondingFirst }: Extension, requestId: string) => {
    let done = false;
    const handler = respondingFirst(async () => {
      await afterResponse(new Promise((resolve) => setTimeout(resolve, 50)).then(() => (done = true)));
      return done;
    });
    return handler({}, { awsRequestId: requestId });
  };

  it('releases the environment at the deadline, less its margin, when the work never ends', async () => {
    await withExtension({}, {}, async ({ afterResponse, respondingFirst }, stand) => {
      const handler = respondingFirst(async () => {
        await afterResponse(new Promise(() => undefined));
        return 'responded';
      });
      const invokedAt = Date.now();
      const completion = stand?.invoke('never-ending', invokedAt + 800);
      expect(await handler({}, { awsRequestId: 'never-ending' })).toBe('responded');
      const completedAt = (await completion)?.completedAt ?? Number.NaN;
      expect(completedAt - invokedAt).toBeGreaterThanOrEqual(250);
      expect(completedAt - invokedAt).toBeLessThan(700);
      expect(output.text()).toMatch(/Work after the response was still running at the deadline/);
    });
  });

  it('does work handed over after the release before the response: nothing would hold the environment for it', async () => {
    await withExtension({}, {}, async ({ afterResponse, respondingFirst }, stand) => {
      let done = false;
      const handler = respondingFirst(async () => {
        // Past the release (deadline less 500 ms), the handler is still running.
        await new Promise((resolve) => setTimeout(resolve, 400));
        await afterResponse(new Promise((resolve) => setTimeout(resolve, 100)).then(() => (done = true)));
        return done;
      });
      const completion = stand?.invoke('slow-handler', Date.now() + 700);
      expect(await handler({}, { awsRequestId: 'slow-handler' })).toBe(true);
      await completion;
    });
  });

  it('does the work before the response when Lambda refuses the registration', async () => {
    await withExtension({ refuseRegistration: 403 }, {}, async (extension) => {
      expect(await workDoneBeforeResponse(extension, 'refused')).toBe(true);
      expect(output.text()).toMatch(/Could not register for work after the response/);
    });
  });

  it('registers nothing where one environment runs invocations at once (Lambda Managed Instances)', async () => {
    await withExtension({}, { AWS_LAMBDA_MAX_CONCURRENCY: '64' }, async (extension, stand) => {
      expect(await workDoneBeforeResponse(extension, 'concurrent')).toBe(true);
      expect(stand?.registered).toEqual([]);
    });
  });

  it('does not fail the function when AWS_LAMBDA_MAX_CONCURRENCY is not a number it knows', async () => {
    await withExtension({}, { AWS_LAMBDA_MAX_CONCURRENCY: 'many' }, async (extension) => {
      expect(await workDoneBeforeResponse(extension, 'unreadable')).toBe(true);
      expect(output.text()).toMatch(/Could not register for work after the response/);
    });
  });

  it('registers nothing without the Runtime API, and does the work before the response', async () => {
    await withExtension(undefined, {}, async (extension) => {
      expect(await workDoneBeforeResponse(extension, 'local')).toBe(true);
    });
  });
});
