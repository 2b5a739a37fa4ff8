/* sim/ts_rng.h: the one seeded pseudo-random generator behind every random choice of the
 * simulator and of the link models (xoshiro256**, seeded through splitmix64). The state is
 * a plain value passed by pointer, so a TUN loop can own one too. Same seed, same draws. */
#ifndef TS_SIM_RNG_H
#define TS_SIM_RNG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ts_rng {
    uint64_t s[4];
} ts_rng;

/* splitmix64 step: advances *x and returns a well-mixed 64-bit value. Also used to derive
 * independent seeds (per host, per link) from the run's seed. */
uint64_t ts_splitmix64(uint64_t *x);

void ts_rng_seed(ts_rng *r, uint64_t seed);
uint64_t ts_rng_next(ts_rng *r);
/* Uniform in [0, n); n = 0 gives 0. Unbiased (Lemire's multiply-and-reject). */
uint64_t ts_rng_below(ts_rng *r, uint64_t n);
/* Uniform double in [0, 1) with 53 random bits. */
double ts_rng_unit(ts_rng *r);
/* True with probability p (clamped to [0, 1]); p = 0 and p = 1 draw nothing, so an
 * impairment that is off never shifts the sequence of draws of the others. */
bool ts_rng_chance(ts_rng *r, double p);

#endif
