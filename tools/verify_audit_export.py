#!/usr/bin/env python3
"""Checks a Chartkeeper audit export (`chartkeeper audit export`) without trusting the server.

Usage: verify_audit_export.py EXPORT.jsonl [--public-key KEY.pem]

The public key is taken from the export unless --public-key names the copy you hold (compare
it with the one the data owner published: a key inside the export proves nothing on its own).
The procedure (docs/design/audit.md):
  1. Every seal (the anchor, each checkpoint, the head) is an Ed25519 signature by the audit key
     over the ASCII text "chartkeeper-audit <kind> <seq> <hash> <time>" (kind: checkpoint, head).
  2. Starting from the anchor's hash (or 64 zeros when the export starts at record 1), each
     record's hash is hex(SHA-256(previous hash + "\\n" + seq + "\\n" + time + "\\n" + content)),
     the sequence numbers follow each other without a gap.
  3. Each checkpoint's hash equals the hash of the record it follows; the head's equals the last.
Needs python3 and the openssl command (for Ed25519). Exit 0: intact; 1: broken (says where).
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile


def fail(message):
    print("BROKEN: " + message)
    sys.exit(1)


def verify_seal(kind, seal, key_file):
    message = "chartkeeper-audit %s %d %s %d" % (kind, seal["seq"], seal["hash"], seal["time"])
    with tempfile.TemporaryDirectory() as work:
        message_file = os.path.join(work, "message")
        signature_file = os.path.join(work, "signature")
        with open(message_file, "wb") as f:
            f.write(message.encode("ascii"))
        with open(signature_file, "wb") as f:
            f.write(base64.b64decode(seal["signature"]))
        result = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", key_file, "-rawin",
                                 "-in", message_file, "-sigfile", signature_file], capture_output=True)
    if result.returncode != 0:
        fail("the %s at %d is not signed by the audit key" % (kind, seal["seq"]))


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--public-key"):
        print(__doc__)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        lines = [json.loads(line) for line in f if line.strip()]
    if not lines or lines[0].get("format") != "chartkeeper-audit-export/1":
        fail("not a Chartkeeper audit export")
    header = lines[0]
    with tempfile.TemporaryDirectory() as work:
        key_file = argv[3] if len(argv) == 4 else os.path.join(work, "public.pem")
        if len(argv) == 2:
            with open(key_file, "w", encoding="ascii") as f:
                f.write(header["public_key"])
        anchor = header.get("anchor")
        previous, expected = "0" * 64, 1
        if anchor:
            verify_seal("checkpoint", anchor, key_file)
            previous, expected = anchor["hash"], anchor["seq"] + 1
        count, head = 0, None
        for line in lines[1:]:
            if "record" in line:
                record = line["record"]
                if record["seq"] != expected:
                    fail("record %d is missing (found %d)" % (expected, record["seq"]))
                text = "%s\n%d\n%d\n%s" % (previous, record["seq"], record["time"], record["content"])
                computed = hashlib.sha256(text.encode("utf-8")).hexdigest()
                if computed != record["hash"]:
                    fail("record %d does not match its hash" % record["seq"])
                previous, expected, count = record["hash"], expected + 1, count + 1
            elif "checkpoint" in line:
                seal = line["checkpoint"]
                verify_seal("checkpoint", seal, key_file)
                if seal["seq"] != expected - 1 or seal["hash"] != previous:
                    fail("the checkpoint at %d does not match the records" % seal["seq"])
            elif "head" in line:
                head = line["head"]
                verify_seal("head", head, key_file)
                if head["seq"] != expected - 1 or head["hash"] != previous:
                    fail("the records end at %d, the signed head at %d" % (expected - 1, head["seq"]))
        if count != header["records"]:
            fail("the export holds %d records, its header says %d" % (count, header["records"]))
        if count > 0 and head is None:
            fail("the export has no signed head")
    print("intact: %d records, from %d to %d" % (count, expected - count, expected - 1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
