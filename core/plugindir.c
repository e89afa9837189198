/*
 * core/plugindir.c — the default plugin folder. See plugindir.h.
 */
#define _GNU_SOURCE /* dladdr */
#include "plugindir.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef XGW_DEFAULT_PLUGIN_DIR
#define XGW_DEFAULT_PLUGIN_DIR "/usr/local/lib/xgw/plugins"
#endif
/* Relative install dirs (GNUInstallDirs), as the build configured them. */
#ifndef XGW_INSTALL_LIBDIR
#define XGW_INSTALL_LIBDIR "lib"
#endif
#ifndef XGW_INSTALL_BINDIR
#define XGW_INSTALL_BINDIR "bin"
#endif

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The installed plugin folder next to the object (libxgw.so or a program
 * linking libxgw.a) this function lives in, or NULL. */
static char *relative_to_object(void)
{
    Dl_info info;
    /* Any function of libxgw identifies the object it was linked into. */
    if (!dladdr((void *)(uintptr_t)&xgw__default_plugin_dir, &info) || !info.dli_fname)
        return NULL;
    char obj[PATH_MAX];
    if (!realpath(info.dli_fname, obj))
        return NULL;
    char *slash = strrchr(obj, '/');
    if (!slash || slash == obj)
        return NULL;
    *slash = '\0';
    const char *base = slash + 1;
    const char *dir = obj;

    char cand[PATH_MAX];
    int n;
    if (strncmp(base, "libxgw.so", 9) == 0) {
        /* <P>/<libdir>/libxgw.so.N */
        n = snprintf(cand, sizeof cand, "%s/xgw/plugins", dir);
    } else {
        /* A program in <P>/<bindir>: climb as many levels as bindir has. */
        const char *bindir = XGW_INSTALL_BINDIR;
        size_t blen = strlen(bindir), dlen = strlen(dir);
        if (bindir[0] == '/' || dlen <= blen || strcmp(dir + dlen - blen, bindir) != 0 ||
            dir[dlen - blen - 1] != '/')
            return NULL;
        n = snprintf(cand, sizeof cand, "%.*s%s/xgw/plugins", (int)(dlen - blen), dir, XGW_INSTALL_LIBDIR);
    }
    if (n < 0 || (size_t)n >= sizeof cand || !is_dir(cand))
        return NULL;
    return strdup(cand);
}

char *xgw__default_plugin_dir(void)
{
    char *p = XGW_INSTALL_LIBDIR[0] == '/' ? NULL : relative_to_object();
    return p ? p : strdup(XGW_DEFAULT_PLUGIN_DIR);
}
