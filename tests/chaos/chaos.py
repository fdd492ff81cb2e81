#!/usr/bin/python3
"""chaos.py: real broker and agents under random crashes; nothing may be lost.

Starts one broker and several agencies on loopback (real processes, real
LMDB files, CURVE), sends notes of 100 B to 64 KiB (some with documents, some
to two recipients) through the `sira-agent send` command, and meanwhile
SIGKILLs the broker and the agents at random, freezes the broker with
SIGSTOP, and kills `send` commands mid-way. Then everything is restarted and
left to settle, and every message is checked at every end:

  accepted   a send that printed its id, or that reached the outbox before
             its process was killed (the outbox is the promise)
  delivered  (message, recipient) pairs in the recipient's inbox, content and
             documents identical to what was sent
  duplicates extra "received" entries for one message in a recipient's audit
  lost       accepted pairs never delivered after the settle time
  receipted  accepted messages whose every recipient's signed receipt is back

Exit status 0 only with 0 lost, 0 duplicates, 0 corrupt, 0 unreceipted and
every audit chain verified. The seed is printed first: the same seed gives
the same plan of sizes, recipients and faults (timings still vary).

Only the Python standard library is used (Debian's /usr/bin/python3).
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

AGENCIES = [
    ("ml.police.bamako", "police"),
    ("ml.ngo.kanuya", "ngo"),
    ("ml.social.kati", "social_services"),
    ("ml.ngo.sikasso", "ngo"),
    ("ml.justice.pole", "justice"),
    ("ml.ngo.mopti", "ngo"),
]
BROKER_ID = "ml.sira.broker"


def parse_args():
    p = argparse.ArgumentParser(
        description="Suite de chaos de Sira : courtier et agents réels, "
        "pannes aléatoires, aucun message ne doit être perdu ni livré deux "
        "fois. (Sira chaos suite: real broker and agents, random crashes; "
        "no message may be lost or delivered twice.)")
    p.add_argument("--bin", default="bin",
                   help="dossier des programmes sira-* (where sira-* are)")
    p.add_argument("--work", default=None,
                   help="dossier de travail conservé (kept work dir); "
                   "sinon un dossier temporaire effacé en cas de succès")
    p.add_argument("--seed", type=int, default=None,
                   help="graine du plan (seed; default: random)")
    p.add_argument("--agencies", type=int, default=4,
                   help="nombre d'agences, 2 à %d" % len(AGENCIES))
    p.add_argument("--messages", type=int, default=200,
                   help="messages à envoyer (messages to send)")
    p.add_argument("--kills", type=int, default=20,
                   help="SIGKILL du courtier et des agents (kills)")
    p.add_argument("--stops", type=int, default=1,
                   help="gels du courtier par SIGSTOP (broker freezes)")
    p.add_argument("--stop-seconds", type=float, default=5.0,
                   help="durée d'un gel (seconds per freeze)")
    p.add_argument("--killed-sends", type=int, default=3,
                   help="commandes send tuées en cours (sends killed)")
    p.add_argument("--docs-every", type=int, default=10,
                   help="un message sur N porte un document")
    p.add_argument("--multi-every", type=int, default=7,
                   help="un message sur N va à deux destinataires")
    p.add_argument("--settle", type=float, default=120.0,
                   help="attente maximale après les pannes, en secondes")
    p.add_argument("--json", action="store_true",
                   help="imprimer aussi le bilan en JSON (also JSON)")
    a = p.parse_args()
    if not 2 <= a.agencies <= len(AGENCIES):
        p.error("--agencies: 2 à %d" % len(AGENCIES))
    if a.messages < 1:
        p.error("--messages: au moins 1")
    return a


def log(msg):
    print("chaos: " + msg, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class World:
    """The processes and files of one run; owns every child it starts."""

    def __init__(self, args, work):
        self.a = args
        self.w = work
        # A private copy: a rebuild during a long soak must not swap the
        # programs under the running test.
        self.bin = os.path.join(work, "bin")
        os.makedirs(self.bin, exist_ok=True)
        for name in ("sira-cert", "sira-broker", "sira-agent"):
            shutil.copy2(os.path.join(args.bin, name), self.bin)
        self.ids = [i for i, _ in AGENCIES[:args.agencies]]
        self.roles = dict(AGENCIES[:args.agencies])
        self.port = free_port()
        self.ep = "tcp://127.0.0.1:%d" % self.port
        self.broker = None
        self.agents = {}
        self.frozen = False

    def run(self, *cmd, timeout=120, check=True):
        r = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" %
                               (" ".join(cmd[:3]), r.returncode,
                                r.stderr.strip()))
        return r

    def tool(self, name):
        return os.path.join(self.bin, name)

    def pki(self):
        cert = self.tool("sira-cert")
        ca = os.path.join(self.w, "ca")
        self.run(cert, "init", "--ca-dir", ca, "--name", "CA du chaos",
                 "--insecure-no-passphrase", "--kdf", "interactive")
        self.run(cert, "issue", "--ca-dir", ca, "--id", BROKER_ID,
                 "--name", "Courtier", "--role", "broker", "--out",
                 os.path.join(self.w, "broker"))
        os.makedirs(os.path.join(self.w, "certs"), exist_ok=True)
        for i in self.ids:
            self.run(cert, "issue", "--ca-dir", ca, "--id", i, "--name",
                     "Agence " + i, "--role", self.roles[i], "--out",
                     os.path.join(self.w, "ag"))
            shutil.copy(os.path.join(self.w, "ag", i + ".cert"),
                        os.path.join(self.w, "certs"))
        self.run(cert, "crl", "--ca-dir", ca, "--out",
                 os.path.join(self.w, "crl"))

    def home(self, i):
        return os.path.join(self.w, "home-" + i)

    def init_agents(self):
        for i in self.ids:
            self.run(self.tool("sira-agent"), "init", "--home", self.home(i),
                     "--cert", os.path.join(self.w, "ag", i + ".cert"),
                     "--key", os.path.join(self.w, "ag", i + ".key"),
                     "--ca", os.path.join(self.w, "ca", "ca.cert"),
                     "--broker", self.ep, "--broker-cert",
                     os.path.join(self.w, "broker", BROKER_ID + ".cert"))

    def start_broker(self):
        b = os.path.join(self.w, "broker")
        err = open(os.path.join(self.w, "broker.log"), "a")
        self.broker = subprocess.Popen(
            [self.tool("sira-broker"), "run", "--listen", self.ep,
             "--data", os.path.join(self.w, "data"),
             "--ca", os.path.join(self.w, "ca", "ca.cert"),
             "--cert", os.path.join(b, BROKER_ID + ".cert"),
             "--key", os.path.join(b, BROKER_ID + ".key"),
             "--certs", os.path.join(self.w, "certs"),
             "--crl", os.path.join(self.w, "crl"),
             "--heartbeat", "2", "--redeliver", "5"],
            stdout=subprocess.DEVNULL, stderr=err)
        err.close()
        self.frozen = False

    def start_agent(self, i):
        err = open(os.path.join(self.w, "agent-%s.log" % i), "a")
        self.agents[i] = subprocess.Popen(
            [self.tool("sira-agent"), "run", "--home", self.home(i)],
            stdout=subprocess.DEVNULL, stderr=err)
        err.close()

    @staticmethod
    def kill(p):
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGKILL)
        p.wait()

    def broker_up(self):
        return self.broker is not None and self.broker.poll() is None

    def agent_up(self, i):
        p = self.agents.get(i)
        return p is not None and p.poll() is None

    def everything_up(self):
        if self.frozen:
            self.broker.send_signal(signal.SIGCONT)
            self.frozen = False
        if not self.broker_up():
            self.start_broker()
        for i in self.ids:
            if not self.agent_up(i):
                self.start_agent(i)

    def stop_all(self):
        if self.frozen and self.broker_up():
            self.broker.send_signal(signal.SIGCONT)
        for p in list(self.agents.values()) + [self.broker]:
            self.kill(p)

    def agent_json(self, i, *cmd):
        r = self.run(self.tool("sira-agent"), *cmd, "--json", "--home",
                     self.home(i), timeout=120)
        return json.loads(r.stdout)


class Plan:
    """What to send and which faults to cause, all drawn from the seed."""

    def __init__(self, args, ids, rng):
        self.msgs = []
        for n in range(args.messages):
            sender = rng.choice(ids)
            others = [i for i in ids if i != sender]
            k = 2 if (args.multi_every and n % args.multi_every == 3 and
                      len(others) >= 2) else 1
            to = rng.sample(others, k)
            size = int(100 * (655.36 ** rng.random()))  # 100 B .. 64 KiB
            doc = 0
            if args.docs_every and n % args.docs_every == 5:
                doc = rng.randint(1000, 300000)
            self.msgs.append({"n": n, "from": sender, "to": to,
                              "size": size, "doc": doc,
                              "text_seed": rng.getrandbits(64)})
        # Fault slots: message indices before which a fault happens.
        slots = args.kills + args.stops + args.killed_sends
        at = sorted(rng.randrange(0, max(1, args.messages))
                    for _ in range(slots))
        kinds = (["kill"] * args.kills + ["stop"] * args.stops +
                 ["send"] * args.killed_sends)
        rng.shuffle(kinds)
        self.faults = {}
        for n, kind in zip(at, kinds):
            self.faults.setdefault(n, []).append(kind)


ALPHABET = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
            " àéèêçôûï\n")


def payload_text(seed, n, size, text_seed):
    r = random.Random(text_seed)
    head = "chaos %d message %d\n" % (seed, n)
    body = []
    length = len(head.encode())
    while length < size:
        c = r.choice(ALPHABET)
        body.append(c)
        length += len(c.encode())
    return head + "".join(body)


def doc_bytes(text_seed, size):
    r = random.Random(text_seed ^ 0x5eed)
    return r.getrandbits(size * 8).to_bytes(size, "little") if size else b""


class Chaos:
    def __init__(self, args):
        self.a = args
        self.seed = args.seed if args.seed is not None else \
            random.SystemRandom().randrange(1, 2**31)
        self.rng = random.Random(self.seed)
        self.stats = {"sent": 0, "accepted": 0, "delivered": 0,
                      "duplicates": 0, "lost": 0, "receipted": 0,
                      "unreceipted": 0, "corrupt": 0, "kills": 0,
                      "broker_kills": 0, "agent_kills": 0, "stops": 0,
                      "killed_sends": 0, "send_failures": 0}
        self.sent = {}       # message id -> plan entry (+ payload digest)
        self.pending = []    # (time, action, target) restarts to do
        self.problems = []

    # -- faults ---------------------------------------------------------

    def due_restarts(self, w, now):
        keep = []
        for at, what, who in self.pending:
            if at > now:
                keep.append((at, what, who))
            elif what == "broker" and not w.broker_up():
                w.start_broker()
            elif what == "cont" and w.frozen:
                w.broker.send_signal(signal.SIGCONT)
                w.frozen = False
            elif what == "agent" and not w.agent_up(who):
                w.start_agent(who)
        self.pending = keep

    def fault(self, w, kind, msg):
        now = time.monotonic()
        if kind == "kill":
            self.stats["kills"] += 1
            if self.rng.random() < 0.35:
                self.stats["broker_kills"] += 1
                if w.frozen:
                    w.frozen = False
                w.kill(w.broker)
                self.pending.append(
                    (now + self.rng.uniform(0.1, 3.0), "broker", None))
            else:
                who = self.rng.choice(w.ids)
                self.stats["agent_kills"] += 1
                w.kill(w.agents.get(who))
                self.pending.append(
                    (now + self.rng.uniform(0.1, 2.0), "agent", who))
        elif kind == "stop":
            if not w.broker_up() or w.frozen:
                return False  # the broker is down: freeze it later
            self.stats["stops"] += 1
            w.broker.send_signal(signal.SIGSTOP)
            w.frozen = True
            self.pending.append((now + self.a.stop_seconds, "cont", None))
        elif kind == "send":
            self.killed_send(w, msg)
        return True

    def killed_send(self, w, m):
        """A send with a big document, killed after a random moment."""
        self.stats["killed_sends"] += 1
        d = os.path.join(w.w, "files")
        text = os.path.join(d, "killed-%d.txt" % m["n"])
        doc = os.path.join(d, "killed-%d.bin" % m["n"])
        with open(text, "w") as f:
            f.write(payload_text(self.seed, -m["n"] - 1, 2000,
                                 m["text_seed"]))
        with open(doc, "wb") as f:
            f.write(doc_bytes(m["text_seed"], 4 * 1024 * 1024))
        p = subprocess.Popen(
            [w.tool("sira-agent"), "send", "--home", w.home(m["from"]),
             "--to", m["to"][0], "--kind", "note", "--file", text,
             "--attach", doc],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        time.sleep(self.rng.uniform(0.0, 0.15))
        p.send_signal(signal.SIGKILL)
        p.wait()

    # -- sending --------------------------------------------------------

    def send(self, w, m):
        d = os.path.join(w.w, "files")
        text = payload_text(self.seed, m["n"], m["size"], m["text_seed"])
        path = os.path.join(d, "m%d.txt" % m["n"])
        with open(path, "w") as f:
            f.write(text)
        cmd = [w.tool("sira-agent"), "send", "--home", w.home(m["from"]),
               "--to", ",".join(m["to"]), "--kind", "note", "--file", path]
        digest = None
        if m["doc"]:
            dpath = os.path.join(d, "doc-%d.bin" % m["n"])
            data = doc_bytes(m["text_seed"], m["doc"])
            with open(dpath, "wb") as f:
                f.write(data)
            digest = hashlib.sha256(data).hexdigest()
            cmd += ["--attach", dpath]
        self.stats["sent"] += 1
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        mid = r.stdout.strip()
        if r.returncode != 0 or len(mid) != 32:
            self.stats["send_failures"] += 1
            self.problems.append("send %d failed: %s" %
                                 (m["n"], r.stderr.strip()))
            return
        m = dict(m, text=text, doc_sha256=digest)
        self.sent[mid] = m
        os.unlink(path)

    def traffic(self, w, plan):
        os.makedirs(os.path.join(w.w, "files"), exist_ok=True)
        t0 = time.monotonic()
        later = []
        for m in plan.msgs:
            todo, later = later + plan.faults.get(m["n"], []), []
            for kind in todo:
                if not self.fault(w, kind, m):
                    later.append(kind)
            self.due_restarts(w, time.monotonic())
            self.send(w, m)
            if m["n"] % 100 == 99:
                log("%d messages sent, %d kills, %.0f s" %
                    (m["n"] + 1, self.stats["kills"],
                     time.monotonic() - t0))
        # Let the last scheduled restarts happen at their time.
        while self.pending:
            time.sleep(0.1)
            self.due_restarts(w, time.monotonic())

    # -- checking -------------------------------------------------------

    def snapshot(self, w):
        out, inbox = {}, {}
        for i in w.ids:
            out[i] = {e["id"]: e for e in w.agent_json(i, "outbox")}
            inbox[i] = {e["id"]: e for e in w.agent_json(i, "inbox")}
        return out, inbox

    def accepted(self, out):
        """Every message an agent took responsibility for."""
        acc = {}
        for i, entries in out.items():
            for mid, e in entries.items():
                acc[mid] = (i, e["to"])
        for mid, m in self.sent.items():
            if mid not in acc:
                # printed by send yet not in the outbox: lost at the source
                acc[mid] = (m["from"], m["to"])
        return acc

    def progress(self, w):
        out, inbox = self.snapshot(w)
        acc = self.accepted(out)
        want = sum(len(to) for _, to in acc.values())
        got = sum(1 for mid, (_, to) in acc.items() for r in to
                  if mid in inbox.get(r, {}))
        rec = sum(1 for mid, (s, to) in acc.items()
                  if out[s].get(mid, {}).get("receipts", 0) >= len(to))
        return want, got, len(acc), rec, out, inbox

    def settle(self, w):
        w.everything_up()
        t0 = time.monotonic()
        last = None
        while True:
            want, got, n, rec, out, inbox = self.progress(w)
            if (got, rec) != last:
                log("settle %.0f s: %d/%d delivered, %d/%d receipted" %
                    (time.monotonic() - t0, got, want, rec, n))
                last = (got, rec)
            if got == want and rec == n:
                return out, inbox
            if time.monotonic() - t0 > self.a.settle:
                return out, inbox
            time.sleep(2)

    def check(self, w, out, inbox):
        acc = self.accepted(out)
        self.stats["accepted"] = len(acc)
        for mid, (s, to) in sorted(acc.items()):
            e = out[s].get(mid)
            if e is None:
                self.stats["lost"] += len(to)
                self.problems.append("%s: printed by send, not in outbox" %
                                     mid)
                continue
            for r in to:
                if mid in inbox.get(r, {}):
                    self.stats["delivered"] += 1
                else:
                    self.stats["lost"] += 1
                    self.problems.append("%s: %s -> %s not delivered (%s)" %
                                         (mid, s, r, e["state"]))
            if e.get("receipts", 0) >= len(to):
                self.stats["receipted"] += 1
            else:
                self.stats["unreceipted"] += 1
                self.problems.append("%s: %d of %d receipts (%s)" %
                                     (mid, e.get("receipts", 0), len(to),
                                      e["state"]))
        self.check_received(w, acc, inbox)
        self.check_content(w, acc, inbox)
        for i in w.ids:
            r = w.run(w.tool("sira-agent"), "audit", "verify", "--home",
                      w.home(i), check=False)
            if r.returncode != 0:
                self.problems.append("%s: audit chain: %s" %
                                     (i, r.stderr.strip()))
        r = w.run(w.tool("sira-broker"), "log", "verify", "--data",
                  os.path.join(w.w, "data"), check=False)
        if r.returncode != 0:
            self.problems.append("broker log: " + r.stderr.strip())

    def check_received(self, w, acc, inbox):
        """Each message enters a recipient's inbox and audit exactly once."""
        for i in w.ids:
            seen = {}
            for e in w.agent_json(i, "audit", "show"):
                if e["action"] == "received":
                    seen[e["message"]] = seen.get(e["message"], 0) + 1
            for mid, n in seen.items():
                if n > 1:
                    self.stats["duplicates"] += n - 1
                    self.problems.append("%s: received %d times by %s" %
                                         (mid, n, i))
            for mid in inbox[i]:
                if mid not in acc or i not in acc[mid][1]:
                    self.stats["corrupt"] += 1
                    self.problems.append("%s: in %s's inbox, never sent" %
                                         (mid, i))

    def check_content(self, w, acc, inbox):
        """Every delivered copy says exactly what was sent, documents too."""
        for mid, (s, to) in acc.items():
            m = self.sent.get(mid)
            if m is None:  # from a killed send: the sender's own copy
                want_text = w.agent_json(s, "show", mid).get("content")
            else:
                want_text = m["text"]
            for r in to:
                if mid not in inbox.get(r, {}):
                    continue
                j = w.agent_json(r, "show", mid)
                ok = j.get("content") == want_text
                if m is not None and m["doc"]:
                    docs = j.get("documents", [])
                    ok = ok and len(docs) == 1 and docs[0]["present"] and \
                        sha256_file(docs[0]["path"]) == m["doc_sha256"]
                if not ok:
                    self.stats["corrupt"] += 1
                    self.problems.append("%s: %s's copy differs" % (mid, r))

    def table(self):
        s = self.stats
        rows = ["seed", "sent", "accepted", "delivered", "duplicates",
                "lost", "receipted", "unreceipted", "corrupt", "kills",
                "broker_kills", "agent_kills", "stops", "killed_sends",
                "send_failures"]
        vals = dict(s, seed=self.seed)
        print("+-----------------+--------------+")
        for k in rows:
            print("| %-15s | %12d |" % (k, vals[k]))
        print("+-----------------+--------------+")
        print(" ".join("%s=%d" % (k, vals[k]) for k in rows), flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 16), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def main():
    args = parse_args()
    ch = Chaos(args)
    print("chaos: seed=%d" % ch.seed, flush=True)
    work = args.work or tempfile.mkdtemp(prefix="sira-chaos-")
    os.makedirs(work, exist_ok=True)
    w = World(args, work)
    plan = Plan(args, w.ids, ch.rng)
    ok = False
    try:
        w.pki()
        w.init_agents()
        w.start_broker()
        for i in w.ids:
            w.start_agent(i)
        log("%d agencies, %d messages, %d kills, %d freezes, %d killed "
            "sends; work in %s" % (args.agencies, args.messages, args.kills,
                                   args.stops, args.killed_sends, work))
        t0 = time.monotonic()
        ch.traffic(w, plan)
        log("traffic done in %.0f s; settling (at most %.0f s)" %
            (time.monotonic() - t0, args.settle))
        out, inbox = ch.settle(w)
        ch.check(w, out, inbox)
        ch.table()
        if args.json:
            print(json.dumps(dict(ch.stats, seed=ch.seed)))
        for p in ch.problems[:40]:
            log("PROBLEM " + p)
        if len(ch.problems) > 40:
            log("... and %d more" % (len(ch.problems) - 40))
        s = ch.stats
        ok = (not ch.problems and s["lost"] == 0 and s["duplicates"] == 0
              and s["unreceipted"] == 0 and s["corrupt"] == 0)
        log("PASS" if ok else "FAIL (seed %d, files in %s)" %
            (ch.seed, work))
    finally:
        w.stop_all()
        if ok and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
