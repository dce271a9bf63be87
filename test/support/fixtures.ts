import { readFileSync } from 'node:fs';

/** An EventBridge event fixture from test/fixtures/events, parsed afresh on each call. */
export function eventFixture(name: string): Record<string, any> {
  return JSON.parse(readFileSync(new URL(`../fixtures/events/${name}.json`, import.meta.url), 'utf8'));
}
