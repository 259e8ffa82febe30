#!/usr/bin/env python3
"""The regex engine against Python's `re`, on random patterns and subjects.

Patterns are drawn from the syntax Python and the engine read alike:
literals (one to four UTF-8 bytes), escaped punctuation, \\n \\t \\xHH, `.`,
classes with ranges, negation and the shorthands \\d \\w \\s \\D \\W \\S, groups
(capturing or not), alternation, * + ? {m} {m,} {m,n} and their lazy forms,
(?s) at the start, ^ at the start and $ at the end. Each is matched with
re.fullmatch(p, s, re.ASCII) (the engine matches the whole value and its
shorthands are ASCII) and through the probe (regex_probe.c); any difference
fails. Left out: \\v in subjects (Python's ASCII \\s has it, RE2's does not),
\\x{...} (Python has no such escape), and `{` outside a repetition (Python
reads a{,3} as a repetition, RE2 as text; the engine refuses it).

Usage: compare_python.py PROBE [CASES] [SEED]    (TG_REGEX_CASES also sets CASES)
"""
import os
import random
import re
import subprocess
import sys

ALPHABET = ["a", "b", "c", "0", "_", " ", "\n", "-", ".", "é", "€", "😀", "Z", "\t"]
PUNCT = ".*+?()[]{}|^$\\-/"


def lit(rng, ch, in_class=False):
    """One character as pattern text."""
    if ch == "\n":
        return "\\n" if rng.random() < 0.5 else "\n"
    if ch == "\t":
        return "\\t" if rng.random() < 0.5 else "\t"
    if ord(ch) < 0x80 and rng.random() < 0.1:
        return "\\x%02x" % ord(ch)
    special = "]\\^-[" if in_class else PUNCT
    if ch in special:
        return "\\" + ch
    return ch


class Node:
    def __init__(self, kind, **kw):
        self.kind = kind
        self.__dict__.update(kw)


def gen(rng, depth):
    pick = rng.randrange(3 if depth >= 3 else 6)
    if pick == 0:
        return Node("lit", ch=rng.choice(ALPHABET))
    if pick == 1 and rng.random() < 0.4:
        return Node("any")
    if pick <= 2:
        items = []
        for _ in range(rng.randint(1, 3)):
            r = rng.random()
            if r < 0.25:
                items.append(("sh", rng.choice("dwsDWS")))
            else:
                a = rng.choice(ALPHABET)
                b = a if r < 0.6 else rng.choice(ALPHABET)
                items.append(("range", min(a, b), max(a, b)))
        return Node("class", neg=rng.random() < 0.3, items=items)
    if pick in (3, 4):
        kids = [gen(rng, depth + 1) for _ in range(rng.randint(2, 3))]
        return Node("cat" if pick == 3 else "alt", kids=kids)
    kid = gen(rng, depth + 1)
    lo, hi = rng.choice([(0, None), (1, None), (0, 1), (2, 2), (0, 3), (1, 2), (2, None), (0, 0)])
    return Node("rep", kid=kid, lo=lo, hi=hi, lazy=rng.random() < 0.2)


def render(rng, n, in_cat=False):
    if n.kind == "lit":
        return lit(rng, n.ch)
    if n.kind == "any":
        return "."
    if n.kind == "class":
        out = "[^" if n.neg else "["
        for it in n.items:
            if it[0] == "sh":
                out += "\\" + it[1]
            elif it[1] == it[2]:
                out += lit(rng, it[1], True)
            else:
                out += lit(rng, it[1], True) + "-" + lit(rng, it[2], True)
        return out + "]"
    if n.kind == "cat":
        return "".join(group(rng, k) if k.kind == "alt" else render(rng, k, True) for k in n.kids)
    if n.kind == "alt":
        body = "|".join(render(rng, k) for k in n.kids)
        return group(rng, n, body) if in_cat else body
    k = n.kid
    out = group(rng, k) if k.kind in ("cat", "alt", "rep") else render(rng, k, True)
    if (n.lo, n.hi) == (0, None):
        q = "*"
    elif (n.lo, n.hi) == (1, None):
        q = "+"
    elif (n.lo, n.hi) == (0, 1):
        q = "?"
    elif n.hi is None:
        q = "{%d,}" % n.lo
    elif n.lo == n.hi:
        q = "{%d}" % n.lo
    else:
        q = "{%d,%d}" % (n.lo, n.hi)
    return out + q + ("?" if n.lazy else "")


