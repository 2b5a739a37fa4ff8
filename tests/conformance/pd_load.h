/* pd_load.h: load libtcpsim_packetdrill.so as packetdrill does (RTLD_LOCAL, RTLD_NODELETE:
 * one copy of its state for the whole run) and fill an interface table from it, for the
 * conformance tests that play packetdrill's part. */
#ifndef TS_PD_LOAD_H
#define TS_PD_LOAD_H

#include <check.h>
#include <dlfcn.h>
#include <string.h>

#include "pd.h"

/* Calls packetdrill_interface_init(flags, ifc) of the library at so_path; returns the
 * instance's userdata. */
static inline void *pd_load(const char *so_path, const char *flags,
                            struct packetdrill_interface *ifc)
{
    void *h = dlopen(so_path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    ck_assert_msg(h != NULL, "dlopen: %s", dlerror());
    void (*init)(const char *, struct packetdrill_interface *) =
        (void (*)(const char *, struct packetdrill_interface *))dlsym(h,
                                                                      "packetdrill_interface_init");
    ck_assert_ptr_nonnull(init);
    memset(ifc, 0, sizeof *ifc);
    init(flags, ifc);
    ck_assert_ptr_nonnull(ifc->userdata);
    return ifc->userdata;
}

#endif
