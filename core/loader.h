/*
 * core/loader.h — loading exchange plugins with dlopen (internal).
 *
 * The loader trusts nothing: it refuses a plugin file or folder writable by
 * group or others, loads with RTLD_NOW|RTLD_LOCAL, looks up exactly one
 * symbol (XGW_PLUGIN_ENTRY), and checks the ABI version (exact), the struct
 * size (floor), mandatory members and that the plugin's name equals the
 * file's basename. Every failure dlcloses and gives one error naming the
 * file. Loading is serialised under one mutex because dlerror() is not
 * thread-safe. Plugins are unloaded only at gateway teardown, after every
 * instance of them is destroyed.
 */
#ifndef XGW_CORE_LOADER_H
#define XGW_CORE_LOADER_H

#include "xgw/plugin.h"

struct xgw__plugin {
    void *dl;
    const struct xgw_plugin *desc;
    char *path;
    char *name;
};

/* Load <dir>/<name>.so. Returns 0 or XGW_ERR_PLUGIN with err filled. */
int xgw__plugin_load(const char *dir, const char *name, struct xgw__plugin **out, struct xgw_error *err);
/* Load a plugin by path (tests; `name` is the expected name). */
int xgw__plugin_load_path(const char *path, const char *name, struct xgw__plugin **out, struct xgw_error *err);
void xgw__plugin_unload(struct xgw__plugin *p);

#endif
