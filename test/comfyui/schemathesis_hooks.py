"""schemathesis hooks of test_openapi.py (SCHEMATHESIS_HOOKS): keep generated requests cheap and local.
An image of at most 256 × 256 per side (the test app's /invert takes any width ComfyUI does, up to 16384:
gigabytes on this CPU), and no Webhook-Url (a random host name would be looked up in DNS)."""

import schemathesis

SIDE_MAX = 256


@schemathesis.hook
def map_body(context, body):
    if isinstance(body, dict):
        for key in ("width", "height"):
            value = body.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > SIDE_MAX:
                body[key] = SIDE_MAX
    return body


@schemathesis.hook
def map_headers(context, headers):
    if headers:
        headers = {k: v for k, v in headers.items() if k.lower() != "webhook-url"}
    return headers
