// SPDX-License-Identifier: MIT
/*
 * amxrt-arena - list, create, seal, destroy and show weight arenas, and
 * say which backend holds them and why. Uses only the public API
 * (<amxrt/amxrt.h>).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amxrt/amxrt.h>

/* Exit statuses (also in --help and amxrt-arena(1)). */
#define EXIT_OK 0
#define EXIT_FAIL 1 /* the operation failed; one line on stderr says why */
#define EXIT_USAGE 2 /* bad command, option or value */

static const char *prog = "amxrt-arena";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [--backend NAME] COMMAND [ARGS]\n"
		"Manage the weight arenas of libamxrt %s.\n"
		"\n"
		"Commands:\n"
		"  list                 every arena: name, size, node, placed\n"
		"                       node, sealed, mappings\n"
		"  show NAME            one arena in detail\n"
		"  create NAME SIZE     a new zeroed arena of SIZE bytes (K, M,\n"
		"                       G, T suffixes: powers of 1024; rounded\n"
		"                       up to 2 MiB)\n"
		"    --node N           on NUMA node N (default: any)\n"
		"    --preferred        other nodes may supply the pages\n"
		"  seal NAME            make an arena read-only for good\n"
		"  destroy NAME         remove an arena\n"
		"  backend              the backend in use and why\n"
		"\n"
		"Options:\n"
		"  --backend NAME  use backend NAME (module, hugetlbfs,\n"
		"                  anon-hugetlb, anon-thp); default: AMXRT_ARENA,\n"
		"                  else the first available in that order\n"
		"  -h, --help      print this help and exit\n"
		"\n"
		"Environment:\n"
		"  AMXRT_ARENA      force a backend, as --backend (which wins)\n"
		"  AMXRT_HUGETLBFS  the hugetlbfs directory for arena files\n"
		"\n"
		"The anonymous backends keep arenas inside one process: this\n"
		"tool can only manage module and hugetlbfs arenas.\n"
		"\n"
		"Exit status:\n"
		"  0  done\n"
		"  1  the operation failed (one line on stderr says why)\n"
		"  2  usage error: bad command, option or value\n",
		prog, amxrt_version());
}

static void __attribute__((format(printf, 2, 3), noreturn))
die(int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* "1G", "512M", "3145728", "2MiB": bytes; usage exit when malformed. */
static uint64_t parse_size(const char *s)
{
	static const char units[] = "KMGT";
	unsigned long long v;
	const char *u;
	char *end;
	int shift = 0;

	errno = 0;
	if (!*s || *s == '-')
		die(EXIT_USAGE, "size \"%s\": not a number of bytes", s);
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		die(EXIT_USAGE, "size \"%s\": not a number of bytes", s);
	if (*end) {
		u = strchr(units, end[0] & ~0x20);
		if (!u || !end[0])
			die(EXIT_USAGE,
			    "size \"%s\": unknown unit \"%s\" (K, M, G, T)", s,
			    end);
		shift = 10 * (int)(u - units + 1);
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
		if (*end)
			die(EXIT_USAGE,
			    "size \"%s\": unknown unit (K, M, G, T)", s);
	}
	if (v > (UINT64_MAX >> shift))
		die(EXIT_USAGE, "size \"%s\" is too large", s);
	return (uint64_t)v << shift;
}

static int parse_node(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < -1 || v > 4095)
		die(EXIT_USAGE, "--node \"%s\": a node number or -1", s);
	return (int)v;
}

static void human(uint64_t bytes, char *buf, size_t len)
{
	if (bytes >= (1ull << 30) && !(bytes % (1ull << 30)))
		snprintf(buf, len, "%" PRIu64 " GiB", bytes >> 30);
	else
		snprintf(buf, len, "%" PRIu64 " MiB", bytes >> 20);
}

static const char *node_str(int node, char *buf, size_t len)
{
	if (node < 0)
		return "-";
	snprintf(buf, len, "%d", node);
	return buf;
}

