// SPDX-License-Identifier: MIT
/*
 * Description: the sampler. Greedy is the argmax (lowest id on ties) and
 * top-k 1 is greedy; seeded draws follow the softmax distribution (a
 * chi-square test over many draws on a small vocabulary), also through
 * the whole top-k / top-p / min-p / temperature chain against a reference
 * written here; the same seed gives the same sequence and another seed
 * another; top-k, top-p and min-p never draw what they exclude; the
 * repetition penalty (llama.cpp's: divide positive logits, multiply
 * negative ones, once per distinct id in the window) changes the argmax
 * in crafted cases; NaN and infinite logits never produce a bad id; bad
 * parameters are refused.
 *
 * Chi-square bounds: with d degrees of freedom the statistic exceeds
 * 40.52 (d = 7) or 56.49 (d = 15) with probability 1e-6 when the sampler is right, so a
 * correct sampler fails a run about once in a million; a wrong one (for
 * example probabilities off by 2% of one token out of 200000 draws, a
 * shift of ~ 4 sigma per cell) gives values in the hundreds.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "helpers.h"

#include <amxrt/amxrt.h>

#define CHI2_7DF_1E6 40.52 /* upper 1e-6 quantile of chi-square, 7 df */
#define CHI2_15DF_1E6 56.49 /* and 15 df */

static struct amxrt_sampler_params plain(float temp)
{
	struct amxrt_sampler_params p;

	amxrt_sampler_defaults(&p);
	p.temp = temp;
	p.top_k = 0;
	p.top_p = 1.0f;
	p.min_p = 0.0f;
	p.repeat_penalty = 1.0f;
	p.repeat_last_n = 64;
	p.seed = test_rand();
	return p;
}

static int argmax(const float *x, int n)
{
	int i, b = 0;

	for (i = 1; i < n; i++)
		if (x[i] > x[b])
			b = i;
	return b;
}

/* Draw n times; count[] gets the histogram. Returns -1 on a bad id. */
static int draw(const struct amxrt_sampler_params *p, const float *logits,
		int n_vocab, int n, long *count)
{
	struct amxrt_sampler *s;
	int i;

	if (amxrt_sampler_new(p, n_vocab, &s))
		return -1;
	memset(count, 0, (size_t)n_vocab * sizeof(*count));
	for (i = 0; i < n; i++) {
		int32_t id = amxrt_sample(s, logits);

		if (id < 0 || id >= n_vocab) {
			amxrt_sampler_free(s);
			return -1;
		}
		count[id]++;
	}
	amxrt_sampler_free(s);
	return 0;
}

static double chi2(const long *count, const double *prob, int n, long draws)
{
	double x = 0.0;
	int i;

	for (i = 0; i < n; i++) {
		double e = prob[i] * (double)draws;

		if (e > 0)
			x += ((double)count[i] - e) * ((double)count[i] - e) /
			     e;
	}
	return x;
}

TEST(defaults_are_llama_cli)
{
	struct amxrt_sampler_params p;

	memset(&p, 0xcc, sizeof(p));
	amxrt_sampler_defaults(&p);
	EXPECT_EQ(0.8f, p.temp);
	EXPECT_EQ(40, p.top_k);
	EXPECT_EQ(0.95f, p.top_p);
	EXPECT_EQ(0.05f, p.min_p);
	EXPECT_EQ(1.0f, p.repeat_penalty);
	EXPECT_EQ(64, p.repeat_last_n);
	EXPECT_EQ(0, p.seed);
}

