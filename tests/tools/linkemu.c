/*
 * linkemu.c: sira-linkemu, a slow lossy link between two TUN devices, for
 * make bench (tests/bench/bench_edge.sh) on kernels without tc netem.
 *
 * It creates two point-to-point TUN devices (--a and --b) and carries
 * every IP packet read on one to the other as a 2G/EDGE link would: each
 * direction serialises at --rate-kbit, then the packet flies --delay-ms,
 * and --loss-pct of the packets are dropped at the entrance (as netem
 * does). At most --limit packets wait per direction (netem's default,
 * 1000); more are dropped. SIGUSR1 cuts the link (every packet entering
 * is dropped), SIGUSR2 restores it, SIGTERM ends; the devices go with the
 * process. Counters are printed to stderr at the end; --trace FILE writes
 * a line per packet entering (milliseconds, direction, IP bytes, fate).
 * Test code only.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define EMU_MTU 2048
#define EMU_MAX_LIMIT 4096

struct emu_pkt {
	int64_t due_ns; /* when it leaves the far end */
	size_t len;
	unsigned char data[EMU_MTU];
};

/* One direction: packets read from `in` wait here, then go to `out`. */
struct emu_dir {
	int in, out;
	char tag; /* '>' from a to b, '<' from b to a, in the trace */
	struct emu_pkt *q;
	size_t head, count;
	int64_t free_ns; /* when the sender's serialiser is free again */
	unsigned long pkts, bytes, lost, cut, full;
};

struct emu_opts {
	const char *a, *b;
	FILE *trace;
	long delay_ms, rate_kbit, limit;
	double loss_pct;
};

static volatile sig_atomic_t emu_stop, emu_cut;

static void
emu_on_signal(int sig)
{
	if (sig == SIGUSR1)
		emu_cut = 1;
	else if (sig == SIGUSR2)
		emu_cut = 0;
	else
		emu_stop = 1;
}

static int64_t
emu_now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* xorshift64: the loss draw; not crypto, only a fair coin for the link. */
static uint64_t emu_rng = 88172645463325252ULL;

static double
emu_uniform(void)
{
	emu_rng ^= emu_rng << 13;
	emu_rng ^= emu_rng >> 7;
	emu_rng ^= emu_rng << 17;
	return (double)(emu_rng >> 11) / 9007199254740992.0;
}

