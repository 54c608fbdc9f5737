#!/usr/bin/env python3
"""Writes a large, valid WASI command module for load-time benchmarks.

    bench/load/gen_big.py OUT.wasm [--mb 80] [--seed 1] [--data-mb 8] [--table]

Its `_start` calls `proc_exit(0)` at once, so running it measures the time
from process start to the first executed instruction; the rest is many MB of
functions shaped like compiled C (locals, loads/stores at offsets, shadow
stack via a global, nested blocks/loops, br_if, br_table, calls, i64/f64
arithmetic), with a heavy-tailed size distribution, an optional function
table holding every function, and an optional data segment.
"""
import argparse
import random
import struct


def uleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def sleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def vec(items):
    return uleb(len(items)) + b"".join(items)


def name(s):
    return uleb(len(s)) + s.encode()


def section(sid, payload):
    return bytes([sid]) + uleb(len(payload)) + payload


I32, I64, F64 = 0x7F, 0x7E, 0x7C
# Types: 0 = (i32 i32) -> i32 (most functions), 1 = () -> (), 2 = (i32) -> ().
TYPES = [([I32, I32], [I32]), ([], []), ([I32], [])]
# Locals of a generated function: 0-1 params (i32), 2-7 i32, 8-9 i64, 10 f64.
I32_LOCALS = list(range(0, 8))
I64_LOCALS = [8, 9]
F64_LOCALS = [10]
LOCAL_DECLS = vec([uleb(6) + bytes([I32]), uleb(2) + bytes([I64]), uleb(1) + bytes([F64])])


class BodyGen:
    def __init__(self, rng, num_funcs_before):
        self.rng = rng
        self.callees = num_funcs_before  # may call any earlier function of type 0

    def li(self):
        return self.rng.choice(I32_LOCALS)

    def stmt(self, depth, out):
        r = self.rng
        k = r.random()
        if k < 0.20:  # local = local + const
            out += b"\x20" + uleb(self.li()) + b"\x41" + sleb(r.randrange(-5000, 5000)) + b"\x6a\x21" + uleb(self.li())
        elif k < 0.34:  # local = load(local + off)
            out += b"\x20" + uleb(self.li()) + b"\x28\x02" + uleb(r.randrange(0, 400, 4)) + b"\x21" + uleb(self.li())
        elif k < 0.46:  # store(local + off, local)
            out += b"\x20" + uleb(self.li()) + b"\x20" + uleb(self.li()) + b"\x36\x02" + uleb(r.randrange(0, 400, 4))
        elif k < 0.52:  # shadow-stack prologue
            out += b"\x23\x00\x41" + sleb(r.choice([16, 32, 48, 64, 128])) + b"\x6b\x22" + uleb(self.li()) + b"\x24\x00"
        elif k < 0.60 and self.callees > 0:  # call
            callee = 2 + r.randrange(max(1, min(self.callees, 100000)))
            out += b"\x20" + uleb(self.li()) + b"\x20" + uleb(self.li()) + b"\x10" + uleb(callee) + b"\x21" + uleb(self.li())
        elif k < 0.66:  # i64 arithmetic
            a, b = r.choice(I64_LOCALS), r.choice(I64_LOCALS)
            out += b"\x20" + uleb(a) + b"\x42" + sleb(r.randrange(-(1 << 40), 1 << 40)) + b"\x7e\x20" + uleb(b) + b"\x7c\x21" + uleb(a)
        elif k < 0.70:  # f64 arithmetic
            out += b"\x20\x0a\x44" + struct.pack("<d", r.random()) + b"\xa2\x21\x0a"
        elif k < 0.74:  # select
            out += b"\x20" + uleb(self.li()) + b"\x20" + uleb(self.li()) + b"\x20" + uleb(self.li()) + b"\x1b\x21" + uleb(self.li())
        elif k < 0.76:  # compare and convert
            out += b"\x20" + uleb(self.li()) + b"\x20" + uleb(self.li()) + b"\x48\xad\x21" + uleb(r.choice(I64_LOCALS))
        elif depth < 6 and k < 0.86:  # block with an early exit
            out += b"\x02\x40\x20" + uleb(self.li()) + b"\x45\x0d\x00"
            self.stmts(depth + 1, r.randrange(1, 6), out)
            out += b"\x0b"
        elif depth < 6 and k < 0.93:  # counted loop
            c = self.li()
            out += b"\x03\x40"
            self.stmts(depth + 1, r.randrange(1, 5), out)
            out += b"\x20" + uleb(c) + b"\x41\x01\x6b\x22" + uleb(c) + b"\x0d\x00\x0b"
        elif depth < 6 and k < 0.96:  # if/else with a value
            out += b"\x20" + uleb(self.li()) + b"\x04\x7f"
            self.stmts(depth + 1, r.randrange(0, 3), out)
            out += b"\x20" + uleb(self.li()) + b"\x05"
            self.stmts(depth + 1, r.randrange(0, 3), out)
            out += b"\x41" + sleb(r.randrange(100)) + b"\x0b\x21" + uleb(self.li())
        elif depth < 6:  # switch: br_table over nested blocks
            arms = r.randrange(2, 8)
            out += b"\x02\x40" * arms
            out += b"\x20" + uleb(self.li()) + b"\x0e" + uleb(arms - 1)
            out += b"".join(uleb(r.randrange(arms)) for _ in range(arms - 1)) + uleb(arms - 1)
            for _ in range(arms):
                out += b"\x0b"
                self.stmts(depth + 1, r.randrange(0, 2), out)
        else:
            out += b"\x20" + uleb(self.li()) + b"\x41\x03\x74\x21" + uleb(self.li())

    def stmts(self, depth, n, out):
        for _ in range(n):
            self.stmt(depth, out)

    def body(self, target_bytes):
        out = bytearray(LOCAL_DECLS)
        while len(out) < target_bytes:
            self.stmt(0, out)
        out += b"\x20\x00\x0b"  # return param 0
        return uleb(len(out)) + bytes(out)