TEST(greedy_is_argmax)
{
	struct amxrt_sampler_params p = plain(0.0f);
	struct amxrt_sampler *s, *k1;
	float x[1000];
	int t, i;

	ASSERT_EQ(0, amxrt_sampler_new(&p, 1000, &s));
	p = plain(0.9f);
	p.top_k = 1;
	ASSERT_EQ(0, amxrt_sampler_new(&p, 1000, &k1));
	for (t = 0; t < 50; t++) {
		for (i = 0; i < 1000; i++)
			x[i] = test_normal() * 5;
		ASSERT_EQ(argmax(x, 1000), amxrt_sample(s, x));
		ASSERT_EQ(argmax(x, 1000), amxrt_sample(k1, x));
	}
	/* ties: the lowest id, every time */
	for (i = 0; i < 1000; i++)
		x[i] = 1.0f;
	x[10] = x[500] = x[999] = 3.0f;
	EXPECT_EQ(10, amxrt_sample(s, x));
	EXPECT_EQ(10, amxrt_sample(k1, x));
	amxrt_sampler_free(s);
	amxrt_sampler_free(k1);
}

TEST(draws_follow_softmax)
{
	static const double prob[8] = { 0.3, 0.2,  0.15, 0.1,
					0.1, 0.08, 0.05, 0.02 };
	static const float temps[] = { 1.0f, 0.5f, 2.0f };
	const long n = 200000;
	struct amxrt_sampler_params p;
	double want[8], sum, x;
	float logits[8];
	long count[8];
	size_t t;
	int i;

	for (i = 0; i < 8; i++)
		logits[i] = (float)log(prob[i]) + 3.0f; /* any offset */
	for (t = 0; t < sizeof(temps) / sizeof(temps[0]); t++) {
		p = plain(temps[t]);
		sum = 0;
		for (i = 0; i < 8; i++)
			sum += want[i] = pow(prob[i], 1.0 / temps[t]);
		for (i = 0; i < 8; i++)
			want[i] /= sum;
		ASSERT_EQ(0, draw(&p, logits, 8, n, count));
		x = chi2(count, want, 8, n);
		TH_LOG("temp %.1f: chi-square %.2f (7 df, bound %.2f)",
		       temps[t], x, CHI2_7DF_1E6);
		EXPECT_LT(x, CHI2_7DF_1E6);
	}
}

/*
 * The chain written out plainly: sort, keep k, nucleus, min-p ratio to
 * the best, softmax at temp.
 */
static void reference(const float *logits, int n,
		      const struct amxrt_sampler_params *p, double *want)
{
	int order[64], i, j, keep = n;
	double pr[64], sum = 0, cum;

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (logits[order[j]] > logits[order[i]]) {
				int t = order[i];

				order[i] = order[j];
				order[j] = t;
			}
	if (p->top_k > 0 && p->top_k < keep)
		keep = p->top_k;
	for (i = 0; i < keep; i++)
		sum += pr[i] = exp(logits[order[i]] - logits[order[0]]);
	for (i = 0, cum = 0; i < keep; i++) {
		cum += pr[i] / sum;
		if (cum >= p->top_p)
			break;
	}
	if (i < keep)
		keep = i + 1;
	for (i = 1; i < keep && pr[i] >= p->min_p * pr[0]; i++)
		;
	keep = i;
	memset(want, 0, (size_t)n * sizeof(*want));
	for (i = 0, sum = 0; i < keep; i++)
		sum += want[order[i]] =
			exp((logits[order[i]] - logits[order[0]]) / p->temp);
	for (i = 0; i < n; i++)
		want[i] /= sum;
}

