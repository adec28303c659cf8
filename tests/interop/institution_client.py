#!/usr/bin/env python3
"""An institution written independently of the wallet's Rust code.

It signs requests the way a bank's Java integrator would (RSA PKCS#1 v1.5 with
SHA-256 over the 32 ASCII bytes of md5_hex(body)), seals the document number in
the digital envelope (AES-256-GCM per field, key wrapped with RSA-OAEP SHA-256 /
MGF1-SHA-256 for the wallet's public key), sends the raw bytes it signed, and
verifies the wallet's signature on every answer. Only the Python standard
library and the `cryptography` package are used.

    institution_client.py URL INSTITUTION_ID PRIVATE_KEY_PEM WALLET_PUBLIC_PEM

Prints one JSON line per call and exits 0 if every call was answered 0000 with a
valid wallet signature.
"""

import base64
import datetime
import hashlib
import json
import os
import secrets
import sys
import urllib.error
import urllib.request

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CST = datetime.timezone(datetime.timedelta(hours=8))


def md5_hex(body: bytes) -> bytes:
    return hashlib.md5(body).hexdigest().encode("ascii")


def call(url, inst, private_key, wallet_key, path, payload, encrypt_key=None):
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    signature = private_key.sign(md5_hex(body), padding.PKCS1v15(), hashes.SHA256())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Signature-Type": "RSA",
        "Signature-Data": base64.b64encode(signature).decode(),
        "timestamp": datetime.datetime.now(CST).strftime("%Y%m%d%H%M%S"),
        "nonce": secrets.token_urlsafe(24),
        "institution_id": inst,
    }
    if encrypt_key:
        headers["Encrypt-Key"] = encrypt_key
    req = urllib.request.Request(url + path, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, raw, resp_headers = resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as e:
        status, raw, resp_headers = e.code, e.read(), e.headers
    wallet_sig = base64.b64decode(resp_headers["Signature-Data"])
    wallet_key.verify(wallet_sig, md5_hex(raw), padding.PKCS1v15(), hashes.SHA256())
    return status, json.loads(raw)


def main():
    url, inst, key_path, wallet_path = sys.argv[1:5]
    with open(key_path, "rb") as f:
        private_key = serialization.load_pem_private_key(f.read(), password=None)
    with open(wallet_path, "rb") as f:
        wallet_key = serialization.load_pem_public_key(f.read())

    # The digital envelope: one fresh AES key per message.
    aes_key = AESGCM.generate_key(bit_length=256)
    wrapped = wallet_key.encrypt(
        aes_key,
        padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    )

    def seal(text):
        nonce = os.urandom(12)
        return base64.b64encode(nonce + AESGCM(aes_key).encrypt(nonce, text.encode("utf-8"), None)).decode()

    ok = True
    status, answer = call(url, inst, private_key, wallet_key, "/api/v1/user/sync", {
        "institution_id": inst,
        "out_user_id": "py-user-1",
        "name": "张 CAROL",
        "nationality": "JPN",
        "id_type": "PASSPORT",
        "id_no": seal("TK1234567"),
        "mobile": seal("+819012345678"),
        "gender": "F",
        "birth_date": "1990-01-31",
    }, base64.b64encode(wrapped).decode())
    print(json.dumps({"call": "user_sync", "status": status, "answer": answer}, ensure_ascii=False))
    ok = ok and answer.get("ret_code") == "0000"
    account_no = answer.get("data", {}).get("account_no", "")

    status, answer = call(url, inst, private_key, wallet_key, "/api/v1/account/query", {
        "institution_id": inst,
        "account_no": account_no,
    })
    print(json.dumps({"call": "account_query", "status": status, "answer": answer}, ensure_ascii=False))
    ok = ok and answer.get("ret_code") == "0000" and answer["data"]["available_balance"] == "0.00"
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
