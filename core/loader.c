/*
 * core/loader.c — loading exchange plugins (see loader.h for the rules).
 *
 * Loading a shared object runs its code (constructors run inside dlopen),
 * so every check that can be made on the file is made before dlopen: the
 * folder and the file must not be writable by group or others (else someone
 * else could swap the code between our check and dlopen, or at any later
 * start), the file must be ours or root's, a regular file, and an ELF object.
 * After dlopen the descriptor is validated before anything of it is called
 * besides the entry, which the ABI requires to be pure.
 *
 * The descriptor is copied into a zero-filled struct of this core's size:
 * members past the plugin's struct_size (a plugin built against an older
 * header of the same ABI version) read as NULL/0, so no other module ever
 * reads past what the plugin provided.
 */
#define _GNU_SOURCE
#include "loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

/* dlerror() keeps its state per thread in glibc, but the interface is not
 * specified as thread-safe, and dlopen/dlclose of one object from two
 * threads at once interleave their constructors: load and unload under one
 * lock, copying dlerror()'s text while holding it. */
static pthread_mutex_t dl_lock = PTHREAD_MUTEX_INITIALIZER;

/* The last member every ABI-1 plugin must provide. */
#define XGW__PLUGIN_MIN_SIZE (offsetof(struct xgw_plugin, parse) + sizeof(((struct xgw_plugin *)0)->parse))

XGW_PRINTF(3, 4)
static int plug_fail(struct xgw_error *err, const char *path, const char *fmt, ...)
{
    if (!err)
        return XGW_ERR_PLUGIN;
    memset(err, 0, sizeof *err);
    snprintf(err->file, sizeof err->file, "%s", path ? path : "");
    va_list ap;
    va_start(ap, fmt);
    xgw__set_error(err, XGW_ERR_PLUGIN, 0, fmt, ap);
    va_end(ap);
    return XGW_ERR_PLUGIN;
}

