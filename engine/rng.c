/* Seeding of the xoshiro256** generator (the generator itself is inline in rng.h). */
#include "rng.h"

/* splitmix64 (Vigna): a bijective mixer whose consecutive outputs are well spread, the
 * recommended way to turn one 64-bit seed into xoshiro's 256-bit state. */
static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Four consecutive splitmix64 outputs are distinct (splitmix64 is a bijection of distinct
 * counters), so the state is never all zero, which xoshiro forbids. */
static void seed_from(sim_rng *r, uint64_t state) {
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&state);
}

void sim_rng_seed(sim_rng *r, uint64_t seed) {
    seed_from(r, seed);
}

/* The stream number is mixed on its own before being combined with the mixed seed, so that
 * nearby (seed, stream) pairs such as (1, 2) and (2, 1) land on unrelated states; the
 * 2^256 period makes an overlap between the streams of one run practically impossible. */
void sim_rng_seed_stream(sim_rng *r, uint64_t seed, uint64_t stream) {
    uint64_t a = seed, b = stream ^ 0xD1B54A32D192ED03ull;
    uint64_t ms = splitmix64(&a);
    uint64_t mt = splitmix64(&b);
    seed_from(r, ms ^ (mt * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull));
}
