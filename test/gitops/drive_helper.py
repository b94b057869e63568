#!/usr/bin/env python3
"""drive_helper.py HELPER key=value... — runs the gitops libgit2 helper with a job (as the
worker would: records on stdin) and prints its answer one record a line: TAG payload, with
fields separated by '|' and file contents shown as their length.  Exit status: the helper's."""
import struct
import subprocess
import sys

TAGS = {'url': 'u', 'branch': 'b', 'path': 'p', 'workdir': 'w', 'previous': 'c', 'user': 'U',
        'token': 'T', 'max_file': 'm', 'max_total': 'M', 'history': 'h', 'quick': 'q'}


def record(tag, value):
    data = value.encode()
    return tag.encode() + struct.pack('>I', len(data)) + data


def main():
    helper, args = sys.argv[1], dict(a.split('=', 1) for a in sys.argv[2:])
    if args.pop('raw', None) is not None:
        job = b'garbage'
    else:
        job = b''.join(record(TAGS[k], v) for k, v in args.items()) + record('.', '')
    p = subprocess.run([helper], input=job, capture_output=True)
    out, pos = p.stdout, 0
    while pos + 5 <= len(out):
        tag = chr(out[pos])
        n = struct.unpack('>I', out[pos + 1:pos + 5])[0]
        payload = out[pos + 5:pos + 5 + n]
        pos += 5 + n
        if tag == 'F':
            f = payload.split(b'\0', 7)
            print('F', '|'.join(x.decode(errors='replace') for x in f[:7]) + '|%d bytes' % len(f[7]))
        else:
            print(tag, payload.replace(b'\0', b'|').decode(errors='replace'))
    sys.stderr.write(p.stderr.decode(errors='replace'))
    sys.exit(p.returncode)


main()
