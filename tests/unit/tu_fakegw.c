/* tu_fakegw.c — see tu_fakegw.h. */
#define _POSIX_C_SOURCE 200809L
#include "tu_fakegw.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gateway.h"
#include "tu_fakeplugin.h"

int tu_fakegw_setup(void **state)
{
    struct tu_fakegw *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/xgw-fakegw-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->cert, sizeof f->cert, "%s/cert.pem", f->dir);
    snprintf(f->ini, sizeof f->ini, "%s/gw.ini", f->dir);
    f->srv = tu_tls_start(f->cert);
    if (!f->srv || xgw__plugin_register_builtin(&tu_fake_plugin) != 0) {
        *state = f; /* the teardown cleans up what exists */
        return -1;
    }
    *state = f;
    return 0;
}

int tu_fakegw_teardown(void **state)
{
    struct tu_fakegw *f = *state;
    if (!f)
        return 0;
    xgw_close(f->gw);
    if (f->srv)
        tu_tls_stop(f->srv);
    unlink(f->cert);
    unlink(f->ini);
    rmdir(f->dir);
    free(f);
    return 0;
}
