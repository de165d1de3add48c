/*
 * What a site's `senderCidrs` may hold, in one place (site-config.ts checks each entry with it; nag.ts words the
 * caller limits with it). Pure: no I/O, no CDK.
 *
 * A sender range is the regional N3 operator's egress: a handful of public NAT addresses. Three kinds of entry
 * are mistakes, each refused in synth with one line:
 * - too wide: `/0` (every address: the Deny of the resource policy never matches) and anything shorter than
 *   MIN_SENDER_PREFIX. The site would then be open to everyone who rents a machine in that block;
 * - never a public source: private, loopback, link-local, carrier-grade NAT, multicast, reserved, benchmarking
 *   (IANA's IPv4 Special-Purpose Address Registry). API Gateway's regional endpoint only sees public source
 *   addresses, so such a range lets no one in: the site deploys, and refuses every callback, silently;
 * - host bits set (`203.0.113.5/24`): AWS reads it as the whole /24, which is seldom what was meant.
 * Documentation ranges (RFC 5737) are the fourth kind: no sender has them either, but the README, the examples
 * and the tests need addresses that belong to nobody. They are allowed only where a site says it is an example
 * (`"example": true`, site-config.ts).
 */

/**
 * The widest sender range accepted: a /16 (65,536 addresses). An operator's egress is a few addresses (a /32 to
 * a /28); a /16 is already a large pool, and a regional telecom gives out ranges from within one. Anything wider
 * (/15 and shorter) is a provider's whole allocation — a /8 is 16.7 million addresses, a cloud's or an ISP's —
 * where any of its customers could post forged acks.
 */
export const MIN_SENDER_PREFIX = 16;

export interface Ipv4Cidr {
  /** The address as written, as an unsigned 32-bit number. */
  readonly address: number;
  readonly prefix: number;
  /** The first address of the range (the address with its host bits cleared). */
  readonly network: number;
}

const SYNTAX = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
export const CIDR_SYNTAX_PROBLEM = 'an IPv4 CIDR such as 203.0.113.0/24';

const maskOf = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
export const formatAddress = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const formatCidr = (network: number, prefix: number) => `${formatAddress(network)}/${prefix}`;

/** The CIDR, or the one-line reason it is not one. Octets with leading zeros are refused: some parsers read them as octal. */
export function parseCidr(text: string): { cidr: Ipv4Cidr; problem?: undefined } | { cidr?: undefined; problem: string } {
  const match = SYNTAX.exec(text);
  if (!match) return { problem: CIDR_SYNTAX_PROBLEM };
  const parts = match.slice(1).map(Number);
  const octets = parts.slice(0, 4);
  const prefix = parts[4]!;
  if (octets.some((o) => o > 255) || prefix > 32) return { problem: CIDR_SYNTAX_PROBLEM };
  if (match.slice(1, 6).some((part) => part.length > 1 && part.startsWith('0')))
    return { problem: `${text}: leading zeros are read as octal by some tools: write ${octets.join('.')}/${prefix}` };
  const address = octets.reduce((n, o) => n * 256 + o, 0);
  return { cidr: { address, prefix, network: (address & maskOf(prefix)) >>> 0 } };
}

interface SpecialRange {
  readonly cidr: string;
  /** What it is, as the line says it ("a private range (RFC 1918)"). */
  readonly what: string;
  readonly documentation?: true;
}

