// SPDX-License-Identifier: MIT
/*
 * amxrt-loadbench - time loading a model (reading and packing its
 * weights) against a plain sequential read of the same file, with a cold
 * and a warm page cache, and the time to the first token after the load.
 * Uses only the public API (<amxrt/amxrt.h>).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <amxrt/amxrt.h>

#include "common.h"

#define MAX_REPS 50
#define READ_BUF (8 << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s -m FILE [options]\n"
		"Time loading FILE with libamxrt (reading and packing its\n"
		"weights) against a plain sequential read of the file, with a\n"
		"cold page cache (POSIX_FADV_DONTNEED on the file before each\n"
		"pass) and a warm one, and the time to the first token. Prints\n"
		"a markdown table of medians (with min and max): read (into\n"
		"one reused 8 MiB buffer), read to new (into new memory, as\n"
		"a load must), load (amxrt_model_load), its stream (reading\n"
		"and packing the weights), first token (load and one decode).\n"
		"\n"
		"Options:\n"
		"  -m, --model FILE   the GGUF model (required)\n"
		"  -r, --reps N       passes of each test (default 3)\n"
		"  --cache MODE       cold, warm or both (default both)\n"
		"  --drop-caches      also write 3 to /proc/sys/vm/drop_caches\n"
		"                     before each cold pass (root only)\n"
		"  --io KIND          auto, uring or pread (sets AMXRT_IO)\n"
		"  --chunk BYTES      bytes per read (sets AMXRT_IO_CHUNK)\n"
		"  --depth N          reads in flight (sets AMXRT_IO_DEPTH)\n"
		"  --direct 0|1       O_DIRECT off or on (sets AMXRT_IO_DIRECT;\n"
		"                     default: on unless the file is cached)\n"
		"  -t, --threads N    threads (default: one per online CPU)\n"
		"  --arena            time restarts from a model arena\n"
		"                     instead: each pass a new process, the\n"
		"                     first fills the arena, the others map\n"
		"                     it (needs the amxrt module or a\n"
		"                     hugetlbfs); an arena it filled is\n"
		"                     destroyed at the end\n"
		"  -h, --help         print this help and exit\n"
		"\n"
		"Exit status: 0 success, 1 the file or the load failed, 2 usage.\n",
		tool_prog);
}

static int drop_caches;

/* Evict the file from the page cache. */
static void make_cold(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	FILE *f;

	if (fd < 0)
		tool_die(TOOL_EXIT_FAIL, "%s: %s", path, strerror(errno));
	fdatasync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	if (!drop_caches)
		return;
	sync();
	f = fopen("/proc/sys/vm/drop_caches", "w");
	if (!f || fputs("3\n", f) < 0 || fclose(f))
		tool_die(TOOL_EXIT_FAIL, "/proc/sys/vm/drop_caches: %s",
			 strerror(errno));
}