/* The anonymous backends cannot be managed from another process. */
static void need_shared(const char *cmd)
{
	int b = amxrt_arena_default_backend();

	if (b == AMXRT_ARENA_ANON_HUGETLB || b == AMXRT_ARENA_ANON_THP)
		die(EXIT_FAIL,
		    "%s: %s arenas are private to the process that makes them "
		    "(%s); load amxrt.ko or mount a hugetlbfs",
		    cmd, amxrt_arena_backend_name(b),
		    amxrt_arena_backend_reason());
}

static int cmd_list(void)
{
	struct amxrt_arena_info *infos = NULL;
	char size[32], node[16], placed[16];
	int n, m, i, w = 32, b = amxrt_arena_default_backend();

	n = amxrt_arena_list(NULL, 0);
	if (n < 0)
		die(EXIT_FAIL, "list: %s", amxrt_errmsg());
	if (n) {
		infos = calloc(n + 8, sizeof(*infos));
		if (!infos)
			die(EXIT_FAIL, "list: out of memory");
		m = amxrt_arena_list(infos, n + 8);
		if (m < 0)
			die(EXIT_FAIL, "list: %s", amxrt_errmsg());
		n = m < n + 8 ? m : n + 8;
	}
	printf("backend: %s\n", amxrt_arena_backend_name(b));
	for (i = 0; i < n; i++) /* model arenas' names are 41 long */
		if ((int)strlen(infos[i].name) > w)
			w = (int)strlen(infos[i].name);
	printf("%-*s %10s %5s %6s %6s %5s\n", w, "NAME", "SIZE", "NODE",
	       "PLACED", "SEALED", "MAPS");
	for (i = 0; i < n; i++) {
		const struct amxrt_arena_info *in = &infos[i];

		human(in->size, size, sizeof(size));
		printf("%-*s %10s %5s %6s %6s %5d\n", w, in->name, size,
		       node_str(in->node, node, sizeof(node)),
		       node_str(in->placed_node, placed, sizeof(placed)),
		       in->sealed ? "yes" : "no", in->map_count);
	}
	if (b == AMXRT_ARENA_ANON_HUGETLB || b == AMXRT_ARENA_ANON_THP)
		printf("(%s arenas are private to each process: none here)\n",
		       amxrt_arena_backend_name(b));
	free(infos);
	return EXIT_OK;
}

static int cmd_show(const char *name)
{
	struct amxrt_arena_info in;
	struct amxrt_arena *a;
	char size[32], node[16];

	need_shared("show");
	if (amxrt_arena_open(name, &a))
		die(EXIT_FAIL, "show: %s", amxrt_errmsg());
	if (amxrt_arena_info(a, &in))
		die(EXIT_FAIL, "show: %s", amxrt_errmsg());
	amxrt_arena_close(a);
	human(in.size, size, sizeof(size));
	printf("name         %s\n", in.name);
	printf("backend      %s\n", amxrt_arena_backend_name(in.backend));
	printf("size         %" PRIu64 " bytes (%s)\n", in.size, size);
	printf("node asked   %s\n",
	       in.node < 0 ? "any or not recorded" :
			     node_str(in.node, node, sizeof(node)));
	printf("placed on    %s\n",
	       in.placed_node < 0 ?
		       "several nodes, or not known" :
		       node_str(in.placed_node, node, sizeof(node)));
	printf("sealed       %s\n", in.sealed ? "yes" : "no");
	printf("mappings     %d\n", in.map_count);
	if (in.huge_bytes >= 0)
		printf("2 MiB pages  %" PRId64 " bytes\n", in.huge_bytes);
	else
		printf("2 MiB pages  not known\n");
	return EXIT_OK;
}

static int cmd_create(const char *name, const char *size_s, int node,
		      unsigned int flags)
{
	uint64_t size = parse_size(size_s);
	struct amxrt_arena_info in;
	struct amxrt_arena *a;
	char sz[32];

	if (!size)
		die(EXIT_USAGE, "create: size 0");
	need_shared("create");
	if (amxrt_arena_create(name, size, node, flags, &a))
		die(EXIT_FAIL, "create: %s", amxrt_errmsg());
	if (amxrt_arena_info(a, &in))
		die(EXIT_FAIL, "create: %s", amxrt_errmsg());
	amxrt_arena_close(a);
	human(in.size, sz, sizeof(sz));
	printf("created %s: %s, %s", name, sz,
	       amxrt_arena_backend_name(in.backend));
	if (in.placed_node >= 0)
		printf(", on node %d", in.placed_node);
	printf("\n");
	return EXIT_OK;
}

