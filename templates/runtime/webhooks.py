"""Job webhooks: when a job ends, a POST of its final status to the URL the submit named (`Webhook-Url`, or
the endpoint's default), signed per the Standard Webhooks spec and retried with backoff a bounded number of
times. Only to public addresses (the URL-input rules of request_files.py, checked on the address connected
to, each attempt); local serve may allow loopback and private addresses for tests (`allow_private`), never
link-local ones. No secret is in the payload.
@see https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
"""

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
import urllib.parse
import uuid

from request_files import PinnedHTTPSConnection, is_public_address

# Waits before each retry: 6 attempts in about half a minute, then the delivery is given up (and logged).
RETRY_DELAYS_SECONDS = (1, 2, 4, 8, 16)
ATTEMPT_TIMEOUT_SECONDS = 10


class Refused(ValueError):
    """A webhook URL that cannot be used; its message says why."""


def resolve(url, allow_private=False):
    """(the URL's parts, the address to connect to) of a usable webhook URL, checked as an https URL input
    is: every address the host resolves to must be public. `allow_private` (local serve's tests) also lets
    http, loopback and private addresses through, never a link-local one (the cloud's metadata service)."""
    try:
        parts = urllib.parse.urlsplit(url)
        hostname, port = parts.hostname, parts.port
    except ValueError as e:
        raise Refused(f"not a valid URL ({e}): expected https://host/path") from e
    if parts.scheme not in (("https", "http") if allow_private else ("https",)) or not hostname:
        raise Refused(f"expected an https URL, got {url[:100]!r}")
    default_port = 443 if parts.scheme == "https" else 80
    try:
        addresses = [info[4][0] for info in socket.getaddrinfo(hostname, port or default_port, type=socket.SOCK_STREAM)]
    except (OSError, ValueError) as e:
        raise Refused(f"cannot resolve {hostname[:100]!r}: {e}") from e
    refused = [a for a in addresses if not allowed(ipaddress.ip_address(a.split("%")[0]), allow_private)]
    if refused:
        kind = "a link-local or metadata" if allow_private else "a private, loopback or reserved"
        raise Refused(f"{hostname} resolves to {refused[0]}, {kind} address: webhooks go to public https URLs only")
    return parts, addresses[0]


def allowed(address, allow_private):
    """Whether a webhook may go to `address`: a public one; with `allow_private` also loopback and private
    ones, but never link-local (169.254.0.0/16, fe80::/10: where clouds serve instance metadata) or a
    known metadata address."""
    if is_public_address(address):
        return True
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not allow_private or address.is_link_local or str(address) in METADATA_ADDRESSES:
        return False
    return address.is_loopback or address.is_private


# Cloud metadata services outside link-local space (AWS's IPv6 one is in fd00::/8, a private range).
METADATA_ADDRESSES = {"fd00:ec2::254"}


def url_problem(url, allow_private=False):
    """Why a webhook URL cannot be used, or None."""
    try:
        resolve(url, allow_private)
    except Refused as e:
        return str(e)
    return None


def sign(secret, message_id, timestamp, payload):
    """`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<payload>">`, the key the base64 after `whsec_`."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + payload
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def deliver(url, payload, secret, allow_private=False, delays=RETRY_DELAYS_SECONDS, sleep=time.sleep):
    """POST `payload` (a dict) to `url`, signed, until it answers 2xx or the retries run out. Returns the
    attempts, each (HTTP status or None, error or None). One message id for all attempts (so a receiver can
    drop duplicates); each attempt is signed with its own timestamp."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    message_id = f"msg_{uuid.uuid4().hex}"
    attempts = []
    for delay in (0, *delays):
        sleep(delay)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "modal-cdk-runtime",
            "webhook-id": message_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": sign(secret, message_id, timestamp, body),
        }
        status, error = post(url, body, headers, allow_private)
        attempts.append((status, error))
        if status is not None and 200 <= status < 300:
            return attempts
    print(f"webhook to {urllib.parse.urlsplit(url).hostname} given up after {len(attempts)} attempts: {attempts[-1]}")
    return attempts


def post(url, body, headers, allow_private):
    """One attempt: (status, None), or (None, why) when the URL is refused or nothing answered. The host is
    resolved and checked once, and the connection made to the address checked."""
    try:
        parts, address = resolve(url, allow_private)
    except Refused as e:
        return None, str(e)
    target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    try:
        if parts.scheme == "http":  # local serve's tests only (allow_private); to the address checked
            connection = http.client.HTTPConnection(address, parts.port or 80, timeout=ATTEMPT_TIMEOUT_SECONDS)
        else:
            context = ssl.create_default_context()
            connection = PinnedHTTPSConnection(
                parts.hostname, parts.port or 443, address, context, ATTEMPT_TIMEOUT_SECONDS
            )
        connection.request("POST", target, body=body, headers=headers)
        status = connection.getresponse().status
        connection.close()
        return status, None
    except (OSError, http.client.HTTPException) as e:
        return None, f"{type(e).__name__}: {e}"
