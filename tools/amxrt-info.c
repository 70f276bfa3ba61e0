// SPDX-License-Identifier: MIT
/*
 * amxrt-info - what this CPU and kernel offer libamxrt, whether AMX tile
 * permission is granted, which path runs and why the faster ones do not.
 * Uses only the public API (<amxrt/amxrt.h>).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amxrt/amxrt.h>

/* Exit statuses (also in --help and amxrt-info(1)). */
#define EXIT_OK 0
#define EXIT_PATH 1 /* the path asked for (AMXRT_ISA, --isa) cannot run */
#define EXIT_USAGE 2 /* bad option or unknown --isa name */

static const char *prog = "amxrt-info";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [--isa NAME] [-q]\n"
		"Show what this CPU and kernel offer libamxrt %s: CPU\n"
		"features, XCR0, AMX tile limits, the kernel's tile state and\n"
		"permission, the path in use and why faster paths are not,\n"
		"the NUMA nodes and what each --numa mode would do.\n"
		"\n"
		"Options:\n"
		"  --isa NAME   force path NAME (amx, amx-sim, avx512vnni,\n"
		"               avx2, generic) and show whether it can run;\n"
		"               default: AMXRT_ISA, else the fastest usable\n"
		"  -q, --quiet  print only one line, \"isa: NAME\"\n"
		"  -h, --help   print this help and exit\n"
		"\n"
		"Environment:\n"
		"  AMXRT_ISA    force a path, as --isa (which overrides it)\n"
		"\n"
		"Exit status:\n"
		"  0  the path in use was chosen\n"
		"  1  the path asked for (--isa or AMXRT_ISA) cannot run here\n"
		"     or is unknown (AMXRT_ISA); one line on stderr says why\n"
		"  2  usage error: bad option or unknown --isa name\n",
		prog, amxrt_version());
}

static const char *errno_name(int err)
{
	static char buf[24];

	switch (err) {
	case 0:
		return "none";
	case EINVAL:
		return "EINVAL";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case ENODEV:
		return "ENODEV";
	case ENOSPC:
		return "ENOSPC";
	case EBUSY:
		return "EBUSY";
	case EPERM:
		return "EPERM";
	case EACCES:
		return "EACCES";
	case EFAULT:
		return "EFAULT";
	case ENOMEM:
		return "ENOMEM";
	case ENOSYS:
		return "ENOSYS";
	}
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

static const char *tile_status_name(enum amxrt_tile_status st)
{
	switch (st) {
	case AMXRT_TILE_GRANTED:
		return "granted";
	case AMXRT_TILE_NO_CPU:
		return "no-cpu";
	case AMXRT_TILE_OLD_KERNEL:
		return "old-kernel";
	case AMXRT_TILE_NOT_ENABLED:
		return "not-enabled";
	case AMXRT_TILE_SIGSTACK:
		return "sigstack";
	case AMXRT_TILE_REFUSED:
		return "refused";
	}
	return "unknown";
}

static const char *yesno(int v)
{
	return v ? "yes" : "no";
}

static void print_cpu(const struct amxrt_cpu_info *ci)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} feats[] = {
		{ AMXRT_CPU_AVX2, "avx2" },
		{ AMXRT_CPU_FMA, "fma" },
		{ AMXRT_CPU_F16C, "f16c" },
		{ AMXRT_CPU_AVX512F, "avx512f" },
		{ AMXRT_CPU_AVX512DQ, "avx512dq" },
		{ AMXRT_CPU_AVX512BW, "avx512bw" },
		{ AMXRT_CPU_AVX512VL, "avx512vl" },
		{ AMXRT_CPU_AVX512VNNI, "avx512_vnni" },
		{ AMXRT_CPU_AVX512BF16, "avx512_bf16" },
		{ AMXRT_CPU_AVXVNNI, "avx_vnni" },
		{ AMXRT_CPU_AMX_TILE, "amx_tile" },
		{ AMXRT_CPU_AMX_INT8, "amx_int8" },
		{ AMXRT_CPU_AMX_BF16, "amx_bf16" },
	};
	size_t i;

	printf("cpu\n");
	printf("  vendor              %s\n", ci->vendor[0] ? ci->vendor : "?");
	printf("  brand               %s\n", ci->brand[0] ? ci->brand : "?");
	printf("  family/model        0x%x / 0x%x, stepping %u\n", ci->family,
	       ci->model, ci->stepping);
	printf("features (CPUID)\n");
	for (i = 0; i < sizeof(feats) / sizeof(feats[0]); i++)
		printf("  %-19s %s\n", feats[i].name,
		       yesno(ci->features & feats[i].bit));
	printf("os state (XCR0)\n");
	printf("  xcr0                0x%016" PRIx64 "%s\n", ci->xcr0,
	       ci->xcr0 ? "" : " (OSXSAVE off)");
	printf("  avx (bits 1-2)      %s\n",
	       yesno(ci->features & AMXRT_CPU_OS_AVX));
	printf("  avx512 (bits 5-7)   %s\n",
	       yesno(ci->features & AMXRT_CPU_OS_AVX512));
	printf("  xtilecfg (bit 17)   %s\n",
	       yesno(ci->features & AMXRT_CPU_OS_XTILECFG));
	printf("  xtiledata (bit 18)  %s\n",
	       yesno(ci->features & AMXRT_CPU_OS_XTILEDATA));
	printf("tile unit (CPUID 0x1D, 0x1E)\n");
	if (!ci->max_palette) {
		printf("  palette             none\n");
	} else {
		printf("  max palette         %u\n", ci->max_palette);
		printf("  palette 1           %u bytes in all, %u per tile, "
		       "%u per row, %u tiles, %u rows\n",
		       ci->tile_total_bytes, ci->tile_bytes_per_tile,
		       ci->tile_bytes_per_row, ci->tile_max_names,
		       ci->tile_max_rows);
	}
	if (ci->tmul_max_k || ci->tmul_max_n)
		printf("  tmul                max k %u, max n %u\n",
		       ci->tmul_max_k, ci->tmul_max_n);
	else
		printf("  tmul                none\n");
}

