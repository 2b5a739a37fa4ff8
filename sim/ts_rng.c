/* sim/ts_rng.c: xoshiro256** (Blackman and Vigna's public-domain design), seeded by
 * splitmix64, written from the published algorithm description. */
#include "ts_rng.h"

uint64_t ts_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void ts_rng_seed(ts_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = ts_splitmix64(&x);
    /* An all-zero state would stay zero forever; splitmix64 cannot produce four zeros
     * in a row, but be explicit. */
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1;
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t ts_rng_next(ts_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t ts_rng_below(ts_rng *r, uint64_t n)
{
    if (n == 0) return 0;
    /* Lemire: the high word of a 64x64 product is uniform once the low word is outside
     * the biased zone. */
    unsigned __int128 m = (unsigned __int128)ts_rng_next(r) * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t threshold = -n % n;
        while (lo < threshold) {
            m = (unsigned __int128)ts_rng_next(r) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double ts_rng_unit(ts_rng *r)
{
    return (double)(ts_rng_next(r) >> 11) * 0x1.0p-53;
}

bool ts_rng_chance(ts_rng *r, double p)
{
    if (!(p > 0.0)) return false;
    if (p >= 1.0) return true;
    return ts_rng_unit(r) < p;
}
