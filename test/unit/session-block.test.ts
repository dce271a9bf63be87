import { describe, expect, it } from 'vitest';
import { JsonArrayStreamParser } from '../../lib/sessions/json-array-stream.js';
import { decodeSessionBlock } from '../../lib/sessions/session-block.js';

const block = (body: string) => new JsonArrayStreamParser('remote_sessions').push(Buffer.from(body));

describe('decodeSessionBlock', () => {
  it('normalises every record of a block', () => {
    const batch = decodeSessionBlock(
      block('{"remote_sessions":[{"session_id":"a","id":3,"end":null},{"session_id":"b","credencial":"root"}]}'),
    );
    expect(batch.malformed).toEqual([]);
    expect(
      batch.sessions.map((session) => [session.session_id, session.id, session.active, session.credential]),
    ).toEqual([
      ['a', '3', true, null],
      ['b', null, true, 'root'],
    ]);
  });

  it('loses only the records that are not valid JSON or not sessions', () => {
    const batch = decodeSessionBlock(
      block(
        '{"remote_sessions":[{"session_id":"a"},{"session_id":01},{"id":"no session id"},"text",{"session_id":"b"}]}',
      ),
    );
    expect(batch.sessions.map((session) => session.session_id)).toEqual(['a', 'b']);
    expect(batch.malformed).toEqual([
      'record: not valid JSON',
      'session_id: must not be empty',
      'record: must be an object',
    ]);
  });

  it('decodes an empty block to nothing', () => {
    expect(decodeSessionBlock(block('{"remote_sessions":['))).toEqual({ sessions: [], malformed: [] });
  });
});
