// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * exerciser: runs the same seeded random sequence of operations against a
 * cowfs view and a plain copy of BASE (the oracle) and compares, after
 * every operation, return values and errno, data read, sizes, modes,
 * owners, link counts, explicitly set times, inode identity, directory
 * listings, symlink targets and user xattrs. On a mismatch it prints the
 * seed and the numbered operations that led to it and exits 1.
 *
 *   exerciser --view DIR --oracle DIR [--seed N] [--ops N | --time S]
 *             [-j N] [--pair] [--only GROUP] [--drop-caches]
 *             [--commit COWFS] [--writethrough] [--verbose]
 *   exerciser --view DIR --oracle DIR --replay FILE
 *   exerciser --make-base DIR [-j N] [--pair]     (see base.c)
 *
 * Groups run at once, each in its own directory of both trees (which must
 * hold them alike): -j N workers w0 .. w(N-1), one process each, and with
 * --pair two processes in p/ that take turns in an order drawn from the
 * seed (a token passed through pipes), each with its own descriptors and
 * mappings, so that what one writes the other must read. Every group's
 * operations depend only on the seed, so a run is reproducible from a
 * fresh oracle and store; --only GROUP runs one group alone. --ops counts
 * the operations of each group; --time runs each for S seconds instead.
 * --replay runs the operations of a failure report (lines "N GROUP: op")
 * in one process, on fresh trees; reduce.sh shortens such a list.
 * --commit COWFS adds commits of random names of the view (by running
 * `COWFS commit VIEW GROUP/NAME`), which must change nothing it shows;
 * BASE then changes, so the oracle is a copy of the view's starting tree.
 * --writethrough is for views mounted with writeback=off: a write through
 * a shared mapping changes the file's mtime there only when the kernel
 * writes the page back to cowfs (README, "Limits"), so such writes are
 * followed by msync(MS_SYNC) on both sides before anything is compared.
 */
#include "exerciser.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct {
	const char *view, *oracle, *only, *make_base, *replay, *cowfs;
	uint64_t seed;
	long ops;
	double secs;
	int jobs;
	bool pair, verbose, drop, writethrough;
} opt = {.ops = 2000, .jobs = 1};

static struct ex *current; /* for the SIGBUS report */

uint64_t ex_rand(struct ex *x)
{
	x->rng ^= x->rng << 13;
	x->rng ^= x->rng >> 7;
	x->rng ^= x->rng << 17;
	return x->rng;
}

int ex_pick(struct ex *x, int n)
{
	return (int)(ex_rand(x) % (uint64_t)n);
}

void ex_note(struct ex *x, const char *fmt, ...)
{
	char *line = x->log->line[x->opno % LOG_RING];
	size_t n = strlen(line);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line + n, LOG_LINE - n, fmt, ap);
	va_end(ap);
}

void ex_fail(struct ex *x, const char *fmt, ...)
{
	long first = x->opno >= LOG_RING ? x->opno - LOG_RING + 1 : 0, i;
	va_list ap;

	fprintf(stderr, "exerciser: MISMATCH in %s at operation %ld: ", x->name,
		x->opno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nexerciser: seed %llu; the operations of group %s",
		(unsigned long long)opt.seed,
		x->name[0] == 'p' ? "p" : x->name);
	if (first)
		fprintf(stderr,
			" (the last %d; rerun with --only and --ops "
			"%ld --verbose for all)",
			LOG_RING, x->opno + 1);
	fprintf(stderr, ":\n");
	for (i = first; i <= x->opno; i++)
		fprintf(stderr, "  %s\n", x->log->line[i % LOG_RING]);
	fflush(stderr);
	_exit(1);
}

void ex_same(struct ex *x, const char *what, long r0, int e0, long r1, int e1)
{
	const char *name = strerrorname_np(e0);

	if (r0 < 0)
		ex_note(x, " = -1 %s", name ? name : "?");
	else
		ex_note(x, " = %ld", r0);
	if ((r0 < 0) != (r1 < 0) || (r0 < 0 && e0 != e1) ||
	    (r0 >= 0 && r0 != r1))
		ex_fail(x, "%s: view %ld (%s), oracle %ld (%s)", what, r0,
			r0 < 0 ? strerror(e0) : "ok", r1,
			r1 < 0 ? strerror(e1) : "ok");
}

