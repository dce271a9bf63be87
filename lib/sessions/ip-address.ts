import { BlockList, isIP } from 'node:net';

/** True when `value` is an IP address or a CIDR block (the forms origin_ip accepts). */
export function isAddressOrCidr(value: string): boolean {
  const [address, bits, extra] = value.split('/');
  const family = isIP(address ?? '');
  if (!family || extra !== undefined) return false;
  if (bits === undefined) return true;
  const prefix = Number(bits);
  return /^\d{1,3}$/.test(bits) && prefix >= 0 && prefix <= (family === 4 ? 32 : 128);
}

/** True when `address` is `wanted` (an address) or lies inside it (a CIDR block); families must agree. */
export function addressMatches(address: string, wanted: string): boolean {
  const family = isIP(address.trim());
  const [network = '', bits] = wanted.split('/');
  if (!family || family !== isIP(network)) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const list = new BlockList();
  if (bits === undefined) list.addAddress(network, type);
  else list.addSubnet(network, Number(bits), type);
  return list.check(address.trim(), type);
}