static int cmd_seal(const char *name)
{
	struct amxrt_arena *a;

	need_shared("seal");
	if (amxrt_arena_open(name, &a) || amxrt_arena_seal(a))
		die(EXIT_FAIL, "seal: %s", amxrt_errmsg());
	amxrt_arena_close(a);
	printf("sealed %s\n", name);
	return EXIT_OK;
}

static int cmd_destroy(const char *name)
{
	need_shared("destroy");
	if (amxrt_arena_destroy(name))
		die(EXIT_FAIL, "destroy: %s", amxrt_errmsg());
	printf("destroyed %s\n", name);
	return EXIT_OK;
}

static int cmd_backend(void)
{
	int b = amxrt_arena_default_backend();

	printf("backend: %s\n", amxrt_arena_backend_name(b));
	printf("why: %s\n", amxrt_arena_backend_reason());
	return EXIT_OK;
}

static void nargs(int have, int want, const char *cmd, const char *args)
{
	if (have != want)
		die(EXIT_USAGE, "%s takes %s (try --help)", cmd, args);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "node", required_argument, NULL, 'n' },
		{ "preferred", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *backend = NULL, *cmd;
	unsigned int flags = 0;
	int c, node = -1, have_node = 0, n;

	if (argc > 0 && argv[0] && strrchr(argv[0], '/'))
		prog = strrchr(argv[0], '/') + 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			backend = optarg;
			break;
		case 'n':
			node = parse_node(optarg);
			have_node = 1;
			break;
		case 'p':
			flags |= AMXRT_ARENA_NODE_PREFERRED;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case ':':
			die(EXIT_USAGE, "%s needs an argument (try --help)",
			    argv[optind - 1]);
		default:
			die(EXIT_USAGE, "unknown option %s (try --help)",
			    argv[optind - 1]);
		}
	}
	if (optind >= argc)
		die(EXIT_USAGE, "no command (try --help)");
	cmd = argv[optind];
	n = argc - optind - 1;
	if (strcmp(cmd, "create") && (have_node || flags))
		die(EXIT_USAGE, "--node and --preferred are for create");

	if (backend) {
		int b = amxrt_arena_backend_parse(backend);

		if (b < 0)
			die(EXIT_USAGE, "--backend: %s", amxrt_errmsg());
		if (amxrt_arena_set_backend(b))
			die(EXIT_FAIL, "--backend %s: %s", backend,
			    amxrt_errmsg());
	} else if (amxrt_arena_default_backend() < 0) {
		die(EXIT_FAIL, "%s", amxrt_errmsg());
	}

	if (!strcmp(cmd, "list")) {
		nargs(n, 0, cmd, "no arguments");
		return cmd_list();
	}
	if (!strcmp(cmd, "backend")) {
		nargs(n, 0, cmd, "no arguments");
		return cmd_backend();
	}
	if (!strcmp(cmd, "show")) {
		nargs(n, 1, cmd, "NAME");
		return cmd_show(argv[optind + 1]);
	}
	if (!strcmp(cmd, "create")) {
		nargs(n, 2, cmd, "NAME SIZE");
		return cmd_create(argv[optind + 1], argv[optind + 2], node,
				  flags);
	}
	if (!strcmp(cmd, "seal")) {
		nargs(n, 1, cmd, "NAME");
		return cmd_seal(argv[optind + 1]);
	}
	if (!strcmp(cmd, "destroy")) {
		nargs(n, 1, cmd, "NAME");
		return cmd_destroy(argv[optind + 1]);
	}
	die(EXIT_USAGE, "unknown command \"%s\" (try --help)", cmd);
}
