import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { matchesEventPattern } from '../../infra/event-patterns/event-pattern.js';
import { loadRulePatterns } from '../../infra/event-patterns/rules.js';
import { lambdaContext } from '../../infra/local/lambda-events.js';
import { terminationSettings } from '../../lib/core/settings.js';
import { parseTerminationInput } from '../../lib/invocation/termination-input.js';
import { INTRUSION_TYPE_PREFIXES } from '../../lib/termination/finding-targets.js';
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

  it("acts on imported Security Hub findings only from GuardDuty's own product by default, in any partition", () => {
    const fromProduct = (productArn: string) => {
      const event = eventFixture('securityhub-imported-high');
      event.detail.findings[0].ProductArn = productArn;
      return matchingRules(event);
    };
    for (const productArn of [
      'arn:aws:securityhub:us-east-1::product/aws/guardduty',
      'arn:aws-us-gov:securityhub:us-gov-west-1::product/aws/guardduty',
      'arn:aws-cn:securityhub:cn-north-1::product/aws/guardduty',
    ])
      expect(fromProduct(productArn)).toEqual(['securityhub-findings-imported']);
    // Other AWS products are opt-in; what any principal allowed securityhub:BatchImportFindings can send; a partner.
    for (const productArn of [
      'arn:aws:securityhub:eu-west-1::product/aws/inspector',
      'arn:aws:securityhub:us-east-1::product/aws/securityhub',
      'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default',
      'arn:aws:securityhub:us-east-1::product/crowdstrike/crowdstrike-falcon',
      'arn:aws:securityhub:us-east-1::product/aws/guardduty-lookalike',
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

/** What drop would do with the event, under the same settings as the rule: act, or why not. */
function handlerVerdict(event: Record<string, any>): string {
  const { request } = parseTerminationInput(event, lambdaContext(), terminationSettings());
  return request.ignored ?? 'acts';
}

describe('the rules and drop agree, on the same fixtures (issue 19)', () => {
  const findingRules = (params?: Record<string, unknown>) =>
    loadRulePatterns({ ...(params ? { params } : {}) }).filter((rule) =>
      ['guardduty-finding', 'securityhub-findings-imported'].includes(rule.name),
    );
  const routed = (event: Record<string, any>, params?: Record<string, unknown>) =>
    findingRules(params).some((rule) => matchesEventPattern(rule.pattern, event));

  it.each([
    ['guardduty-cryptocurrency-instance', true],
    ['guardduty-rdp-bruteforce-inbound', true],
    ['guardduty-port-probe-low-severity', false],
    ['securityhub-imported-high', true],
    ['securityhub-imported-guardduty-copy', true],
    ['securityhub-imported-medium', false],
    ['securityhub-imported-write-back', false],
    ['securityhub-imported-inspector-cve', false],
    ['securityhub-imported-control-failed', false],
  ])('%s: routed and acted on = %s', (fixture, acts) => {
    const event = eventFixture(fixture);
    expect(routed(event)).toBe(acts);
    expect(handlerVerdict(event) === 'acts').toBe(acts);
  });

  it('with every AWS product opted in, a CVE or a failed control still neither matches nor acts: their types are not intrusions', () => {
    const products = ['arn:*:securityhub:*::product/aws/*'];
    process.env.SECURITYHUB_PRODUCTS = products.join(',');
    try {
      for (const fixture of ['securityhub-imported-inspector-cve', 'securityhub-imported-control-failed']) {
        const event = eventFixture(fixture);
        expect(routed(event, { securityHubProducts: products })).toBe(false);
        expect(handlerVerdict(event)).toMatch(
          /^no finding to act on: .*: its type Software and Configuration Checks\/.* is not an intrusion$/,
        );
      }
      const macie = eventFixture('securityhub-imported-high');
      macie.detail.findings[0].ProductArn = 'arn:aws:securityhub:us-east-1::product/aws/macie';
      macie.detail.findings[0].Types = ['Sensitive Data Identifications/PII/SSN'];
      expect(routed(macie, { securityHubProducts: products })).toBe(false);
      expect(handlerVerdict(macie)).toMatch(/is not an intrusion$/);
    } finally {
      delete process.env.SECURITYHUB_PRODUCTS;
    }
  });

  it('lists the same intrusion types in the rule as drop requires', () => {
    const rule = findingRules().find((candidate) => candidate.name === 'securityhub-findings-imported');
    const detail = rule?.pattern.detail as { findings: { Types: Array<{ prefix: string }> } } | undefined;
    expect(detail?.findings.Types.map((type) => type.prefix)).toEqual([...INTRUSION_TYPE_PREFIXES]);
  });

  it('routes what only drop can refuse, and drop refuses it with a reason: each finding of an array, the own note, scope', () => {
    // EventBridge matches the fields across the findings: a CRITICAL archived CVE and a LOW active intrusion together.
    const mixed = eventFixture('securityhub-imported-high');
    const [finding] = mixed.detail.findings;
    const cve = eventFixture('securityhub-imported-inspector-cve').detail.findings[0];
    mixed.detail.findings = [
      { ...cve, ProductArn: finding.ProductArn, RecordState: 'ARCHIVED' },
      { ...finding, Severity: { Label: 'LOW' } },
    ];
    expect(routed(mixed)).toBe(true);
    expect(handlerVerdict(mixed)).toMatch(
      /^no finding to act on: .*is not an intrusion; .*severity LOW is not HIGH or CRITICAL$/,
    );
    // The Imported event of a note alone keeps the workflow NEW: only drop can see the note is its own.
    const noted = eventFixture('securityhub-imported-write-back');
    noted.detail.findings[0].Workflow.Status = 'NEW';
    expect(routed(noted)).toBe(true);
    expect(handlerVerdict(noted)).toMatch(/its last change is this product's own note/);
    // Scope is drop's alone, so that a finding out of scope is audited as ignored.
    const other = eventFixture('guardduty-cryptocurrency-instance');
    other.detail.accountId = '210987654321';
    expect(routed(other)).toBe(true);
    expect(handlerVerdict(other)).toMatch(/^account 210987654321 is not one whose findings act/);
  });
});
