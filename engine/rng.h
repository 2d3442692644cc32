/* Seeded pseudo-random numbers: xoshiro256** seeded through splitmix64.
 * Fast, small state, and the same sequence on every machine for a given seed. */
#pragma once
#include <stdint.h>

typedef struct sim_rng {
    uint64_t s[4];
} sim_rng;

/* Seeds the generator; every seed (0 included) gives a well-mixed state. */
void sim_rng_seed(sim_rng *r, uint64_t seed);

/* Derives an independent stream: the same (seed, stream) always gives the same sequence. */
void sim_rng_seed_stream(sim_rng *r, uint64_t seed, uint64_t stream);

static inline uint64_t sim_rng_rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t sim_rng_next(sim_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = sim_rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = sim_rng_rotl(s[3], 45);
    return result;
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double sim_rng_uniform(sim_rng *r) {
    return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform double in (0, 1]: safe to take a logarithm of. */
static inline double sim_rng_uniform_pos(sim_rng *r) {
    return ((double)(sim_rng_next(r) >> 11) + 1.0) * 0x1.0p-53;
}

/* Uniform integer in [0, n), n > 0, without modulo bias worth speaking of (Lemire). */
static inline uint32_t sim_rng_below(sim_rng *r, uint32_t n) {
    return (uint32_t)(((sim_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}
