import { BlockList, isIP } from 'node:net';

/**
 * What synth can tell about a job webhook URL before any job runs, by the rules delivery applies
 * (templates/runtime/webhooks.py): the host must not be a literal private, loopback, link-local (the cloud's
 * metadata service), shared, reserved or multicast address, and the URL must carry no credentials (they would
 * be written into app.py and the manifest). A host name is resolved only at delivery.
 */

const NOT_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  NOT_PUBLIC.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 96], // unspecified, loopback, IPv4-compatible
  ['64:ff9b::', 96], // NAT64
  ['100::', 64],
  ['2001::', 23], // Teredo and other IETF special ranges
  ['2001:db8::', 32],
  ['2002::', 16], // 6to4
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  NOT_PUBLIC.addSubnet(net, bits, 'ipv6');

/** Why `url` can never receive a job webhook, or undefined (a public literal address, or a host name). */
export function webhookUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `got ${JSON.stringify(url)}, expected an https:// URL`;
  }
  if (parsed.username || parsed.password)
    return `got a URL with credentials (${parsed.protocol}//${parsed.username ? '<user>' : ''}${parsed.password ? ':<password>' : ''}@${parsed.host}), which would be written into app.py and the manifest: expected none — let the receiver check the webhook's signature (jobs.webhookSecret) instead`;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost'))
    return `got the host ${host}, a loopback name: webhooks go to public https URLs only (delivery refuses it)`;
  const family = isIP(host);
  if (family === 0) return undefined;
  const mapped = family === 6 ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host)?.[1] : undefined;
  const blocked = mapped ? NOT_PUBLIC.check(mapped, 'ipv4') : NOT_PUBLIC.check(host, family === 4 ? 'ipv4' : 'ipv6');
  return blocked
    ? `got the address ${host}, a private, loopback, link-local or reserved one: webhooks go to public https URLs only (delivery refuses it)`
    : undefined;
}

/**
 * Whether a value given as a Modal Secret's name looks like the secret itself: a Standard Webhooks signing
 * key (`whsec_…`), or a long run of high-entropy characters no one names a Secret with.
 */
export function looksLikeAKey(name: string): boolean {
  if (/^whsec_/i.test(name) || /^(sk|pk|rk)[-_](live|test)/i.test(name)) return true;
  if (name.length < 24) return false;
  const counts = new Map<string, number>();
  for (const c of name) counts.set(c, (counts.get(c) ?? 0) + 1);
  const entropy = [...counts.values()].reduce((h, n) => h - (n / name.length) * Math.log2(n / name.length), 0);
  return entropy > 4 && /[A-Z]/.test(name) && /[a-z]/.test(name) && /\d/.test(name);
}
