/*
 * core/plugindir.h — where plugins are looked for when nothing names a
 * folder (no --plugin-dir, no $XGW_PLUGIN_DIR, no plugin_dir key).
 */
#ifndef XGW_CORE_PLUGINDIR_H
#define XGW_CORE_PLUGINDIR_H

/* The default plugin folder as a malloc'd absolute path (caller frees), or
 * NULL when out of memory. Any thread.
 *
 * An installed tree is found relative to the binary that holds this code,
 * so that `cmake --install --prefix P` works wherever P is: libxgw.so in
 * <P>/<libdir> → <P>/<libdir>/xgw/plugins; a program linking libxgw.a (the
 * CLI) in <P>/<bindir> → <P>/<libdir>/xgw/plugins. When that folder does not
 * exist (a build tree, a program elsewhere) the compiled-in
 * XGW_DEFAULT_PLUGIN_DIR (CMAKE_INSTALL_FULL_LIBDIR/xgw/plugins) is used. */
char *xgw__default_plugin_dir(void);

#endif