TEST(chain_follows_reference)
{
	/*
	 * Logits 0.25 * j for j = 0..15 in a shuffled order (7 is prime to
	 * 16). From the best: p_j ~ 0.7788^j. top-k 10 keeps 10; top-p 0.8
	 * keeps 6 (cumulative 0.776 after 5, 0.845 after 6, also within the
	 * top 10); min-p 0.3 keeps p_j >= 0.3 p_0, j <= 4.8: 5 tokens. Each
	 * cut is far from its edge. Without top-k, top-p 0.8 over all 16
	 * keeps 7 (0.791 after 6, 0.842 after 7). Without top-k the sampler
	 * takes another route (min-p before sorting): the cases cover both.
	 */
	static const struct {
		int top_k;
		float top_p, min_p;
		int kept;
	} cases[] = {
		{ 10, 0.8f, 0.3f, 5 },	{ 10, 0.8f, 0.0f, 6 },
		{ 10, 1.0f, 0.0f, 10 }, { 0, 0.8f, 0.3f, 5 },
		{ 0, 0.8f, 0.0f, 7 },	{ 0, 1.0f, 0.3f, 5 },
		{ 0, 1.0f, 0.0f, 16 },
	};
	const long n = 200000;
	float logits[16];
	double want[16], x, bound;
	long count[16];
	size_t t;
	int i, cells;

	for (i = 0; i < 16; i++)
		logits[i] = (float)((i * 7) % 16) * 0.25f;
	for (t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
		struct amxrt_sampler_params p = plain(0.7f);

		p.top_k = cases[t].top_k;
		p.top_p = cases[t].top_p;
		p.min_p = cases[t].min_p;
		reference(logits, 16, &p, want);
		ASSERT_EQ(0, draw(&p, logits, 16, n, count));
		cells = 0;
		for (i = 0; i < 16; i++) {
			if (want[i] == 0) {
				EXPECT_EQ(0, count[i]);
			} else {
				cells++;
			}
		}
		x = chi2(count, want, 16, n);
		/* the 1e-6 quantiles for 7 and 15 df bound fewer df too */
		bound = cells <= 8 ? CHI2_7DF_1E6 : CHI2_15DF_1E6;
		TH_LOG("top-k %d top-p %.1f min-p %.1f: %d kept; chi-square "
		       "%.2f (%d df, bound %.2f)",
		       p.top_k, (double)p.top_p, (double)p.min_p, cells, x,
		       cells - 1, bound);
		EXPECT_EQ(cases[t].kept, cells);
		EXPECT_LT(x, bound);
	}
}

TEST(seed_repeats_and_differs)
{
	struct amxrt_sampler_params p = plain(1.0f);
	struct amxrt_sampler *a, *b, *c;
	float x[64];
	int i, same_ab = 1, same_ac = 1;

	for (i = 0; i < 64; i++)
		x[i] = 0.0f; /* uniform: 64^-200 chance of equal runs */
	ASSERT_EQ(0, amxrt_sampler_new(&p, 64, &a));
	ASSERT_EQ(0, amxrt_sampler_new(&p, 64, &b));
	p.seed ^= 1;
	ASSERT_EQ(0, amxrt_sampler_new(&p, 64, &c));
	for (i = 0; i < 200; i++) {
		int32_t ia = amxrt_sample(a, x), ib = amxrt_sample(b, x);
		int32_t ic = amxrt_sample(c, x);

		same_ab &= ia == ib;
		same_ac &= ia == ic;
	}
	EXPECT_TRUE(same_ab);
	EXPECT_FALSE(same_ac);
	amxrt_sampler_free(a);
	amxrt_sampler_free(b);
	amxrt_sampler_free(c);
}

TEST(top_k_excludes)
{
	struct amxrt_sampler_params p = plain(5.0f); /* flat: all likely */
	float x[32];
	long count[32];
	int i;

	for (i = 0; i < 32; i++)
		x[i] = test_uniform();
	x[7] = 2.0f;
	x[20] = 1.5f;
	x[3] = 1.2f;
	p.top_k = 3;
	ASSERT_EQ(0, draw(&p, x, 32, 30000, count));
	for (i = 0; i < 32; i++)
		if (i != 7 && i != 20 && i != 3) {
			EXPECT_EQ(0, count[i]);
		}
	EXPECT_LT(0, count[7]);
	EXPECT_LT(0, count[20]);
	EXPECT_LT(0, count[3]);
}

