import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { closeServer, listenOnLoopback, withBody } from './loopback-server.js';

/** A schedule as the stand-in keeps it. */
export interface RecordedSchedule {
  name: string;
  group: string;
  expression: string;
  timezone: string | undefined;
  actionAfterCompletion: string | undefined;
  target: { Arn: string; RoleArn: string; Input?: string };
  /** When `at(…)` says it runs (epoch ms). */
  runAt: number;
}

export interface SchedulerStandIn {
  /** Point the AWS SDK here with AWS_ENDPOINT_URL_SCHEDULER. */
  url: string;
  /** The schedules that exist now, by group/name. */
  schedules: Map<string, RecordedSchedule>;
  /** Every CreateSchedule and DeleteSchedule received, in order. */
  calls: Array<{ operation: 'CreateSchedule' | 'DeleteSchedule'; name: string; group: string }>;
  /** Runs every schedule due by `now` (epoch ms; all of them when not given): invokes its target, then deletes it as asked. */
  fireDue(now?: number): Promise<Array<{ schedule: RecordedSchedule; result: unknown }>>;
  close(): Promise<void>;
}

/** `at(yyyy-mm-ddThh:mm:ss)` in UTC (the only time zone the product uses), as epoch ms. */
function atTime(expression: string): number | undefined {
  const match = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression);
  return match ? Date.parse(`${match[1]}Z`) : undefined;
}

/**
 * Speaks just enough of EventBridge Scheduler's REST protocol (CreateSchedule, DeleteSchedule) on
 * loopback to record one-time schedules and fire them: `invoke` runs the target (locally, the
 * function behind its ARN); with `tickMs`, due schedules fire by themselves.
 */
export async function startSchedulerStandIn(
  options: { port?: number; invoke?: (targetArn: string, input: unknown) => Promise<unknown>; tickMs?: number } = {},
): Promise<SchedulerStandIn> {
  const schedules = new Map<string, RecordedSchedule>();
  const calls: SchedulerStandIn['calls'] = [];
  const server = createServer(
    withBody((req, res, body) => {
      const reply = (status: number, body: unknown, errorType?: string) => {
        res.writeHead(status, {
          'content-type': 'application/json',
          'x-amzn-requestid': randomUUID(),
          ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
        });
        res.end(JSON.stringify(body));
      };
      const url = new URL(req.url ?? '/', 'http://scheduler');
      // Not Scheduler's: what a running local stack holds, for npm run event.
      if (req.method === 'GET' && url.pathname === '/schedules') return reply(200, [...schedules.values()]);
      const name = /^\/schedules\/([^/]+)$/.exec(url.pathname)?.[1];
      if (!name)
        return reply(404, { Message: `${req.method} ${url.pathname} is not supported` }, 'ResourceNotFoundException');
      const decoded = decodeURIComponent(name);
      if (req.method === 'POST') {
        const input = JSON.parse(body || '{}') as {
          GroupName?: string;
          ScheduleExpression: string;
          ScheduleExpressionTimezone?: string;
          ActionAfterCompletion?: string;
          Target: RecordedSchedule['target'];
        };
        const group = input.GroupName ?? 'default';
        calls.push({ operation: 'CreateSchedule', name: decoded, group });
        const runAt = atTime(input.ScheduleExpression);
        if (runAt === undefined)
          return reply(
            400,
            { Message: `Invalid Schedule Expression ${input.ScheduleExpression}` },
            'ValidationException',
          );
        if (schedules.has(`${group}/${decoded}`))
          return reply(409, { Message: `Schedule ${decoded} already exists.` }, 'ConflictException');
        schedules.set(`${group}/${decoded}`, {
          name: decoded,
          group,
          expression: input.ScheduleExpression,
          timezone: input.ScheduleExpressionTimezone,
          actionAfterCompletion: input.ActionAfterCompletion,
          target: input.Target,
          runAt,
        });
        return reply(200, { ScheduleArn: `arn:aws:scheduler:us-east-1:000000000000:schedule/${group}/${decoded}` });
      }
      if (req.method === 'DELETE') {
        const group = url.searchParams.get('groupName') ?? 'default';
        calls.push({ operation: 'DeleteSchedule', name: decoded, group });
        if (!schedules.delete(`${group}/${decoded}`))
          return reply(404, { Message: `Schedule ${decoded} does not exist.` }, 'ResourceNotFoundException');
        return reply(200, {});
      }
      return reply(405, { Message: `${req.method} is not supported` }, 'ValidationException');
    }),
  );
  const port = await listenOnLoopback(server, options.port);

  async function fireDue(now = Number.POSITIVE_INFINITY) {
    const due = [...schedules.entries()].filter(([, schedule]) => schedule.runAt <= now);
    const fired: Array<{ schedule: RecordedSchedule; result: unknown }> = [];
    for (const [key, schedule] of due) {
      if (schedule.actionAfterCompletion === 'DELETE') schedules.delete(key);
      const input = schedule.target.Input === undefined ? {} : JSON.parse(schedule.target.Input);
      const result = options.invoke ? await options.invoke(schedule.target.Arn, input) : undefined;
      fired.push({ schedule, result });
    }
    return fired;
  }

  const timer =
    options.tickMs === undefined
      ? undefined
      : setInterval(() => void fireDue(Date.now()).catch(() => undefined), options.tickMs);
  timer?.unref();

  return {
    url: `http://127.0.0.1:${port}`,
    schedules,
    calls,
    fireDue,
    close: async () => {
      clearInterval(timer);
      await closeServer(server);
    },
  };
}
