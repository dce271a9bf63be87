import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Addresses compared as addresses, the one implementation behind session matching, request
 * validation and the local EventBridge matcher's `cidr`. IPv4-mapped IPv6 (`::ffff:203.0.113.77`)
 * is the IPv4 address; IPv6 is compared whatever its written form.
 */
export type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** An address is the block of its own length (/32, /128). */
export interface Block {
  address: Address;
  prefix: number;
}

type Read<T> = { value: T } | { problem: string };

const NOT_AN_ADDRESS = 'is not an IP address';
const AMBIGUOUS =
  'is not written in the standard form: leading zeros (010 may mean 8 or 10), hexadecimal or shortened IPv4 are ambiguous; write four decimal numbers such as 203.0.113.77';
const ZONE = 'has a zone (%…), which names a link of one host, not an address';
const NOT_A_BLOCK = 'must be an IP address or a CIDR block';

// ::a.b.c.d, the deprecated IPv4-compatible form: ipaddr.js reads it as IPv4-mapped, which it is not.
const IPV4_COMPATIBLE = /^::(\d+\.\d+\.\d+\.\d+)$/;

/** `text` as written, mapped or not; node:net decides what is an address, ipaddr.js what it means. */
function readRaw(text: string): Read<Address> {
  const value = text.trim();
  // ipaddr.js alone also takes inet_aton's forms (203.000.113.077 as octal 63, 10.1, 0x0a.0.0.1);
  // isIP takes only four decimal parts without leading zeros and standard IPv6.
  if (isIP(value) === 0) {
    const numeric = /^[\d.]+$/.test(value) || (/^[\da-fx.:]+$/i.test(value) && ipaddr.isValid(value));
    return { problem: numeric ? AMBIGUOUS : NOT_AN_ADDRESS };
  }
  if (value.includes('%')) return { problem: ZONE };
  const compatible = IPV4_COMPATIBLE.exec(value);
  return { value: ipaddr.parse(compatible ? `0:0:0:0:0:0:${compatible[1]}` : value) };
}

const isMapped = (address: Address): address is ipaddr.IPv6 =>
  address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress();

const canonical = (address: Address): Address => (isMapped(address) ? address.toIPv4Address() : address);

function readBlock(text: string): Read<Block> {
  const [host = '', bits, extra] = text.trim().split('/');
  if (extra !== undefined) return { problem: NOT_A_BLOCK };
  const raw = readRaw(host);
  if ('problem' in raw) return { problem: raw.problem === NOT_AN_ADDRESS ? NOT_A_BLOCK : raw.problem };
  const address = raw.value;
  const longest = address.kind() === 'ipv4' ? 32 : 128;
  if (bits === undefined) {
    const value = canonical(address);
    return { value: { address: value, prefix: value.kind() === 'ipv4' ? 32 : 128 } };
  }
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > longest)
    return { problem: `has a prefix that is not /0 to /${longest}` };
  const prefix = Number(bits);
  // A block inside ::ffff:0:0/96 is an IPv4 block; a wider IPv6 block stays IPv6 and so matches no IPv4 address.
  if (isMapped(address) && prefix >= 96) return { value: { address: address.toIPv4Address(), prefix: prefix - 96 } };
  return { value: { address, prefix } };
}

/** The address `text` spells (IPv4-mapped IPv6 as IPv4), or undefined when it is not one in a standard form. */
export function parseAddress(text: string | null): Address | undefined {
  if (text === null) return undefined;
  const read = readRaw(text);
  return 'value' in read ? canonical(read.value) : undefined;
}

/** Why `text`, written like an address, is refused as one (ambiguous, a zone), or undefined. */
export function refusedAddress(text: string): string | undefined {
  const read = readRaw(text);
  return 'problem' in read && read.problem !== NOT_AN_ADDRESS ? read.problem : undefined;
}

/** An address or a CIDR block, or undefined when `text` is neither in a standard form. */
export function parseBlock(text: string): Block | undefined {
  const read = readBlock(text);
  return 'value' in read ? read.value : undefined;
}

/** Why `text` is not an address or a CIDR block (to be put after its name), or undefined. */
export function blockProblem(text: string): string | undefined {
  const read = readBlock(text);
  return 'problem' in read ? read.problem : undefined;
}

export function inBlock(address: Address, block: Block): boolean {
  return address.kind() === block.address.kind() && address.match(block.address, block.prefix);
}

export function sameAddress(a: Address, b: Address): boolean {
  return a.kind() === b.kind() && a.toNormalizedString() === b.toNormalizedString();
}

/** True when `address` is `wanted` (an address) or lies inside it (a CIDR block). */
export function addressMatches(address: string, wanted: string): boolean {
  const parsed = parseAddress(address);
  const block = parseBlock(wanted);
  return parsed !== undefined && block !== undefined && inBlock(parsed, block);
}
