import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { matchesEventPattern } from '../../infra/event-patterns/event-pattern.js';
import { loadRulePatterns } from '../../infra/event-patterns/rules.js';
import { eventFixture } from '../support/fixtures.js';

const rules = loadRulePatterns();
const matchingRules = (fixture: string | Record<string, unknown>) =>
  rules
    .filter((rule) => matchesEventPattern(rule.pattern, typeof fixture === 'string' ? eventFixture(fixture) : fixture))
    .map((rule) => rule.name);

describe('the rule pattern files against realistic events', () => {
  it('has one file per rule, with the params filled in', () => {
    expect(rules.map((rule) => rule.name)).toEqual([
      'guardduty-finding',
      'securityhub-custom-action',
      'securityhub-findings-imported',
      'termination-requested',
    ]);
    expect(JSON.stringify(rules)).not.toContain('${param:');
  });

  it.each([
    ['termination-request-by-id', ['termination-requested']],
    ['termination-request-by-match', ['termination-requested']],
    ['termination-request-protected', ['termination-requested']],
    ['termination-request-dry-run', ['termination-requested']],
    ['guardduty-cryptocurrency-instance', ['guardduty-finding']],
    ['guardduty-rdp-bruteforce-inbound', ['guardduty-finding']],
    ['securityhub-imported-high', ['securityhub-findings-imported']],
    ['securityhub-custom-action', ['securityhub-custom-action']],
  ])('%s triggers %j', (fixture, expected) => {
    expect(matchingRules(fixture)).toEqual(expected);
  });

  it.each(['guardduty-port-probe-low-severity', 'securityhub-imported-medium', 'securityhub-other-custom-action'])(
    '%s triggers nothing',
    (fixture) => {
      expect(matchingRules(fixture)).toEqual([]);
    },
  );

  it('takes termination requests only from sources starting with a listed prefix (siem., soar.)', () => {
    const rule = rules.find((candidate) => candidate.name === 'termination-requested');
    expect(rule?.pattern.source).toEqual([{ prefix: 'siem.' }, { prefix: 'soar.' }]);
    const from = (source: string) =>
      matchesEventPattern(rule?.pattern ?? {}, { ...eventFixture('termination-request-by-id'), source });
    for (const source of ['siem.splunk', 'soar.splunk', 'soar.xsoar.playbook-7']) expect(from(source)).toBe(true);
    // The old fixtures' sources, the responder's own, AWS's, and near misses are all refused.
    for (const source of ['com.splunk.soar', 'splunk.es', 'pam.session-responder', 'aws.guardduty', 'siem', 'SIEM.x'])
      expect(from(source)).toBe(false);
  });

  it("acts on imported Security Hub findings only from AWS's own integrations, in any partition", () => {
    const fromProduct = (productArn: string) => {
      const event = eventFixture('securityhub-imported-high');
      event.detail.findings[0].ProductArn = productArn;
      return matchingRules(event);
    };
    for (const productArn of [
      'arn:aws:securityhub:us-east-1::product/aws/guardduty',
      'arn:aws:securityhub:eu-west-1::product/aws/inspector',
      'arn:aws-us-gov:securityhub:us-gov-west-1::product/aws/guardduty',
      'arn:aws-cn:securityhub:cn-north-1::product/aws/guardduty',
    ])
      expect(fromProduct(productArn)).toEqual(['securityhub-findings-imported']);
    // What any principal allowed securityhub:BatchImportFindings can send, and a partner's product.
    for (const productArn of [
      'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default',
      'arn:aws:securityhub:us-east-1::product/crowdstrike/crowdstrike-falcon',
    ])
      expect(fromProduct(productArn)).toEqual([]);
  });

  it("ignores the responder's own audit events and suppressed or archived findings", () => {
    const audit = { ...eventFixture('termination-request-by-id'), source: 'pam.session-responder' };
    expect(matchingRules('termination-request-by-id')).toHaveLength(1);
    expect(rules.filter((rule) => matchesEventPattern(rule.pattern, audit))).toEqual([]);
    const suppressed = eventFixture('securityhub-imported-high');
    suppressed.detail.findings[0].Workflow.Status = 'SUPPRESSED';
    const archived = eventFixture('securityhub-imported-high');
    archived.detail.findings[0].RecordState = 'ARCHIVED';
    for (const event of [suppressed, archived])
      expect(rules.filter((rule) => matchesEventPattern(rule.pattern, event))).toEqual([]);
  });

  it('fills an operator holding a list param as one operator per item, and refuses an empty list', () => {
    const { fillParams } = createRequire(import.meta.url)('../../infra/event-patterns/patterns.cjs');
    const pattern = { source: [{ prefix: '${param:x}' }], detail: { n: [{ numeric: ['>=', '${param:n}'] }] } };
    expect(fillParams(pattern, { x: ['siem.', 'soar.'], n: 7 })).toEqual({
      source: [{ prefix: 'siem.' }, { prefix: 'soar.' }],
      detail: { n: [{ numeric: ['>=', 7] }] },
    });
    expect(() => fillParams(pattern, { x: [], n: 7 })).toThrow(/param "x" is an empty list/);
    expect(() => fillParams(pattern, { n: 7 })).toThrow(/no param "x"/);
  });

  it('holds the GuardDuty threshold at 7 by default: 6.9 is out, 7 is in', () => {
    const gd = eventFixture('guardduty-cryptocurrency-instance');
    const rule = rules.find((candidate) => candidate.name === 'guardduty-finding');
    gd.detail.severity = 6.9;
    expect(matchesEventPattern(rule?.pattern ?? {}, gd)).toBe(false);
    gd.detail.severity = 7;
    expect(matchesEventPattern(rule?.pattern ?? {}, gd)).toBe(true);
  });
});
