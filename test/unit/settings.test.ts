import middy from '@middy/core';
import { afterEach, describe, expect, it } from 'vitest';
import { invocationStarted, settingsArea, text } from '../../lib/core/settings.js';
import { withSettingsPerInvocation } from '../../lib/invocation/lambda-handler.js';

const NAME = 'SETTINGS_TEST_VALUE';
const area = settingsArea(() => ({ value: text(NAME, 'default') }));
const value = () => area().value;

afterEach(() => {
  delete process.env[NAME];
});

describe('settings areas', () => {
  it('outside an invocation, see a variable changed since their last use', () => {
    process.env[NAME] = 'one';
    expect(value()).toBe('one');
    process.env[NAME] = 'two';
    expect(value()).toBe('two');
    delete process.env[NAME];
    expect(value()).toBe('default');
  });

  it('within an invocation, read the environment once; the next invocation reads it again', () => {
    process.env[NAME] = 'one';
    const end = invocationStarted();
    expect(value()).toBe('one');
    process.env[NAME] = 'two';
    expect(value()).toBe('one');
    end();
    expect(value()).toBe('two');
    const next = invocationStarted();
    process.env[NAME] = 'three';
    expect(value()).toBe('three');
    next();
  });

  it('are read again by each invocation that starts, and stay read while any is under way, however often one is ended', () => {
    process.env[NAME] = 'one';
    const first = invocationStarted();
    expect(value()).toBe('one');
    process.env[NAME] = 'two';
    const second = invocationStarted();
    expect(value()).toBe('two');
    first();
    first();
    process.env[NAME] = 'three';
    expect(value()).toBe('two');
    second();
    expect(value()).toBe('three');
  });

  it('are read once per invocation of a wrapped handler, however its middy chain ends', async () => {
    const seen: string[] = [];
    const handler = withSettingsPerInvocation(
      middy(async (event: { next?: string; fail?: boolean; early?: boolean }) => {
        seen.push(value());
        if (event.next !== undefined) process.env[NAME] = event.next;
        seen.push(value());
        if (event.fail) throw new Error('failed on purpose');
        return 'handled';
      })
        // Middy skips the middlewares after one that responds early, or whose onError throws.
        .use({ after: (request) => ((request.event as { early?: boolean }).early ? 'early' : undefined) })
        .use({
          onError: () => {
            throw new Error('its onError failed too');
          },
        }),
    );
    process.env[NAME] = 'one';
    await handler({ next: 'two' }, {} as never);
    await expect(handler({ next: 'three', fail: true }, {} as never)).rejects.toThrow('its onError failed too');
    expect(value()).toBe('three');
    expect(await handler({ next: 'four', early: true }, {} as never)).toBe('early');
    expect(value()).toBe('four');
    await handler({}, {} as never);
    expect(seen).toEqual(['one', 'one', 'two', 'two', 'three', 'three', 'four', 'four']);
  });
});
