#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""ftpload.py: the second, independent load client of scripts/bench.sh
(the first is regress/tools/ftpbench.c), written on Python's asyncio.

    ftpload.py -H host [-p 21] [-c 16] [-t 60] [-f pub/small.bin]
               [-T 10] [-o hung.log] [-x command]

Each of -c clients loops for -t seconds: connect, 220, USER anonymous,
331, PASS, 230, PASV, 227, connect the data address, RETR -f, 150 (or
125), the data to EOF, 226, QUIT, 221.  Every step waits at most -T
seconds.  A session whose step times out is "hung"; one that gets a
wrong reply, a reset or a refused connection is "failed".  For every hung
session a line goes to -o (default: stderr): the wall-clock time, the
client's control address and port (to find the session in ftp-proxy's
log), the step that waited, the last command sent and the last reply
read on the control connection, and the data bytes read so far.  With
-x, the command runs (sh -c, at most 5 times, bounded to 30 s) at once
while the session is still held open, with HUNG_LOCAL (address:port of
the control connection), HUNG_DATA (of the data connection, or -) and
HUNG_STEP in its environment: to look at the firewall's state then.

The last line on stdout is one line of key=value words:
    pyload sessions=N fail=F hung=H rate=R secs=S
Every loop is bounded in time; nothing here sends anywhere but to -H.
"""

import argparse
import asyncio
import re
import sys
import time


class Hung(Exception):
    pass


class Failed(Exception):
    pass


class Session:
    def __init__(self, args):
        self.a = args
        self.step = "connect"
        self.last_cmd = ""
        self.last_reply = ""
        self.local = "-"
        self.data_bytes = 0
        self.r = self.w = None
        self.dw = None
        self.dlocal = "-"
        self.hold = bool(args.x)    # the -x command sees the sockets

    async def bounded(self, step, aw):
        self.step = step
        try:
            return await asyncio.wait_for(aw, self.a.T)
        except asyncio.TimeoutError:
            raise Hung(step)
        except (OSError, asyncio.IncompleteReadError) as e:
            raise Failed("%s: %s" % (step, e))

    async def reply(self, step):
        """One FTP reply (multi-line ones to their last line)."""
        while True:
            line = await self.bounded(step, self.r.readline())
            if not line:
                raise Failed("%s: control connection closed" % step)
            text = line.decode("latin-1").rstrip("\r\n")
            self.last_reply = text
            if len(text) >= 4 and text[:3].isdigit() and text[3] == " ":
                return int(text[:3]), text

    async def cmd(self, text, want):
        self.last_cmd = text
        self.w.write((text + "\r\n").encode())
        await self.bounded("send " + text.split()[0], self.w.drain())
        code, line = await self.reply("reply to " + text.split()[0])
        if code not in want:
            raise Failed("%s: %s" % (text.split()[0], line))
        return line

    async def run(self):
        a = self.a
        try:
            self.r, self.w = await self.bounded(
                "connect", asyncio.open_connection(a.H, a.p))
            sock = self.w.get_extra_info("sockname")
            self.local = "%s:%d" % (sock[0], sock[1])
            code, line = await self.reply("greeting")
            if code != 220:
                raise Failed("greeting: " + line)
            line = await self.cmd("USER anonymous", (230, 331))
            if line.startswith("331"):
                await self.cmd("PASS bench@", (230,))
            line = await self.cmd("PASV", (227,))
            m = re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", line)
            if m is None:
                raise Failed("227 without an address: " + line)
            n = [int(x) for x in m.groups()]
            host = "%d.%d.%d.%d" % tuple(n[:4])
            dr, self.dw = await self.bounded(
                "data connect", asyncio.open_connection(host,
                n[4] * 256 + n[5]))
            sock = self.dw.get_extra_info("sockname")
            self.dlocal = "%s:%d" % (sock[0], sock[1])
            await self.cmd("RETR " + a.f, (125, 150))
            while True:
                b = await self.bounded("data", dr.read(65536))
                if not b:
                    break
                self.data_bytes += len(b)
            self.dw.close()
            self.dw = None
            code, line = await self.reply("transfer complete")
            if code != 226:
                raise Failed("after RETR: " + line)
            await self.cmd("QUIT", (221,))
        finally:
            if not self.hold:
                self.close()

    def close(self):
        for w in (self.dw, self.w):
            if w is not None:
                w.close()
        self.dw = self.w = None

    def report(self):
        return ("%.3f hung local=%s step=%r last_cmd=%r last_reply=%r "
                "data_bytes=%d" % (time.time(), self.local, self.step,
                                   self.last_cmd, self.last_reply,
                                   self.data_bytes))


async def run_hook(cmd, s):
    """The -x command, while the hung session's sockets are still open."""
    import os
    env = dict(os.environ, HUNG_LOCAL=s.local, HUNG_DATA=s.dlocal,
               HUNG_STEP=s.step)
    p = await asyncio.create_subprocess_shell(cmd, env=env)
    try:
        await asyncio.wait_for(p.wait(), 30)
    except asyncio.TimeoutError:
        p.kill()
        await p.wait()


async def worker(args, end, counts, out):
    while time.monotonic() < end:
        s = Session(args)
        try:
            await s.run()
            counts["ok"] += 1
        except Hung:
            counts["hung"] += 1
            print(s.report(), file=out, flush=True)
            if args.x and counts["hung"] <= 5:
                await run_hook(args.x, s)
        except Failed as e:
            counts["fail"] += 1
            if counts["fail"] <= 20:
                print("%.3f failed local=%s %s" % (time.time(), s.local, e),
                      file=out, flush=True)
        finally:
            s.close()


async def main(args):
    out = open(args.o, "a") if args.o else sys.stderr
    counts = {"ok": 0, "fail": 0, "hung": 0}
    t0 = time.monotonic()
    end = t0 + args.t
    # A worker's last session may start just before the end: it has
    # at most 8 steps of -T seconds each, and then it is cancelled.
    tasks = [asyncio.ensure_future(worker(args, end, counts, out))
             for _ in range(args.c)]
    done, pending = await asyncio.wait(tasks, timeout=args.t + 8 * args.T)
    for t in pending:
        t.cancel()
    secs = time.monotonic() - t0
    n = counts["ok"] + counts["fail"] + counts["hung"]
    print("pyload sessions=%d fail=%d hung=%d rate=%.1f secs=%.1f" %
          (n, counts["fail"], counts["hung"], counts["ok"] / args.t, secs))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("-H", required=True)
    p.add_argument("-p", type=int, default=21)
    p.add_argument("-c", type=int, default=16)
    p.add_argument("-t", type=float, default=60)
    p.add_argument("-f", default="pub/small.bin")
    p.add_argument("-T", type=float, default=10)
    p.add_argument("-o")
    p.add_argument("-x")
    asyncio.run(main(p.parse_args()))
