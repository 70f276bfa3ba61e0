// SPDX-License-Identifier: MIT
/*
 * sample.c - the sampler: repetition penalty, greedy, top-k, top-p, min-p,
 * temperature and a seeded draw (xoshiro256**, seeded by splitmix64).
 *
 * Order, as llama.cpp's default chain: penalties, top-k, top-p, min-p,
 * temperature, draw. top-p and min-p look at the probabilities before
 * temperature (softmax of the penalized logits). Candidates are ordered by
 * logit, then by id, so equal logits never make the result depend on the
 * sort.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <amxrt/sample.h>

#include "../core/error.h"

struct cand {
	int32_t id;
	float logit;
};

struct amxrt_sampler {
	struct amxrt_sampler_params p;
	int n_vocab;
	uint64_t rng[4]; /* xoshiro256** state */
	int32_t *hist; /* ring of the last repeat_last_n accepted ids */
	int n_hist; /* ids in hist (<= repeat_last_n) */
	int hist_next; /* where the next id goes */
	uint8_t *seen; /* (n_vocab) scratch: penalty applied once per id */
	struct cand *cand; /* (n_vocab) candidates of one call */
	double *prob; /* (n_vocab) their probabilities */
};

void amxrt_sampler_defaults(struct amxrt_sampler_params *p)
{
	p->temp = 0.8f;
	p->top_k = 40;
	p->top_p = 0.95f;
	p->min_p = 0.05f;
	p->repeat_penalty = 1.0f;
	p->repeat_last_n = 64;
	p->seed = 0;
}

/* ---- random numbers ---------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t xoshiro(uint64_t *s)
{
	uint64_t r = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* Uniform in [0, 1) with 53 random bits. */
