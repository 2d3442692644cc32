/* Student t quantiles and confidence intervals.
 *
 * 95 % (the level every report uses) comes from a table for df 1..30; other levels and
 * df 1..200 invert the t distribution exactly (regularised incomplete beta, bisection);
 * beyond df 200 the Cornish-Fisher expansion around the normal quantile (Abramowitz and
 * Stegun 26.7.5) is within 1e-6 of the exact value. */
#include "stats.h"

#include <math.h>

static const double t95[31] = {
    NAN,   12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179,  2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080,
    2.074, 2.069,  2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
};

/* Standard normal quantile: Acklam's rational approximation (relative error 1.2e-9), then
 * one Halley step on erfc to reach double precision. */
static double normal_quantile(double p) {
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    double x;
    if (p < 0.02425) {
        double q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p > 1 - 0.02425) {
        double q = sqrt(-2 * log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    double e = 0.5 * erfc(-x / sqrt(2)) - p;
    double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

/* Continued fraction of the incomplete beta function (modified Lentz). */
static double beta_cf(double a, double b, double x) {
    const double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 10000; m++) {
        double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
        d = 1 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-15) break;
    }
    return h;
}

/* Regularised incomplete beta I_x(a, b). */
static double inc_beta(double a, double b, double x) {
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1) / (a + b + 2)) return exp(lbt) * beta_cf(a, b, x) / a;
    return 1 - exp(lbt) * beta_cf(b, a, 1 - x) / b;
}

/* Two-sided: P(|T| > t) = I_{df/(df+t^2)}(df/2, 1/2), increasing in x = df/(df+t^2). Solve for
 * x by bisection (I is monotone), then t = sqrt(df (1 - x) / x). */
static double t_exact(double alpha, int df) {
    double lo = 0, hi = 1, a = df / 2.0;
    for (int i = 0; i < 200 && hi - lo > 1e-17; i++) {
        double mid = 0.5 * (lo + hi);
        if (inc_beta(a, 0.5, mid) < alpha)
            lo = mid;
        else
            hi = mid;
    }
    double x = 0.5 * (lo + hi);
    return sqrt(df * (1 - x) / x);
}

static double t_cornish_fisher(double alpha, int df) {
    double z = normal_quantile(1 - alpha / 2), z2 = z * z, n = df;
    double g1 = (z2 + 1) * z / 4;
    double g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
    double g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
    double g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160;
    return z + g1 / n + g2 / (n * n) + g3 / (n * n * n) + g4 / (n * n * n * n);
}

double sim_t_quantile(double confidence, int df) {
    if (df < 1 || !(confidence > 0 && confidence < 1)) return NAN;
    double alpha = 1 - confidence;
    if (fabs(confidence - 0.95) < 1e-12 && df <= 30) return t95[df];
    if (df <= 200) return t_exact(alpha, df);
    return t_cornish_fisher(alpha, df);
}

void sim_ci(const double *x, int n, double confidence, double *mean, double *half_width) {
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += x[i];
    double m = n > 0 ? sum / n : NAN;
    if (mean) *mean = m;
    if (!half_width) return;
    if (n < 2) {
        *half_width = NAN;
        return;
    }
    double ss = 0;
    for (int i = 0; i < n; i++)
        ss += (x[i] - m) * (x[i] - m);
    double sd = sqrt(ss / (n - 1));
    *half_width = sim_t_quantile(confidence, n - 1) * sd / sqrt(n);
}