static void print_kernel(const struct amxrt_cpu_info *ci)
{
	const uint64_t xtiledata = 1ull << 18;

	printf("kernel\n");
	if (ci->xcomp_supp_err)
		printf("  xcomp supp          error %s\n",
		       errno_name(ci->xcomp_supp_err));
	else
		printf("  xcomp supp          0x%016" PRIx64
		       " (tile data: %s)\n",
		       ci->xcomp_supp, yesno(ci->xcomp_supp & xtiledata));
	if (ci->xcomp_perm_err)
		printf("  xcomp perm          error %s\n",
		       errno_name(ci->xcomp_perm_err));
	else
		printf("  xcomp perm          0x%016" PRIx64
		       " (tile data: %s)\n",
		       ci->xcomp_perm, yesno(ci->xcomp_perm & xtiledata));
	if (ci->minsigstksz)
		printf("  at_minsigstksz      %" PRIu64 " bytes\n",
		       ci->minsigstksz);
	else
		printf("  at_minsigstksz      not given by the kernel\n");
}

/*
 * amxrt.ko's view (amxrt_module_info()) next to the process's own, and
 * the arena backend in use.
 */
static void print_module(const struct amxrt_cpu_info *ci,
			 enum amxrt_tile_status st)
{
	const uint64_t xtiledata = 1ull << 18;
	struct amxrt_module_info mi;
	int b, i;

	if (amxrt_module_info(&mi)) {
		printf("module                not loaded: %s\n",
		       amxrt_errmsg());
	} else {
		printf("module                amxrt.ko %s (ABI %u)%s\n",
		       mi.version, mi.abi_version,
		       mi.can_admin ? ", may administer arenas" : "");
		printf("  amx (cpuid)         module: tile %s, int8 %s, bf16 "
		       "%s; process: tile %s\n",
		       yesno(mi.cpu_amx_tile), yesno(mi.cpu_amx_int8),
		       yesno(mi.cpu_amx_bf16),
		       yesno(ci->features & AMXRT_CPU_AMX_TILE));
		printf("  tile state          module: kernel enabled %s; "
		       "process: xcr0 bit 18 %s\n",
		       yesno(mi.kernel_tile_state),
		       yesno(ci->features & AMXRT_CPU_OS_XTILEDATA));
		printf("  tile permission     module: %s (perm 0x%" PRIx64
		       "); process: %s (perm 0x%" PRIx64 ", request %s)\n",
		       yesno(mi.process_tile_perm), mi.xfeatures_perm,
		       yesno(!ci->xcomp_perm_err &&
			     (ci->xcomp_perm & xtiledata)),
		       ci->xcomp_perm, tile_status_name(st));
		printf("  signal stack        module: %u bytes; process: "
		       "AT_MINSIGSTKSZ %" PRIu64 " bytes\n",
		       mi.sigstack_min, ci->minsigstksz);
		for (i = 0; i < mi.nr_nodes; i++)
			printf("  node %-14d %" PRIu64 " MiB free, %" PRIu64
			       " free 2 MiB chunks\n",
			       mi.nodes[i].node, mi.nodes[i].free_bytes >> 20,
			       mi.nodes[i].free_chunks);
		printf("  arenas              %" PRIu64 ", %" PRIu64
		       " MiB of %" PRIu64 " MiB; 2 MiB maps %" PRIu64
		       ", 4 KiB maps %" PRIu64 "\n",
		       mi.arenas, mi.arena_bytes >> 20, mi.arena_limit >> 20,
		       mi.pmd_maps, mi.pte_maps);
	}
	b = amxrt_arena_default_backend();
	if (b < 0)
		printf("arenas                none: %s\n", amxrt_errmsg());
	else
		printf("arenas                %s: %s\n",
		       amxrt_arena_backend_name(b),
		       amxrt_arena_backend_reason());
}

/* Faster first; amx-sim is never chosen by itself. */
static const enum amxrt_isa speed_order[] = {
	AMXRT_ISA_AMX,
	AMXRT_ISA_AVX512VNNI,
	AMXRT_ISA_AVX2,
	AMXRT_ISA_GENERIC,
};

