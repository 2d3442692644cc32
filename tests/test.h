/* A minimal test harness: each test program is a list of functions; CHECK records a failure
 * and carries on; the program prints "N passed, N failed" and exits non-zero on any failure. */
#pragma once
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int test_checks_failed_;
static int test_current_failed_;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);             \
            test_current_failed_ = 1;                                                              \
            test_checks_failed_++;                                                                 \
        }                                                                                          \
    } while (0)

/* |actual - expected| <= tol, printing both numbers when it fails. */
#define CHECK_NEAR(actual, expected, tol)                                                          \
    do {                                                                                           \
        double a_ = (actual), e_ = (expected), t_ = (tol);                                         \
        if (!(fabs(a_ - e_) <= t_)) {                                                              \
            fprintf(stderr, "  %s:%d: %s = %.6g, expected %.6g +- %.3g\n", __FILE__, __LINE__,     \
                    #actual, a_, e_, t_);                                                          \
            test_current_failed_ = 1;                                                              \
            test_checks_failed_++;                                                                 \
        }                                                                                          \
    } while (0)

/* Relative tolerance: |actual - expected| <= rel * |expected|. */
#define CHECK_REL(actual, expected, rel)                                                           \
    do {                                                                                           \
        double a_ = (actual), e_ = (expected), r_ = (rel);                                         \
        if (!(fabs(a_ - e_) <= r_ * fabs(e_))) {                                                   \
            fprintf(stderr, "  %s:%d: %s = %.6g, expected %.6g within %.1f%%\n", __FILE__,         \
                    __LINE__, #actual, a_, e_, 100 * r_);                                          \
            test_current_failed_ = 1;                                                              \
            test_checks_failed_++;                                                                 \
        }                                                                                          \
    } while (0)

typedef struct test_case {
    const char *name;
    void (*fn)(void);
} test_case;

#define TEST(name)                                                                                 \
    { #name, name }

static inline int test_main(const test_case *cases, int n) {
    int passed = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        test_current_failed_ = 0;
        cases[i].fn();
        if (test_current_failed_) {
            failed++;
            printf("FAIL %s\n", cases[i].name);
        } else {
            passed++;
            printf("ok   %s\n", cases[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#define TEST_MAIN(...)                                                                             \
    int main(void) {                                                                               \
        static const test_case cases_[] = {__VA_ARGS__};                                           \
        return test_main(cases_, (int)(sizeof cases_ / sizeof cases_[0]));                         \
    }
