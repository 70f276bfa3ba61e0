// SPDX-License-Identifier: MIT
/*
 * Description: the ggml block types byte for byte: reference quantizers
 * against vectors derived from the format rules (scale choice and its sign,
 * truncation in Q4, round-half-away in Q8, clamping), dequantizers, the
 * fp16/bf16 conversions, and round-trip error bounds on random data.
 *
 * The expected bytes were produced from the rules written in quant.h by an
 * independent float32 emulation (not by this library) and the "ramp" Q4_0
 * case was also derived by hand: d = -16 / -8 = 2, q = trunc(x / 2 + 8.5),
 * so byte j = q(j - 16) | q(j) << 4 = 0x80, 0x91, 0x91, 0xa2, ... 0xf8
 * (the last high nibble, 16, clamps to 15).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "kselftest_harness.h"
#include "helpers.h"

#include <amxrt/amxrt.h>

struct vector {
	const char *name;
	float x[32];
	const char *q4_0, *q4_1, *q8_0, *q8_1; /* hex */
};

/* clang-format off */
static const struct vector vectors[] = {
	{ "ramp", { -16, -15, -14, -13, -12, -11, -10, -9, -8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	  "0040809191a2a2b3b3c4c4d5d5e6e6f7f7f8",
	  "224000cc80809191a2a2b3b3c4c4d5d5e6e6f7f7",
	  "083081899199a1a9b1b9c0c8d0d8e0e8f0f8000810182028303840474f575f676f77",
	  "083000cc81899199a1a9b1b9c0c8d0d8e0e8f0f8000810182028303840474f575f676f77" },
	{ "neg", { 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15 },
	  "00c0809191a2a2b3b3c4c4d5d5e6e6f7f7f8",
	  "224080cb7f7f6e6e5d5d4c4c3b3b2a2a19190808",
	  "08307f776f675f574f47403830282018100800f8f0e8e0d8d0c8c0b9b1a9a1999189",
	  "0830004c7f776f675f574f47403830282018100800f8f0e8e0d8d0c8c0b9b1a9a1999189" },
	{ "zero", { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	  "008088888888888888888888888888888888",
	  "0000000000000000000000000000000000000000",
	  "00000000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000000000000000000000000000000000000000000000000000" },
	{ "tie", { -3, 0, 0, 0, 0, 3, 0, 0, 0, 1.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1.125, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	  "003680888888588f8888888c888888888888",
	  "663600c280888888588f8888888b888888888888",
	  "0c2681000000007f0000004000000000000000000000d00000000000000000000000",
	  "0c260c3681000000007f0000004000000000000000000000d00000000000000000000000" },
	{ "frac", { 0, 0.0422108844, 0.0692724884, 0.0731604695, 0.0567494072, -0.0175391622, -0.033578787, -0.0291226301, -0.00156333193, 0.0408406965, 0.0328493305, 0.0594084114, 0.0627299473, 0.0459549166, 0.021676043, -0.0439847894, -0.0389588848, -0.0109068556, 0.0316811539, 0.0734784901, 0.0495303683, 0.0522873402, 0.0351559184, 0.0108964294, -0.00437835185, -0.0487813018, -0.0202416405, 0.0225211345, 0.0640981793, 0.0896383226, 0.0418327823, 0.0243526325 },
	  "bda1b8945211433a5b7b88c4a5632204466c",
	  "ba203eaa154a9dddbbb39262550a398cccfaa881",
	  "c811003c626850e7d0d7fe3a2f5459411fc2c9f12d68464a320ffabbe3205b7f3b23",
	  "c811053a003c626850e7d0d7fe3a2f5459411fc2c9f12d68464a320ffabbe3205b7f3b23" },
};
/* clang-format on */

static void unhex(const char *hex, uint8_t *out, size_t *len)
{
	size_t i;

	*len = strlen(hex) / 2;
	for (i = 0; i < *len; i++) {
		unsigned int v;

		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static int check_vector(struct __test_metadata *_metadata, enum amxrt_type type,
			const struct vector *v, const char *hex)
{
	uint8_t want[64], got[64];
	size_t len;

	unhex(hex, want, &len);
	ASSERT_EQ((int64_t)len, amxrt_row_bytes(type, 32));
	memset(got, 0xcc, sizeof(got));
	ASSERT_EQ(0, amxrt_quantize_row(type, v->x, got, 32));
	if (memcmp(want, got, len)) {
		size_t i;

		for (i = 0; i < len && want[i] == got[i]; i++)
			;
		TH_LOG("%s %s: byte %zu is 0x%02x, want 0x%02x",
		       amxrt_type_name(type), v->name, i, got[i], want[i]);
		return -1;
	}
	/* the bytes after the block are untouched */
	ASSERT_EQ(0xcc, got[len]);
	return 0;
}

TEST(quantizers_match_vectors)
{
	size_t i;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];

		EXPECT_EQ(0,
			  check_vector(_metadata, AMXRT_TYPE_Q4_0, v, v->q4_0));
		EXPECT_EQ(0,
			  check_vector(_metadata, AMXRT_TYPE_Q4_1, v, v->q4_1));
		EXPECT_EQ(0,
			  check_vector(_metadata, AMXRT_TYPE_Q8_0, v, v->q8_0));
		EXPECT_EQ(0,
			  check_vector(_metadata, AMXRT_TYPE_Q8_1, v, v->q8_1));
	}
}

/* The sign of the Q4_0 scale follows the value of largest magnitude. */
TEST(q4_0_scale_sign)
{
	float x[32] = { 0 };
	uint8_t b[18];

	x[3] = 4.0f; /* largest magnitude, positive: d = 4 / -8 = -0.5 */
	x[7] = -2.0f;
	ASSERT_EQ(0, amxrt_quantize_row(AMXRT_TYPE_Q4_0, x, b, 32));
	ASSERT_EQ(0x00, b[0]); /* fp16 -0.5 = 0xb800 */
	ASSERT_EQ(0xb8, b[1]);
	/* x = 4 -> 4 / -0.5 + 8.5 = 0.5 -> 0; x = -2 -> 12.5 -> 12 */
	ASSERT_EQ(0, b[2 + 3] & 15);
	ASSERT_EQ(12, b[2 + 7] & 15);
	/* zeros -> 8 */
	ASSERT_EQ(8, b[2 + 0] & 15);
	ASSERT_EQ(8, b[2 + 0] >> 4);
}

TEST(dequantize_by_hand)
{
	/* Q4_0: d = 2 (0x4000), byte 0x91: low 1 -> 2 * (1 - 8) = -14,
	 * high 9 -> 2 * (9 - 8) = 2 */
	uint8_t q40[18] = { 0x00, 0x40, 0x91 };
	/* Q4_1: d = 0.5 (0x3800), m = -1 (0xbc00), byte 0xf3: 0.5 * 3 - 1,
	 * 0.5 * 15 - 1 */
	uint8_t q41[20] = { 0x00, 0x38, 0x00, 0xbc, 0xf3 };
	/* Q8_0: d = 0.25 (0x3400), q = -128, 127 */
	uint8_t q80[34] = { 0x00, 0x34, 0x80, 0x7f };
	float y[32];

	ASSERT_EQ(0, amxrt_dequantize_row(AMXRT_TYPE_Q4_0, q40, y, 32));
	ASSERT_EQ(-14.0f, y[0]);
	ASSERT_EQ(2.0f, y[16]);
	ASSERT_EQ(-16.0f, y[1]); /* byte 0 -> q 0 -> 2 * -8 */
	ASSERT_EQ(0, amxrt_dequantize_row(AMXRT_TYPE_Q4_1, q41, y, 32));
	ASSERT_EQ(0.5f, y[0]);
	ASSERT_EQ(6.5f, y[16]);
	ASSERT_EQ(-1.0f, y[1]);
	ASSERT_EQ(0, amxrt_dequantize_row(AMXRT_TYPE_Q8_0, q80, y, 32));
	ASSERT_EQ(-32.0f, y[0]);
	ASSERT_EQ(31.75f, y[1]);
	ASSERT_EQ(0.0f, y[2]);
}

TEST(fp16_conversions)
{
	ASSERT_EQ(0x3c00, amxrt_fp32_to_fp16(1.0f));
	ASSERT_EQ(0xc000, amxrt_fp32_to_fp16(-2.0f));
	ASSERT_EQ(0x7bff, amxrt_fp32_to_fp16(65504.0f)); /* largest */
	ASSERT_EQ(0x7c00, amxrt_fp32_to_fp16(65520.0f)); /* ties up to inf */
	ASSERT_EQ(0x7bff, amxrt_fp32_to_fp16(65519.0f));
	ASSERT_EQ(0x3555, amxrt_fp32_to_fp16(1.0f / 3.0f));
	ASSERT_EQ(0x0001, amxrt_fp32_to_fp16(0x1p-24f)); /* subnormal */
	ASSERT_EQ(0x0000, amxrt_fp32_to_fp16(0x1p-25f)); /* tie to even 0 */
	ASSERT_EQ(0x0002, amxrt_fp32_to_fp16(0x3p-25f)); /* tie to even 2 */
	ASSERT_EQ(0x3c00, amxrt_fp32_to_fp16(1.0f + 0x1p-11f)); /* tie down */
	ASSERT_EQ(0x3c02, amxrt_fp32_to_fp16(1.0f + 0x3p-11f)); /* tie up */
	ASSERT_EQ(0x7e00, amxrt_fp32_to_fp16(NAN) & 0x7e00);
	ASSERT_EQ(1.0f, amxrt_fp16_to_fp32(0x3c00));
	ASSERT_EQ(0x1p-24f, amxrt_fp16_to_fp32(0x0001));
	ASSERT_TRUE(isinf(amxrt_fp16_to_fp32(0xfc00)));
	ASSERT_TRUE(isnan(amxrt_fp16_to_fp32(0x7e01)));
}

TEST(bf16_conversions)
{
	ASSERT_EQ(0x3f80, amxrt_fp32_to_bf16(1.0f));
	ASSERT_EQ(0x3f80, amxrt_fp32_to_bf16(1.0f + 0x1p-8f)); /* tie, even */
	ASSERT_EQ(0x3f82, amxrt_fp32_to_bf16(1.0f + 0x3p-8f)); /* tie, even */
	ASSERT_EQ(0x3f81, amxrt_fp32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f));
	ASSERT_EQ(0xc000, amxrt_fp32_to_bf16(-2.0f));
	ASSERT_EQ(0x7f80, amxrt_fp32_to_bf16(INFINITY));
	ASSERT_EQ(0x7f80, amxrt_fp32_to_bf16(
				  0x1.fffffep127f)); /* FLT_MAX rounds to inf */
	{
		/* a signalling NaN stays a NaN and becomes quiet */
		uint32_t snan = 0x7f800001;
		float f;

		memcpy(&f, &snan, 4);
		ASSERT_EQ(0x7fc0, amxrt_fp32_to_bf16(f));
	}
	ASSERT_EQ(-2.0f, amxrt_bf16_to_fp32(0xc000));
}

/* Random data: decoding what was encoded stays within the format's step. */
TEST(round_trip_bounds)
{
	enum amxrt_type types[] = { AMXRT_TYPE_Q4_0, AMXRT_TYPE_Q4_1,
				    AMXRT_TYPE_Q8_0, AMXRT_TYPE_Q8_1,
				    AMXRT_TYPE_F16,  AMXRT_TYPE_BF16,
				    AMXRT_TYPE_F32 };
	const int64_t k = 4096;
	float *x = test_matrix(1, k, 3.0f), *y = malloc(k * 4);
	uint8_t *q = malloc(k * 4);
	size_t t;

	ASSERT_NE(NULL, x);
	for (t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		enum amxrt_type type = types[t];
		int64_t i;

		ASSERT_EQ(0, amxrt_quantize_row(type, x, q, k));
		ASSERT_EQ(0, amxrt_dequantize_row(type, q, y, k));
		for (i = 0; i < k; i++) {
			int64_t b = i / 32;
			double amax = 0, lo = INFINITY, hi = -INFINITY, bound;
			int64_t j;

			for (j = b * 32; j < b * 32 + 32; j++) {
				amax = fmax(amax, fabs(x[j]));
				lo = fmin(lo, x[j]);
				hi = fmax(hi, x[j]);
			}
			/*
			 * Step / 2 per format; fp16 storage of the scale adds
			 * at most 2^-11 relative per unit of q (and for Q4_1
			 * of the minimum), hence the 1.01 and the extra term.
			 * Q4_0 may clamp q = 16 to 15 for values of the other
			 * sign than the largest: a full step there.
			 */
			switch (type) {
			case AMXRT_TYPE_Q4_0:
				bound = amax / 8 * 1.01;
				break;
			case AMXRT_TYPE_Q4_1:
				bound = (hi - lo) / 30 * 1.01 +
					fabs(lo) * 0x1p-11 +
					(hi - lo) * 0x1p-11;
				break;
			case AMXRT_TYPE_Q8_0:
			case AMXRT_TYPE_Q8_1:
				bound = amax / 254 * 1.01 + amax * 0x1p-11;
				break;
			case AMXRT_TYPE_F16:
				/* below 2^-14 fp16 is subnormal: step 2^-24 */
				bound = fmax(fabs(x[i]) * 0x1p-11, 0x1p-25);
				break;
			case AMXRT_TYPE_BF16:
				bound = fabs(x[i]) * 0x1p-8;
				break;
			default:
				bound = 0;
				break;
			}
			if (fabs((double)y[i] - x[i]) > bound) {
				TH_LOG("%s: x[%lld] = %g decodes to %g (bound %g)",
				       amxrt_type_name(type), (long long)i,
				       x[i], y[i], bound);
				ASSERT_TRUE(0);
			}
		}
	}
	free(x);
	free(y);
	free(q);
}

TEST(type_table)
{
	ASSERT_EQ(18, amxrt_type_block_bytes(AMXRT_TYPE_Q4_0));
	ASSERT_EQ(20, amxrt_type_block_bytes(AMXRT_TYPE_Q4_1));
	ASSERT_EQ(34, amxrt_type_block_bytes(AMXRT_TYPE_Q8_0));
	ASSERT_EQ(36, amxrt_type_block_bytes(AMXRT_TYPE_Q8_1));
	ASSERT_EQ(2, amxrt_type_block_bytes(AMXRT_TYPE_BF16));
	ASSERT_EQ(0, amxrt_type_block_bytes((enum amxrt_type)77));
	ASSERT_EQ(4096 / 32 * 18, amxrt_row_bytes(AMXRT_TYPE_Q4_0, 4096));
	ASSERT_EQ(172 * 2, amxrt_row_bytes(AMXRT_TYPE_F16, 172));
	ASSERT_EQ(-EINVAL, amxrt_row_bytes(AMXRT_TYPE_Q8_0, 33));
	ASSERT_NE(NULL, strstr(amxrt_errmsg(), "multiple of 32"));
	ASSERT_EQ(-EINVAL, amxrt_row_bytes((enum amxrt_type)77, 32));
	ASSERT_EQ(AMXRT_TYPE_Q4_1, amxrt_type_parse("Q4_1"));
	ASSERT_EQ(AMXRT_TYPE_BF16, amxrt_type_parse("bf16"));
	ASSERT_EQ(-EINVAL, amxrt_type_parse("q5_k"));
	ASSERT_NE(NULL, strstr(amxrt_errmsg(), "q5_k"));
	ASSERT_STREQ("q8_0", amxrt_type_name(AMXRT_TYPE_Q8_0));
	ASSERT_EQ(NULL, amxrt_type_name((enum amxrt_type)5));
	{
		float x[32] = { 0 };
		uint8_t b[64];

		ASSERT_EQ(-EINVAL,
			  amxrt_quantize_row(AMXRT_TYPE_Q4_0, x, b, 31));
		ASSERT_EQ(-EINVAL,
			  amxrt_dequantize_row((enum amxrt_type)4, b, x, 32));
	}
}

TEST_HARNESS_MAIN
