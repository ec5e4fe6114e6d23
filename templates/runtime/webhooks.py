"""Job webhooks: when a job ends, a POST of its final status to the URL the submit named (`Webhook-Url`, or
the endpoint's default), signed per the Standard Webhooks spec and retried with backoff a bounded number of
times. Only to public addresses (the URL-input rules of request_files.py, checked on the address connected
to, each attempt); local serve may allow loopback for tests (`allow_private`). No secret is in the payload.
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
    """(the URL's parts, the address to connect to: None for http) of a usable webhook URL, checked as an
    https URL input is: every address the host resolves to must be public, unless `allow_private`."""
    try:
        parts = urllib.parse.urlsplit(url)
        hostname, port = parts.hostname, parts.port
    except ValueError as e:
        raise Refused(f"not a valid URL ({e}): expected https://host/path") from e
    if parts.scheme not in (("https", "http") if allow_private else ("https",)) or not hostname:
        raise Refused(f"expected an https URL, got {url[:100]!r}")
    if parts.scheme == "http":  # local serve with allow_private only
        return parts, None
    try:
        addresses = [info[4][0] for info in socket.getaddrinfo(hostname, port or 443, type=socket.SOCK_STREAM)]
    except (OSError, ValueError) as e:
        raise Refused(f"cannot resolve {hostname[:100]!r}: {e}") from e
    refused = [
        a for a in addresses if not allow_private and not is_public_address(ipaddress.ip_address(a.split("%")[0]))
    ]
    if refused:
        raise Refused(
            f"{hostname} resolves to {refused[0]}, a private, loopback or reserved address: webhooks go to public https URLs only"
        )
    return parts, addresses[0]


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
        if address is None:
            connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=ATTEMPT_TIMEOUT_SECONDS)
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
