#!/usr/bin/env python3
"""The agent's modules are layers: in the graph of its local #includes (a module is x.c with
its x.h), every module depends only on modules below it, never in a circle, and no source file
is longer than MAX_LINES. Prints the layers from the bottom up; exits 1 on a circle or an
oversized file.

Usage: check-layers.py AGENT_DIR [MAX_LINES]"""
import os
import re
import sys

agent = sys.argv[1]
max_lines = int(sys.argv[2]) if len(sys.argv) > 2 else 700
include = re.compile(r'^\s*#\s*include\s+"([^"/]+)\.h"', re.M)

modules = {}
for name in sorted(os.listdir(agent)):
    base, ext = os.path.splitext(name)
    if ext in ('.c', '.h'):
        modules.setdefault(base, set())
status = 0
for m in modules:
    for ext in ('.c', '.h'):
        path = os.path.join(agent, m + ext)
        if not os.path.exists(path):
            continue
        text = open(path, encoding='utf-8').read()
        lines = text.count('\n')
        if lines > max_lines:
            print(f'{m}{ext}: {lines} lines (at most {max_lines})')
            status = 1
        for dep in include.findall(text):
            if dep != m and dep in modules:
                modules[m].add(dep)

# Layers by depth; whatever is left after the DAG is peeled sits on a circle.
depth, left = {}, dict(modules)
while left:
    ready = [m for m, deps in left.items() if all(d in depth for d in deps)]
    if not ready:
        print('circle among: ' + ', '.join(sorted(left)))
        for m in sorted(left):
            print(f'  {m} -> {", ".join(sorted(d for d in left[m] if d in left))}')
        sys.exit(1)
    for m in ready:
        depth[m] = 1 + max((depth[d] for d in modules[m]), default=-1)
        del left[m]
for level in range(max(depth.values()) + 1):
    print(f'layer {level}: ' + ' '.join(sorted(m for m in depth if depth[m] == level)))
sys.exit(status)