def body_size(rng):
    # Heavy tail like real compiled code: most functions are small, a few huge.
    s = int(rng.lognormvariate(5.6, 1.1))
    return max(8, min(s, 200_000))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--mb", type=float, default=80.0, help="approximate size of the code section")
    ap.add_argument("--data-mb", type=float, default=8.0, help="size of the active data segment")
    ap.add_argument("--table", action="store_true", help="put every function in a funcref table")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    bodies = []
    total = 0
    target = int(args.mb * 1e6)
    while total < target:
        b = BodyGen(rng, len(bodies)).body(body_size(rng))
        bodies.append(b)
        total += len(b)

    # Function 0: proc_exit (import); 1: _start; 2..: generated.
    start_body = b"\x00" + b"\x41\x00\x10\x00\x0b"
    code = [uleb(len(start_body)) + start_body] + bodies
    num_defined = len(code)

    out = bytearray(b"\x00asm\x01\x00\x00\x00")
    out += section(1, vec([b"\x60" + vec([bytes([t]) for t in p]) + vec([bytes([t]) for t in r]) for p, r in TYPES]))
    out += section(2, vec([name("wasi_snapshot_preview1") + name("proc_exit") + b"\x00" + uleb(2)]))
    out += section(3, vec([uleb(1)] + [uleb(0)] * (num_defined - 1)))
    if args.table:
        out += section(4, vec([b"\x70\x01" + uleb(num_defined + 1) * 2]))
    out += section(5, vec([b"\x00" + uleb(max(1, int(args.data_mb * 1e6) // 65536 + 2))]))
    out += section(6, vec([bytes([I32, 1]) + b"\x41" + sleb(65536) + b"\x0b"]))
    out += section(7, vec([name("memory") + b"\x02\x00", name("_start") + b"\x00\x01"]))
    if args.table:
        out += section(9, vec([b"\x00\x41\x01\x0b" + vec([uleb(i) for i in range(1, num_defined + 1)])]))
    out += section(10, vec(code))
    if args.data_mb > 0:
        data = bytes(rng.getrandbits(8) for _ in range(4096)) * max(1, int(args.data_mb * 1e6) // 4096)
        out += section(11, vec([b"\x00\x41" + sleb(1024) + b"\x0b" + uleb(len(data)) + data]))
    with open(args.out, "wb") as f:
        f.write(out)
    print(f"{args.out}: {len(out) / 1e6:.1f} MB, {num_defined} functions")


if __name__ == "__main__":
    main()
