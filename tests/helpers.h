/* SPDX-License-Identifier: MIT */
/*
 * helpers.h - shared by the test programs: a seeded random generator (the
 * seed is printed so any failure can be replayed with AMXRT_TEST_SEED),
 * random matrices, and error measures.
 */
#ifndef AMXRT_TESTS_HELPERS_H
#define AMXRT_TESTS_HELPERS_H

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t test_rng_state;

/* Seed once per process from AMXRT_TEST_SEED or the clock, and print it. */
static inline uint64_t test_seed(void)
{
	static int done;
	const char *env = getenv("AMXRT_TEST_SEED");

	if (!done) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		test_rng_state = env ? strtoull(env, NULL, 0) :
				       (uint64_t)ts.tv_nsec ^
						 ((uint64_t)ts.tv_sec << 20) ^
						 (uint64_t)getpid();
		if (!test_rng_state)
			test_rng_state = 1;
		printf("# seed: %llu (replay with AMXRT_TEST_SEED=%llu)\n",
		       (unsigned long long)test_rng_state,
		       (unsigned long long)test_rng_state);
		fflush(stdout);
		done = 1;
	}
	return test_rng_state;
}

static inline uint64_t test_rand(void)
{
	uint64_t x;

	test_seed();
	x = test_rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	test_rng_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [-1, 1). */
static inline float test_uniform(void)
{
	return (float)((double)(test_rand() >> 11) / (double)(1ULL << 52) -
		       1.0);
}

/* Roughly normal (sum of four uniforms), mean 0, sd about 1. */
static inline float test_normal(void)
{
	return (test_uniform() + test_uniform() + test_uniform() +
		test_uniform()) *
	       0.8660254f;
}

/*
 * Largest |x| of the activation group (group blocks of 32) that holds
 * block b of a row of k values: the Q8 stagers' scale is this / 127.
 */
static inline double test_group_amax(const float *x, int64_t k, int64_t b,
				     int64_t group)
{
	int64_t l = b / group * group * 32, end = l + group * 32;
	double amax = 0;

	for (; l < end && l < k; l++)
		amax = fmax(amax, fabs(x[l]));
	return amax;
}

static inline float *test_matrix(int64_t rows, int64_t cols, float scale)
{
	float *m = malloc((size_t)(rows * cols) * sizeof(float));
	int64_t i;

	for (i = 0; m && i < rows * cols; i++)
		m[i] = test_normal() * scale;
	return m;
}

/* Largest |a - b| over n values, and whether any value is NaN or Inf. */
static inline double test_max_abs_diff(const float *a, const float *b,
				       int64_t n, int *nonfinite)
{
	double worst = 0.0;
	int64_t i;

	*nonfinite = 0;
	for (i = 0; i < n; i++) {
		double d;

		if (!isfinite(a[i]) || !isfinite(b[i]))
			*nonfinite = 1;
		d = fabs((double)a[i] - (double)b[i]);
		if (d > worst)
			worst = d;
	}
	return worst;
}

/* Normalized mean squared error sum (a-b)^2 / sum b^2, as ggml's tests. */
static inline double test_nmse(const float *a, const float *ref, int64_t n)
{
	double num = 0.0, den = 0.0;
	int64_t i;

	for (i = 0; i < n; i++) {
		double d = (double)a[i] - (double)ref[i];

		num += d * d;
		den += (double)ref[i] * (double)ref[i];
	}
	return den > 0 ? num / den : num;
}

/* A number from a sysfs or procfs file (nr_hugepages...), or -1. */
static inline long test_read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Write a number to such a file: 0, or -1 if it was not taken. */
static inline int test_write_long(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = fprintf(f, "%ld\n", v) > 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* The VmFlags line of the mapping holding p, or "" when p is unmapped. */
static inline void test_vm_flags(const void *p, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0;

	snprintf(out, len, "%s", "");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(out, len, "%s", line);
			break;
		}
	}
	fclose(f);
}

/* Remove dir and the files in it (one level, as the tests make them). */
static inline void test_rm_tree(const char *dir)
{
	char path[512];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/*
 * Entries in dir besides . and .. (-1 if it cannot be read); the first
 * one's name in first when first is not NULL.
 */
static inline int test_dir_entries(const char *dir, char *first, size_t len)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	if (first && len)
		first[0] = '\0';
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!n++ && first)
			snprintf(first, len, "%s", e->d_name);
	}
	closedir(d);
	return n;
}

#endif /* AMXRT_TESTS_HELPERS_H */
