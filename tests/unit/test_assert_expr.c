/* --assert expressions: precedence, comparisons, names, and clear errors on bad input. */
#include <string.h>
#include "assert_expr.h"
#include "test.h"

static int lookup(const char *name, double *v, void *ud) {
    (void)ud;
    if (!strcmp(name, "p99_ms")) return *v = 180, 0;
    if (!strcmp(name, "error_rate")) return *v = 0.002, 0;
    if (!strcmp(name, "api.utilization")) return *v = 0.75, 0;
    return -1;
}

static int eval(const char *expr) {
    char err[256];
    return sdsim_assert_eval(expr, lookup, NULL, NULL, 0, err, sizeof err);
}

static void comparisons(void) {
    CHECK(eval("p99_ms<200") == 1);
    CHECK(eval("p99_ms < 180") == 0);
    CHECK(eval("p99_ms<=180") == 1);
    CHECK(eval("p99_ms>=180.5") == 0);
    CHECK(eval("p99_ms == 180") == 1);
    CHECK(eval("p99_ms != 180") == 0);
    CHECK(eval("api.utilization > 0.7") == 1);
    CHECK(eval("error_rate < 1e-3") == 0);
}

static void logic_and_precedence(void) {
    CHECK(eval("p99_ms<200 && error_rate<0.001") == 0);
    CHECK(eval("p99_ms<200 || error_rate<0.001") == 1);
    /* && binds tighter than ||: true || (false && false) */
    CHECK(eval("p99_ms<200 || error_rate<0.001 && p99_ms>1000") == 1);
    CHECK(eval("(p99_ms<200 || error_rate<0.001) && p99_ms>1000") == 0);
    CHECK(eval("!(p99_ms>200)") == 1);
    CHECK(eval("!p99_ms") == 0);
}

static void names_are_reported(void) {
    char names[256], err[256];
    int r = sdsim_assert_eval("p99_ms<100 && error_rate<0.01", lookup, NULL, names, sizeof names,
                              err, sizeof err);
    CHECK(r == 0);
    CHECK(strstr(names, "p99_ms = 180") != NULL);
    CHECK(strstr(names, "error_rate = 0.002") != NULL);
}

static void errors_are_clear(void) {
    char err[256];
    CHECK(sdsim_assert_eval("p98_ms<3", lookup, NULL, NULL, 0, err, sizeof err) == -1);
    CHECK(strstr(err, "p98_ms") != NULL);
    CHECK(sdsim_assert_eval("p99_ms <", lookup, NULL, NULL, 0, err, sizeof err) == -1);
    CHECK(sdsim_assert_eval("(p99_ms < 3", lookup, NULL, NULL, 0, err, sizeof err) == -1);
    CHECK(strstr(err, ")") != NULL);
    CHECK(sdsim_assert_eval("p99_ms < 3 garbage", lookup, NULL, NULL, 0, err, sizeof err) == -1);
    CHECK(sdsim_assert_eval("", lookup, NULL, NULL, 0, err, sizeof err) == -1);
    CHECK(sdsim_assert_eval("p99_ms < 1e999", lookup, NULL, NULL, 0, err, sizeof err) == -1);
    /* Deep nesting is refused, not a stack overflow. */
    char deep[20001];
    memset(deep, '(', 20000);
    deep[20000] = 0;
    CHECK(sdsim_assert_eval(deep, lookup, NULL, NULL, 0, err, sizeof err) == -1);
}

TEST_MAIN(TEST(comparisons), TEST(logic_and_precedence), TEST(names_are_reported),
          TEST(errors_are_clear))