static bool valid_plugin_name(const char *n)
{
    size_t l = strlen(n);
    if (l == 0 || l > 63)
        return false;
    for (size_t i = 0; i < l; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

int xgw__plugin_load(const char *dir, const char *name, struct xgw__plugin **out, struct xgw_error *err)
{
    *out = NULL;
    if (!name || !valid_plugin_name(name))
        return plug_fail(err, NULL, "invalid plugin name \"%s\": letters, digits, '_' and '-' only",
                         name ? name : "(null)");
    if (!dir || !*dir)
        return plug_fail(err, NULL, "no plugin folder for plugin %s", name);
    size_t n = strlen(dir) + strlen(name) + 5;
    char *path = malloc(n);
    if (!path)
        return plug_fail(err, NULL, "out of memory");
    snprintf(path, n, "%s/%s.so", dir, name);
    int rc = xgw__plugin_load_path(path, name, out, err);
    free(path);
    return rc;
}

/* Checks that need no dlopen. 0 or the error. */
static int check_file(const char *path, struct xgw_error *err)
{
    /* the folder first: a writable folder makes every check of the file moot */
    char *copy = strdup(path);
    if (!copy)
        return plug_fail(err, path, "out of memory");
    char *slash = strrchr(copy, '/');
    const char *dir = ".";
    if (slash == copy)
        dir = "/";
    else if (slash) {
        *slash = '\0';
        dir = copy;
    }
    struct stat st;
    if (stat(dir, &st) != 0) {
        int e = errno;
        plug_fail(err, path, "plugin folder %s (of %s): %s", dir, path, strerror(e));
        free(copy);
        return XGW_ERR_PLUGIN;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        plug_fail(err, path, "refusing to load %s: its folder %s is writable by group or others (mode %03o); "
                  "run chmod go-w on it", path, dir, (unsigned)(st.st_mode & 0777));
        free(copy);
        return XGW_ERR_PLUGIN;
    }
    free(copy);

    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            return plug_fail(err, path, "plugin file %s not found; check plugin_dir, $XGW_PLUGIN_DIR or --plugin-dir",
                             path);
        return plug_fail(err, path, "cannot open plugin %s: %s", path, strerror(e));
    }
    int rc = 0;
    unsigned char magic[4] = {0};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        rc = plug_fail(err, path, "plugin %s is not a regular file", path);
    else if (st.st_mode & (S_IWGRP | S_IWOTH))
        rc = plug_fail(err, path, "refusing to load %s: it is writable by group or others (mode %03o); run chmod go-w "
                       "on it", path, (unsigned)(st.st_mode & 0777));
    else if (st.st_uid != geteuid() && st.st_uid != 0)
        rc = plug_fail(err, path, "refusing to load %s: it is owned by uid %u, neither this user nor root", path,
                       (unsigned)st.st_uid);
    else if (read(fd, magic, sizeof magic) != (ssize_t)sizeof magic || memcmp(magic, "\x7f" "ELF", 4) != 0)
        rc = plug_fail(err, path, "%s is not a shared object (no ELF header)", path);
    close(fd);
    return rc;
}

static const char *check_desc(const struct xgw_plugin *d)
{
    if (!d->name)
        return "name";
    if (!d->version)
        return "version";
    if (!d->networks || d->n_networks == 0)
        return "networks";
    if (!d->create)
        return "create";
    if (!d->destroy)
        return "destroy";
    if (!d->client_id)
        return "client_id";
    if (!d->build)
        return "build";
    if (!d->parse)
        return "parse";
    for (size_t i = 0; i < d->n_networks; i++) {
        const struct xgw_network *n = &d->networks[i];
        if (!n->name || (n->n_rest && !n->rest) || (n->n_ws && !n->ws) || (n->n_ws_private && !n->ws_private))
            return "networks (a network without name or with a NULL endpoint list)";
    }
    if (d->n_keys && !d->keys)
        return "keys";
    for (size_t i = 0; i < d->n_keys; i++)
        if (!d->keys[i].name)
            return "keys (a key without name)";
    if (d->n_buckets && !d->buckets)
        return "buckets";
    return NULL;
}

int xgw__plugin_load_path(const char *path, const char *name, struct xgw__plugin **out, struct xgw_error *err)
{
    *out = NULL;
    if (!path || !*path)
        return plug_fail(err, NULL, "no plugin path");
    int rc = check_file(path, err);
    if (rc)
        return rc;

    /* the expected name: given, or the file's basename without ".so" */
    char expect[80];
    if (name) {
        snprintf(expect, sizeof expect, "%s", name);
    } else {
        const char *b = strrchr(path, '/');
        b = b ? b + 1 : path;
        size_t bl = strlen(b);
        if (bl > 3 && !strcmp(b + bl - 3, ".so"))
            bl -= 3;
        snprintf(expect, sizeof expect, "%.*s", (int)bl, b);
    }

    /* A name without '/' makes dlopen search the library path instead of
     * opening the file we just checked: always pass a path. */
    char local[PATH_MAX];
    const char *dlpath = path;
    if (!strchr(path, '/')) {
        snprintf(local, sizeof local, "./%s", path);
        dlpath = local;
    }
    char dlmsg[200] = "";
    pthread_mutex_lock(&dl_lock);
    (void)dlerror();
    void *dl = dlopen(dlpath, RTLD_NOW | RTLD_LOCAL);
    void *sym = NULL;
    if (!dl) {
        const char *m = dlerror();
        snprintf(dlmsg, sizeof dlmsg, "%s", m ? m : "unknown error");
    } else {
        (void)dlerror();
        sym = dlsym(dl, XGW_PLUGIN_ENTRY);
        const char *m = dlerror();
        if (m)
            snprintf(dlmsg, sizeof dlmsg, "%s", m);
    }
    pthread_mutex_unlock(&dl_lock);
    if (!dl)
        return plug_fail(err, path, "cannot load plugin %s: %s", path, dlmsg);
    if (!sym) {
        rc = plug_fail(err, path, "no entry point %s in plugin %s; is it an xgw plugin?", XGW_PLUGIN_ENTRY, path);
        goto fail;
    }

    /* ISO C has no cast between object and function pointers; POSIX
     * guarantees the representation, so copy the bits. */
    xgw_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry);
    const struct xgw_plugin *d = entry();
    if (!d) {
        rc = plug_fail(err, path, "the entry of plugin %s returned no descriptor", path);
        goto fail;
    }
    if (d->abi_version != XGW_PLUGIN_ABI_VERSION) {
        rc = plug_fail(err, path, "plugin %s was built for plugin ABI version %u, this xgw speaks version %u; "
                       "rebuild the plugin against this xgw", path, d->abi_version, XGW_PLUGIN_ABI_VERSION);
        goto fail;
    }
    if (d->struct_size < XGW__PLUGIN_MIN_SIZE) {
        rc = plug_fail(err, path, "plugin %s declares struct_size %u, smaller than the %zu bytes every ABI %u "
                       "plugin provides", path, d->struct_size, (size_t)XGW__PLUGIN_MIN_SIZE, XGW_PLUGIN_ABI_VERSION);
        goto fail;
    }
    struct xgw_plugin *copy = calloc(1, sizeof *copy);
    if (!copy) {
        rc = plug_fail(err, path, "out of memory");
        goto fail;
    }
    memcpy(copy, d, d->struct_size < sizeof *copy ? d->struct_size : sizeof *copy);
    const char *missing = check_desc(copy);
    if (missing) {
        rc = plug_fail(err, path, "plugin %s leaves the mandatory member %s empty", path, missing);
        free(copy);
        goto fail;
    }
    if (strcmp(copy->name, expect) != 0) {
        char shown[64];
        snprintf(shown, sizeof shown, "%s", copy->name);
        rc = plug_fail(err, path, "plugin %s calls itself \"%s\" but is loaded as \"%s\"; the name must equal the "
                       "file name without .so", path, shown, expect);
        free(copy);
        goto fail;
    }
    struct xgw__plugin *p = calloc(1, sizeof *p);
    if (!p || !(p->path = strdup(path)) || !(p->name = strdup(expect))) {
        if (p)
            free(p->path);
        free(p);
        free(copy);
        rc = plug_fail(err, path, "out of memory");
        goto fail;
    }
    p->dl = dl;
    p->desc = copy;
    *out = p;
    return 0;

fail:
    pthread_mutex_lock(&dl_lock);
    dlclose(dl);
    pthread_mutex_unlock(&dl_lock);
    return rc;
}

void xgw__plugin_unload(struct xgw__plugin *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&dl_lock);
    if (p->dl)
        dlclose(p->dl);
    pthread_mutex_unlock(&dl_lock);
    free((void *)(uintptr_t)p->desc);
    free(p->path);
    free(p->name);
    free(p);
}
