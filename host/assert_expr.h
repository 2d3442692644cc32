/* `--assert 'p99_ms<200 && error_rate<0.001'`: a tiny expression language over the report's
 * figures. Grammar:
 *   expr   := and ('||' and)*
 *   and    := unary ('&&' unary)*
 *   unary  := '!' unary | '(' expr ')' | cmp
 *   cmp    := value (('<' | '<=' | '>' | '>=' | '==' | '!=') value)?
 *   value  := number | name        (name: letters, digits, '_', '.', '-', e.g. api.p99_ms)
 * A bare value is true when non-zero. */
#pragma once

/* Resolves a name to its value: 0, or -1 when the name is unknown. */
typedef int (*sdsim_assert_lookup)(const char *name, double *value, void *ud);

/* Evaluates expr. Returns 1 (true), 0 (false) or -1 with a reason in err (syntax error or
 * unknown name). When names is not NULL it receives "name = value" for every name used,
 * comma separated, so a failed assertion can say what it saw. */
int sdsim_assert_eval(const char *expr, sdsim_assert_lookup lookup, void *ud, char *names,
                      int names_len, char *err, int errlen);
