/* The PRNG: seeding through splitmix64, determinism, streams, and uniformity. */
#include <string.h>

#include "rng.h"
#include "test.h"

/* splitmix64's first output for seed 0 is a published reference value: the state must start
 * with it if sim_rng_seed follows the xoshiro authors' recommendation. */
static void seed_uses_splitmix64(void) {
    sim_rng r;
    sim_rng_seed(&r, 0);
    CHECK(r.s[0] == 0xE220A8397B1DCDAFull);
    CHECK(r.s[0] | r.s[1] | r.s[2] | r.s[3]);
}

static void same_seed_same_sequence(void) {
    sim_rng a, b, c;
    sim_rng_seed(&a, 42);
    sim_rng_seed(&b, 42);
    sim_rng_seed(&c, 43);
    int same_ab = 1, same_ac = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = sim_rng_next(&a), y = sim_rng_next(&b), z = sim_rng_next(&c);
        same_ab &= x == y;
        same_ac += x == z;
    }
    CHECK(same_ab);
    CHECK(same_ac == 0);
}

static void streams_are_deterministic_and_distinct(void) {
    sim_rng a, b, c, d;
    sim_rng_seed_stream(&a, 7, 3);
    sim_rng_seed_stream(&b, 7, 3);
    sim_rng_seed_stream(&c, 7, 4);
    sim_rng_seed_stream(&d, 3, 7);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    CHECK(memcmp(&a, &c, sizeof a) != 0);
    CHECK(memcmp(&a, &d, sizeof a) != 0);
    /* Two streams are uncorrelated: |r| < 4 / sqrt(N) (4 standard errors). */
    const int n = 200000;
    double sx = 0, sy = 0, sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++) {
        double x = sim_rng_uniform(&a), y = sim_rng_uniform(&c);
        sx += x, sy += y, sxy += x * y, sxx += x * x, syy += y * y;
    }
    double cov = sxy / n - (sx / n) * (sy / n);
    double corr = cov / sqrt((sxx / n - (sx / n) * (sx / n)) * (syy / n - (sy / n) * (sy / n)));
    CHECK_NEAR(corr, 0, 4 / sqrt(n));
}

/* Chi-square over 100 equal bins of sim_rng_uniform, N = 10^6: with 99 degrees of freedom the
 * statistic exceeds 148.2 with probability 0.001. Checked for several seeds and streams. */
static void uniform_passes_chi_square(void) {
    for (uint64_t seed = 1; seed <= 4; seed++) {
        sim_rng r;
        sim_rng_seed_stream(&r, seed, seed * 11);
        static long bins[100];
        memset(bins, 0, sizeof bins);
        const int n = 1000000;
        double sum = 0;
        int bad = 0;
        for (int i = 0; i < n; i++) {
            double u = sim_rng_uniform(&r);
            if (!(u >= 0 && u < 1)) u = 0.5, bad++;
            sum += u;
            bins[(int)(u * 100)]++;
        }
        double chi2 = 0, expect = n / 100.0;
        CHECK(bad == 0);
        for (int b = 0; b < 100; b++)
            chi2 += (bins[b] - expect) * (bins[b] - expect) / expect;
        CHECK(chi2 < 148.2);
        /* Mean 1/2, standard error sqrt(1/12 / N) = 2.9e-4: 5 standard errors. */
        CHECK_NEAR(sum / n, 0.5, 5 * sqrt(1.0 / 12 / n));
    }
}

/* sim_rng_below(n) over n = 10: chi-square with 9 degrees of freedom, 27.88 at p = 0.001. */
static void below_is_uniform(void) {
    sim_rng r;
    sim_rng_seed(&r, 99);
    long bins[10] = {0};
    const int n = 1000000;
    for (int i = 0; i < n; i++) {
        uint32_t k = sim_rng_below(&r, 10);
        if (k < 10)
            bins[k]++;
        else
            bins[0] += n; /* out of range: makes the chi-square fail */
    }
    double chi2 = 0, expect = n / 10.0;
    for (int b = 0; b < 10; b++)
        chi2 += (bins[b] - expect) * (bins[b] - expect) / expect;
    CHECK(chi2 < 27.88);
}

static void uniform_pos_is_never_zero(void) {
    sim_rng r;
    sim_rng_seed(&r, 5);
    int bad = 0;
    for (int i = 0; i < 1000000; i++) {
        double u = sim_rng_uniform_pos(&r);
        bad += !(u > 0 && u <= 1);
    }
    CHECK(bad == 0);
}

TEST_MAIN(TEST(seed_uses_splitmix64), TEST(same_seed_same_sequence),
          TEST(streams_are_deterministic_and_distinct), TEST(uniform_passes_chi_square),
          TEST(below_is_uniform), TEST(uniform_pos_is_never_zero))