static void step(struct ex *x)
{
	struct op op;

	x->opno = x->log->next++;
	ex_gen(x, &op);
	ex_exec(x, &op);
}

static void on_sigbus(int sig)
{
	(void)sig;
	ex_fail(current, "SIGBUS (a mapping read or written past the end)");
}

static struct ex_log *new_log(void)
{
	void *m = mmap(NULL, sizeof(struct ex_log), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED) {
		perror("exerciser: mmap");
		exit(2);
	}
	return m;
}

/* Sets up @x for the group directory @dir (in this process). */
static void ex_init(struct ex *x, const char *dir, const char *name,
		    uint64_t seed, struct ex_log *log)
{
	int i;

	x->name = name;
	x->dir = dir;
	x->view = opt.view;
	x->cowfs = opt.cowfs;
	x->rng = seed * 2654435761u + 88172645463325252ULL;
	x->verbose = opt.verbose;
	x->drop_caches = opt.drop;
	x->writethrough = opt.writethrough;
	x->log = log;
	x->buf[0] = malloc(MAX_DATA);
	x->buf[1] = malloc(MAX_DATA);
	x->data = malloc(MAX_DATA);
	for (i = 0; i < 2; i++) {
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", i ? opt.oracle : opt.view, dir);
		x->root[i] = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (x->root[i] < 0 || !x->buf[i] || !x->data) {
			fprintf(stderr, "exerciser: %s: %s\n", p,
				strerror(errno));
			exit(2);
		}
	}
	current = x;
	signal(SIGBUS, on_sigbus);
	umask(022);
}

static bool done(struct ex *x, time_t end)
{
	return opt.secs > 0 ? time(NULL) >= end : x->log->next >= opt.ops;
}

static void finish(struct ex *x)
{
	struct op op;

	x->opno = x->log->next++;
	ex_close_all(x);
	ex_op_init(&op, OP_CHECK);
	ex_exec(x, &op);
	printf("exerciser: %s: %ld operations, no difference\n", x->name,
	       x->opno);
}

static int run_worker(int k)
{
	static struct ex x;
	char name[16];
	time_t end = time(NULL) + (time_t)opt.secs;

	snprintf(name, sizeof(name), "w%d", k);
	ex_init(&x, name, name, opt.seed + (uint64_t)k, new_log());
	while (!done(&x, end))
		step(&x);
	finish(&x);
	return 0;
}

/* One turn of a pair member: a look at one of its files, then 1-4 steps. */
static void pair_turn(struct ex *x, time_t end)
{
	struct slot *s = ex_used_slot(x);
	int n = 1 + ex_pick(x, 4);
	struct op op;

	if (s) {
		x->opno = x->log->next++;
		ex_op_init(&op, OP_LOOK);
		op.s = s - x->slot;
		ex_exec(x, &op);
	}
	while (n-- > 0 && !x->log->stop) {
		if (done(x, end)) {
			x->log->stop = true;
			break;
		}
		step(x);
	}
}

/*
 * A pair member: waits for the token on @in, takes a turn, passes it on
 * @out. Member a starts; whoever ends the run waits for the other to close
 * its files, then compares everything.
 */
static int run_pair_member(int m, int in, int out, struct ex_log *log)
{
	static struct ex x;
	time_t end = time(NULL) + (time_t)opt.secs;
	char tok = 't';

	ex_init(&x, "p", m ? "p.b" : "p.a", opt.seed + 1000 + (uint64_t)m, log);
	if (m && read(in, &tok, 1) != 1)
		return 3;
	while (!log->stop) {
		pair_turn(&x, end);
		if (write(out, &tok, 1) != 1 || read(in, &tok, 1) != 1)
			return 3; /* the other failed and said why */
	}
	if (tok == 'e') {
		finish(&x);
		return 0;
	}
	ex_close_all(&x);
	tok = 'e';
	return write(out, &tok, 1) == 1 ? 0 : 3;
}

static void run_pair(void)
{
	struct ex_log *log = new_log();
	int ab[2], ba[2], m;

	if (pipe(ab) < 0 || pipe(ba) < 0) {
		perror("exerciser: pipe");
		exit(2);
	}
	for (m = 0; m < 2; m++) {
		if (fork() != 0)
			continue;
		close(m ? ab[1] : ba[1]);
		close(m ? ba[0] : ab[0]);
		exit(run_pair_member(m, m ? ab[0] : ba[0], m ? ba[1] : ab[1],
				     log));
	}
	close(ab[0]);
	close(ab[1]);
	close(ba[0]);
	close(ba[1]);
}

