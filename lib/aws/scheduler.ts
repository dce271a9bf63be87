import type { CreateScheduleCommandInput, DeleteScheduleCommandInput } from '@aws-sdk/client-scheduler';
import { AWS_REQUEST_LIMITS } from './request-limits.js';

type SchedulerModule = typeof import('@aws-sdk/client-scheduler');
let client: Promise<{ module: SchedulerModule; client: InstanceType<SchedulerModule['SchedulerClient']> }> | undefined;

/** EventBridge Scheduler's client, loaded on first use: only a quarantine or a reactivation needs it. */
async function scheduler() {
  client ??= import('@aws-sdk/client-scheduler').then(
    (module) => ({ module, client: new module.SchedulerClient({ requestHandler: AWS_REQUEST_LIMITS }) }),
    (error: unknown) => {
      client = undefined;
      throw error;
    },
  );
  return client;
}

/** CreateSchedule; the SDK's client token makes its own retries of one call safe. */
export async function createSchedule(input: CreateScheduleCommandInput): Promise<void> {
  const { module, client: loaded } = await scheduler();
  await loaded.send(new module.CreateScheduleCommand(input));
}

/** DeleteSchedule; false when there was no such schedule (already run, deleted, or never made). */
export async function deleteSchedule(input: DeleteScheduleCommandInput): Promise<boolean> {
  const { module, client: loaded } = await scheduler();
  try {
    await loaded.send(new module.DeleteScheduleCommand(input));
    return true;
  } catch (error) {
    if (error instanceof module.ResourceNotFoundException) return false;
    throw error;
  }
}

/** Whether CreateSchedule refused a name already taken in the group. */
export function isScheduleConflict(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConflictException';
}
