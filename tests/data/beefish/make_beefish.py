#!/usr/bin/env python3
"""Generates the beefish test archives in this directory: what bakthat 0.6
stored for an encrypted backup (beefish.encrypt_file of a .tgz), in both
on-disk variants (docs/formats.md §2.2):

  ECB (beefish 0.1.1):  BF-ECB(key, tgz || pad)
  CBC (later beefish):  IV(8) || BF-CBC(key, IV, tgz || pad)

The key is the password bytes themselves. The padding is beefish's
_gen_padding: pad-1 random bytes then a flag byte whose value mod 8 is
pad mod 8 (pad = 8 - len % 8, so 1..8), drawn like randrange(6, 248).
Data is encrypted in 4096-byte reads with one cipher object, as beefish
does, so CBC chaining runs across reads.

Needs python3 with `cryptography` (hazmat.decrepit Blowfish). Run it from
anywhere; it rewrites the files next to it. The tgz contents are fixed;
the padding and IV are random, so outputs differ between runs.
"""
import gzip
import hashlib
import io
import os
import random
import tarfile

from cryptography.hazmat.decrepit.ciphers.algorithms import Blowfish
from cryptography.hazmat.primitives.ciphers import Cipher, modes

HERE = os.path.dirname(os.path.abspath(__file__))
BLOCK = 8
CHUNK = 4096


def gen_padding(size):
    pad = BLOCK - (size % BLOCK)
    flag = random.randrange(BLOCK - 2, 256 - BLOCK)
    flag -= flag % BLOCK - pad
    return os.urandom(pad - 1) + bytes([flag])


def beefish_encrypt(data, key, variant):
    out = io.BytesIO()
    if variant == "cbc":
        iv = os.urandom(BLOCK)
        enc = Cipher(Blowfish(key), modes.CBC(iv)).encryptor()
        out.write(iv)
    else:
        enc = Cipher(Blowfish(key), modes.ECB()).encryptor()
    src = io.BytesIO(data)
    read = 0
    wrote_padding = False
    while True:
        buf = src.read(CHUNK)
        read += len(buf)
        if buf:
            if len(buf) < CHUNK:
                buf += gen_padding(read)
                wrote_padding = True
            out.write(enc.update(buf))
        else:
            if not wrote_padding:
                out.write(enc.update(gen_padding(read)))
            break
    out.write(enc.finalize())
    return out.getvalue()


def make_tgz(files):
    """A deterministic tar.gz (fixed mtimes, gzip mtime 0) of name -> bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        d = tarfile.TarInfo("backup")
        d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, 1370000000
        tar.addfile(d)
        for name, content in files.items():
            info = tarfile.TarInfo("backup/" + name)
            info.size, info.mode, info.mtime = len(content), 0o644, 1370000000
            tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0)


def main():
    rng = random.Random(42)
    small = make_tgz({"hello.txt": b"hello from bakthat 0.6\n", "empty": b""})
    big = make_tgz({"random.bin": bytes(rng.getrandbits(8) for _ in range(70000)),
                    "notes.txt": b"line\n" * 100})
    outputs = {
        "small.tgz": small,
        "big.tgz": big,
        "small.ecb.tgz.enc": beefish_encrypt(small, b"password", "ecb"),
        "small.cbc.tgz.enc": beefish_encrypt(small, b"password", "cbc"),
        "big.ecb.tgz.enc": beefish_encrypt(big, b"s3cr3t", "ecb"),
        "big.cbc.tgz.enc": beefish_encrypt(big, b"x" * 28 + b"y" * 28, "cbc"),
    }
    for name, data in outputs.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
        print(name, len(data), hashlib.sha256(data).hexdigest())


if __name__ == "__main__":
    main()