TEST(top_p_excludes)
{
	static const double prob[5] = { 0.5, 0.3, 0.1, 0.06, 0.04 };
	struct amxrt_sampler_params p = plain(1.0f);
	const long n = 40000;
	float x[5];
	long count[5];
	double f, sd;
	int i;

	for (i = 0; i < 5; i++)
		x[i] = (float)log(prob[4 - i]); /* best last: order matters */
	p.top_p = 0.75f; /* 0.5 < 0.75 <= 0.8: the nucleus is {0.5, 0.3} */
	ASSERT_EQ(0, draw(&p, x, 5, n, count));
	EXPECT_EQ(0, count[0]);
	EXPECT_EQ(0, count[1]);
	EXPECT_EQ(0, count[2]);
	/* renormalized: 0.5 / 0.8 = 0.625, within 6 sigma */
	f = (double)count[4] / (double)n;
	sd = sqrt(0.625 * 0.375 / (double)n);
	TH_LOG("share of the best: %.4f (want 0.625 +- %.4f)", f, 6 * sd);
	EXPECT_LT(fabs(f - 0.625), 6 * sd);
}

TEST(min_p_excludes)
{
	static const double prob[5] = { 0.4, 0.3, 0.15, 0.1, 0.05 };
	struct amxrt_sampler_params p = plain(1.0f);
	float x[5];
	long count[5];
	int i;

	for (i = 0; i < 5; i++)
		x[i] = (float)log(prob[i]);
	p.min_p = 0.3f; /* keeps p >= 0.12: the first three */
	ASSERT_EQ(0, draw(&p, x, 5, 40000, count));
	EXPECT_LT(0, count[0]);
	EXPECT_LT(0, count[1]);
	EXPECT_LT(0, count[2]);
	EXPECT_EQ(0, count[3]);
	EXPECT_EQ(0, count[4]);
}

TEST(repeat_penalty_changes_argmax)
{
	struct amxrt_sampler_params p = plain(0.0f);
	struct amxrt_sampler *s;
	float x[8] = { 2.0f, 1.9f, -1.0f, -1.05f, 0, 0, 0, 0 };
	float y[8] = { 2.0f, 1.7f, 0, 0, 0, 0, 0, 0 };
	float z[8] = { -1.0f, -1.05f, -5, -5, -5, -5, -5, -5 };

	p.repeat_penalty = 1.1f;
	p.repeat_last_n = 2;
	ASSERT_EQ(0, amxrt_sampler_new(&p, 8, &s));
	EXPECT_EQ(0, amxrt_sample(s, x));
	amxrt_sampler_accept(s, 0);
	/* positive: 2.0 / 1.1 = 1.82 < 1.9 */
	EXPECT_EQ(1, amxrt_sample(s, x));
	/* once per distinct id: 2.0 / 1.1 > 1.7, but 2.0 / 1.1^3 < 1.7 */
	amxrt_sampler_accept(s, 0);
	EXPECT_EQ(0, amxrt_sample(s, y));
	/* negative: -1.0 * 1.1 = -1.1 < -1.05 */
	EXPECT_EQ(1, amxrt_sample(s, z));
	/* the window is the last 2 ids: 0 falls out */
	amxrt_sampler_accept(s, 5);
	amxrt_sampler_accept(s, 6);
	EXPECT_EQ(0, amxrt_sample(s, x));
	EXPECT_EQ(0, amxrt_sample(s, z));
	/* ids out of range are ignored */
	amxrt_sampler_accept(s, -1);
	amxrt_sampler_accept(s, 8);
	EXPECT_EQ(0, amxrt_sample(s, x));
	amxrt_sampler_free(s);

	/* penalty 1 and window 0 are off */
	p.repeat_penalty = 1.0f;
	ASSERT_EQ(0, amxrt_sampler_new(&p, 8, &s));
	amxrt_sampler_accept(s, 0);
	EXPECT_EQ(0, amxrt_sample(s, x));
	amxrt_sampler_free(s);
	p.repeat_penalty = 1.5f;
	p.repeat_last_n = 0;
	ASSERT_EQ(0, amxrt_sampler_new(&p, 8, &s));
	amxrt_sampler_accept(s, 0);
	EXPECT_EQ(0, amxrt_sample(s, x));
	amxrt_sampler_free(s);
}