/* emu_tun_open: a TUN device NAME without packet info; -1 on error. */
static int
emu_tun_open(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	(void)snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

static int64_t emu_t0;

/* emu_trace: one line per packet entering the link, with its fate. */
static void
emu_trace(const struct emu_dir *d, const struct emu_opts *o, int64_t now,
    ssize_t n, const char *fate)
{
	if (o->trace)
		(void)fprintf(o->trace, "%.1f %c %zd %s\n",
		    (double)(now - emu_t0) / 1e6, d->tag, n, fate);
}

/* emu_take: read one packet from d->in and queue it, or drop it. */
static void
emu_take(struct emu_dir *d, const struct emu_opts *o)
{
	unsigned char buf[EMU_MTU];
	ssize_t n = read(d->in, buf, sizeof buf);
	struct emu_pkt *p;
	int64_t now = emu_now_ns(), start;

	if (n <= 0)
		return;
	d->pkts++;
	d->bytes += (unsigned long)n;
	if (emu_cut) {
		d->cut++;
		emu_trace(d, o, now, n, "cut");
		return;
	}
	if (emu_uniform() * 100.0 < o->loss_pct) {
		d->lost++;
		emu_trace(d, o, now, n, "lost");
		return;
	}
	if (d->count >= (size_t)o->limit) {
		d->full++;
		emu_trace(d, o, now, n, "full");
		return;
	}
	emu_trace(d, o, now, n, "ok");
	start = d->free_ns > now ? d->free_ns : now;
	d->free_ns = start + (int64_t)n * 8 * 1000000 / o->rate_kbit;
	p = &d->q[(d->head + d->count) % (size_t)o->limit];
	p->due_ns = d->free_ns + (int64_t)o->delay_ms * 1000000;
	p->len = (size_t)n;
	memcpy(p->data, buf, (size_t)n);
	d->count++;
}

/* emu_deliver: write the packets that are due; returns ms to the next. */
static int
emu_deliver(struct emu_dir *d, const struct emu_opts *o)
{
	int64_t now = emu_now_ns();

	while (d->count > 0) {
		struct emu_pkt *p = &d->q[d->head];

		if (p->due_ns > now)
			return (int)((p->due_ns - now) / 1000000) + 1;
		if (write(d->out, p->data, p->len) < 0)
			d->cut++; /* the far device is down: lost */
		d->head = (d->head + 1) % (size_t)o->limit;
		d->count--;
	}
	return -1;
}

static int
emu_min_timeout(int x, int y)
{
	if (x < 0)
		return y;
	if (y < 0)
		return x;
	return x < y ? x : y;
}

static void
emu_report(const char *name, const struct emu_dir *d)
{
	(void)fprintf(stderr,
	    "linkemu %s: %lu packets %lu bytes in, %lu lost, %lu cut, "
	    "%lu over the limit\n",
	    name, d->pkts, d->bytes, d->lost, d->cut, d->full);
}

/* emu_run: the loop, until SIGTERM or SIGINT. */
static int
emu_run(struct emu_dir *ab, struct emu_dir *ba, const struct emu_opts *o)
{
	while (!emu_stop) {
		struct pollfd pf[2] = { { ab->in, POLLIN, 0 },
			{ ba->in, POLLIN, 0 } };
		int t = emu_min_timeout(emu_deliver(ab, o), emu_deliver(ba, o));

		if (poll(pf, 2, t) < 0 && errno != EINTR)
			return -1;
		if (pf[0].revents & POLLIN)
			emu_take(ab, o);
		if (pf[1].revents & POLLIN)
			emu_take(ba, o);
	}
	return 0;
}

static int
emu_parse(int argc, char **argv, struct emu_opts *o)
{
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (strcmp(k, "--a") == 0)
			o->a = v;
		else if (strcmp(k, "--b") == 0)
			o->b = v;
		else if (strcmp(k, "--delay-ms") == 0)
			o->delay_ms = atol(v);
		else if (strcmp(k, "--rate-kbit") == 0)
			o->rate_kbit = atol(v);
		else if (strcmp(k, "--loss-pct") == 0)
			o->loss_pct = atof(v);
		else if (strcmp(k, "--limit") == 0)
			o->limit = atol(v);
		else if (strcmp(k, "--trace") == 0 && !o->trace)
			o->trace = fopen(v, "we");
		else
			return -1;
	}
	if (i != argc || !o->a || !o->b || o->rate_kbit <= 0 ||
	    o->delay_ms < 0 || o->limit <= 0 || o->limit > EMU_MAX_LIMIT)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct emu_opts o = { NULL, NULL, NULL, 300, 200, 1000, 2.0 };
	struct emu_dir ab, ba;
	struct sigaction sa;
	int rc;

	if (emu_parse(argc, argv, &o) < 0) {
		(void)fprintf(stderr,
		    "usage: sira-linkemu --a TUN --b TUN [--delay-ms 300] "
		    "[--rate-kbit 200] [--loss-pct 2] [--limit 1000] "
		    "[--trace FILE]\n");
		return 2;
	}
	memset(&ab, 0, sizeof ab);
	memset(&ba, 0, sizeof ba);
	ab.tag = '>';
	ba.tag = '<';
	emu_t0 = emu_now_ns();
	ab.in = ba.out = emu_tun_open(o.a);
	ba.in = ab.out = emu_tun_open(o.b);
	ab.q = calloc((size_t)o.limit, sizeof *ab.q);
	ba.q = calloc((size_t)o.limit, sizeof *ba.q);
	if (ab.in < 0 || ba.in < 0 || !ab.q || !ba.q) {
		(void)fprintf(stderr,
		    "sira-linkemu: cannot open %s and %s: %s\n", o.a, o.b,
		    strerror(errno));
		return 1;
	}
	emu_rng ^= (uint64_t)emu_now_ns();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = emu_on_signal;
	(void)sigaction(SIGUSR1, &sa, NULL);
	(void)sigaction(SIGUSR2, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	rc = emu_run(&ab, &ba, &o);
	emu_report(o.a, &ab);
	emu_report(o.b, &ba);
	free(ab.q);
	free(ba.q);
	if (o.trace)
		(void)fclose(o.trace);
	(void)close(ab.in);
	(void)close(ba.in);
	return rc < 0 ? 1 : 0;
}
