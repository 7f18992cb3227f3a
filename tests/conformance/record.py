#!/usr/bin/env python3
r"""Record a conformance transcript from a live redis-server.

    record.py [--host H] [--port P] SCRIPT.cmds [OUT.txt]

SCRIPT holds one command per line (quoting below), '#' comments and blank lines
(copied to the transcript), and '~REGEX' lines right after a command whose reply is
legitimately non-deterministic. Each command is sent as a RESP multibulk on ONE
connection, after a FLUSHALL that is not written down; each reply is read by parsing
RESP2/RESP3 frames exactly and written as

    > COMMAND ARGS            the command, same quoting as the script
    < ESCAPED-REPLY           the exact reply bytes, escaped
    <~ REGEX                  or: a regex over the raw reply (loose lines only)

Quoting of commands: arguments are separated by spaces; an argument is either bare
(taken literally, no spaces, does not start with '"') or double-quoted with escapes
\\ \" \r \n \t \xHH ("" is the empty string).

Escaping of replies: bytes are kept as they are except '\' -> \\, CR -> \r,
LF -> \n, and every other byte outside 0x20..0x7e -> \xHH.

Regexes are matched against the whole raw reply (decoded as Latin-1) with '.'
matching newlines; their \r \n \xHH escapes read like the escaped form. Keep to
syntax that Python's re and .NET's Regex agree on.
"""

import argparse
import os
import re
import socket
import sys


# ---------------------------------------------------------------- quoting

def parse_command(line):
    """Split a command line into a list of byte strings."""
    args = []
    i, n = 0, len(line)
    while i < n:
        if line[i] == ' ':
            i += 1
            continue
        if line[i] != '"':
            j = line.find(' ', i)
            j = n if j < 0 else j
            args.append(line[i:j].encode('latin-1'))
            i = j
            continue
        i += 1
        buf = bytearray()
        while True:
            if i >= n:
                raise ValueError('unterminated quote in: ' + line)
            c = line[i]
            if c == '"':
                i += 1
                break
            if c == '\\':
                e = line[i + 1:i + 2]
                if e == 'x':
                    buf.append(int(line[i + 2:i + 4], 16))
                    i += 4
                    continue
                mapping = {'\\': 0x5c, '"': 0x22, 'r': 0x0d, 'n': 0x0a, 't': 0x09}
                if e not in mapping:
                    raise ValueError('bad escape \\' + e + ' in: ' + line)
                buf.append(mapping[e])
                i += 2
                continue
            buf.extend(c.encode('latin-1'))
            i += 1
        if i < n and line[i] != ' ':
            raise ValueError('text right after a closing quote in: ' + line)
        args.append(bytes(buf))
    if not args:
        raise ValueError('empty command')
    return args


def escape_reply(data):
    out = []
    for b in data:
        if b == 0x5c:
            out.append('\\\\')
        elif b == 0x0d:
            out.append('\\r')
        elif b == 0x0a:
            out.append('\\n')
        elif 0x20 <= b <= 0x7e:
            out.append(chr(b))
        else:
            out.append('\\x%02x' % b)
    return ''.join(out)


# ---------------------------------------------------------------- RESP

class RespReader:
    """Reads one complete RESP2/RESP3 reply and returns its exact bytes."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b''
        self.frame = bytearray()

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError('server closed the connection')
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b'\r\n')
            if i >= 0:
                line, self.buf = self.buf[:i + 2], self.buf[i + 2:]
                self.frame += line
                return line[:-2]
            self._fill()

    def _exact(self, count):
        while len(self.buf) < count:
            self._fill()
        data, self.buf = self.buf[:count], self.buf[count:]
        self.frame += data

    def _value(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in b'+-:_,#(':
            return
        if kind in b'$!=':
            length = int(rest)
            if length >= 0:
                self._exact(length + 2)
            return
        if kind in b'*~>':
            for _ in range(max(int(rest), 0)):
                self._value()
            return
        if kind == b'%':
            for _ in range(2 * int(rest)):
                self._value()
            return
        if kind == b'|':                # attribute map, then the reply itself
            for _ in range(2 * int(rest)):
                self._value()
            self._value()
            return
        raise ValueError('unknown RESP type byte in: %r' % line)

    def read_reply(self):
        self.frame = bytearray()
        self._value()
        return bytes(self.frame)


def encode_command(args):
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        out.append(b'$%d\r\n%s\r\n' % (len(a), a))
    return b''.join(out)


def roundtrip(sock, reader, args):
    sock.sendall(encode_command(args))
    return reader.read_reply()


# ---------------------------------------------------------------- recording

def record(script_path, host, port):
    with open(script_path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    if lines and lines[-1] == '':
        lines.pop()

    sock = socket.create_connection((host, port), timeout=10)
    reader = RespReader(sock)
    if roundtrip(sock, reader, [b'FLUSHALL']) != b'+OK\r\n':
        raise RuntimeError('FLUSHALL failed')
    version = re.search(rb'redis_version:([^\r]*)', roundtrip(sock, reader, [b'INFO', b'server']))
    if roundtrip(sock, reader, [b'FLUSHALL']) != b'+OK\r\n':
        raise RuntimeError('FLUSHALL failed')

    family = os.path.splitext(os.path.basename(script_path))[0]
    out = [
        '# Conformance transcript "%s": recorded from redis-server %s by tests/conformance/record.py'
        % (family, version.group(1).decode() if version else '?'),
        '# from tests/conformance/scripts/%s.cmds. Do not edit: edit the script and re-record.' % family,
        '# Runs on one fresh connection after FLUSHALL. "> " command, "< " exact reply (escaped),',
        '# "<~ " regex over the raw reply.',
        '',
    ]
    pending = None          # (line number, command text, reply) waiting for a possible ~hint
    commands = 0

    def flush(hint=None):
        nonlocal pending
        if pending is None:
            return
        lineno, text, reply = pending
        out.append('> ' + text)
        if hint is None:
            out.append('< ' + escape_reply(reply))
        else:
            raw = reply.decode('latin-1')
            if not re.fullmatch(hint, raw, re.DOTALL):
                raise RuntimeError('%s:%d: reply %s does not match hint %s'
                                   % (script_path, lineno, escape_reply(reply), hint))
            out.append('<~ ' + hint)
        pending = None

    for lineno, line in enumerate(lines, 1):
        line = line.rstrip()
        if line.startswith('~'):
            if pending is None:
                raise RuntimeError('%s:%d: hint without a command' % (script_path, lineno))
            flush(line[1:])
            continue
        flush()
        if line == '' or line.startswith('#'):
            out.append(line)
            continue
        args = parse_command(line)
        reply = roundtrip(sock, reader, args)
        pending = (lineno, line, reply)
        commands += 1
    flush()
    sock.close()
    return '\n'.join(out) + '\n', commands


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int, default=6379)
    ap.add_argument('script')
    ap.add_argument('out', nargs='?', help='default: stdout')
    a = ap.parse_args()
    text, commands = record(a.script, a.host, a.port)
    if a.out:
        with open(a.out, 'w', encoding='utf-8', newline='\n') as f:
            f.write(text)
        print('%s: %d commands' % (a.out, commands), file=sys.stderr)
    else:
        sys.stdout.write(text)


if __name__ == '__main__':
    main()