/* Read the whole file in order into one reused buffer; seconds. */
static double read_pass(const char *path, uint64_t *bytes)
{
	static char *buf;
	double t0 = tool_now();
	uint64_t total = 0;
	ssize_t n;
	int fd;

	if (!buf) {
		buf = malloc(READ_BUF);
		if (!buf)
			tool_die(TOOL_EXIT_FAIL, "out of memory");
		memset(buf, 0, READ_BUF);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		tool_die(TOOL_EXIT_FAIL, "%s: %s", path, strerror(errno));
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while ((n = read(fd, buf, READ_BUF)) > 0)
		total += (uint64_t)n;
	if (n < 0)
		tool_die(TOOL_EXIT_FAIL, "%s: %s", path, strerror(errno));
	close(fd);
	*bytes = total;
	return tool_now() - t0;
}

/*
 * Read the whole file into newly allocated memory (huge pages advised, as
 * for the weights): what any load must at least do; seconds.
 */
static double fresh_pass(const char *path, uint64_t size)
{
	double t0 = tool_now();
	size_t off = 0, huge = (size_t)2 << 20;
	ssize_t n = 1;
	void *buf;
	int fd;

	if (posix_memalign(&buf, huge, size ? size : 1))
		tool_die(TOOL_EXIT_FAIL, "out of memory for %llu bytes",
			 (unsigned long long)size);
	madvise(buf, size & ~(huge - 1), MADV_HUGEPAGE);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		tool_die(TOOL_EXIT_FAIL, "%s: %s", path, strerror(errno));
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while (off < size && n > 0) {
		size_t len = size - off < READ_BUF ? size - off : READ_BUF;

		n = read(fd, (char *)buf + off, len);
		if (n > 0)
			off += (size_t)n;
	}
	if (n < 0)
		tool_die(TOOL_EXIT_FAIL, "%s: %s", path, strerror(errno));
	close(fd);
	free(buf);
	return tool_now() - t0;
}

/* Load, then decode one token; seconds of the load and to the logits. */
static void load_pass(const char *path, double *load, double *first,
		      struct amxrt_load_stats *st)
{
	struct amxrt_ctx_params cp = { .n_ctx = 256 };
	struct amxrt_model *m;
	struct amxrt_ctx *c;
	double t0 = tool_now();
	int32_t tok;

	m = tool_load_model(path, NULL);
	*load = tool_now() - t0;
	amxrt_model_load_stats(m, st);
	tok = amxrt_token_bos(amxrt_model_tokenizer(m));
	if (tok < 0)
		tok = 1;
	if (amxrt_ctx_new(m, &cp, &c))
		tool_die(TOOL_EXIT_FAIL, "context: %s", amxrt_errmsg());
	if (amxrt_decode(c, &tok, 1, 0) || !amxrt_logits(c, -1))
		tool_die(TOOL_EXIT_FAIL, "decode: %s", amxrt_errmsg());
	*first = tool_now() - t0;
	amxrt_ctx_free(c);
	amxrt_model_free(m);
}

/* A load pass in a new process, as a restart is. */
static void load_pass_child(const char *path, double *load, double *first,
			    struct amxrt_load_stats *st)
{
	struct {
		double load, first;
		struct amxrt_load_stats st;
	} r;
	int fd[2], status;
	pid_t pid;

	fflush(stdout);
	if (pipe(fd))
		tool_die(TOOL_EXIT_FAIL, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		tool_die(TOOL_EXIT_FAIL, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(fd[0]);
		load_pass(path, &r.load, &r.first, &r.st);
		_exit(write(fd[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(fd[1]);
	if (read(fd[0], &r, sizeof(r)) != sizeof(r) ||
	    waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		tool_die(TOOL_EXIT_FAIL, "the load pass (a child) failed");
	close(fd[0]);
	*load = r.load;
	*first = r.first;
	*st = r.st;
}

static void row(const char *test, const char *cache, double *v, int n,
		uint64_t bytes, double ref)
{
	double med = tool_median(v, n);
	char secs[64];

	snprintf(secs, sizeof(secs), "%7.3f (%.3f..%.3f)", med, v[0], v[n - 1]);
	printf("| %-12s | %-5s | %-26s | %8.0f | ", test, cache, secs,
	       (double)bytes / med / 1e6);
	if (ref > 0)
		printf("%6.0f%% |\n", 100.0 * ref / med);
	else
		printf("      - |\n");
}

static void run_cache(const char *path, int cold, int reps, uint64_t size)
{
	double rd[MAX_REPS], fr[MAX_REPS], ld[MAX_REPS], ft[MAX_REPS];
	double sm[MAX_REPS];
	struct amxrt_load_stats st;
	const char *cache = cold ? "cold" : "warm";
	uint64_t bytes = 0;
	int i;

	if (!cold)
		read_pass(path, &bytes);
	for (i = 0; i < reps; i++) {
		if (cold)
			make_cold(path);
		rd[i] = read_pass(path, &bytes);
		if (cold)
			make_cold(path);
		fr[i] = fresh_pass(path, size);
		if (cold)
			make_cold(path);
		load_pass(path, &ld[i], &ft[i], &st);
		sm[i] = st.stream_seconds;
	}
	row("read", cache, rd, reps, size, 0);
	row("read to new", cache, fr, reps, size, tool_median(rd, reps));
	row("load", cache, ld, reps, size, tool_median(rd, reps));
	row("  stream", cache, sm, reps, st.bytes_read, 0);
	row("first token", cache, ft, reps, size, 0);
	fprintf(stderr, "%s: %s%s, %s, %d x %.1f MiB reads%s%s\n", cache, st.io,
		st.fixed_buffers ? " (registered buffers)" : "",
		st.direct ? "O_DIRECT" : "buffered", st.depth,
		(double)st.chunk_bytes / 1048576.0, st.note[0] ? "; " : "",
		st.note);
}

/*
 * --arena: pass 0 (a new process) fills the arena, or hits one made
 * before; then reps restarts, each a new process that maps it.
 */
static void run_arena(const char *path, int cold, int reps, uint64_t size,
		      char *filled, size_t len)
{
	double ld[MAX_REPS], ft[MAX_REPS], l0, f0;
	struct amxrt_load_stats st;
	const char *cache = cold ? "cold" : "warm";
	int i, p0;

	if (cold)
		make_cold(path);
	load_pass_child(path, &l0, &f0, &st);
	if (st.arena_state == AMXRT_LOAD_ARENA_NONE)
		tool_die(TOOL_EXIT_FAIL, "%s: no model arena: %s", path,
			 st.arena);
	if (st.arena_state == AMXRT_LOAD_ARENA_FILLED)
		snprintf(filled, len, "%s", st.arena_name);
	p0 = st.arena_state;
	fprintf(stderr, "%s, pass 0: arena %s\n", cache, st.arena);
	for (i = 0; i < reps; i++) {
		if (cold)
			make_cold(path);
		load_pass_child(path, &ld[i], &ft[i], &st);
		if (st.arena_state != AMXRT_LOAD_ARENA_HIT)
			tool_die(TOOL_EXIT_FAIL, "restart %d: arena %s", i + 1,
				 st.arena);
	}
	row(p0 == AMXRT_LOAD_ARENA_FILLED ? "fill load" : "pass 0 load", cache,
	    &l0, 1, size, 0);
	row(p0 == AMXRT_LOAD_ARENA_FILLED ? "fill 1st" : "pass 0 1st", cache,
	    &f0, 1, size, 0);
	row("restart load", cache, ld, reps, size, 0);
	row("restart 1st", cache, ft, reps, size, 0);
	fprintf(stderr, "%s, restarts: arena %s; %.1f MiB read\n", cache,
		st.arena, (double)st.bytes_read / 1048576.0);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "reps", required_argument, NULL, 'r' },
		{ "cache", required_argument, NULL, 'c' },
		{ "drop-caches", no_argument, NULL, 'D' },
		{ "io", required_argument, NULL, 'I' },
		{ "chunk", required_argument, NULL, 'C' },
		{ "depth", required_argument, NULL, 'Q' },
		{ "direct", required_argument, NULL, 'O' },
		{ "threads", required_argument, NULL, 't' },
		{ "arena", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *model = NULL, *cache = "both";
	char filled[64] = "";
	struct stat sb;
	int reps = 3, c, arena = 0;

	tool_init(argc, argv);
	while ((c = getopt_long(argc, argv, "m:r:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			model = optarg;
			break;
		case 'r':
			reps = (int)tool_parse_long("-r", optarg, 1, MAX_REPS);
			break;
		case 'c':
			if (strcmp(optarg, "cold") && strcmp(optarg, "warm") &&
			    strcmp(optarg, "both"))
				tool_die(TOOL_EXIT_USAGE,
					 "--cache %s: cold, warm or both",
					 optarg);
			cache = optarg;
			break;
		case 'D':
			drop_caches = 1;
			break;
		case 'I':
			setenv("AMXRT_IO", optarg, 1);
			break;
		case 'C':
			setenv("AMXRT_IO_CHUNK", optarg, 1);
			break;
		case 'Q':
			setenv("AMXRT_IO_DEPTH", optarg, 1);
			break;
		case 'O':
			setenv("AMXRT_IO_DIRECT", optarg, 1);
			break;
		case 't':
			tool_set_threads(
				(int)tool_parse_long("-t", optarg, 1, 4096));
			break;
		case 'A':
			arena = 1;
			tool_arena = AMXRT_LOAD_ARENA_REQUIRE;
			break;
		case 'h':
			usage(stdout);
			return TOOL_EXIT_OK;
		default:
			usage(stderr);
			return TOOL_EXIT_USAGE;
		}
	}
	if (optind < argc)
		tool_die(TOOL_EXIT_USAGE, "unexpected argument '%s'",
			 argv[optind]);
	if (!model)
		tool_die(TOOL_EXIT_USAGE,
			 "no model given (-m FILE; see --help)");
	if (stat(model, &sb))
		tool_die(TOOL_EXIT_FAIL, "%s: %s", model, strerror(errno));
	printf("amxrt-loadbench: %s, %.1f MiB, %d threads, %d passes\n\n",
	       model, (double)sb.st_size / 1048576.0, amxrt_threads(), reps);
	printf("| test         | cache | seconds: median (min..max) |     MB/s | vs read |\n");
	printf("| ------------ | ----- | -------------------------- | -------- | ------- |\n");
	if (arena) {
		if (strcmp(cache, "warm"))
			run_arena(model, 1, reps, (uint64_t)sb.st_size, filled,
				  sizeof(filled));
		if (strcmp(cache, "cold"))
			run_arena(model, 0, reps, (uint64_t)sb.st_size, filled,
				  sizeof(filled));
		if (filled[0] && amxrt_arena_destroy(filled))
			tool_die(TOOL_EXIT_FAIL, "destroy %s: %s", filled,
				 amxrt_errmsg());
		return TOOL_EXIT_OK;
	}
	if (strcmp(cache, "warm"))
		run_cache(model, 1, reps, (uint64_t)sb.st_size);
	if (strcmp(cache, "cold"))
		run_cache(model, 0, reps, (uint64_t)sb.st_size);
	return TOOL_EXIT_OK;
}
