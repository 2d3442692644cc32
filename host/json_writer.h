/* A small streaming JSON writer: keys in the order written (so output is byte-stable),
 * numbers formatted the same way on every run, NaN and infinities written as null. */
#pragma once
#include <stdio.h>

#define SDSIM_JSON_MAX_DEPTH 32

typedef struct sdsim_json {
    FILE *out;
    int depth;
    int count[SDSIM_JSON_MAX_DEPTH]; /* values written so far at each level */
    int pretty;
} sdsim_json;

void sdsim_json_init(sdsim_json *j, FILE *out, int pretty);
void sdsim_json_object_begin(sdsim_json *j);
void sdsim_json_object_end(sdsim_json *j);
void sdsim_json_array_begin(sdsim_json *j);
void sdsim_json_array_end(sdsim_json *j);
/* Inside an object: the key of the next value. */
void sdsim_json_key(sdsim_json *j, const char *key);
void sdsim_json_string(sdsim_json *j, const char *s);
void sdsim_json_number(sdsim_json *j, double v);
void sdsim_json_integer(sdsim_json *j, long long v);
void sdsim_json_bool(sdsim_json *j, int v);
void sdsim_json_null(sdsim_json *j);

/* Key and value in one call, the common case. */
void sdsim_json_kv_number(sdsim_json *j, const char *key, double v);
void sdsim_json_kv_integer(sdsim_json *j, const char *key, long long v);
void sdsim_json_kv_string(sdsim_json *j, const char *key, const char *s);