static void print_paths(int chosen, const char *how, const char *fail)
{
	char why[512];
	size_t i;

	if (chosen >= 0)
		printf("isa                   %s (%s)\n",
		       amxrt_isa_name(chosen), how);
	else
		printf("isa                   none: %s\n", fail);
	for (i = 0; i < sizeof(speed_order) / sizeof(speed_order[0]); i++) {
		enum amxrt_isa p = speed_order[i];

		if ((int)p == chosen)
			break;
		if (amxrt_isa_usable(p, why, sizeof(why)))
			printf("  %-19s not usable: %s\n", amxrt_isa_name(p),
			       why);
		else
			printf("  %-19s usable, not in use\n",
			       amxrt_isa_name(p));
	}
	if (chosen != AMXRT_ISA_AMX_SIM) {
		if (amxrt_isa_usable(AMXRT_ISA_AMX_SIM, why, sizeof(why)))
			printf("  %-19s not usable: %s\n", "amx-sim", why);
		else
			printf("  %-19s usable (validation only, never chosen "
			       "by itself)\n",
			       "amx-sim");
	}
}

/* The nodes libnuma reports, and what each NUMA mode would do here. */
static void print_numa(void)
{
	static const enum amxrt_numa modes[] = {
		AMXRT_NUMA_OFF,
		AMXRT_NUMA_ISOLATE,
		AMXRT_NUMA_DISTRIBUTE,
		AMXRT_NUMA_MIRROR,
	};
	struct amxrt_numa_topology t;
	char line[512];
	unsigned int i;
	int n;

	if (amxrt_numa_topology(&t)) {
		printf("%-22s? (%s)\n", "numa", amxrt_errmsg());
		return;
	}
	printf("%-22s%d node%s used of %d%s%s\n", "numa nodes", t.n_nodes,
	       t.n_nodes == 1 ? "" : "s", t.n_nodes_all, t.note[0] ? ": " : "",
	       t.note);
	for (n = 0; n < t.n_nodes; n++)
		printf("  node %-15dCPUs %s (%d), %llu MiB\n", t.nodes[n].node,
		       t.nodes[n].cpus, t.nodes[n].n_cpus,
		       (unsigned long long)(t.nodes[n].mem_bytes >> 20));
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!amxrt_numa_describe(modes[i], -1, 0, line, sizeof(line)))
			printf("  --numa %-14s%s\n", amxrt_numa_name(modes[i]),
			       line + strlen(amxrt_numa_name(modes[i])) + 2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "isa", required_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *isa_arg = NULL, *env = getenv("AMXRT_ISA");
	struct amxrt_cpu_info ci;
	enum amxrt_tile_status st;
	char fail[600] = "";
	const char *how;
	int quiet = 0, chosen, tile_err = 0, c;

	if (argc > 0 && argv[0] && strrchr(argv[0], '/'))
		prog = strrchr(argv[0], '/') + 1;
	else if (argc > 0 && argv[0] && argv[0][0])
		prog = argv[0];
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			isa_arg = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case ':':
			fprintf(stderr,
				"%s: %s needs an argument (try --help)\n", prog,
				argv[optind - 1]);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "%s: unknown option %s (try --help)\n",
				prog, argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\" (try --help)\n",
			prog, argv[optind]);
		return EXIT_USAGE;
	}

	if (isa_arg) {
		int isa = amxrt_isa_parse(isa_arg);

		if (isa < 0) {
			fprintf(stderr, "%s: --isa: %s\n", prog,
				amxrt_errmsg());
			return EXIT_USAGE;
		}
		if (amxrt_isa_set(isa))
			snprintf(fail, sizeof(fail), "--isa %s: %s",
				 amxrt_isa_name(isa), amxrt_errmsg());
		how = "forced by --isa";
		chosen = fail[0] ? -ENOTSUP : amxrt_isa();
	} else {
		how = env && *env ? "forced by AMXRT_ISA" : "fastest usable";
		chosen = amxrt_isa();
		if (chosen < 0)
			snprintf(fail, sizeof(fail), "%s", amxrt_errmsg());
	}

	if (quiet) {
		if (chosen < 0) {
			fprintf(stderr, "%s: %s\n", prog, fail);
			return EXIT_PATH;
		}
		printf("isa: %s\n", amxrt_isa_name(chosen));
		return EXIT_OK;
	}

	/* Ask for tiles before reading XCOMP_PERM, so it shows the outcome. */
	st = amxrt_tile_request(&tile_err);
	amxrt_cpu_detect(&ci);

	printf("%-22s%s\n", "libamxrt", amxrt_version());
	print_cpu(&ci);
	print_kernel(&ci);
	printf("tile request          %s (errno %s): %s\n",
	       tile_status_name(st), errno_name(tile_err),
	       amxrt_tile_status_str(st));
	print_paths(chosen, how, fail);
	print_module(&ci, st);
	printf("threads               %d\n", amxrt_threads());
	print_numa();
	fflush(stdout);

	if (chosen < 0) {
		fprintf(stderr, "%s: %s\n", prog, fail);
		return EXIT_PATH;
	}
	return EXIT_OK;
}