TEST(nonfinite_logits)
{
	static const float temps[] = { 0.0f, 0.3f, 1.0f, 10.0f };
	struct amxrt_sampler_params p;
	struct amxrt_sampler *s;
	float x[100];
	size_t t;
	int i, r;

	for (t = 0; t < sizeof(temps) / sizeof(temps[0]); t++) {
		p = plain(temps[t]);
		p.top_k = t & 1 ? 5 : 0;
		p.top_p = 0.9f;
		p.min_p = 0.01f;
		p.repeat_penalty = 1.3f;
		ASSERT_EQ(0, amxrt_sampler_new(&p, 100, &s));
		for (r = 0; r < 200; r++) {
			int32_t id;

			for (i = 0; i < 100; i++)
				x[i] = test_normal() * 1e30f;
			x[r % 100] = NAN;
			x[(r * 7 + 1) % 100] = -INFINITY;
			id = amxrt_sample(s, x);
			ASSERT_LE(0, id);
			ASSERT_GT(100, id);
			ASSERT_FALSE(isnan(x[id]));
			ASSERT_NE(-INFINITY, x[id]);
			amxrt_sampler_accept(s, id);
		}
		/* +inf wins */
		for (i = 0; i < 100; i++)
			x[i] = test_normal();
		x[42] = INFINITY;
		EXPECT_EQ(42, amxrt_sample(s, x));
		/* nothing to draw from */
		for (i = 0; i < 100; i++)
			x[i] = i & 1 ? NAN : -INFINITY;
		EXPECT_EQ(-EINVAL, amxrt_sample(s, x));
		EXPECT_NE(0, strlen(amxrt_errmsg()));
		amxrt_sampler_free(s);
	}
}

TEST(bad_params_refused)
{
	struct amxrt_sampler_params p = plain(1.0f);
	struct amxrt_sampler *s = (struct amxrt_sampler *)&p;

	EXPECT_EQ(-EINVAL, amxrt_sampler_new(&p, 0, &s));
	EXPECT_EQ(NULL, s);
	p.repeat_penalty = 0.0f;
	EXPECT_EQ(-EINVAL, amxrt_sampler_new(&p, 10, &s));
	p.repeat_penalty = 1.0f;
	p.temp = NAN;
	EXPECT_EQ(-EINVAL, amxrt_sampler_new(&p, 10, &s));
	p.temp = 1.0f;
	p.repeat_last_n = -1;
	EXPECT_EQ(-EINVAL, amxrt_sampler_new(&p, 10, &s));
	EXPECT_NE(0, strlen(amxrt_errmsg()));
	EXPECT_EQ(-EINVAL, amxrt_sampler_new(NULL, 10, &s));
	amxrt_sampler_free(NULL);
	amxrt_sampler_accept(NULL, 3);
}

TEST(large_vocab_default_chain)
{
	struct amxrt_sampler_params p;
	struct amxrt_sampler *s;
	const int n = 151936;
	float *x = malloc((size_t)n * sizeof(float));
	int i, r;

	ASSERT_NE(NULL, x);
	amxrt_sampler_defaults(&p);
	p.seed = test_rand();
	ASSERT_EQ(0, amxrt_sampler_new(&p, n, &s));
	for (r = 0; r < 20; r++) {
		int32_t id;
		int rank = 0;

		for (i = 0; i < n; i++)
			x[i] = test_normal() * 3;
		id = amxrt_sample(s, x);
		ASSERT_LE(0, id);
		ASSERT_GT(n, id);
		/* top-k 40: the draw is among the 40 largest */
		for (i = 0; i < n; i++)
			rank += x[i] > x[id];
		ASSERT_GT(40, rank);
		amxrt_sampler_accept(s, id);
	}
	amxrt_sampler_free(s);
	free(x);
}

TEST_HARNESS_MAIN
