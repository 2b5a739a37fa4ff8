/* fuzz_asan_options.c: ASan defaults for every fuzz target (ASAN_OPTIONS still wins).
 * Each execution creates and frees stacks of some 100 KB; with ASan's 256 MB quarantine
 * every new one lands on fresh pages, and the page faults cost more than the execution
 * itself. 16 MB still holds everything one execution frees, so a use after free within
 * an input is caught as before. */
const char *__asan_default_options(void);

const char *__asan_default_options(void)
{
    return "quarantine_size_mb=16";
}