/* Which struct ex runs a replayed line: by group, "p.b" apart. */
static struct ex *replay_target(struct ex *xs, const char *group,
				struct ex_log *log)
{
	static char names[2][16];
	int k = !strcmp(group, "p.b");

	if (!xs[k].log) {
		snprintf(names[k], sizeof(names[k]), "%s", group);
		ex_init(&xs[k], group[0] == 'p' ? "p" : group, names[k], 0,
			log);
	}
	return &xs[k];
}

static int run_replay(void)
{
	static struct ex xs[2];
	struct ex_log *log = new_log();
	FILE *f = fopen(opt.replay, "r");
	char line[1024], group[16];
	struct ex *x = NULL;
	struct op op;
	long n = 0, no;
	int at;

	if (!f) {
		perror(opt.replay);
		return 2;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %ld %15[^:]: %n", &no, group, &at) != 2 ||
		    ex_op_parse(line + at, &op) < 0)
			continue;
		x = replay_target(xs, group, log);
		x->opno = log->next = n++;
		ex_exec(x, &op);
	}
	log->next = n;
	fclose(f);
	if (x)
		finish(x);
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: exerciser --view DIR --oracle DIR [--seed N] "
		"[--ops N | --time S] [-j N] [--pair] [--only GROUP] "
		"[--drop-caches] [--commit COWFS] [--writethrough] "
		"[--verbose]\n"
		"       exerciser --view DIR --oracle DIR --replay FILE\n"
		"       exerciser --make-base DIR [-j N] [--pair]\n");
	return 2;
}

static int parse(int argc, char **argv)
{
	int i;

	opt.seed = (uint64_t)time(NULL);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool v = i + 1 < argc;
		if (!strcmp(a, "--view") && v)
			opt.view = argv[++i];
		else if (!strcmp(a, "--oracle") && v)
			opt.oracle = argv[++i];
		else if (!strcmp(a, "--seed") && v)
			opt.seed = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(a, "--ops") && v)
			opt.ops = atol(argv[++i]);
		else if (!strcmp(a, "--time") && v)
			opt.secs = atof(argv[++i]);
		else if (!strcmp(a, "-j") && v)
			opt.jobs = atoi(argv[++i]);
		else if (!strcmp(a, "--make-base") && v)
			opt.make_base = argv[++i];
		else if (!strcmp(a, "--replay") && v)
			opt.replay = argv[++i];
		else if (!strcmp(a, "--commit") && v)
			opt.cowfs = argv[++i];
		else if (!strcmp(a, "--only") && v)
			opt.only = argv[++i];
		else if (!strcmp(a, "--pair"))
			opt.pair = true;
		else if (!strcmp(a, "--drop-caches"))
			opt.drop = true;
		else if (!strcmp(a, "--writethrough"))
			opt.writethrough = true;
		else if (!strcmp(a, "--verbose") || !strcmp(a, "-v"))
			opt.verbose = true;
		else
			return -1;
	}
	if (!opt.make_base && (!opt.view || !opt.oracle))
		return -1;
	return opt.jobs >= 1 && opt.jobs <= 16 && opt.ops > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	int i, status, bad = 0;

	if (parse(argc, argv) < 0)
		return usage();
	if (opt.make_base)
		return ex_make_base(opt.make_base, opt.jobs, opt.pair) < 0;
	if (opt.replay)
		return run_replay();
	printf("exerciser: seed %llu, %d worker(s)%s, %s %g\n",
	       (unsigned long long)opt.seed, opt.jobs,
	       opt.pair ? " and a pair" : "", opt.secs > 0 ? "seconds" : "ops",
	       opt.secs > 0 ? opt.secs : (double)opt.ops);
	fflush(stdout);
	for (i = 0; i < opt.jobs; i++) {
		char name[16];
		snprintf(name, sizeof(name), "w%d", i);
		if (opt.only && strcmp(opt.only, name))
			continue;
		if (fork() == 0)
			exit(run_worker(i));
	}
	if (opt.pair && (!opt.only || !strcmp(opt.only, "p")))
		run_pair();
	while (wait(&status) > 0)
		bad |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	return bad;
}