static double uniform(uint64_t *s)
{
	return (double)(xoshiro(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- lifetime ---------------------------------------------------------- */

int amxrt_sampler_new(const struct amxrt_sampler_params *p, int n_vocab,
		      struct amxrt_sampler **out)
{
	struct amxrt_sampler *s;
	uint64_t x;
	int i;

	*out = NULL;
	if (!p)
		return amxrt_err(EINVAL, "sampler: no parameters");
	if (n_vocab <= 0)
		return amxrt_err(EINVAL, "sampler: n_vocab = %d", n_vocab);
	if (isnan(p->temp) || isnan(p->top_p) || isnan(p->min_p))
		return amxrt_err(EINVAL,
				 "sampler: temp, top_p or min_p is NaN");
	if (!(p->repeat_penalty > 0.0f) || isinf(p->repeat_penalty))
		return amxrt_err(EINVAL,
				 "sampler: repeat_penalty %g is not a "
				 "positive finite number",
				 (double)p->repeat_penalty);
	if (p->repeat_last_n < 0)
		return amxrt_err(EINVAL, "sampler: repeat_last_n = %d",
				 p->repeat_last_n);

	s = calloc(1, sizeof(*s));
	if (!s)
		return amxrt_err(ENOMEM, "sampler: out of memory");
	s->p = *p;
	s->n_vocab = n_vocab;
	s->cand = malloc((size_t)n_vocab * sizeof(*s->cand));
	s->prob = malloc((size_t)n_vocab * sizeof(*s->prob));
	s->seen = calloc((size_t)n_vocab, 1);
	if (p->repeat_last_n > 0)
		s->hist = malloc((size_t)p->repeat_last_n * sizeof(*s->hist));
	if (!s->cand || !s->prob || !s->seen ||
	    (p->repeat_last_n > 0 && !s->hist)) {
		amxrt_sampler_free(s);
		return amxrt_err(ENOMEM, "sampler: out of memory");
	}
	x = p->seed;
	for (i = 0; i < 4; i++)
		s->rng[i] = splitmix64(&x);
	*out = s;
	return 0;
}

void amxrt_sampler_free(struct amxrt_sampler *s)
{
	if (!s)
		return;
	free(s->cand);
	free(s->prob);
	free(s->seen);
	free(s->hist);
	free(s);
}

void amxrt_sampler_accept(struct amxrt_sampler *s, int32_t id)
{
	int n = s ? s->p.repeat_last_n : 0;

	if (n <= 0 || id < 0 || id >= s->n_vocab)
		return;
	s->hist[s->hist_next] = id;
	s->hist_next = (s->hist_next + 1) % n;
	if (s->n_hist < n)
		s->n_hist++;
}

/* ---- the steps --------------------------------------------------------- */

/* a before b: larger logit first, then smaller id. */
static int before(const struct cand *a, const struct cand *b)
{
	return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

static int cmp_cand(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;

	if (before(a, b))
		return -1;
	return before(b, a) ? 1 : 0;
}

/*
 * NaN counts as -inf (never drawn); +inf as the largest float, so a +inf
 * logit wins without turning the softmax into NaN.
 */
static float clean(float x)
{
	if (isnan(x))
		return -INFINITY;
	if (x == INFINITY)
		return 3.0e38f;
	return x;
}

/* llama.cpp's penalty: once per distinct id among the last n accepted. */
static void penalize(struct amxrt_sampler *s)
{
	float pen = s->p.repeat_penalty;
	int i;

	if (pen == 1.0f || !s->n_hist)
		return;
	for (i = 0; i < s->n_hist; i++) {
		int32_t id = s->hist[i];
		float *l = &s->cand[id].logit;

		if (s->seen[id])
			continue;
		s->seen[id] = 1;
		if (*l > 0.0f)
			*l /= pen;
		else
			*l *= pen;
	}
	for (i = 0; i < s->n_hist; i++)
		s->seen[s->hist[i]] = 0;
}

static void sift_down(struct cand *h, int n, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		struct cand t;

		/* min-heap in the "before" order: the root is the worst kept */
		if (l < n && before(&h[m], &h[l]))
			m = l;
		if (r < n && before(&h[m], &h[r]))
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* Keep the best k of n candidates in cand[0 .. k), sorted. */
static int top_k(struct cand *c, int n, int k)
{
	int i;

	if (k <= 0 || k >= n) {
		qsort(c, (size_t)n, sizeof(*c), cmp_cand);
		return n;
	}
	for (i = k / 2 - 1; i >= 0; i--)
		sift_down(c, k, i);
	for (i = k; i < n; i++) {
		if (before(&c[i], &c[0])) {
			c[0] = c[i];
			sift_down(c, k, 0);
		}
	}
	qsort(c, (size_t)k, sizeof(*c), cmp_cand);
	return k;
}

/* Softmax of logit / temp over n candidates, in any order. */
static void softmax(const struct cand *c, int n, double temp, double *p)
{
	double sum = 0.0, max = c[0].logit;
	int i;

	for (i = 1; i < n; i++)
		if (c[i].logit > max)
			max = c[i].logit;
	for (i = 0; i < n; i++) {
		p[i] = exp(((double)c[i].logit - max) / temp);
		sum += p[i];
	}
	for (i = 0; i < n; i++)
		p[i] /= sum;
}

/*
 * Without top-k, sorting the whole vocabulary is the cost: min-p first
 * drops what it would drop anyway (exp(l - max) < min_p, the same test as
 * p < min_p * p_max), then only the rest is sorted. top-p still sees the
 * probabilities over every candidate: they are returned normalized by the
 * sum over all of them.
 */
static int prefilter(struct amxrt_sampler *s, int n, double *mass)
{
	const struct amxrt_sampler_params *p = &s->p;
	struct cand *c = s->cand;
	double max = c[0].logit, sum = 0.0;
	int i, k;

	for (i = 1; i < n; i++)
		if (c[i].logit > max)
			max = c[i].logit;
	for (i = 0, k = 0; i < n; i++) {
		double w = exp((double)c[i].logit - max);

		sum += w;
		if (p->min_p <= 0.0f || w >= p->min_p)
			c[k++] = c[i];
	}
	qsort(c, (size_t)k, sizeof(*c), cmp_cand);
	for (i = 0; i < k; i++)
		s->prob[i] = exp((double)c[i].logit - max) / sum;
	*mass = sum;
	return k;
}

int32_t amxrt_sample(struct amxrt_sampler *s, const float *logits)
{
	const struct amxrt_sampler_params *p;
	struct cand *c;
	double sum, u;
	int i, n, best;

	if (!s || !logits)
		return amxrt_err(EINVAL, "sample: no sampler or no logits");
	p = &s->p;
	c = s->cand;
	n = s->n_vocab;
	for (i = 0; i < n; i++) {
		c[i].id = i;
		c[i].logit = clean(logits[i]);
	}
	penalize(s);

	best = 0;
	for (i = 1; i < n; i++)
		if (before(&c[i], &c[best]))
			best = i;
	if (c[best].logit == -INFINITY)
		return amxrt_err(EINVAL, "sample: every logit is NaN or -inf");
	if (p->temp <= 0.0f)
		return c[best].id;

	/* drop impossible tokens first: they never count for k or p */
	for (i = 0, n = 0; i < s->n_vocab; i++)
		if (c[i].logit > -INFINITY)
			c[n++] = c[i];

	if (p->top_k > 0 && p->top_k < n) {
		n = top_k(c, n, p->top_k);
		if (p->top_p < 1.0f || p->min_p > 0.0f)
			softmax(c, n, 1.0, s->prob);
	} else if (p->top_p < 1.0f || p->min_p > 0.0f) {
		n = prefilter(s, n, &sum);
	}
	/* from here on c[0 .. n) is sorted if top-p or min-p is on */
	if (p->top_p < 1.0f) {
		/* the smallest prefix whose mass reaches top_p (at least 1) */
		sum = 0.0;
		for (i = 0; i < n - 1; i++) {
			sum += s->prob[i];
			if (sum >= p->top_p)
				break;
		}
		n = i + 1;
	}
	if (p->min_p > 0.0f) {
		double cut = p->min_p * s->prob[0];

		for (i = 1; i < n && s->prob[i] >= cut; i++)
			;
		n = i;
	}

	softmax(c, n, p->temp, s->prob);
	u = uniform(s->rng);
	sum = 0.0;
	for (i = 0; i < n - 1; i++) {
		sum += s->prob[i];
		if (u < sum)
			break;
	}
	return c[i].id;
}
