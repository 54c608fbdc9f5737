#!/usr/bin/env python3
"""Counts the jumps in an x86-64 object that touch a 32-byte boundary.

  jump_padding.py OBJECT

A jump (jcc, jmp, call, ret), or a cmp/test with the conditional jump fused
to it (not when it compares memory with an immediate or addresses
rip-relative), touches a boundary when it crosses one or ends on one (base/cpu.h:
the JCC erratum). Functions start 32-byte aligned, so section offsets are
addresses modulo 32. Prints the count and the first few offenders.
"""
import re
import subprocess
import sys

BOUNDARY = 32


def instructions(path):
    out = subprocess.run(['objdump', '-d', '--insn-width=16', path], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        m = re.match(r'\s+([0-9a-f]+):\s+((?:[0-9a-f]{2} )+)\s*(\S+)\s*(.*)', line)
        if m:
            yield int(m.group(1), 16), len(m.group(2).split()), m.group(3), m.group(4)


def fuses(mnemonic, operands):
    if not mnemonic.startswith(('cmp', 'test')) or '%rip' in operands:
        return False
    return not ('$' in operands and '(' in operands)


def main():
    insns = list(instructions(sys.argv[1]))
    bad = []
    previous = None
    for at, length, mnemonic, operands in insns:
        is_jump = mnemonic.startswith('j') or mnemonic.startswith('call') or mnemonic.startswith('ret')
        if is_jump:
            begin = at
            conditional = mnemonic.startswith('j') and not mnemonic.startswith('jmp')
            if conditional and previous and previous[2] and previous[0] + previous[1] == at:
                begin = previous[0]
            if begin % BOUNDARY + (at + length - begin) >= BOUNDARY:
                bad.append(f'{begin:x}: {mnemonic}')
        previous = (at, length, fuses(mnemonic, operands))
    print(f'{len(bad)} of {sum(1 for i in insns if i[2].startswith(("j", "call", "ret")))} jumps touch a boundary')
    for b in bad[:5]:
        print('  ' + b)


main()