def group(rng, n, body=None):
    if body is None:
        body = render(rng, n)
    return ("(" if rng.random() < 0.5 else "(?:") + body + ")"


def sample(rng, n, dotall, out):
    """Appends characters of a likely match."""
    if n.kind == "cat":
        for k in n.kids:
            sample(rng, k, dotall, out)
    elif n.kind == "alt":
        sample(rng, rng.choice(n.kids), dotall, out)
    elif n.kind == "rep":
        hi = n.hi if n.hi is not None else n.lo + 2
        for _ in range(rng.randint(n.lo, hi)):
            sample(rng, n.kid, dotall, out)
    else:
        probe = Node("cat", kids=[n])
        flags = re.ASCII | (re.DOTALL if dotall else 0)
        text = render(random.Random(0), probe)
        for _ in range(20):
            ch = rng.choice(ALPHABET)
            if re.fullmatch(text, ch, flags):
                break
        out.append(ch)


# Refused by both: the probe must say E where Python raises.
BOTH_REFUSE = ["a**", "(a", "a)", "[z-a]", "a{2,1}", "*a", "\\1", "[abc", "a{1,2}{3}", "[\\d-z]",
               "\\p{L}", "(?P=x)", "\\", "x(?s)y", "a|*"]
# Python accepts these; the engine refuses them, as they cannot run as a
# finite automaton or mean something else under anchored matching.
ENGINE_REFUSES = ["(a)\\1", "(?<=a)b", "(?=a)", "(?!a)", "a++", "(?>a)", "\\bx", "(?i)a", "a^", "a$b",
                  "a{,3}", "[[:alpha:]]"]


def main():
    probe = sys.argv[1]
    cases = int(sys.argv[2]) if len(sys.argv) > 2 else int(os.environ.get("TG_REGEX_CASES", "4000"))
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20261207
    rng = random.Random(seed)
    rows = []  # (pattern, subject, expected)
    for _ in range(cases):
        dotall = rng.random() < 0.2
        root = gen(rng, 0)
        pattern = ("(?s)" if dotall else "") + ("^" if rng.random() < 0.1 else "") + render(rng, root)
        if rng.random() < 0.1:
            pattern += "$"
        compiled = re.compile(pattern, re.ASCII)
        for i in range(8):
            if i % 2 == 0:
                chars = []
                sample(rng, root, dotall, chars)
                if i == 2 and chars:
                    chars[rng.randrange(len(chars))] = rng.choice(ALPHABET)
            else:
                chars = [rng.choice(ALPHABET) for _ in range(rng.randrange(8))]
            subject = "".join(chars)
            rows.append((pattern, subject, "1" if compiled.fullmatch(subject) else "0"))
    for pattern in BOTH_REFUSE:
        try:
            re.compile(pattern, re.ASCII)
            sys.exit("compare_python.py: Python accepts %r, which the list says both refuse" % pattern)
        except re.error:
            pass
        rows.append((pattern, "a", "E"))
    rows += [(pattern, "a", "E") for pattern in ENGINE_REFUSES]

    data = "".join("%s\t%s\n" % (p.encode().hex(), s.encode().hex()) for p, s, _ in rows)
    out = subprocess.run([probe], input=data.encode(), stdout=subprocess.PIPE, check=True).stdout
    answers = out.decode().splitlines()
    if len(answers) != len(rows):
        sys.exit("compare_python.py: %d answers for %d questions" % (len(answers), len(rows)))
    bad = 0
    for (p, s, want), got in zip(rows, answers):
        if got[:1] != want:
            bad += 1
            if bad <= 20:
                print("MISMATCH pattern %r subject %r: python %s, engine %s" % (p, s, want, got))
    patterns = len({p for p, _, _ in rows})
    matched = sum(1 for _, _, w in rows if w == "1")
    print("%d patterns, %d pairs (%d matching), %d differences" % (patterns, len(rows), matched, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
