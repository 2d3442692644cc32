/* Student t quantiles against published table values, and confidence intervals. */
#include "dist.h"
#include "stats.h"
#include "test.h"

typedef struct t_case {
    double conf;
    int df;
    double t; /* from a printed t table, 3 decimals */
} t_case;

/* Every entry is within 0.001 (table rounding plus the approximation). */
static void t_matches_tables(void) {
    static const t_case cases[] = {
        {0.95, 1, 12.706},  {0.95, 2, 4.303},    {0.95, 5, 2.571},   {0.95, 10, 2.228},
        {0.95, 19, 2.093},  {0.95, 30, 2.042},   {0.95, 40, 2.021},  {0.95, 60, 2.000},
        {0.95, 120, 1.980}, {0.95, 1000, 1.962}, {0.99, 1, 63.657},  {0.99, 5, 4.032},
        {0.99, 10, 3.169},  {0.99, 30, 2.750},   {0.99, 100, 2.626}, {0.90, 1, 6.314},
        {0.90, 20, 1.725},  {0.90, 60, 1.671},   {0.999, 10, 4.587}, {0.80, 8, 1.397},
        {0.99, 500, 2.586},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_NEAR(sim_t_quantile(cases[i].conf, cases[i].df), cases[i].t, 0.001);
    /* Huge df tends to the normal quantile 1.959964. */
    CHECK_NEAR(sim_t_quantile(0.95, 1000000), 1.959964, 1e-5);
}

/* No jump where the method changes (table -> exact at df 31, exact -> expansion at 201). */
static void t_is_smooth_across_methods(void) {
    double a = sim_t_quantile(0.95, 30), b = sim_t_quantile(0.95, 31);
    CHECK(b < a && a - b < 0.005);
    /* The step from df 200 to 201 is within 5 % of the step from 199 to 200 (both ~1.25e-4). */
    double s1 = sim_t_quantile(0.99, 199) - sim_t_quantile(0.99, 200);
    double s2 = sim_t_quantile(0.99, 200) - sim_t_quantile(0.99, 201);
    CHECK_REL(s2, s1, 0.05);
    CHECK(isnan(sim_t_quantile(0.95, 0)));
    CHECK(isnan(sim_t_quantile(1.5, 3)));
}

/* 1..10: mean 5.5, sample sd sqrt(55/6) = 3.02765, half-width t(9) sd / sqrt(10). */
static void ci_of_known_data(void) {
    double x[10];
    for (int i = 0; i < 10; i++)
        x[i] = i + 1;
    double mean, half;
    sim_ci(x, 10, 0.95, &mean, &half);
    CHECK_NEAR(mean, 5.5, 1e-12);
    CHECK_NEAR(half, 2.262 * sqrt(55.0 / 6) / sqrt(10), 1e-3);
    sim_ci(x, 1, 0.95, &mean, &half);
    CHECK(mean == 1 && isnan(half));
}

/* Coverage: 4000 intervals of 8 normal observations each should contain the true mean 95 %
 * of the time; the binomial standard error is 0.34 %, the tolerance 1.4 % (4 of them). */
static void ci_covers_95_percent(void) {
    sim_rng r;
    sim_rng_seed(&r, 31);
    int covered = 0;
    const int trials = 4000;
    for (int t = 0; t < trials; t++) {
        double x[8], mean, half;
        for (int i = 0; i < 8; i++) {
            double u1 = sim_rng_uniform_pos(&r), u2 = sim_rng_uniform(&r);
            x[i] = 3 + 2 * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
        }
        sim_ci(x, 8, 0.95, &mean, &half);
        covered += fabs(mean - 3) <= half;
    }
    CHECK_NEAR((double)covered / trials, 0.95, 0.014);
}

TEST_MAIN(TEST(t_matches_tables), TEST(t_is_smooth_across_methods), TEST(ci_of_known_data),
          TEST(ci_covers_95_percent))