/** IANA's IPv4 Special-Purpose Address Registry, with multicast and the reserved block: none is a public source. */
export const SPECIAL_RANGES: readonly SpecialRange[] = [
  { cidr: '0.0.0.0/8', what: '"this network" (RFC 791)' },
  { cidr: '10.0.0.0/8', what: 'a private range (RFC 1918)' },
  { cidr: '100.64.0.0/10', what: 'carrier-grade NAT space (RFC 6598)' },
  { cidr: '127.0.0.0/8', what: 'loopback (RFC 1122)' },
  { cidr: '169.254.0.0/16', what: 'link-local (RFC 3927)' },
  { cidr: '172.16.0.0/12', what: 'a private range (RFC 1918)' },
  { cidr: '192.0.0.0/24', what: 'IETF protocol assignments (RFC 6890)' },
  { cidr: '192.0.2.0/24', what: 'a documentation range, TEST-NET-1 (RFC 5737)', documentation: true },
  { cidr: '192.88.99.0/24', what: 'the retired 6to4 relay range (RFC 7526)' },
  { cidr: '192.168.0.0/16', what: 'a private range (RFC 1918)' },
  { cidr: '198.18.0.0/15', what: 'benchmarking space (RFC 2544)' },
  { cidr: '198.51.100.0/24', what: 'a documentation range, TEST-NET-2 (RFC 5737)', documentation: true },
  { cidr: '203.0.113.0/24', what: 'a documentation range, TEST-NET-3 (RFC 5737)', documentation: true },
  { cidr: '224.0.0.0/4', what: 'multicast (RFC 5771)' },
  { cidr: '240.0.0.0/4', what: 'reserved (RFC 1112), with the broadcast address' },
];
export const DOCUMENTATION_RANGES = SPECIAL_RANGES.filter((r) => r.documentation).map((r) => r.cidr);

const special = SPECIAL_RANGES.map((range) => ({ ...range, parsed: parseCidr(range.cidr).cidr! }));
const lastOf = ({ network, prefix }: Ipv4Cidr) => network + 2 ** (32 - prefix) - 1;
const within = (inner: Ipv4Cidr, outer: Ipv4Cidr) => inner.network >= outer.network && lastOf(inner) <= lastOf(outer);
const overlaps = (a: Ipv4Cidr, b: Ipv4Cidr) => a.network <= lastOf(b) && b.network <= lastOf(a);

export const addressCount = (cidr: Ipv4Cidr) => 2 ** (32 - cidr.prefix);

const TO_DO = "list the regional N3 operator's public egress addresses (ask them)";

/**
 * Why this entry of `senderCidrs` cannot stand, in one line that names it and says what to do; undefined when it
 * can. `example`: the site is an illustration, where documentation ranges are the right choice.
 */
export function senderCidrProblem(text: string, options: { example: boolean }): string | undefined {
  const parsed = parseCidr(text);
  if (!parsed.cidr) return parsed.problem;
  const { cidr } = parsed;
  if (cidr.network !== cidr.address) {
    const single = cidr.prefix === 32 ? '' : ` (or ${formatAddress(cidr.address)}/32 for that one address)`;
    return `${text} has host bits set: did you mean ${formatCidr(cidr.network, cidr.prefix)}${single}?`;
  }
  if (cidr.prefix === 0) {
    return `${text} is every address on the internet, so the allowlist would allow anyone: ${TO_DO}, or, where they have none, set "allowAnySender": true with a secretPathSegment`;
  }
  const inside = special.find((range) => within(cidr, range.parsed));
  if (inside?.documentation) {
    if (options.example) return undefined;
    return `${text} is ${inside.what}: no sender has it, so the site would refuse every callback; ${TO_DO}, or mark a site that only illustrates "example": true`;
  }
  if (inside) {
    const where = inside.cidr === text ? `${text} is` : `${text} is in ${inside.cidr},`;
    return `${where} ${inside.what}: never the source of a request from the internet, so the site would refuse every callback; ${TO_DO}`;
  }
  if (cidr.prefix < MIN_SENDER_PREFIX) {
    return `${text} is ${addressCount(cidr).toLocaleString('en-US')} addresses, a provider's whole block: anyone renting a machine in it could post acks; ${TO_DO}, at most a /${MIN_SENDER_PREFIX} each`;
  }
  const touched = special.find((range) => overlaps(cidr, range.parsed));
  if (touched) return `${text} includes ${touched.cidr}, ${touched.what}, which no sender has: ${TO_DO}`;
  return undefined;
}

/** Whether this (valid) CIDR lies within a documentation range (RFC 5737). */
export function isDocumentationRange(text: string): boolean {
  const { cidr } = parseCidr(text);
  return cidr !== undefined && special.some((range) => range.documentation && within(cidr, range.parsed));
}
