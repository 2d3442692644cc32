/* The JSON writer: commas, nesting, escaping and number formats, byte for byte. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "json_writer.h"
#include "test.h"

static char *render(void (*fill)(sdsim_json *)) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sdsim_json j;
    sdsim_json_init(&j, f, 0);
    fill(&j);
    fclose(f);
    return buf;
}

static void fill_nested(sdsim_json *j) {
    sdsim_json_object_begin(j);
    sdsim_json_kv_string(j, "name", "a\"b\\c\n\x01");
    sdsim_json_key(j, "list");
    sdsim_json_array_begin(j);
    sdsim_json_number(j, 1.5);
    sdsim_json_number(j, NAN);
    sdsim_json_number(j, -0.0);
    sdsim_json_integer(j, 42);
    sdsim_json_object_begin(j);
    sdsim_json_object_end(j);
    sdsim_json_array_end(j);
    sdsim_json_key(j, "ok");
    sdsim_json_bool(j, 1);
    sdsim_json_kv_number(j, "inf", INFINITY);
    sdsim_json_object_end(j);
}

static void nested_output_is_exact(void) {
    char *s = render(fill_nested);
    const char *want = "{\"name\":\"a\\\"b\\\\c\\n\\u0001\",\"list\":[1.5,null,0,42,{}],"
                       "\"ok\":true,\"inf\":null}\n";
    CHECK(strcmp(s, want) == 0);
    if (strcmp(s, want)) fprintf(stderr, "  got %s", s);
    free(s);
}

static void fill_numbers(sdsim_json *j) {
    sdsim_json_array_begin(j);
    sdsim_json_number(j, 0.1);
    sdsim_json_number(j, 123456789.0);
    sdsim_json_number(j, 1e-7);
    sdsim_json_array_end(j);
}

static void numbers_round_trip(void) {
    char *s = render(fill_numbers);
    CHECK(strcmp(s, "[0.1,123456789,1e-07]\n") == 0);
    free(s);
}

TEST_MAIN(TEST(nested_output_is_exact), TEST(numbers_round_trip))
