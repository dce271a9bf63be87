/* Conditions and the intrinsic functions that depend on them, evaluated offline as CloudFormation would. */
/* biome-ignore-all lint/suspicious/noExplicitAny: CloudFormation's JSON, walked as such. */

/** The template's Conditions, evaluated as CloudFormation would: the functions this template uses. */
export function conditionValues(conditions: Record<string, unknown> = {}): Record<string, boolean> {
  const value = (node: any): unknown => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return node;
    if ('Fn::Not' in node) return !value(node['Fn::Not'][0]);
    if ('Fn::Equals' in node) return value(node['Fn::Equals'][0]) === value(node['Fn::Equals'][1]);
    if ('Fn::And' in node) return (node['Fn::And'] as unknown[]).every((item) => value(item) === true);
    if ('Condition' in node) return value(conditions[node.Condition]);
    if ('Fn::Join' in node) return (node['Fn::Join'][1] as unknown[]).map(value).join(node['Fn::Join'][0]);
    throw new Error(`no evaluation for ${JSON.stringify(node)}`);
  };
  return Object.fromEntries(Object.entries(conditions).map(([name, node]) => [name, value(node) === true]));
}

/** Fn::If taken and AWS::NoValue removed, as CloudFormation does before the resource sees its properties. */
export function resolveIfs(node: any, conditions: Record<string, boolean>): any {
  const noValue = (item: any) => item?.Ref === 'AWS::NoValue';
  if (Array.isArray(node))
    return node.map((item) => resolveIfs(item, conditions)).filter((item) => item !== undefined && !noValue(item));
  if (node === null || typeof node !== 'object') return node;
  if ('Fn::If' in node) {
    const [name, whenTrue, whenFalse] = node['Fn::If'];
    const taken = resolveIfs(conditions[name] ? whenTrue : whenFalse, conditions);
    return noValue(taken) ? undefined : taken;
  }
  const entries = Object.entries(node).map(([key, value]) => [key, resolveIfs(value, conditions)] as const);
  const resolved = Object.fromEntries(entries.filter(([, value]) => value !== undefined && !noValue(value)));
  // Fn::Split of a literal and Fn::Select of a list, as the params make them.
  const split = resolved['Fn::Split'];
  if (Array.isArray(split) && typeof split[1] === 'string') return split[1].split(split[0]);
  const select = resolved['Fn::Select'];
  if (Array.isArray(select) && Array.isArray(select[1])) return select[1][Number(select[0])];
  return resolved;
}
