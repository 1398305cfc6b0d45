"""Schemathesis hooks for scripts/api-fuzz: the sync endpoint's body is opaque bytes (a version
byte and postcard), generated and sent as such."""

import schemathesis

schemathesis.serializer.alias("application/x-kartka-sync", "application/octet-stream")
